// Runs on: control thread. What one virtual_server block stands for, as
// keepalived hands it to IPVS: its own address, its fwmark, or every entry
// of its virtual_server_group (address ranges expanded). Both backends
// flatten the configuration through here (the snapshot builder for dpdk,
// desired_services for the kernel), so a group means the same services to
// either. Also the identities checker verdicts and reloads key on.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "conf/diagnostics.h"
#include "conf/model.h"

namespace kadp::ctl {

// A configured virtual_server's identity: what checker results and the
// reload diff key on (one per virtual_server block, groups included).
struct VsIdentity {
    conf::VirtualServer::Kind kind = conf::VirtualServer::Kind::address;
    conf::IpAddr address;
    std::uint16_t port = 0;
    std::uint32_t fwmark = 0;
    std::string group;
    conf::Protocol protocol = conf::Protocol::udp;
    friend bool operator==(const VsIdentity&, const VsIdentity&) = default;
    friend auto operator<=>(const VsIdentity&, const VsIdentity&) = default;
};
VsIdentity vs_identity(const conf::VirtualServer& vs);

// A real server of a virtual_server.
struct RsIdentity {
    VsIdentity vs;
    conf::IpAddr address;
    std::uint16_t port = 0;
    friend bool operator==(const RsIdentity&, const RsIdentity&) = default;
    friend auto operator<=>(const RsIdentity&, const RsIdentity&) = default;
};

// Desired weights that differ from the configuration: a checker that marks a
// real server down sets 0 (keepalived's inhibit_on_failure / removal both
// mean "no new connections" to the data plane). Applies to every service a
// group virtual_server expands to.
using WeightOverrides = std::map<RsIdentity, int>;

// What the health checkers decided, laid over the configuration the same
// way by both backends (desired_services for the kernel, the snapshot
// builder for dpdk): real servers' weights, and the virtual servers whose
// quorum is lost (one with a sorry_server then serves from it alone, the
// live servers out of the pool or at weight 0 with inhibit_on_failure).
struct CheckerVerdicts {
    CheckerVerdicts(WeightOverrides w = {}, std::set<VsIdentity> q = {})  // NOLINT: implicit from a weight map
        : weights(std::move(w)), quorum_lost(std::move(q)) {}
    WeightOverrides weights;
    std::set<VsIdentity> quorum_lost;
};

// "[10.0.0.1]:80/tcp", "group NAME/tcp", "FWM 5": how messages name a virtual server.
std::string describe(const conf::VirtualServer& vs);

// One service a virtual_server expands to.
struct VsEndpoint {
    enum class Kind { address, fwmark } kind = Kind::address;
    conf::IpAddr address;  // address endpoints
    std::uint16_t port = 0;
    std::uint32_t fwmark = 0;  // fwmark endpoints
    conf::IpAddr::Family family = conf::IpAddr::Family::v4;
    conf::SourceLoc loc;  // the virtual_server line, or the group entry's
};

// The endpoints of `vs`, in configuration order. A group that is not
// defined, or an entry naming more than `max_group_expansion` addresses, is
// an error in `diags` (that entry yields nothing).
std::vector<VsEndpoint> expand_endpoints(const conf::Config& config, const conf::VirtualServer& vs,
                                         std::uint32_t max_group_expansion, conf::Diagnostics& diags);

// The family IPVS gets for a fwmark service of `vs`: ip_family when given,
// else that of the first real server not tunnelled, else IPv4.
conf::IpAddr::Family fwmark_family(const conf::VirtualServer& vs);

}  // namespace kadp::ctl
