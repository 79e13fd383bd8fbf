// Runs on: control thread.
#include "control/desired_services.h"

#include <linux/ip_vs.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace kadp::ctl {
namespace {

struct FlagName {
    const char* name;
    std::uint32_t bit;
};
constexpr FlagName kFlagNames[] = {
    {"sh-fallback", IP_VS_SVC_F_SCHED1}, {"sh-port", IP_VS_SVC_F_SCHED2},
    {"mh-fallback", IP_VS_SVC_F_SCHED1}, {"mh-port", IP_VS_SVC_F_SCHED2},
    {"flag-1", IP_VS_SVC_F_SCHED1},      {"flag-2", IP_VS_SVC_F_SCHED2},
    {"flag-3", IP_VS_SVC_F_SCHED3},
};

std::uint8_t prefix_length(const conf::IpAddr& mask) {
    std::uint8_t n = 0;
    for (std::uint8_t b : mask.bytes) n = static_cast<std::uint8_t>(n + __builtin_popcount(b));
    return n;
}

// The real servers of one virtual_server, the same for each of its endpoints
// (the port of a server given without one is filled per endpoint).
std::vector<IpvsDest> dests_of(const conf::VirtualServer& vs, const CheckerVerdicts& verdicts) {
    const VsIdentity id = vs_identity(vs);
    const WeightOverrides& overrides = verdicts.weights;
    std::vector<IpvsDest> live;
    std::vector<IpvsDest> inhibited;  // down, kept at weight 0
    for (const conf::RealServer& rs : vs.real_servers) {
        IpvsDest d;
        d.address = rs.address;
        d.port = rs.port;
        d.forward = rs.lvs_method;
        d.weight = rs.weight;
        d.upper_threshold = static_cast<std::uint32_t>(rs.uthreshold > 0 ? rs.uthreshold : 0);
        d.lower_threshold = static_cast<std::uint32_t>(rs.lthreshold > 0 ? rs.lthreshold : 0);
        if (rs.lvs_method == conf::LbKind::tun) {
            d.tunnel = rs.tunnel;
            if (d.tunnel.checksum == "nocsum") d.tunnel.checksum.clear();  // the kernel's default, read back as none
            if (d.tunnel.type != "gue") d.tunnel.port = 0;
        }
        const auto o = overrides.find(RsIdentity{id, rs.address, rs.port});
        if (o != overrides.end() && o->second <= 0) {
            if (rs.inhibit_on_failure.value) {
                d.weight = 0;
                inhibited.push_back(d);
            }
            continue;
        }
        if (o != overrides.end()) d.weight = o->second;
        live.push_back(d);
    }
    if (!vs.sorry_server) {
        live.insert(live.end(), inhibited.begin(), inhibited.end());
        return live;
    }
    const conf::SorryServer& s = *vs.sorry_server;
    IpvsDest sorry;
    sorry.address = s.address;
    sorry.port = s.port;
    sorry.forward = s.lvs_method.value_or(vs.lb_kind);
    if (sorry.forward == conf::LbKind::tun) sorry.tunnel = s.tunnel;
    sorry.weight = 1;
    if (verdicts.quorum_lost.contains(id)) {
        // Quorum lost: the sorry server replaces whatever is still up.
        std::vector<IpvsDest> out;
        for (IpvsDest d : live) {
            const auto it = std::find_if(vs.real_servers.begin(), vs.real_servers.end(), [&](const auto& rs) {
                return rs.address == d.address && rs.port == d.port;
            });
            if (it != vs.real_servers.end() && it->inhibit_on_failure.value) {
                d.weight = 0;
                inhibited.push_back(d);
            }
        }
        for (const IpvsDest& d : inhibited) {
            if (!d.same_dest(sorry)) out.push_back(d);
        }
        out.push_back(sorry);
        return out;
    }
    live.insert(live.end(), inhibited.begin(), inhibited.end());
    if (vs.sorry_server_inhibit && std::none_of(live.begin(), live.end(), [&](const IpvsDest& d) {
            return d.same_dest(sorry);
        })) {
        // sorry_server_inhibit: kept in the pool at weight 0 while not needed.
        sorry.weight = 0;
        live.push_back(sorry);
    }
    return live;
}

// What the kernel keys a service on (IpvsService::same_service), orderable.
using ServiceKey = std::tuple<std::uint32_t, conf::IpAddr::Family, conf::Protocol, conf::IpAddr, std::uint16_t>;
ServiceKey key_of(const IpvsService& s) {
    if (s.fwmark != 0) return {s.fwmark, s.family, conf::Protocol::tcp, {}, 0};
    return {0, s.family, s.protocol, s.address, s.port};
}

}  // namespace

