// Runs on: control thread (process start). `kadp -t` and `kadp --dump-config`:
// load the configuration, print diagnostics, and say what exit status the
// process should have.
#pragma once

#include <iosfwd>

#include "control/cli.h"

namespace kadp::ctl {

// keepalived 2.2.7's `-t` exit statuses.
inline constexpr int kExitOk = 0;
inline constexpr int kExitNoConfig = 4;   // file missing or unreadable
inline constexpr int kExitConfigError = 5;
// Scripts would run without enable_script_security ("SECURITY VIOLATION");
// wins over 5, as in keepalived.
inline constexpr int kExitScriptSecurity = 6;

// Diagnostics go to `err`, the JSON dump (when asked) to `out`.
int run_config_check(const CliOptions& options, std::ostream& out, std::ostream& err);

}  // namespace kadp::ctl
