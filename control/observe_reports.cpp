// Runs on: control thread.
#include "control/observe_reports.h"

namespace kadp::ctl {

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
    if (t == std::chrono::system_clock::time_point{}) return 0;
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

ChecksReply checks_reply(const std::vector<chk::CheckerReport>& checkers) {
    ChecksReply r;
    for (const chk::CheckerReport& c : checkers) {
        CheckerStatus s;
        s.virtual_server = c.virtual_server;
        s.real_server = c.real_server;
        s.checked = c.checked;
        s.type = c.type;
        s.state = c.pending ? "pending" : c.up ? "up" : "down";
        s.in_service = c.in_service;
        s.weight = c.weight;
        if (c.record.ran) s.last_result = c.record.ok ? "ok" : "failed";
        s.reason = c.record.reason;
        s.latency_ms = static_cast<std::uint64_t>(c.record.latency.count());
        s.last_check = c.record.ran ? unix_seconds(c.record.finished) : 0;
        s.last_transition = unix_seconds(c.record.transition);
        s.consecutive_failures = static_cast<std::uint64_t>(c.record.consecutive_failures);
        s.retry = static_cast<std::uint64_t>(c.retry < 0 ? 0 : c.retry);
        r.checkers.push_back(std::move(s));
    }
    return r;
}

VrrpReply vrrp_reply(const std::vector<vrrp::VrrpService::InstanceStatus>& instances,
                     const std::map<std::string, std::uint64_t>& dropped) {
    VrrpReply r;
    for (const auto& i : instances) {
        VrrpInstanceDetail d;
        d.name = i.name;
        d.interface = i.interface;
        d.vrid = static_cast<std::uint64_t>(i.vrid);
        d.state = vrrp::to_string(i.state);
        d.priority = static_cast<std::uint64_t>(i.priority);
        d.base_priority = static_cast<std::uint64_t>(i.base_priority);
        if (i.master) d.master = i.master->to_string();
        d.master_is_self = i.state == vrrp::State::master;
        if (i.transition) d.last_transition = unix_seconds(*i.transition);
        d.reason = i.reason;
        for (const auto& [reason, n] : i.dropped)
            if (n != 0) d.dropped.emplace_back(reason, n);
        r.instances.push_back(std::move(d));
    }
    for (const auto& [reason, n] : dropped)
        if (n != 0) r.dropped.emplace_back(reason, n);
    return r;
}

}  // namespace kadp::ctl
