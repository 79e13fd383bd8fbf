// Runs on: control thread (and `kadp --dump-config`). Writes every field of
// conf::Config in model order so the output is deterministic: the same
// configuration always dumps to the same bytes (tests and operators diff it).
// Schema and conventions: docs/configuration.md, "--dump-config".
#include "conf/json_dump.h"

#include <string_view>

#include "conf/json_writer.h"

namespace kadp::conf {
namespace {

// What a secret is dumped as: the value never leaves the process.
constexpr std::string_view kHidden = "<hidden>";

// Keywords whose value is a secret wherever they turn up (also in `other`).
bool is_secret_keyword(std::string_view keyword) { return keyword == "auth_pass"; }

class Dumper {
public:
    explicit Dumper(JsonWriter& w) : w_(w) {}

    // ---------------------------------------------------------- small values
    // Unset strings, addresses, ports and marks are null, so "not set" never
    // looks like a value.
    void str_or_null(std::string_view k, const std::string& s)
    {
        w_.key(k);
        if (s.empty()) w_.null();
        else w_.value(s);
    }
    void addr(std::string_view k, const IpAddr& a)
    {
        w_.key(k);
        if (a.empty()) w_.null();
        else w_.value(a.to_string());
    }
    void prefix(std::string_view k, const IpPrefix& p)
    {
        w_.key(k);
        if (p.addr.empty()) w_.null();
        else w_.value(p.to_string());
    }
    template <class T>
    void nonzero_or_null(std::string_view k, T v)
    {
        w_.key(k);
        if (v == 0) w_.null();
        else w_.value(v);
    }
    void source(const SourceLoc& loc)
    {
        w_.key("source");
        if (loc.file.empty() && loc.line == 0) {
            w_.null();
            return;
        }
        w_.begin_object();
        w_.member("file", loc.file);
        w_.member("line", loc.line);
        w_.end_object();
    }
    void script(std::string_view k, const Script& s)
    {
        w_.key(k);
        if (s.empty()) {
            w_.null();
            return;
        }
        w_.begin_object();
        w_.member("command", s.command);
        w_.key("argv").begin_array();
        for (const auto& a : s.argv) w_.value(a);
        w_.end_array();
        str_or_null("user", s.user);
        str_or_null("group", s.group);
        w_.member("disabled", s.disabled);
        w_.end_object();
    }
    void strings(std::string_view k, const std::vector<std::string>& v)
    {
        w_.key(k).begin_array();
        for (const auto& s : v) w_.value(s);
        w_.end_array();
    }
    void other(const std::vector<OtherKeyword>& v)
    {
        w_.key("other").begin_array();
        for (const auto& o : v) {
            w_.begin_object();
            w_.member("keyword", o.keyword);
            if (is_secret_keyword(o.keyword)) w_.member("value", kHidden);
            else w_.member("value", o.value);
            w_.member("file", o.loc.file);
            w_.member("line", o.loc.line);
            w_.end_object();
        }
        w_.end_array();
    }

    // The inheritable settings (virtual_server -> real_server -> checker):
    // the resolved value under the keyword, and the keyword's name in
    // `set_here` when this level wrote it itself.
    template <class Level>
    void inherited(const Level& l, std::vector<std::string_view>& set_here)
    {
        auto one = [&](std::string_view k, const auto& field) {
            w_.member(k, field.value);
            if (field.set) set_here.push_back(k);
        };
        one("connect_timeout", l.connect_timeout);
        one("retry", l.retry);
        one("delay_before_retry", l.delay_before_retry);
        one("delay_loop", l.delay_loop);
        one("warmup", l.warmup);
        one("alpha", l.alpha);
        if constexpr (requires { l.inhibit_on_failure; }) one("inhibit_on_failure", l.inhibit_on_failure);
    }
    void set_here(const std::vector<std::string_view>& names)
    {
        w_.key("set_here").begin_array();
        for (auto n : names) w_.value(n);
        w_.end_array();
    }

