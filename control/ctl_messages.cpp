// Runs on: control thread (encoding) / kadpctl (decoding).
#include "control/ctl_messages.h"

#include "conf/json_writer.h"

namespace kadp::ctl {
namespace {

using conf::JsonWriter;

std::string netmask_text(std::uint32_t host_order) {
    return conf::IpAddr::from_v4_host_order(host_order).to_string();
}

void write_stats(JsonWriter& w, const IpvsStats& s) {
    w.key("stats").begin_object();
    w.member("conns", s.conns).member("inpkts", s.in_packets).member("outpkts", s.out_packets);
    w.member("inbytes", s.in_bytes).member("outbytes", s.out_bytes);
    w.member("cps", s.cps).member("inpps", s.in_pps).member("outpps", s.out_pps);
    w.member("inbps", s.in_bps).member("outbps", s.out_bps);
    w.end_object();
}

void write_dest(JsonWriter& w, const IpvsDest& d) {
    w.begin_object();
    w.member("address", d.address.to_string()).member("port", d.port);
    w.member("forward", ipvs_forward_name(d.forward)).member("weight", d.weight);
    w.member("upper_threshold", d.upper_threshold).member("lower_threshold", d.lower_threshold);
    w.member("active_conns", d.active_conns).member("inactive_conns", d.inactive_conns);
    w.member("persist_conns", d.persist_conns);
    write_stats(w, d.stats);
    w.end_object();
}

void write_service(JsonWriter& w, const IpvsService& s) {
    w.begin_object();
    w.member("protocol", ipvs_protocol_name(s.protocol));
    w.member("address", s.fwmark != 0 ? std::string() : s.address.to_string()).member("port", s.port);
    w.member("fwmark", s.fwmark).member("family", s.family == conf::IpAddr::Family::v6 ? "inet6" : "inet");
    w.member("scheduler", s.scheduler);
    w.member("persistence_timeout", s.persistence_timeout);
    w.member("persistence_netmask", netmask_text(s.persistence_netmask_v4));
    w.member("persistence_prefix_v6", s.persistence_prefix_v6);
    w.member("persistence_engine", s.persistence_engine);
    w.key("scheduler_flags").begin_array();
    for (const auto& f : s.scheduler_flags) w.value(f);
    w.end_array();
    w.member("one_packet", s.one_packet);
    write_stats(w, s.stats);
    w.key("dests").begin_array();
    for (const auto& d : s.dests) write_dest(w, d);
    w.end_array();
    w.end_object();
}

void write_diag(JsonWriter& w, const conf::Diagnostic& d) {
    w.begin_object();
    w.member("file", d.loc.file).member("line", d.loc.line);
    w.member("severity", d.severity == conf::Severity::error ? "error" : "warning");
    w.member("message", d.message).member("text", conf::Diagnostics::format(d));
    w.end_object();
}

void write_reload(JsonWriter& w, const ReloadReply& r) {
    w.begin_object();
    w.member("accepted", r.accepted).member("generation", r.generation).member("time", r.time);
    w.member("trigger", r.trigger).member("message", r.message);
    w.key("diagnostics").begin_array();
    for (const auto& d : r.diagnostics) write_diag(w, d);
    w.end_array();
    w.key("changes").begin_array();
    for (const auto& c : r.changes) w.value(c);
    w.end_array();
    w.end_object();
}

// --- decoding ----------------------------------------------------------------

bool need(const JsonValue& v, const char* key, JsonValue::Type type, std::string& error) {
    const JsonValue* m = v.get(key);
    if (m != nullptr && m->type() == type) return true;
    error = std::string("member '") + key + "' missing or of the wrong type";
    return false;
}

std::optional<conf::IpAddr> addr_of(const JsonValue& v, const char* key, std::string& error) {
    const std::string text = v.str(key);
    auto a = conf::IpAddr::parse(text);
    if (!a) error = std::string("member '") + key + "': '" + text + "' is not an address";
    return a;
}

IpvsStats stats_of(const JsonValue& v) {
    IpvsStats s;
    const JsonValue* st = v.get("stats");
    if (st == nullptr) return s;
    s.conns = st->u64("conns");
    s.in_packets = st->u64("inpkts");
    s.out_packets = st->u64("outpkts");
    s.in_bytes = st->u64("inbytes");
    s.out_bytes = st->u64("outbytes");
    s.cps = st->u64("cps");
    s.in_pps = st->u64("inpps");
    s.out_pps = st->u64("outpps");
    s.in_bps = st->u64("inbps");
    s.out_bps = st->u64("outbps");
    return s;
}

std::optional<conf::Protocol> protocol_of(const std::string& name) {
    if (name == "TCP") return conf::Protocol::tcp;
    if (name == "UDP") return conf::Protocol::udp;
    if (name == "SCTP") return conf::Protocol::sctp;
    return std::nullopt;
}

std::optional<conf::LbKind> forward_of(const std::string& name) {
    if (name == "Masq") return conf::LbKind::nat;
    if (name == "Route") return conf::LbKind::dr;
    if (name == "Tunnel") return conf::LbKind::tun;
    return std::nullopt;
}

std::optional<IpvsDest> dest_of(const JsonValue& v, std::string& error) {
    IpvsDest d;
    auto a = addr_of(v, "address", error);
    if (!a) return std::nullopt;
    d.address = *a;
    d.port = static_cast<std::uint16_t>(v.u64("port"));
    const auto fwd = forward_of(v.str("forward"));
    if (!fwd) {
        error = "real server " + a->to_string() + ": unknown forward '" + v.str("forward") + "'";
        return std::nullopt;
    }
    d.forward = *fwd;
    d.weight = static_cast<int>(v.i64("weight"));
    d.upper_threshold = static_cast<std::uint32_t>(v.u64("upper_threshold"));
    d.lower_threshold = static_cast<std::uint32_t>(v.u64("lower_threshold"));
    d.active_conns = static_cast<std::uint32_t>(v.u64("active_conns"));
    d.inactive_conns = static_cast<std::uint32_t>(v.u64("inactive_conns"));
    d.persist_conns = static_cast<std::uint32_t>(v.u64("persist_conns"));
    d.stats = stats_of(v);
    return d;
}

std::optional<IpvsService> service_of(const JsonValue& v, std::string& error) {
    IpvsService s;
    const auto proto = protocol_of(v.str("protocol"));
    if (!proto) {
        error = "service: unknown protocol '" + v.str("protocol") + "'";
        return std::nullopt;
    }
    s.protocol = *proto;
    s.fwmark = static_cast<std::uint32_t>(v.u64("fwmark"));
    s.family = v.str("family") == "inet6" ? conf::IpAddr::Family::v6 : conf::IpAddr::Family::v4;
    if (s.fwmark == 0) {
        auto a = addr_of(v, "address", error);
        if (!a) return std::nullopt;
        s.address = *a;
        s.family = a->family;
    }
    s.port = static_cast<std::uint16_t>(v.u64("port"));
    s.scheduler = v.str("scheduler");
    s.persistence_timeout = static_cast<std::uint32_t>(v.u64("persistence_timeout"));
    if (const auto m = conf::IpAddr::parse(v.str("persistence_netmask", "255.255.255.255")); m && m->is_v4()) {
        s.persistence_netmask_v4 = m->v4_host_order();
    }
    s.persistence_prefix_v6 = static_cast<std::uint8_t>(v.u64("persistence_prefix_v6", 128));
    s.persistence_engine = v.str("persistence_engine");
    if (const JsonValue* f = v.get("scheduler_flags"); f != nullptr && f->is_array()) {
        for (const auto& item : f->items())
            if (item.is_string()) s.scheduler_flags.push_back(item.text());
    }
    s.one_packet = v.boolean("one_packet");
    s.stats = stats_of(v);
    if (!need(v, "dests", JsonValue::Type::array, error)) return std::nullopt;
    for (const auto& dv : v.get("dests")->items()) {
        auto d = dest_of(dv, error);
        if (!d) return std::nullopt;
        s.dests.push_back(std::move(*d));
    }
    return s;
}

std::optional<conf::Diagnostic> diag_of(const JsonValue& v) {
    conf::Diagnostic d;
    d.loc.file = v.str("file");
    d.loc.line = static_cast<int>(v.i64("line"));
    d.severity = v.str("severity") == "warning" ? conf::Severity::warning : conf::Severity::error;
    d.message = v.str("message");
    return d;
}

}  // namespace

const char* ipvs_protocol_name(conf::Protocol p) {
    switch (p) {
    case conf::Protocol::tcp: return "TCP";
    case conf::Protocol::udp: return "UDP";
    case conf::Protocol::sctp: return "SCTP";
    }
    return "?";
}

const char* ipvs_forward_name(conf::LbKind k) {
    switch (k) {
    case conf::LbKind::nat: return "Masq";
    case conf::LbKind::dr: return "Route";
    case conf::LbKind::tun: return "Tunnel";
    }
    return "?";
}

std::string to_json(const ListReply& r) {
    JsonWriter w(0);
    w.begin_object();
    w.member("backend", r.backend).member("ipvs_version", r.ipvs_version);
    w.member("conn_table_size", r.conn_table_size);
    w.key("services").begin_array();
    for (const auto& s : r.services) write_service(w, s);
    w.end_array();
    w.end_object();
    return w.take();
}

std::string to_json(const ConnsReply& r) {
    JsonWriter w(0);
    w.begin_object();
    w.member("total", r.total).member("truncated", r.truncated);
    w.key("conns").begin_array();
    for (const auto& c : r.conns) {
        w.begin_object();
        w.member("protocol", c.persistence_template ? "IP" : ipvs_protocol_name(c.protocol));
        w.member("expires", c.expires_seconds);
        w.member("state", c.state);
        w.member("client", c.client.to_string()).member("client_port", c.client_port);
        w.member("virtual", c.virtual_address.to_string()).member("virtual_port", c.virtual_port);
        w.member("dest", c.dest.to_string()).member("dest_port", c.dest_port);
        w.end_object();
    }
    w.end_array();
    w.end_object();
    return w.take();
}

std::string to_json(const ReloadReply& r) {
    JsonWriter w(0);
    write_reload(w, r);
    return w.take();
}

void port_to_json(conf::JsonWriter& w, const PortStatus& p)
{
    w.begin_object();
    w.member("name", p.name).member("device", p.device).member("port_id", p.port_id).member("mac", p.mac);
    w.member("rx_packets", p.rx_packets).member("rx_bytes", p.rx_bytes);
    w.member("tx_packets", p.tx_packets).member("tx_bytes", p.tx_bytes);
    w.member("rx_missed", p.rx_missed).member("rx_errors", p.rx_errors).member("rx_nombuf", p.rx_nombuf);
    w.member("tx_errors", p.tx_errors);
    if (!p.link.empty()) w.member("link", p.link);
    w.end_object();
}

PortStatus port_from_json(const JsonValue& v)
{
    PortStatus p;
    p.name = v.str("name");
    p.device = v.str("device");
    p.port_id = static_cast<std::uint16_t>(v.u64("port_id"));
    p.mac = v.str("mac");
    p.rx_packets = v.u64("rx_packets");
    p.rx_bytes = v.u64("rx_bytes");
    p.tx_packets = v.u64("tx_packets");
    p.tx_bytes = v.u64("tx_bytes");
    p.rx_missed = v.u64("rx_missed");
    p.rx_errors = v.u64("rx_errors");
    p.rx_nombuf = v.u64("rx_nombuf");
    p.tx_errors = v.u64("tx_errors");
    p.link = v.str("link");
    return p;
}

std::string to_json(const StatusReply& r) {
    JsonWriter w(0);
    w.begin_object();
    w.member("backend", r.backend).member("version", r.version).member("pid", r.pid);
    w.member("uptime_seconds", r.uptime_seconds).member("config_file", r.config_file);
    w.member("generation", r.generation);
    w.key("worker_lcores").begin_array();
    for (unsigned l : r.worker_lcores) w.value(l);
    w.end_array();
    w.key("ports").begin_array();
    for (const auto& p : r.ports) port_to_json(w, p);
    w.end_array();
    w.key("mempools").begin_array();
    for (const auto& m : r.mempools) {
        w.begin_object();
        w.member("name", m.name).member("size", m.size).member("available", m.available).member("in_use", m.in_use);
        w.end_object();
    }
    w.end_array();
    w.key("counters").begin_object();
    for (const auto& [name, value] : r.counters) w.member(name, value);
    w.end_object();
    w.key("conn_table").begin_object();
    w.member("capacity", r.conn_capacity).member("in_use", r.conn_in_use);
    w.end_object();
    w.member("services", r.services).member("real_servers", r.real_servers);
    w.key("last_reload");
    if (r.last_reload) {
        write_reload(w, *r.last_reload);
    } else {
        w.null();
    }
    w.key("vrrp").begin_array();
    for (const auto& i : r.vrrp) {
        w.begin_object();
        w.member("name", i.name).member("interface", i.interface).member("vrid", i.vrid);
        w.member("state", i.state).member("priority", i.priority);
        w.key("dropped").begin_object();
        for (const auto& [reason, n] : i.dropped) w.member(reason, n);
        w.end_object();
        w.end_object();
    }
    w.end_array();
    w.key("vrrp_dropped").begin_object();
    for (const auto& [reason, n] : r.vrrp_dropped) w.member(reason, n);
    w.end_object();
    w.key("degraded").begin_array();
    for (const auto& d : r.degraded) w.value(d);
    w.end_array();
    w.member("exception_taps_lost", r.exception_taps_lost);
    w.member("workers_stuck", r.workers_stuck);
    w.member("reloads_accepted", r.reloads_accepted).member("reloads_rejected", r.reloads_rejected);
    w.end_object();
    return w.take();
}

std::optional<ListReply> list_from_json(const JsonValue& v, std::string& error) {
    if (!need(v, "services", JsonValue::Type::array, error)) return std::nullopt;
    ListReply r;
    r.backend = v.str("backend");
    r.ipvs_version = v.str("ipvs_version", "1.2.1");
    r.conn_table_size = v.u64("conn_table_size");
    for (const auto& sv : v.get("services")->items()) {
        auto s = service_of(sv, error);
        if (!s) return std::nullopt;
        r.services.push_back(std::move(*s));
    }
    return r;
}

std::optional<ConnsReply> conns_from_json(const JsonValue& v, std::string& error) {
    if (!need(v, "conns", JsonValue::Type::array, error)) return std::nullopt;
    ConnsReply r;
    r.total = v.u64("total");
    r.truncated = v.boolean("truncated");
    for (const auto& cv : v.get("conns")->items()) {
        IpvsConn c;
        const auto proto = protocol_of(cv.str("protocol"));
        if (cv.str("protocol") == "IP") {
            c.persistence_template = true;
        } else if (!proto) {
            error = "connection: unknown protocol '" + cv.str("protocol") + "'";
            return std::nullopt;
        } else {
            c.protocol = *proto;
        }
        c.expires_seconds = static_cast<std::uint32_t>(cv.u64("expires"));
        c.state = cv.str("state");
        auto ca = addr_of(cv, "client", error);
        auto va = addr_of(cv, "virtual", error);
        auto da = addr_of(cv, "dest", error);
        if (!ca || !va || !da) return std::nullopt;
        c.client = *ca;
        c.virtual_address = *va;
        c.dest = *da;
        c.client_port = static_cast<std::uint16_t>(cv.u64("client_port"));
        c.virtual_port = static_cast<std::uint16_t>(cv.u64("virtual_port"));
        c.dest_port = static_cast<std::uint16_t>(cv.u64("dest_port"));
        r.conns.push_back(std::move(c));
    }
    return r;
}

std::optional<ReloadReply> reload_from_json(const JsonValue& v, std::string& error) {
    if (!need(v, "accepted", JsonValue::Type::boolean, error)) return std::nullopt;
    ReloadReply r;
    r.accepted = v.boolean("accepted");
    r.generation = v.u64("generation");
    r.time = v.i64("time");
    r.trigger = v.str("trigger");
    r.message = v.str("message");
    if (const JsonValue* d = v.get("diagnostics"); d != nullptr && d->is_array()) {
        for (const auto& dv : d->items())
            if (auto diag = diag_of(dv)) r.diagnostics.push_back(std::move(*diag));
    }
    if (const JsonValue* c = v.get("changes"); c != nullptr && c->is_array()) {
        for (const auto& cv : c->items())
            if (cv.is_string()) r.changes.push_back(cv.text());
    }
    return r;
}

std::optional<StatusReply> status_from_json(const JsonValue& v, std::string& error) {
    if (!need(v, "backend", JsonValue::Type::string, error)) return std::nullopt;
    StatusReply r;
    r.backend = v.str("backend");
    r.version = v.str("version");
    r.pid = v.i64("pid");
    r.uptime_seconds = v.u64("uptime_seconds");
    r.config_file = v.str("config_file");
    r.generation = v.u64("generation");
    if (const JsonValue* l = v.get("worker_lcores"); l != nullptr && l->is_array()) {
        for (const auto& item : l->items()) r.worker_lcores.push_back(static_cast<unsigned>(item.as_u64().value_or(0)));
    }
    if (const JsonValue* ports = v.get("ports"); ports != nullptr && ports->is_array()) {
        for (const auto& pv : ports->items()) r.ports.push_back(port_from_json(pv));
    }
    if (const JsonValue* pools = v.get("mempools"); pools != nullptr && pools->is_array()) {
        for (const auto& mv : pools->items())
            r.mempools.push_back(MempoolStatus{mv.str("name"), mv.u64("size"), mv.u64("available"), mv.u64("in_use")});
    }
    if (const JsonValue* c = v.get("counters"); c != nullptr && c->is_object()) {
        for (const auto& [name, value] : c->members()) r.counters.emplace_back(name, value.as_u64().value_or(0));
    }
    if (const JsonValue* t = v.get("conn_table"); t != nullptr) {
        r.conn_capacity = t->u64("capacity");
        r.conn_in_use = t->u64("in_use");
    }
    r.services = v.u64("services");
    r.real_servers = v.u64("real_servers");
    if (const JsonValue* lr = v.get("last_reload"); lr != nullptr && lr->is_object()) {
        r.last_reload = reload_from_json(*lr, error);
        if (!r.last_reload) return std::nullopt;
    }
    if (const JsonValue* vr = v.get("vrrp"); vr != nullptr && vr->is_array()) {
        for (const auto& iv : vr->items()) {
            VrrpInstanceStatus i{iv.str("name"), iv.str("interface"), iv.u64("vrid"), iv.str("state"),
                                 iv.u64("priority"), {}};
            if (const JsonValue* d = iv.get("dropped"); d != nullptr && d->is_object()) {
                for (const auto& [reason, n] : d->members()) i.dropped.emplace_back(reason, n.as_u64().value_or(0));
            }
            r.vrrp.push_back(std::move(i));
        }
    }
    if (const JsonValue* d = v.get("vrrp_dropped"); d != nullptr && d->is_object()) {
        for (const auto& [reason, n] : d->members()) r.vrrp_dropped.emplace_back(reason, n.as_u64().value_or(0));
    }
    if (const JsonValue* dg = v.get("degraded"); dg != nullptr && dg->is_array()) {
        for (const auto& d : dg->items())
            if (d.is_string()) r.degraded.push_back(d.text());
    }
    r.exception_taps_lost = v.u64("exception_taps_lost");
    r.workers_stuck = v.u64("workers_stuck");
    r.reloads_accepted = v.u64("reloads_accepted");
    r.reloads_rejected = v.u64("reloads_rejected");
    return r;
}

}  // namespace kadp::ctl
