// Runs on: control thread. What should be: the configuration, adjusted by
// the checkers' verdicts (weights of real servers) and by VRRP's ownership
// of virtual addresses. Reload replaces the configuration; checkers
// (issue 6) set weights; VRRP (issue 7) owns and releases VIPs. Every
// change bumps version(); a backend applies the state whenever the version
// moved since it last did (DpdkControl::apply: one snapshot for a whole
// batch of changes; KernelDaemon::apply: one reconcile pass over IPVS).
// Both backends keep their state here. Control thread only: no locking.
#pragma once

#include <cstdint>
#include <set>
#include <utility>

#include "conf/inet.h"
#include "conf/model.h"
#include "control/vs_expand.h"

namespace kadp::ctl {

class DesiredState {
public:
    explicit DesiredState(conf::Config config) : config_(std::move(config)) {}

    const conf::Config& config() const { return config_; }
    // Real servers whose weight differs from the configuration's.
    const WeightOverrides& weights() const { return weights_; }
    // VIPs this node does not own now; every other VIP is owned.
    const std::set<conf::IpAddr>& released_vips() const { return released_; }
    std::uint64_t version() const { return version_; }

    // A new configuration (reload). Weight verdicts for real servers it no
    // longer has are dropped; those it keeps stay (a checker goes on
    // judging an unchanged real server across a reload).
    void set_config(conf::Config config);
    // A checker's verdict: `weight` for the real server (0: no new
    // connections). Returns whether anything changed.
    bool set_weight(const RsIdentity& rs, int weight);
    // Back to the configured weight.
    bool clear_weight(const RsIdentity& rs);
    // VRRP: this node now owns (master) or no longer owns (backup, fault)
    // the address. Returns whether anything changed.
    bool set_vip_owned(const conf::IpAddr& vip, bool owned);

private:
    conf::Config config_;
    WeightOverrides weights_;
    std::set<conf::IpAddr> released_;
    std::uint64_t version_ = 1;
};

// Every real server identity the configuration has.
std::set<RsIdentity> real_server_identities(const conf::Config& config);

}  // namespace kadp::ctl
