// Runs on: control thread. The kadpctl handler of either backend, with the
// VRRP instances' states added to `status`, and `vrrp` and `checks`
// answered from the VrrpService and the HealthCheckers: the backends know
// nothing of VRRP or checkers, those nothing of the control socket.
#pragma once

#include "checks/health_checkers.h"
#include "control/control_handler.h"
#include "control/observe_reports.h"
#include "vrrp/vrrp_service.h"

namespace kadp::ctl {

class WithVrrpStatus final : public ControlHandler {
public:
    // All outlive it; `checkers` may be null (none).
    WithVrrpStatus(ControlHandler& inner, const vrrp::VrrpService& vrrp, const chk::HealthCheckers* checkers = nullptr)
        : inner_(&inner), vrrp_(&vrrp), checkers_(checkers) {}
    ListReply list() override { return inner_->list(); }
    ConnsReply conns(std::size_t limit) override { return inner_->conns(limit); }
    ReloadReply reload(const std::string& trigger) override { return inner_->reload(trigger); }
    StatsReply stats() override { return inner_->stats(); }
    VrrpReply vrrp() override { return vrrp_reply(vrrp_->status(), vrrp_->dropped()); }
    ChecksReply checks() override { return checkers_ != nullptr ? checks_reply(checkers_->report()) : ChecksReply{}; }
    StatusReply status() override
    {
        StatusReply r = inner_->status();
        for (const auto& i : vrrp_->status()) {
            VrrpInstanceStatus s{i.name, i.interface, static_cast<std::uint64_t>(i.vrid), vrrp::to_string(i.state),
                                 static_cast<std::uint64_t>(i.priority), {}};
            for (const auto& [reason, n] : i.dropped)
                if (n != 0) s.dropped.emplace_back(reason, n);
            r.vrrp.push_back(std::move(s));
        }
        for (const auto& [reason, n] : vrrp_->dropped())
            if (n != 0) r.vrrp_dropped.emplace_back(reason, n);
        return r;
    }

private:
    ControlHandler* inner_;
    const vrrp::VrrpService* vrrp_;
    const chk::HealthCheckers* checkers_;
};

}  // namespace kadp::ctl
