// Runs on: control thread. Turns the desired state (conf::Config + the
// checkers' weight overrides) into a dp::Snapshot for the SnapshotPublisher.
// Reads the Config and the previous snapshot (still published, so alive);
// writes only the new snapshot and the StatsRegistry (control-thread owned).
//
// Flattening, as IPVS sees keepalived's services:
// * `virtual_server ADDR PORT` -> one service;
// * `virtual_server group NAME` -> one service per address of every address
//   entry of the group (ranges expanded; more than
//   BuildOptions::max_group_expansion addresses in one entry is an error);
// * fwmark services and fwmark group entries are skipped with a warning (the
//   data plane does not classify by mark yet), as are IPv6 and SCTP
//   services and forwarding methods the data plane does not run yet.
// With a dataplane block, the snapshot also carries its routing table
// (RouteTable4::build; its errors are errors here).
// An lb_algo the data plane does not implement is an error naming the
// virtual server at its file:line; any error means no snapshot (the caller
// keeps the one it has).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "conf/diagnostics.h"
#include "conf/model.h"
#include "dataplane/snapshot.h"

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

struct BuildOptions {
    // Addresses one virtual_server_group entry may expand to.
    std::uint32_t max_group_expansion = 256;
    // Forwarding methods the data plane runs; others are skipped with a warning.
    bool nat = true;
    bool dr = false;
    bool tun = false;
};

// "[10.0.0.1]:80/tcp", "group NAME/tcp", "FWM 5": how messages name a virtual server.
std::string describe(const conf::VirtualServer& vs);

class SnapshotBuilder {
public:
    // `registry` outlives the builder and every snapshot it builds.
    explicit SnapshotBuilder(dp::StatsRegistry& registry, BuildOptions options = {});

    // Builds the next snapshot. `prev` is the snapshot currently published
    // (or nullptr): each service present in both keeps its counters (the
    // registry's, by identity) and its rr/wrr position. Errors and warnings
    // go to `diags`; returns nullptr when there was an error.
    // `released`: VIPs this node does not own now (Snapshot's constructor).
    std::unique_ptr<dp::Snapshot> build(const conf::Config& config, const dp::Snapshot* prev,
                                        const WeightOverrides& overrides, conf::Diagnostics& diags,
                                        const std::set<conf::IpAddr>& released = {});

    std::uint64_t last_generation() const { return generation_; }

private:
    dp::StatsRegistry* registry_;
    BuildOptions options_;
    std::uint64_t generation_ = 0;
};

}  // namespace kadp::ctl
