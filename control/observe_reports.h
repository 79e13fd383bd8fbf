// Runs on: control thread. What the health checkers and the VRRP service
// report, turned into the kadpctl checks / vrrp replies (ctl_observe.h):
// the checkers and VRRP know nothing of the control socket.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "checks/health_checkers.h"
#include "control/ctl_observe.h"
#include "vrrp/vrrp_service.h"

namespace kadp::ctl {

ChecksReply checks_reply(const std::vector<chk::CheckerReport>& checkers);
VrrpReply vrrp_reply(const std::vector<vrrp::VrrpService::InstanceStatus>& instances,
                     const std::map<std::string, std::uint64_t>& dropped);
// Unix seconds; 0 for the clock's epoch (never happened).
std::int64_t unix_seconds(std::chrono::system_clock::time_point t);

}  // namespace kadp::ctl
