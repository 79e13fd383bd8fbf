// Runs on: control thread. What should be: the configuration, adjusted by
// the checkers' verdicts (weights of real servers, the quorum of each
// virtual server) and by VRRP's ownership of virtual addresses. Reload replaces the configuration; checkers
// set weights and quorum verdicts; VRRP owns and releases VIPs. Every
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
    const WeightOverrides& weights() const { return verdicts_.weights; }
    // VIPs this node does not own now; every other VIP is owned.
    const std::set<conf::IpAddr>& released_vips() const { return released_; }
    // Virtual servers whose live weight lost their quorum (chk::Quorum):
    // one with a sorry_server serves from it alone.
    const std::set<VsIdentity>& quorum_lost() const { return verdicts_.quorum_lost; }
    // Both, as the backends take them.
    const CheckerVerdicts& verdicts() const { return verdicts_; }
    std::uint64_t version() const { return version_; }

    // A new configuration (reload). Weight and quorum verdicts for servers
    // it no longer has are dropped; those it keeps stay (a checker goes on
    // judging an unchanged real server across a reload).
    void set_config(conf::Config config);
    // A checker's verdict: `weight` for the real server (0: no new
    // connections). Returns whether anything changed.
    bool set_weight(const RsIdentity& rs, int weight);
    // Back to the configured weight.
    bool clear_weight(const RsIdentity& rs);
    // The checkers' quorum verdict for a virtual server. Returns whether
    // anything changed.
    bool set_quorum_lost(const VsIdentity& vs, bool lost);
    // VRRP: this node now owns (master) or no longer owns (backup, fault)
    // the address. Returns whether anything changed.
    bool set_vip_owned(const conf::IpAddr& vip, bool owned);

private:
    conf::Config config_;
    CheckerVerdicts verdicts_;
    std::set<conf::IpAddr> released_;
    std::uint64_t version_ = 1;
};

// Every real server identity the configuration has.
std::set<RsIdentity> real_server_identities(const conf::Config& config);

}  // namespace kadp::ctl
