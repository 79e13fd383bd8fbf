// Runs on: control thread (the main lcore). `kadp [EAL options] -- -f FILE`:
// load the configuration, pick the backend, and for dpdk bring up EAL, the
// ports, the connection table and the workers, run the control loop until
// SIGTERM/SIGINT, and take everything down in reverse order.
#pragma once

#include "conf/model.h"
#include "control/backend.h"
#include "control/cli.h"

namespace kadp::ctl {

inline constexpr int kExitRunFailed = 1;

// Loads options.config_file (diagnostics on stderr; 4 when unreadable, 5 on
// errors, before EAL starts), then runs the chosen backend. Returns the exit
// status.
int run_daemon(const CliOptions& options);

// The DPDK backend for a loaded, error-free configuration with a dataplane
// block. Returns 0 after a clean stop, kExitRunFailed when start-up fails.
int run_dataplane(const CliOptions& options, const conf::Config& config);

}  // namespace kadp::ctl