    // ---------------------------------------------------------- global_defs
    void global_defs(const GlobalDefs& g)
    {
        w_.key("global_defs").begin_object();
        source(g.loc);
        w_.member("router_id", g.router_id);
        strings("notification_email", g.notification_email);
        w_.member("notification_email_from", g.notification_email_from);
        w_.key("smtp_server");
        if (g.smtp_server) {
            w_.begin_object();
            addr("address", g.smtp_server->address);
            w_.member("port", g.smtp_server->port);
            w_.end_object();
        } else {
            w_.null();
        }
        w_.member("smtp_helo_name", g.smtp_helo_name);
        w_.member("smtp_connect_timeout", g.smtp_connect_timeout);
        w_.member("enable_script_security", g.enable_script_security);
        str_or_null("script_user", g.script_user);
        str_or_null("script_group", g.script_group);
        w_.member("vrrp_garp_master_delay", g.vrrp_garp_master_delay);
        w_.member("vrrp_garp_master_repeat", g.vrrp_garp_master_repeat);
        w_.member("vrrp_garp_master_refresh", g.vrrp_garp_master_refresh);
        w_.member("vrrp_garp_master_refresh_repeat", g.vrrp_garp_master_refresh_repeat);
        w_.member("vrrp_version", g.vrrp_version);
        addr("vrrp_mcast_group4", g.vrrp_mcast_group4);
        addr("vrrp_mcast_group6", g.vrrp_mcast_group6);
        w_.member("vrrp_strict", g.vrrp_strict);
        w_.key("lvs_sync_daemon");
        if (g.lvs_sync_daemon) {
            const LvsSyncDaemon& d = *g.lvs_sync_daemon;
            w_.begin_object();
            w_.member("interface", d.interface);
            w_.member("vrrp_instance", d.vrrp_instance);
            str_or_null("id", d.id);
            nonzero_or_null("maxlen", d.maxlen);
            nonzero_or_null("port", d.port);
            nonzero_or_null("ttl", d.ttl);
            addr("group", d.group);
            w_.end_object();
        } else {
            w_.null();
        }
        other(g.other);
        w_.end_object();
    }

    // ------------------------------------------------- addresses and routes
    void ip_address(const IpAddress& a)
    {
        w_.begin_object();
        prefix("address", a.address);
        addr("broadcast", a.broadcast);
        str_or_null("dev", a.dev);
        str_or_null("scope", a.scope);
        str_or_null("label", a.label);
        w_.member("text", a.text);
        source(a.loc);
        w_.end_object();
    }
    void route(const Route& r)
    {
        w_.begin_object();
        prefix("destination", r.destination);
        addr("via", r.via);
        addr("src", r.src);
        str_or_null("dev", r.dev);
        w_.key("metric");
        if (r.metric < 0) w_.null();
        else w_.value(r.metric);
        str_or_null("table", r.table);
        str_or_null("scope", r.scope);
        str_or_null("type", r.type);
        w_.member("blackhole", r.blackhole);
        w_.member("text", r.text);
        source(r.loc);
        w_.end_object();
    }

    void rules(std::string_view k, const std::vector<Rule>& v)
    {
        w_.key(k).begin_array();
        for (const auto& r : v) {
            w_.begin_object();
            w_.key("from");
            if (r.from) w_.value(r.from->to_string());
            else w_.null();
            w_.key("to");
            if (r.to) w_.value(r.to->to_string());
            else w_.null();
            w_.key("preference");
            if (r.preference < 0) w_.null();
            else w_.value(r.preference);
            str_or_null("table", r.table);
            w_.member("text", r.text);
            source(r.loc);
            w_.end_object();
        }
        w_.end_array();
    }

    // ------------------------------------------------------------------ VRRP
    void tracked(const std::vector<TrackedInterface>& ifs, const std::vector<TrackedScript>& scripts)
    {
        w_.key("track_interface").begin_array();
        for (const auto& t : ifs) {
            w_.begin_object();
            w_.member("name", t.name);
            w_.member("weight", t.weight);
            w_.member("reverse", t.reverse);
            source(t.loc);
            w_.end_object();
        }
        w_.end_array();
        w_.key("track_script").begin_array();
        for (const auto& t : scripts) {
            w_.begin_object();
            w_.member("name", t.name);
            w_.member("weight", t.weight);  // null: the vrrp_script's weight
            w_.member("reverse", t.reverse);
            source(t.loc);
            w_.end_object();
        }
        w_.end_array();
    }

