// Runs on: control thread (the metrics HTTP server renders a scrape) and in
// unit tests. The Prometheus text exposition format 0.0.4 of what `kadpctl
// status` and `kadpctl list` report: one pure function, so both backends
// export the same metric names and labels (docs/metrics.md lists them).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control/ctl_messages.h"

namespace kadp::ctl {

// The Content-Type of what render_metrics() returns.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// One worker's own counters (DPDK backend): its lcore and one value per
// entry of StatusReply::counters, in the same order (dataplane/counters.h).
struct WorkerCounterSet {
    unsigned lcore = 0;
    std::vector<std::uint64_t> values;
};

// A configured real server's health verdict (its checkers, keepalived's
// semantics: checks/health_checkers.h). The service labels as for the
// services; a virtual_server_group's real servers have vip "group NAME",
// port "0" and their protocol.
struct RealServerHealth {
    std::string vip, port, protocol, real_server, real_port;
    bool up = true;
};

// Every metric family with its # HELP and # TYPE lines, the samples of a
// family together, families with no sample left out; no timestamps.
// `workers` (empty: none) adds the per-worker split of the counters,
// `health` the checkers' verdicts.
std::string render_metrics(const StatusReply& status, const ListReply& list,
                           std::span<const WorkerCounterSet> workers = {},
                           std::span<const RealServerHealth> health = {});

// A label value as the format wants it: \ " and newline escaped.
std::string escape_label_value(std::string_view v);

}  // namespace kadp::ctl
