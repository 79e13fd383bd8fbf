// Runs on: control thread (building snapshots from the desired state).
#include "control/snapshot_builder.h"

#include "control/kernel/lvs_globals.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include "control/desired_services.h"

namespace kadp::ctl {

namespace {

std::string describe_addr(const conf::IpAddr& a, std::uint16_t port) {
    return "[" + a.to_string() + "]:" + std::to_string(port);
}

// Network-order words of a v4 address (conf keeps bytes in network order).
std::array<std::uint32_t, 4> words_v4(const conf::IpAddr& a) {
    std::array<std::uint32_t, 4> w{};
    std::memcpy(&w[0], a.bytes.data(), 4);
    return w;
}

// A VIP as the Snapshot's `released` list takes it (family and address).
dp::ServiceKey vip_key(const conf::IpAddr& a) {
    dp::ServiceKey k;
    if (a.is_v4()) {
        k.addr = words_v4(a);
        k.family = dp::kFamilyInet;
    } else {
        std::memcpy(k.addr.data(), a.bytes.data(), 16);
        k.family = dp::kFamilyInet6;
    }
    return k;
}

// RouteTable4::build's "FILE:LINE: message" back into a location and a
// message, so the diagnostic reads like every other config error.
std::pair<conf::SourceLoc, std::string> split_where(const std::string& error) {
    const auto sep = error.find(": ");
    if (sep != std::string::npos) {
        const std::string where = error.substr(0, sep);
        const auto colon = where.rfind(':');
        if (colon != std::string::npos && colon + 1 < where.size() &&
            where.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
            return {conf::SourceLoc{where.substr(0, colon), std::stoi(where.substr(colon + 1))},
                    error.substr(sep + 2)};
        }
    }
    return {conf::SourceLoc{}, error};
}

std::optional<dp::FwdMethod> fwd_of(conf::LbKind k, const BuildOptions& o) {
    switch (k) {
    case conf::LbKind::nat: return o.nat ? std::optional{dp::FwdMethod::nat} : std::nullopt;
    case conf::LbKind::dr: return o.dr ? std::optional{dp::FwdMethod::dr} : std::nullopt;
    case conf::LbKind::tun: return o.tun ? std::optional{dp::FwdMethod::tun} : std::nullopt;
    }
    return std::nullopt;
}

std::string supported_algos() {
    std::string names;
#define KADP_X(name) names += (names.empty() ? "" : ", ") + std::string(#name);
    KADP_SCHED_ALGOS(KADP_X)
#undef KADP_X
    return names;
}

// One service the configuration asks for, before it is built.
struct Wanted {
    const conf::VirtualServer* vs;
    dp::ServiceKey key;
    std::string name;  // for messages: "[10.0.0.1]:80/tcp"
};

class Build {
public:
    Build(dp::StatsRegistry& registry, const BuildOptions& options, conf::Diagnostics& diags)
        : lease_(registry), options_(options), diags_(diags) {}

    // The services of one virtual_server block, appended to wanted_.
    void expand(const conf::Config& config, const conf::VirtualServer& vs) {
        const std::string name = describe(vs);
        if (vs.kind == conf::VirtualServer::Kind::fwmark) {
            diags_.warning(vs.loc, "virtual server " + name +
                                       ": fwmark services are not supported by the data plane yet - skipped");
            return;
        }
        if (vs.protocol == conf::Protocol::sctp) {
            diags_.warning(vs.loc, "virtual server " + name + ": SCTP is not supported by the data plane yet - skipped");
            return;
        }
        const std::uint8_t proto = vs.protocol == conf::Protocol::tcp ? IPPROTO_TCP : IPPROTO_UDP;
        for (const VsEndpoint& e : expand_endpoints(config, vs, options_.max_group_expansion, diags_)) {
            if (e.kind == VsEndpoint::Kind::fwmark) {
                diags_.warning(e.loc, "virtual_server_group " + vs.group + ": fwmark " + std::to_string(e.fwmark) +
                                          " is not supported by the data plane yet - skipped");
                continue;
            }
            add_address(vs, e.address, e.port, proto, name, e.loc);  // IPv6: warns and skips
        }
    }

