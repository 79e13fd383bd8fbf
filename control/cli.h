// Runs on: control thread (process start). The kadp command line: our own
// options after EAL's, keepalived-style names where keepalived has one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/backend.h"
#include "control/log.h"

namespace kadp::ctl {

struct CliOptions {
    std::string config_file = "/etc/kadp/keepalived.conf";
    std::string config_id;      // -i; empty: host name up to the first dot
    bool config_test = false;   // -t
    bool dump_config = false;   // --dump-config
    bool strict = false;        // --strict: warnings fail -t as well
    Backend backend = Backend::automatic;  // --backend; auto: dpdk with a dataplane block
    std::string control_socket = "/run/kadp/kadp.sock";  // --control-socket: kadpctl's Unix socket
    bool exception_path = true;  // --no-exception-path: no kernel TAPs (exception_port.h)
    LogOptions log;              // --log-level, -D, -S, --log-console (control/log.h)
    bool help = false;
    bool version = false;
    std::vector<std::string> eal_args;  // passed to rte_eal_init unchanged
};

struct CliResult {
    std::optional<CliOptions> options;  // nullopt: `error` says why
    std::string error;
};

// argv[0] excluded. EAL options may come first and may be ended by "--";
// everything kadp does not know before a "--" is handed to EAL.
CliResult parse_cli(const std::vector<std::string>& args);

std::string usage_text();

}  // namespace kadp::ctl
