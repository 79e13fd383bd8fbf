// Runs on: control thread.
#include "control/desired_state.h"

namespace kadp::ctl {

std::set<RsIdentity> real_server_identities(const conf::Config& config) {
    std::set<RsIdentity> ids;
    for (const conf::VirtualServer& vs : config.virtual_servers) {
        const VsIdentity v = vs_identity(vs);
        for (const conf::RealServer& rs : vs.real_servers) ids.insert(RsIdentity{v, rs.address, rs.port});
    }
    return ids;
}

void DesiredState::set_config(conf::Config config) {
    config_ = std::move(config);
    const std::set<RsIdentity> ids = real_server_identities(config_);
    std::erase_if(verdicts_.weights, [&ids](const auto& e) { return !ids.contains(e.first); });
    std::set<VsIdentity> vss;
    for (const conf::VirtualServer& vs : config_.virtual_servers) vss.insert(vs_identity(vs));
    std::erase_if(verdicts_.quorum_lost, [&vss](const VsIdentity& v) { return !vss.contains(v); });
    ++version_;
}

bool DesiredState::set_weight(const RsIdentity& rs, int weight) {
    const auto [it, inserted] = verdicts_.weights.try_emplace(rs, weight);
    if (!inserted) {
        if (it->second == weight) return false;
        it->second = weight;
    }
    ++version_;
    return true;
}

bool DesiredState::clear_weight(const RsIdentity& rs) {
    if (verdicts_.weights.erase(rs) == 0) return false;
    ++version_;
    return true;
}

bool DesiredState::set_quorum_lost(const VsIdentity& vs, bool lost) {
    const bool changed = lost ? verdicts_.quorum_lost.insert(vs).second : verdicts_.quorum_lost.erase(vs) != 0;
    if (changed) ++version_;
    return changed;
}

bool DesiredState::set_vip_owned(const conf::IpAddr& vip, bool owned) {
    const bool changed = owned ? released_.erase(vip) != 0 : released_.insert(vip).second;
    if (changed) ++version_;
    return changed;
}

}  // namespace kadp::ctl