    void vrrp_script(const VrrpScript& s)
    {
        w_.begin_object();
        w_.member("name", s.name);
        source(s.loc);
        script("script", s.script);
        w_.member("interval", s.interval);
        w_.member("timeout", s.timeout);
        w_.member("weight", s.weight);
        w_.member("weight_reverse", s.weight_reverse);
        w_.member("rise", s.rise);
        w_.member("fall", s.fall);
        w_.member("init_fail", s.init_fail);
        w_.end_object();
    }

    void sync_group(const VrrpSyncGroup& g)
    {
        w_.begin_object();
        w_.member("name", g.name);
        source(g.loc);
        strings("group", g.group);
        script("notify_master", g.notify_master);
        script("notify_backup", g.notify_backup);
        script("notify_fault", g.notify_fault);
        script("notify_stop", g.notify_stop);
        script("notify", g.notify);
        w_.member("smtp_alert", g.smtp_alert);
        w_.member("global_tracking", g.global_tracking);
        tracked(g.track_interface, g.track_script);
        other(g.other);
        w_.end_object();
    }

    void vrrp_instance(const VrrpInstance& v)
    {
        w_.begin_object();
        w_.member("name", v.name);
        source(v.loc);
        w_.member("state", to_string(v.state));
        str_or_null("interface", v.interface);
        w_.member("virtual_router_id", v.virtual_router_id);
        w_.member("priority", v.priority);
        w_.member("advert_int", v.advert_int);
        w_.member("version", v.version);
        w_.member("nopreempt", v.nopreempt);
        w_.member("preempt_delay", v.preempt_delay);
        // The authentication block; the password itself never leaves the process.
        w_.key("authentication");
        if (v.auth_type == AuthType::none && v.auth_pass.empty()) {
            w_.null();
        } else {
            w_.begin_object();
            w_.member("auth_type", to_string(v.auth_type));
            w_.key("auth_pass");
            if (v.auth_pass.empty()) w_.null();
            else w_.value(kHidden);
            w_.end_object();
        }
        w_.key("virtual_ipaddress").begin_array();
        for (const auto& a : v.virtual_ipaddress) ip_address(a);
        w_.end_array();
        w_.key("virtual_ipaddress_excluded").begin_array();
        for (const auto& a : v.virtual_ipaddress_excluded) ip_address(a);
        w_.end_array();
        w_.key("virtual_routes").begin_array();
        for (const auto& r : v.virtual_routes) route(r);
        w_.end_array();
        rules("virtual_rules", v.virtual_rules);
        tracked(v.track_interface, v.track_script);
        addr("unicast_src_ip", v.unicast_src_ip);
        w_.key("unicast_peer").begin_array();
        for (const auto& p : v.unicast_peer) w_.value(p.to_string());
        w_.end_array();
        addr("mcast_src_ip", v.mcast_src_ip);
        script("notify_master", v.notify_master);
        script("notify_backup", v.notify_backup);
        script("notify_fault", v.notify_fault);
        script("notify_stop", v.notify_stop);
        script("notify", v.notify);
        w_.member("smtp_alert", v.smtp_alert);
        w_.member("garp_master_delay", v.garp_master_delay);
        w_.member("garp_master_repeat", v.garp_master_repeat);
        w_.member("garp_master_refresh", v.garp_master_refresh);
        w_.member("garp_master_refresh_repeat", v.garp_master_refresh_repeat);
        w_.member("use_vmac", v.use_vmac);
        w_.member("dont_track_primary", v.dont_track_primary);
        w_.member("accept", v.accept);
        str_or_null("sync_group", v.sync_group);
        other(v.other);
        w_.end_object();
    }

    // ------------------------------------------------------------------- LVS
    // `lvs_method TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`:
    // an object when the method is TUN, else null.
    void tunnel(LbKind method, const Tunnel& t)
    {
        w_.key("tunnel");
        if (method != LbKind::tun) {
            w_.null();
            return;
        }
        w_.begin_object();
        w_.member("type", t.type);
        nonzero_or_null("port", t.port);
        str_or_null("checksum", t.checksum);
        w_.end_object();
    }