    // Builds every wanted service; nullptr-free table unless errors.
    std::vector<std::unique_ptr<dp::Service>> services(const dp::Snapshot* prev, const CheckerVerdicts& verdicts) {
        std::vector<std::unique_ptr<dp::Service>> out;
        for (const Wanted& w : wanted_) {
            if (!persistence_ok(w)) continue;
            if (auto svc = service(w, prev, verdicts)) {
                set_persistence(*svc, *w.vs);
                out.push_back(std::move(svc));
            }
        }
        return out;
    }

    dp::StatsLease take_lease() { return std::move(lease_); }

private:
    // IPVS schedules a port-0 ("all ports") service only when it is
    // persistent (ip_vs_schedule: "port zero only supported in persistent
    // services"); the parser makes a plain `virtual_server IP` (no port)
    // persistent as keepalived does, a group's port-0 entry is skipped here.
    bool persistence_ok(const Wanted& w) {
        if (w.key.port != 0 || w.vs->persistence_timeout) return true;
        diags_.warning(w.vs->loc, "virtual server " + describe(*w.vs) + ": " + w.name +
                                      ": port 0 (all ports) is only valid for a persistent service - skipped");
        return false;
    }

    // persistence_timeout (seconds, rounded like the kernel backend) and
    // persistence_granularity (IPv4 netmask; none: per client).
    static void set_persistence(dp::Service& svc, const conf::VirtualServer& vs) {
        if (!vs.persistence_timeout) return;
        std::uint32_t mask = 0xffffffffU;
        if (vs.persistence_granularity.is_v4()) std::memcpy(&mask, vs.persistence_granularity.bytes.data(), 4);
        const auto seconds = static_cast<std::uint32_t>(std::lround(*vs.persistence_timeout));
        svc.set_persistence(seconds * 1000U, mask);
    }

    void add_address(const conf::VirtualServer& vs, const conf::IpAddr& addr, std::uint16_t port, std::uint8_t proto,
                     const std::string& vs_name, const conf::SourceLoc& loc) {
        const std::string name = describe_addr(addr, port) + (proto == IPPROTO_TCP ? "/tcp" : "/udp");
        if (!addr.is_v4()) {
            diags_.warning(loc, "virtual server " + vs_name + ": " + name +
                                    " is IPv6, not supported by the data plane yet - skipped");
            return;
        }
        const dp::ServiceKey key = dp::ServiceKey::v4(words_v4(addr)[0], htons(port), proto);
        const auto [it, inserted] = seen_.emplace(key, &vs);
        if (!inserted) {
            diags_.error(loc, "virtual server " + vs_name + ": " + name + " is already a service of virtual server " +
                                  describe(*it->second) + " (" + it->second->loc.file + ":" +
                                  std::to_string(it->second->loc.line) + ")");
            return;
        }
        wanted_.push_back(Wanted{&vs, key, name});
    }

    // A real server or the sorry server as a Dest of the service `w`, with
    // its counters; nullopt (and a warning) for what the data plane cannot
    // forward to yet.
    std::optional<dp::Dest> dest(const Wanted& w, const std::string& vs_name, const conf::IpAddr& address,
                                 std::uint16_t port, conf::LbKind method, const conf::Tunnel& tunnel, int weight,
                                 const conf::SourceLoc& loc, const char* what) {
        const std::string rs_name = describe_addr(address, port);
        if (!address.is_v4()) {
            diags_.warning(loc, "virtual server " + vs_name + ": " + what + " " + rs_name +
                                    " is not IPv4, not supported by the data plane yet - skipped");
            return std::nullopt;
        }
        const auto fwd = fwd_of(method, options_);
        if (!fwd) {
            diags_.warning(loc, "virtual server " + vs_name + ": " + what + " " + rs_name + ": lvs_method " +
                                    conf::to_string(method) + " is not supported by the data plane yet - skipped");
            return std::nullopt;
        }
        // The data plane encapsulates IP-in-IP only (IPVS's default tunnel type).
        if (*fwd == dp::FwdMethod::tun && tunnel.type != "ipip") {
            diags_.warning(loc, "virtual server " + vs_name + ": " + what + " " + rs_name + ": lvs_method TUN type " +
                                    tunnel.type + " is not supported by the data plane (only ipip) - skipped");
            return std::nullopt;
        }
        dp::Dest d;
        d.addr = words_v4(address);
        d.port = htons(port);
        d.family = dp::kFamilyInet;
        d.fwd = *fwd;
        d.weight = weight < 0 ? 0 : weight;
        dp::DestCounters& c = lease_.dest(dp::DestKey{w.key, d.addr, d.port, d.family});
        d.id = c.id;
        d.counters = &c;
        return d;
    }

