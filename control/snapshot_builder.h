// Runs on: control thread. Turns the desired state (conf::Config + the
// checkers' verdicts: weights, quorum) into a dp::Snapshot for the SnapshotPublisher.
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
// The addresses of every vrrp_instance are VIPs too (answered for ARP and
// ICMP while owned, whether or not a service uses them: a gateway for the
// real servers, say).
// With a dataplane block, the snapshot also carries its routing table
// (RouteTable4::build; its errors are errors here).
// An lb_algo the data plane does not implement is an error naming the
// virtual server at its file:line; any error means no snapshot (the caller
// keeps the one it has).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "conf/diagnostics.h"
#include "conf/model.h"
#include "control/vs_expand.h"
#include "dataplane/snapshot.h"

namespace kadp::ctl {

struct BuildOptions {
    // Addresses one virtual_server_group entry may expand to.
    std::uint32_t max_group_expansion = 256;
    // Forwarding methods the data plane runs; others are skipped with a
    // warning. run_dataplane turns DR and TUN on (TUN: type ipip only, other
    // tunnel types are skipped with a warning); off here so a builder made
    // without options stays NAT-only.
    bool nat = true;
    bool dr = false;
    bool tun = false;
};

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
                                        const CheckerVerdicts& verdicts, conf::Diagnostics& diags,
                                        const std::set<conf::IpAddr>& released = {});

    std::uint64_t last_generation() const { return generation_; }

private:
    dp::StatsRegistry* registry_;
    BuildOptions options_;
    std::uint64_t generation_ = 0;
};

}  // namespace kadp::ctl