    void vs_group(const VirtualServerGroup& g)
    {
        w_.begin_object();
        w_.member("name", g.name);
        source(g.loc);
        w_.key("entries").begin_array();
        for (const auto& e : g.entries) {
            const bool is_addr = e.kind == VirtualServerGroupEntry::Kind::address;
            w_.begin_object();
            w_.member("kind", is_addr ? "address" : "fwmark");
            addr("address", e.address);
            addr("range_end", e.range_end);
            w_.key("port");
            if (is_addr) w_.value(e.port);
            else w_.null();
            w_.key("fwmark");
            if (is_addr) w_.null();
            else w_.value(e.fwmark);
            str_or_null("family", e.family);
            source(e.loc);
            w_.end_object();
        }
        w_.end_array();
        w_.end_object();
    }

    void checker(const Checker& c)
    {
        w_.begin_object();
        w_.member("type", to_string(c.type));
        source(c.loc);
        addr("connect_ip", c.connect_ip);
        nonzero_or_null("connect_port", c.connect_port);
        addr("bindto", c.bindto);
        nonzero_or_null("bind_port", c.bind_port);
        str_or_null("bind_if", c.bind_if);
        nonzero_or_null("fwmark", c.fwmark);
        std::vector<std::string_view> set;
        inherited(c, set);
        set_here(set);
        w_.member("log_all_failures", c.log_all_failures);
        w_.key("url").begin_array();
        for (const auto& u : c.url) {
            w_.begin_object();
            w_.member("path", u.path);
            str_or_null("digest", u.digest);
            w_.key("status_code").begin_array();
            for (const auto& [lo, hi] : u.status_code) w_.begin_array().value(lo).value(hi).end_array();
            w_.end_array();
            str_or_null("virtualhost", u.virtualhost);
            source(u.loc);
            w_.end_object();
        }
        w_.end_array();
        str_or_null("virtualhost", c.virtualhost);
        w_.member("http_protocol", c.http_protocol);
        w_.member("enable_sni", c.enable_sni);
        w_.member("tls_compliant", c.tls_compliant);
        w_.member("fast_recovery", c.fast_recovery);
        str_or_null("helo_name", c.helo_name);
        if (c.type == CheckerType::dns_check) {
            w_.member("dns_type", std::string(dns_type_name(c.dns_type)));
            w_.member("dns_name", c.dns_name);
        }
        script("misc_path", c.misc_path);
        w_.member("misc_timeout", c.misc_timeout);
        w_.member("misc_dynamic", c.misc_dynamic);
        str_or_null("user", c.user);
        str_or_null("group", c.group);
        other(c.other);
        w_.end_object();
    }

    void real_server(const RealServer& r)
    {
        w_.begin_object();
        addr("address", r.address);
        w_.member("port", r.port);
        source(r.loc);
        w_.member("weight", r.weight);
        w_.member("lvs_method", to_string(r.lvs_method));
        tunnel(r.lvs_method, r.tunnel);
        str_or_null("virtualhost", r.virtualhost);
        w_.member("smtp_alert", r.smtp_alert);
        str_or_null("snmp_name", r.snmp_name);
        std::vector<std::string_view> set;
        if (r.lvs_method_set) set.push_back("lvs_method");
        inherited(r, set);
        set_here(set);
        script("notify_up", r.notify_up);
        script("notify_down", r.notify_down);
        w_.member("uthreshold", r.uthreshold);
        w_.member("lthreshold", r.lthreshold);
        w_.key("checkers").begin_array();
        for (const auto& c : r.checkers) checker(c);
        w_.end_array();
        other(r.other);
        w_.end_object();
    }