    std::unique_ptr<dp::Service> service(const Wanted& w, const dp::Snapshot* prev, const CheckerVerdicts& verdicts) {
        const conf::VirtualServer& vs = *w.vs;
        const std::string vs_name = describe(vs);
        const auto algo = dp::sched_from_name(vs.lb_algo);
        if (!algo) {
            // One message per virtual_server, not per expanded group address.
            if (rejected_.insert(&vs).second) {
                diags_.error(vs.loc, "virtual server " + vs_name + " (" + vs.loc.file + ":" +
                                         std::to_string(vs.loc.line) + "): lb_algo " + vs.lb_algo +
                                         " is not supported by the data plane yet (supported: " + supported_algos() +
                                         ")");
            }
            return nullptr;
        }
        const auto fwd = fwd_of(vs.lb_kind, options_);
        if (!fwd) {
            if (rejected_.insert(&vs).second) {
                diags_.warning(vs.loc, "virtual server " + vs_name + ": lb_kind " + conf::to_string(vs.lb_kind) +
                                           " is not supported by the data plane yet - skipped");
            }
            return nullptr;
        }
        try {
            const VsIdentity vs_id = vs_identity(vs);
            std::vector<dp::Dest> dests;
            std::set<std::pair<conf::IpAddr, std::uint16_t>> seen;
            for (const conf::RealServer& rs : vs.real_servers) {
                if (!seen.emplace(rs.address, rs.port).second) {
                    diags_.warning(rs.loc, "virtual server " + vs_name + ": real server " +
                                               describe_addr(rs.address, rs.port) +
                                               " is listed twice - the second one is ignored");
                    continue;
                }
                int weight = rs.weight;
                bool available = true;
                if (const auto o = verdicts.weights.find(RsIdentity{vs_id, rs.address, rs.port});
                    o != verdicts.weights.end()) {
                    weight = o->second;
                    // Down without inhibit_on_failure: IPVS would have removed it.
                    available = o->second > 0 || rs.inhibit_on_failure.value;
                }
                if (auto d = dest(w, vs_name, rs.address, rs.port, rs.lvs_method, rs.tunnel, weight, rs.loc,
                                  "real server")) {
                    d->u_threshold = static_cast<std::uint32_t>(std::max(rs.uthreshold, 0));
                    d->l_threshold = static_cast<std::uint32_t>(std::max(rs.lthreshold, 0));
                    d->available = available;
                    dests.push_back(*d);
                }
            }
            if (vs.sorry_server) add_sorry(w, vs, vs_name, verdicts.quorum_lost.contains(vs_id), dests);
            const dp::Service* before = prev != nullptr ? prev->services().find_exact(w.key) : nullptr;
            dp::ServiceCounters& sc = lease_.service(w.key);
            const std::uint32_t sched_flags = scheduler_flag_bits(vs.lb_flags);  // sh-port, mh-fallback, flag-N
            return std::make_unique<dp::Service>(w.key, *fwd, 0, std::move(dests), *algo, &sc,
                                                 before != nullptr ? &before->sched() : nullptr, sched_flags);
        } catch (const std::length_error& e) {
            // Ids run out for every address after the first that did: one
            // message per virtual_server (a group may expand to thousands).
            if (rejected_.insert(&vs).second)
                diags_.error(vs.loc, "virtual server " + vs_name + ": " + w.name + ": " + e.what());
        } catch (const std::invalid_argument& e) {
            diags_.error(vs.loc, "virtual server " + vs_name + ": " + w.name + ": " + e.what());
        }
        return nullptr;
    }