std::uint32_t scheduler_flag_bits(const std::vector<std::string>& names) {
    std::uint32_t bits = 0;
    for (const std::string& n : names) {
        for (const FlagName& f : kFlagNames) {
            if (n == f.name) bits |= f.bit;
        }
    }
    return bits;
}

std::vector<std::string> scheduler_flag_names(const std::string& scheduler, std::uint32_t bits) {
    std::vector<std::string> out;
    const std::string prefix = scheduler == "sh" || scheduler == "mh" ? scheduler + "-" : "flag-";
    for (const std::uint32_t bit : {IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3}) {
        if ((bits & bit) == 0) continue;
        if (prefix != "flag-" && bit == IP_VS_SVC_F_SCHED1) out.push_back(prefix + "fallback");
        else if (prefix != "flag-" && bit == IP_VS_SVC_F_SCHED2) out.push_back(prefix + "port");
        else out.push_back("flag-" + std::to_string(bit == IP_VS_SVC_F_SCHED1 ? 1 : bit == IP_VS_SVC_F_SCHED2 ? 2 : 3));
    }
    return out;
}

std::vector<IpvsService> desired_services(const conf::Config& config, const CheckerVerdicts& verdicts,
                                          conf::Diagnostics& diags, const DesiredOptions& options) {
    std::vector<IpvsService> out;
    std::map<ServiceKey, const conf::VirtualServer*> seen;
    for (const conf::VirtualServer& vs : config.virtual_servers) {
        const std::vector<IpvsDest> dests = dests_of(vs, verdicts);
        for (const VsEndpoint& e : expand_endpoints(config, vs, options.max_group_expansion, diags)) {
            IpvsService s;
            s.loc = vs.loc;
            if (e.kind == VsEndpoint::Kind::fwmark) {
                s.fwmark = e.fwmark;
                s.family = e.family;
            } else {
                s.protocol = vs.protocol;
                s.address = e.address;
                s.port = e.port;
                s.family = e.address.family;
            }
            const auto [it, fresh] = seen.emplace(key_of(s), &vs);
            if (!fresh) {
                diags.error(e.loc, "virtual server " + describe(vs) + ": " + describe_service(s) +
                                       " is already a service of virtual server " + describe(*it->second) + " (" +
                                       it->second->loc.file + ":" + std::to_string(it->second->loc.line) + ")");
                continue;
            }
            s.scheduler = vs.lb_algo;
            if (vs.persistence_timeout) {
                s.persistence_timeout = static_cast<std::uint32_t>(std::lround(*vs.persistence_timeout));
                if (vs.persistence_granularity.is_v4() && s.family == conf::IpAddr::Family::v4) {
                    s.persistence_netmask_v4 = vs.persistence_granularity.v4_host_order();
                } else if (vs.persistence_granularity.is_v6() && s.family == conf::IpAddr::Family::v6) {
                    s.persistence_prefix_v6 = prefix_length(vs.persistence_granularity);
                }
            }
            s.persistence_engine = vs.persistence_engine;
            s.scheduler_flags = scheduler_flag_names(vs.lb_algo, scheduler_flag_bits(vs.lb_flags));
            s.one_packet = std::find(vs.lb_flags.begin(), vs.lb_flags.end(), "ops") != vs.lb_flags.end();
            s.dests = dests;
            for (IpvsDest& d : s.dests) {
                if (d.port == 0 && s.fwmark == 0) d.port = s.port;
            }
            out.push_back(std::move(s));
        }
    }
    return out;
}

std::string describe_service(const IpvsService& s) {
    if (s.fwmark != 0) {
        return "FWM " + std::to_string(s.fwmark) + (s.family == conf::IpAddr::Family::v6 ? " IPv6" : "");
    }
    const char* proto = s.protocol == conf::Protocol::tcp ? "TCP" : s.protocol == conf::Protocol::udp ? "UDP" : "SCTP";
    return std::string(proto) + " " + describe_endpoint(s.address, s.port);
}

std::string describe_endpoint(const conf::IpAddr& address, std::uint16_t port) {
    const std::string a = address.to_string();
    return (address.is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(port);
}

}  // namespace kadp::ctl