    void virtual_server(const VirtualServer& v)
    {
        w_.begin_object();
        const char* kind = v.kind == VirtualServer::Kind::address ? "address"
                           : v.kind == VirtualServer::Kind::fwmark ? "fwmark"
                                                                   : "group";
        w_.member("kind", kind);
        addr("address", v.address);
        w_.key("port");
        if (v.kind == VirtualServer::Kind::address) w_.value(v.port);
        else w_.null();
        w_.key("fwmark");
        if (v.kind == VirtualServer::Kind::fwmark) w_.value(v.fwmark);
        else w_.null();
        str_or_null("group", v.group);
        source(v.loc);
        w_.member("lb_algo", v.lb_algo);
        w_.member("lb_kind", to_string(v.lb_kind));
        tunnel(v.lb_kind, v.tunnel);
        str_or_null("ip_family", v.ip_family);
        w_.member("protocol", to_string(v.protocol));
        w_.member("persistence_timeout", v.persistence_timeout);
        addr("persistence_granularity", v.persistence_granularity);
        str_or_null("persistence_engine", v.persistence_engine);
        w_.member("ha_suspend", v.ha_suspend);
        w_.member("smtp_alert", v.smtp_alert);
        str_or_null("snmp_name", v.snmp_name);
        str_or_null("virtualhost", v.virtualhost);
        w_.key("sorry_server");
        if (v.sorry_server) {
            w_.begin_object();
            addr("address", v.sorry_server->address);
            w_.member("port", v.sorry_server->port);
            w_.key("lvs_method");
            if (v.sorry_server->lvs_method) w_.value(to_string(*v.sorry_server->lvs_method));
            else w_.null();
            tunnel(v.sorry_server->lvs_method.value_or(v.lb_kind), v.sorry_server->tunnel);
            w_.end_object();
        } else {
            w_.null();
        }
        w_.member("sorry_server_inhibit", v.sorry_server_inhibit);
        w_.member("omega", v.omega);
        w_.member("quorum", v.quorum);
        w_.member("hysteresis", v.hysteresis);
        script("quorum_up", v.quorum_up);
        script("quorum_down", v.quorum_down);
        strings("lb_flags", v.lb_flags);
        std::vector<std::string_view> set;
        inherited(v, set);
        set_here(set);
        w_.key("real_servers").begin_array();
        for (const auto& r : v.real_servers) real_server(r);
        w_.end_array();
        other(v.other);
        w_.end_object();
    }

    // ------------------------------------------------------------- dataplane
    void dataplane(const std::optional<Dataplane>& d)
    {
        w_.key("dataplane");
        if (!d) {
            w_.null();
            return;
        }
        w_.begin_object();
        source(d->loc);
        w_.key("interfaces").begin_array();
        for (const auto& i : d->interfaces) {
            w_.begin_object();
            w_.member("name", i.name);
            source(i.loc);
            w_.member("device", i.device);
            w_.key("address").begin_array();
            for (const auto& a : i.address) w_.value(a.to_string());
            w_.end_array();
            w_.member("mtu", i.mtu);
            w_.member("vlan", i.vlan);
            w_.member("rx_queues", i.rx_queues);
            w_.member("tx_queues", i.tx_queues);
            w_.member("exception_interface", i.exception_interface);
            w_.end_object();
        }
        w_.end_array();
        w_.key("routes").begin_array();
        for (const auto& r : d->routes) {
            w_.begin_object();
            prefix("prefix", r.prefix);
            addr("via", r.via);
            str_or_null("dev", r.dev);
            source(r.loc);
            w_.end_object();
        }
        w_.end_array();
        w_.member("conn_table_size", d->conn_table_size);
        w_.member("conn_defense_high_pct", d->conn_defense_high_pct);
        w_.member("conn_defense_full_pct", d->conn_defense_full_pct);
        w_.member("stuck_worker_timeout_ms", d->stuck_worker_timeout_ms);
        w_.end_object();
    }

private:
    JsonWriter& w_;
};

}  // namespace

std::string dump_json(const Config& config)
{
    JsonWriter w;
    Dumper d(w);
    w.begin_object();
    d.global_defs(config.global_defs);
    w.key("static_ipaddress").begin_array();
    for (const auto& a : config.static_ipaddress) d.ip_address(a);
    w.end_array();
    w.key("static_routes").begin_array();
    for (const auto& r : config.static_routes) d.route(r);
    w.end_array();
    d.rules("static_rules", config.static_rules);
    w.key("vrrp_scripts").begin_array();
    for (const auto& s : config.vrrp_scripts) d.vrrp_script(s);
    w.end_array();
    w.key("vrrp_sync_groups").begin_array();
    for (const auto& g : config.vrrp_sync_groups) d.sync_group(g);
    w.end_array();
    w.key("vrrp_instances").begin_array();
    for (const auto& v : config.vrrp_instances) d.vrrp_instance(v);
    w.end_array();
    w.key("virtual_server_groups").begin_array();
    for (const auto& g : config.virtual_server_groups) d.vs_group(g);
    w.end_array();
    w.key("virtual_servers").begin_array();
    for (const auto& v : config.virtual_servers) d.virtual_server(v);
    w.end_array();
    d.other(config.other);
    d.dataplane(config.dataplane);
    w.end_object();
    std::string out = w.take();
    out += '\n';
    return out;
}

}  // namespace kadp::conf
