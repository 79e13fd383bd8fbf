// Runs on: control thread (the daemon encodes) and in kadpctl (decodes).
// The replies of `kadpctl checks`, `kadpctl vrrp` and `kadpctl stats`
// (issue 10, observability), beside ctl_messages.h's list/conns/status/
// reload: the same JSON conventions, schemas in docs/kadpctl.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/ctl_messages.h"
#include "control/json_value.h"

namespace kadp::ctl {

using NamedCounts = std::vector<std::pair<std::string, std::uint64_t>>;

// `checks`: one health checker of one real server.
struct CheckerStatus {
    std::string virtual_server;  // keepalived's name: "[198.18.0.100]:tcp:80", "FWM 5"
    std::string real_server;     // "[198.19.0.1]:tcp:80"
    std::string checked;         // what the checker connects to (connect_ip/port)
    std::string type;            // "TCP_CHECK", "HTTP_GET", ...
    std::string state;           // "up", "down", "pending" (no verdict yet)
    bool in_service = false;     // the real server takes new connections
    std::int64_t weight = 0;     // the real server's weight now (0 while out)
    std::string last_result;     // "ok", "failed", "" (no attempt ended yet)
    std::string reason;          // the last failure in the log's words
    std::uint64_t latency_ms = 0;  // the last attempt's
    std::int64_t last_check = 0;       // unix seconds of its end; 0: none
    std::int64_t last_transition = 0;  // unix seconds the checker last went up or down; 0: never
    std::uint64_t consecutive_failures = 0;
    std::uint64_t retry = 0;  // failures retried before the checker fails
};

struct ChecksReply {
    std::vector<CheckerStatus> checkers;
};

// `vrrp`: one instance.
struct VrrpInstanceDetail {
    std::string name;
    std::string interface;
    std::uint64_t vrid = 0;
    std::string state;  // INIT, BACKUP, MASTER, FAULT, STOP
    std::uint64_t priority = 0;       // effective
    std::uint64_t base_priority = 0;  // configured
    std::string master;               // address; "" unknown
    bool master_is_self = false;
    std::int64_t last_transition = 0;  // unix seconds; 0: never
    std::string reason;                // why (instance.cpp's kWhy texts)
    NamedCounts dropped;               // as in status, non-zero only
};

struct VrrpReply {
    std::vector<VrrpInstanceDetail> instances;
    NamedCounts dropped;  // status's vrrp_dropped
};

// `stats`: the data plane's figures.
struct WorkerStats {
    unsigned lcore = 0;
    NamedCounts counters;  // every counter, table order
};

struct StatsReply {
    std::string backend;
    std::vector<WorkerStats> workers;  // DPDK
    NamedCounts totals;                // summed over the workers, table order (DPDK)
    std::vector<PortStatus> ports;     // DPDK
    std::uint64_t conn_capacity = 0;
    std::uint64_t conn_in_use = 0;
    std::vector<MempoolStatus> mempools;  // DPDK
    // Kernel backend: IPVS's totals over every service (conns ... outbytes,
    // and the rates), what `ipvsadm -Ln --stats` / `--rate` add up to.
    std::optional<IpvsStats> ipvs;
};

std::string to_json(const ChecksReply& r);
std::string to_json(const VrrpReply& r);
std::string to_json(const StatsReply& r);
std::optional<ChecksReply> checks_from_json(const JsonValue& v, std::string& error);
std::optional<VrrpReply> vrrp_from_json(const JsonValue& v, std::string& error);
std::optional<StatsReply> stats_from_json(const JsonValue& v, std::string& error);

}  // namespace kadp::ctl
