// Runs on: control thread (the benchmark's main lcore, before EAL starts).
// kadp-bench's command line: benchmark options, then `--` and EAL options
// that replace the defaults.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kadp::bench {

enum class Traffic : std::uint8_t { established, new_conns };

struct BenchOptions {
    std::string mode = "nat";          // nat | dr | tun (only nat runs)
    Traffic traffic = Traffic::established;
    std::uint32_t flows = 1000;        // distinct connections, 1 .. 10,000,000
    double seconds = 3.0;              // measured window of each run
    double warmup = 0.5;               // seconds before each window
    bool json = false;
    std::uint64_t conn_table_size = 0; // 0: max(2*flows, 1M); new traffic max(2*flows, 16M)
    std::uint32_t servers = 8;         // real servers
    std::string sched = "rr";          // rr | wrr | lc | wlc
    bool stages = false;               // per-stage cycles per packet
    std::vector<std::string> eal_args; // empty: the defaults (see default_eal_args)
    std::string command_line;          // as typed, for the report
};

struct ParseResult {
    BenchOptions options;
    int exit_code = -1;  // >= 0: exit now with this status (after usage/errors)
};

// argv[0] included. Errors and --help print to stderr/stdout.
ParseResult parse_options(int argc, char** argv);

// `--no-huge -m 1024 --no-pci --no-telemetry --file-prefix kadp-bench-<pid>
// -l 0,1 --log-level error`.
std::vector<std::string> default_eal_args(int pid);

const char* traffic_name(Traffic t);

}  // namespace kadp::bench
