// Runs on: control thread (the metrics HTTP server renders a scrape) and in
// unit tests. The Prometheus text exposition format 0.0.4 of what `kadpctl
// status` and `kadpctl list` report: one pure function, so both backends
// export the same metric names and labels (docs/metrics.md lists them).
#pragma once

#include <array>
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

// One health checker of a real server, what `kadpctl checks` shows of it
// (control/observe_reports.h) in metric form.
struct CheckerHealth {
    std::string type;    // "HTTP_GET": the `checker` label
    std::string target;  // what it connects to, "[198.19.0.1]:tcp:80": the `target` label
    bool up = false;     // the checker's own state
    bool ran = false;    // an attempt has ended (else no result, latency or last check)
    std::string result;  // checker_result_kind()
    std::uint64_t latency_ms = 0;
    std::uint64_t consecutive_failures = 0;
    std::uint64_t failures = 0;        // monotonic while the checker lives (a reload that changes it restarts it)
    std::int64_t last_check = 0;       // unix seconds; 0: none
    std::int64_t last_transition = 0;  // unix seconds; 0: never
};

// A configured real server's health verdict (its checkers, keepalived's
// semantics: checks/health_checkers.h). The service labels as for the
// services; a virtual_server_group's real servers have vip "group NAME",
// port "0" and their protocol.
struct RealServerHealth {
    std::string vip, port, protocol, real_server, real_port;
    bool up = true;
    std::vector<CheckerHealth> checkers;
};

// The bounded set of `result` label values of kadp_checker_last_result, in
// the order rendered: "none" (no attempt ended yet), "ok", "timeout",
// "connect_error" (refused, unreachable, TLS handshake), "bad_response" (HTTP
// status or digest, SMTP banner/HELO, DNS rcode), "failed" (anything else,
// e.g. a MISC_CHECK's exit status). The reason text stays out of labels.
inline constexpr std::array<const char*, 6> kCheckerResults = {"none", "ok", "timeout", "connect_error", "bad_response", "failed"};
// One of kCheckerResults for a checker's last attempt: `reason` is
// CheckRecord's (the log's words), classified by the phrases the checkers use.
const char* checker_result_kind(bool ran, bool ok, std::string_view reason);

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