    // keepalived's sorry server: while the quorum is lost it alone takes new
    // connections (the live servers at weight 0: removed or inhibited, the
    // same to the data plane); otherwise it is out of the pool, or at
    // weight 0 with sorry_server_inhibit. A sorry server that is also a
    // real server of the service is that real server.
    void add_sorry(const Wanted& w, const conf::VirtualServer& vs, const std::string& vs_name, bool quorum_lost,
                   std::vector<dp::Dest>& dests) {
        const conf::SorryServer& s = *vs.sorry_server;
        if (quorum_lost) {
            for (dp::Dest& d : dests) {
                d.weight = 0;
                // Taken out of the service by keepalived unless inhibit_on_failure.
                const auto rs = std::find_if(vs.real_servers.begin(), vs.real_servers.end(), [&](const auto& r) {
                    return r.address.is_v4() && words_v4(r.address) == d.addr && htons(r.port) == d.port;
                });
                if (rs == vs.real_servers.end() || !rs->inhibit_on_failure.value) d.available = false;
            }
        }
        const dp::Dest probe = [&] {
            dp::Dest p;
            p.addr = s.address.is_v4() ? words_v4(s.address) : std::array<std::uint32_t, 4>{};
            p.port = htons(s.port);
            return p;
        }();
        const auto same = std::find_if(dests.begin(), dests.end(),
                                       [&](const dp::Dest& d) { return d.addr == probe.addr && d.port == probe.port; });
        if (same != dests.end()) {
            if (quorum_lost) {
                same->weight = 1;
                same->available = true;
            }
            return;
        }
        if (!quorum_lost && !vs.sorry_server_inhibit) return;
        if (auto d = dest(w, vs_name, s.address, s.port, s.lvs_method.value_or(vs.lb_kind), s.tunnel,
                          quorum_lost ? 1 : 0, vs.loc, "sorry server")) {
            dests.push_back(*d);
        }
    }

    dp::StatsLease lease_;
    const BuildOptions& options_;
    conf::Diagnostics& diags_;
    std::vector<Wanted> wanted_;
    std::map<dp::ServiceKey, const conf::VirtualServer*> seen_;
    std::set<const conf::VirtualServer*> rejected_;
};

// global_defs lvs_timeouts, as `ipvsadm --set` applies it to IPVS: the
// values given replace IPVS's defaults, the others keep them.
dp::ConnTimeouts conn_timeouts(const conf::Config& config, conf::Diagnostics& diags) {
    dp::ConnTimeouts t;
    const LvsGlobals g = lvs_globals(config.global_defs, diags);
    if (!g.timeouts) return t;
    if (g.timeouts->tcp != 0) t.tcp_ms = g.timeouts->tcp * 1000U;
    if (g.timeouts->tcp_fin != 0) t.tcpfin_ms = g.timeouts->tcp_fin * 1000U;
    if (g.timeouts->udp != 0) t.udp_ms = g.timeouts->udp * 1000U;
    return t;
}

}  // namespace

SnapshotBuilder::SnapshotBuilder(dp::StatsRegistry& registry, BuildOptions options)
    : registry_(&registry), options_(options) {}

std::unique_ptr<dp::Snapshot> SnapshotBuilder::build(const conf::Config& config, const dp::Snapshot* prev,
                                                     const CheckerVerdicts& verdicts, conf::Diagnostics& diags,
                                                     const std::set<conf::IpAddr>& released) {
    const std::size_t errors_before = diags.error_count();
    Build b(*registry_, options_, diags);
    for (const conf::VirtualServer& vs : config.virtual_servers) b.expand(config, vs);
    auto services = b.services(prev, verdicts);
    std::unique_ptr<const dp::RouteTable4> routes;
    if (config.dataplane) {
        dp::RouteBuild rb = dp::RouteTable4::build(*config.dataplane);
        for (const std::string& e : rb.errors) {
            auto [loc, message] = split_where(e);
            diags.error(loc, std::move(message));
        }
        routes = std::move(rb.table);
    }
    // On error the lease dies here and hands back every reference it took.
    if (diags.error_count() != errors_before) return nullptr;
    dp::ServiceTable table(std::move(services));
    ++generation_;
    std::vector<dp::ServiceKey> released_keys;
    for (const conf::IpAddr& vip : released) released_keys.push_back(vip_key(vip));
    // VRRP's addresses answer like VIPs while owned, service or not.
    std::vector<dp::ServiceKey> vrrp_keys;
    for (const conf::VrrpInstance& vi : config.vrrp_instances) {
        for (const auto* list : {&vi.virtual_ipaddress, &vi.virtual_ipaddress_excluded}) {
            for (const conf::VirtualIp& v : *list) {
                if (v.address.addr.is_v4()) vrrp_keys.push_back(vip_key(v.address.addr));
            }
        }
    }
    auto snap = std::make_unique<dp::Snapshot>(generation_, b.take_lease(), std::move(table), std::move(routes),
                                               released_keys, vrrp_keys);
    snap->set_timeouts(conn_timeouts(config, diags));
    return snap;
}

}  // namespace kadp::ctl
