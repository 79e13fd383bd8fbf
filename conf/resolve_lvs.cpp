// Runs on: control thread. Inheritance virtual_server -> real_server ->
// checker, and the per-server fix-ups keepalived makes (and reports) before
// it builds the IPVS services: forwarding method, address family and ports.
#include <algorithm>

#include "conf/lvs_internal.h"

namespace kadp::conf {
namespace {

// The value a lower level inherits: the nearest level that set it.
template <class T>
Inherited<T> nearest(const Inherited<T>& rs, const Inherited<T>& vs)
{
    return rs.set ? rs : vs;
}

// Own value if set, else the parent's if set anywhere above, else `fallback`.
template <class T>
void resolve(Inherited<T>& child, const Inherited<T>& parent, T fallback)
{
    if (!child.set) child.value = parent.set ? parent.value : fallback;
}

int default_retry(CheckerType t)
{
    if (t == CheckerType::misc_check) return 0;
    if (t == CheckerType::dns_check) return 3;
    return 1;
}

double default_delay_before_retry(const Checker& c)
{
    if (c.type == CheckerType::http_get || c.type == CheckerType::ssl_get) return 3;
    if (c.type == CheckerType::dns_check) return c.delay_loop.value;
    return 1;
}

bool connects(CheckerType t)
{
    return t != CheckerType::misc_check && t != CheckerType::file_check && t != CheckerType::bfd_check;
}

void resolve_checker(Checker& c, const RealServer& rs, const VirtualServer& vs, const Config& config)
{
    resolve(c.connect_timeout, nearest(rs.connect_timeout, vs.connect_timeout), 5.0);
    resolve(c.delay_loop, nearest(rs.delay_loop, vs.delay_loop), 60.0);
    resolve(c.retry, nearest(rs.retry, vs.retry), default_retry(c.type));
    resolve(c.delay_before_retry, nearest(rs.delay_before_retry, vs.delay_before_retry),
            default_delay_before_retry(c));
    // Unset everywhere: the first check comes after a random delay up to delay_loop.
    resolve(c.warmup, nearest(rs.warmup, vs.warmup), c.delay_loop.value);
    resolve(c.alpha, nearest(rs.alpha, vs.alpha), false);
    c.service_protocol = vs.protocol;
    if (connects(c.type)) {
        if (c.connect_ip.empty()) c.connect_ip = rs.address;
        if (c.connect_port == 0) c.connect_port = rs.port;
    }
    if (c.type == CheckerType::http_get || c.type == CheckerType::ssl_get) {
        if (c.virtualhost.empty()) c.virtualhost = rs.virtualhost.empty() ? vs.virtualhost : rs.virtualhost;
    }
    if (c.type == CheckerType::smtp_check && c.helo_name.empty()) c.helo_name = config.global_defs.smtp_helo_name;
    if (c.type == CheckerType::misc_check && c.misc_timeout == 0) c.misc_timeout = c.delay_loop.value;
    if (c.type == CheckerType::misc_check && !c.user.empty()) {
        c.misc_path.user = c.user;
        c.misc_path.group = c.group;
    }
}

void resolve_virtual_server_values(VirtualServer& vs)
{
    const Inherited<double> none_d;
    const Inherited<int> none_i;
    const Inherited<bool> none_b;
    resolve(vs.connect_timeout, none_d, 5.0);
    resolve(vs.delay_loop, none_d, 60.0);
    resolve(vs.retry, none_i, 1);
    resolve(vs.delay_before_retry, none_d, 1.0);
    resolve(vs.warmup, none_d, vs.delay_loop.value);
    resolve(vs.alpha, none_b, false);
    resolve(vs.inhibit_on_failure, none_b, false);
}

void resolve_real_server_values(RealServer& rs, const VirtualServer& vs)
{
    resolve(rs.connect_timeout, vs.connect_timeout, 5.0);
    resolve(rs.delay_loop, vs.delay_loop, 60.0);
    resolve(rs.retry, vs.retry, 1);
    resolve(rs.delay_before_retry, vs.delay_before_retry, 1.0);
    resolve(rs.warmup, vs.warmup, rs.delay_loop.value);
    resolve(rs.alpha, vs.alpha, false);
    resolve(rs.inhibit_on_failure, vs.inhibit_on_failure, false);
    if (!rs.lvs_method_set) {
        rs.lvs_method = vs.lb_kind;
        rs.tunnel = vs.tunnel;
    }
}

// The family of the service: its address, else ip_family, else (fwmark) the
// first server that is not tunnelled, as keepalived decides it.
IpAddr::Family service_family(const VirtualServer& vs)
{
    if (vs.kind == VirtualServer::Kind::address) return vs.address.family;
    if (vs.ip_family == "inet") return IpAddr::Family::v4;
    if (vs.ip_family == "inet6") return IpAddr::Family::v6;
    if (vs.kind == VirtualServer::Kind::group) return IpAddr::Family::none;  // the group's entries decide
    for (const auto& rs : vs.real_servers)
        if (rs.lvs_method != LbKind::tun) return rs.address.family;
    if (vs.sorry_server && vs.sorry_server->lvs_method != LbKind::tun) return vs.sorry_server->address.family;
    return IpAddr::Family::none;
}

// Tunnelled servers may differ in family; NAT and DR ones cannot.
void drop_other_family(VirtualServer& vs, ParseContext& ctx)
{
    IpAddr::Family family = service_family(vs);
    if (family == IpAddr::Family::none) return;
    std::erase_if(vs.real_servers, [&](const RealServer& rs) {
        if (rs.lvs_method == LbKind::tun || rs.address.family == family) return false;
        ctx.diags.warning(rs.loc, "Address family of virtual server " + describe(vs) + " and real server " +
                                      rs.address.to_string() + " don't match - skipping real server");
        return true;
    });
    if (vs.sorry_server && vs.sorry_server->lvs_method != LbKind::tun && vs.sorry_server->address.family != family) {
        ctx.diags.warning(vs.loc, "Address family of virtual server " + describe(vs) + " and sorry server " +
                                      vs.sorry_server->address.to_string() + " don't match - skipping sorry server");
        vs.sorry_server.reset();
    }
}

// DR and TUN cannot change the port: keepalived resets (or, for fwmark
// services, clears) a port that differs, with a warning. NAT keeps it.
void fix_port(const VirtualServer& vs, LbKind method, std::uint16_t& port, const std::string& what,
              const SourceLoc& loc, ParseContext& ctx)
{
    if (vs.kind == VirtualServer::Kind::fwmark) {
        if (method != LbKind::nat && port != 0) {
            ctx.diags.warning(loc, "fwmark virtual server " + describe(vs) + ", " + what +
                                       " has port specified - clearing");
            port = 0;
        }
        return;
    }
    if (vs.kind != VirtualServer::Kind::address) return;
    if (port == 0) {
        port = vs.port;
        return;
    }
    if (method != LbKind::nat && port != vs.port) {
        ctx.diags.warning(loc, "virtual server " + describe(vs) + " and " + what + " ports don't match - resetting to " +
                                   std::to_string(vs.port));
        port = vs.port;
    }
}

void resolve_virtual_server(VirtualServer& vs, const Config& config, ParseContext& ctx)
{
    resolve_virtual_server_values(vs);
    for (auto& rs : vs.real_servers) resolve_real_server_values(rs, vs);
    if (vs.sorry_server && !vs.sorry_server->lvs_method) {
        vs.sorry_server->lvs_method = vs.lb_kind;
        vs.sorry_server->tunnel = vs.tunnel;
    }
    drop_other_family(vs, ctx);
    for (auto& rs : vs.real_servers)
        fix_port(vs, rs.lvs_method, rs.port, "real server " + describe(rs.address, rs.port), rs.loc, ctx);
    if (vs.sorry_server)
        fix_port(vs, *vs.sorry_server->lvs_method, vs.sorry_server->port, "sorry server", vs.loc, ctx);
    // Checkers last: they connect to the real server's final port.
    for (auto& rs : vs.real_servers)
        for (auto& c : rs.checkers) resolve_checker(c, rs, vs, config);
}

}  // namespace

void resolve_lvs(Config& config, ParseContext& ctx)
{
    for (auto& vs : config.virtual_servers) resolve_virtual_server(vs, config, ctx);
}

}  // namespace kadp::conf
