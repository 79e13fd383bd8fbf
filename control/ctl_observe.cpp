// Runs on: control thread (encoding) / kadpctl (decoding).
#include "control/ctl_observe.h"

#include "conf/json_writer.h"

namespace kadp::ctl {
namespace {

using conf::JsonWriter;

void write_counts(JsonWriter& w, const char* key, const NamedCounts& c) {
    w.key(key).begin_object();
    for (const auto& [name, n] : c) w.member(name, n);
    w.end_object();
}

NamedCounts counts_of(const JsonValue& v, const char* key) {
    NamedCounts out;
    if (const JsonValue* c = v.get(key); c != nullptr && c->is_object()) {
        for (const auto& [name, n] : c->members()) out.emplace_back(name, n.as_u64().value_or(0));
    }
    return out;
}

bool need_array(const JsonValue& v, const char* key, std::string& error) {
    const JsonValue* m = v.get(key);
    if (m != nullptr && m->is_array()) return true;
    error = std::string("member '") + key + "' missing or of the wrong type";
    return false;
}

}  // namespace

std::string to_json(const ChecksReply& r) {
    JsonWriter w(0);
    w.begin_object();
    w.key("checkers").begin_array();
    for (const auto& c : r.checkers) {
        w.begin_object();
        w.member("virtual_server", c.virtual_server).member("real_server", c.real_server);
        w.member("checked", c.checked).member("type", c.type).member("state", c.state);
        w.member("in_service", c.in_service).member("weight", c.weight);
        w.member("last_result", c.last_result).member("reason", c.reason).member("latency_ms", c.latency_ms);
        w.member("last_check", c.last_check).member("last_transition", c.last_transition);
        w.member("consecutive_failures", c.consecutive_failures).member("retry", c.retry);
        w.end_object();
    }
    w.end_array();
    w.end_object();
    return w.take();
}

std::optional<ChecksReply> checks_from_json(const JsonValue& v, std::string& error) {
    if (!need_array(v, "checkers", error)) return std::nullopt;
    ChecksReply r;
    for (const auto& cv : v.get("checkers")->items()) {
        CheckerStatus c;
        c.virtual_server = cv.str("virtual_server");
        c.real_server = cv.str("real_server");
        c.checked = cv.str("checked");
        c.type = cv.str("type");
        c.state = cv.str("state");
        c.in_service = cv.boolean("in_service");
        c.weight = cv.i64("weight");
        c.last_result = cv.str("last_result");
        c.reason = cv.str("reason");
        c.latency_ms = cv.u64("latency_ms");
        c.last_check = cv.i64("last_check");
        c.last_transition = cv.i64("last_transition");
        c.consecutive_failures = cv.u64("consecutive_failures");
        c.retry = cv.u64("retry");
        r.checkers.push_back(std::move(c));
    }
    return r;
}

std::string to_json(const VrrpReply& r) {
    JsonWriter w(0);
    w.begin_object();
    w.key("instances").begin_array();
    for (const auto& i : r.instances) {
        w.begin_object();
        w.member("name", i.name).member("interface", i.interface).member("vrid", i.vrid);
        w.member("state", i.state).member("priority", i.priority).member("base_priority", i.base_priority);
        w.member("master", i.master).member("master_is_self", i.master_is_self);
        w.member("last_transition", i.last_transition).member("reason", i.reason);
        write_counts(w, "dropped", i.dropped);
        w.end_object();
    }
    w.end_array();
    write_counts(w, "dropped", r.dropped);
    w.end_object();
    return w.take();
}

std::optional<VrrpReply> vrrp_from_json(const JsonValue& v, std::string& error) {
    if (!need_array(v, "instances", error)) return std::nullopt;
    VrrpReply r;
    for (const auto& iv : v.get("instances")->items()) {
        VrrpInstanceDetail i;
        i.name = iv.str("name");
        i.interface = iv.str("interface");
        i.vrid = iv.u64("vrid");
        i.state = iv.str("state");
        i.priority = iv.u64("priority");
        i.base_priority = iv.u64("base_priority");
        i.master = iv.str("master");
        i.master_is_self = iv.boolean("master_is_self");
        i.last_transition = iv.i64("last_transition");
        i.reason = iv.str("reason");
        i.dropped = counts_of(iv, "dropped");
        r.instances.push_back(std::move(i));
    }
    r.dropped = counts_of(v, "dropped");
    return r;
}

std::string to_json(const StatsReply& r) {
    JsonWriter w(0);
    w.begin_object();
    w.member("backend", r.backend);
    w.key("workers").begin_array();
    for (const auto& wk : r.workers) {
        w.begin_object();
        w.member("lcore", wk.lcore);
        write_counts(w, "counters", wk.counters);
        w.end_object();
    }
    w.end_array();
    write_counts(w, "totals", r.totals);
    w.key("ports").begin_array();
    for (const auto& p : r.ports) port_to_json(w, p);
    w.end_array();
    w.key("conn_table").begin_object();
    w.member("capacity", r.conn_capacity).member("in_use", r.conn_in_use);
    w.end_object();
    w.key("mempools").begin_array();
    for (const auto& m : r.mempools) {
        w.begin_object();
        w.member("name", m.name).member("size", m.size).member("available", m.available).member("in_use", m.in_use);
        w.end_object();
    }
    w.end_array();
    w.key("ipvs");
    if (r.ipvs) {
        const IpvsStats& s = *r.ipvs;
        w.begin_object();
        w.member("conns", s.conns).member("inpkts", s.in_packets).member("outpkts", s.out_packets);
        w.member("inbytes", s.in_bytes).member("outbytes", s.out_bytes);
        w.member("cps", s.cps).member("inpps", s.in_pps).member("outpps", s.out_pps);
        w.member("inbps", s.in_bps).member("outbps", s.out_bps);
        w.end_object();
    } else {
        w.null();
    }
    w.end_object();
    return w.take();
}

std::optional<StatsReply> stats_from_json(const JsonValue& v, std::string& error) {
    if (!need_array(v, "workers", error)) return std::nullopt;
    StatsReply r;
    r.backend = v.str("backend");
    for (const auto& wv : v.get("workers")->items()) {
        r.workers.push_back(WorkerStats{static_cast<unsigned>(wv.u64("lcore")), counts_of(wv, "counters")});
    }
    r.totals = counts_of(v, "totals");
    if (const JsonValue* ports = v.get("ports"); ports != nullptr && ports->is_array()) {
        for (const auto& pv : ports->items()) r.ports.push_back(port_from_json(pv));
    }
    if (const JsonValue* t = v.get("conn_table"); t != nullptr && t->is_object()) {
        r.conn_capacity = t->u64("capacity");
        r.conn_in_use = t->u64("in_use");
    }
    if (const JsonValue* pools = v.get("mempools"); pools != nullptr && pools->is_array()) {
        for (const auto& mv : pools->items())
            r.mempools.push_back(MempoolStatus{mv.str("name"), mv.u64("size"), mv.u64("available"), mv.u64("in_use")});
    }
    if (const JsonValue* s = v.get("ipvs"); s != nullptr && s->is_object()) {
        IpvsStats x;
        x.conns = s->u64("conns");
        x.in_packets = s->u64("inpkts");
        x.out_packets = s->u64("outpkts");
        x.in_bytes = s->u64("inbytes");
        x.out_bytes = s->u64("outbytes");
        x.cps = s->u64("cps");
        x.in_pps = s->u64("inpps");
        x.out_pps = s->u64("outpps");
        x.in_bps = s->u64("inbps");
        x.out_bps = s->u64("outbps");
        r.ipvs = x;
    }
    return r;
}

}  // namespace kadp::ctl
