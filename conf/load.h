// Runs on: control thread (and `kadp -t`). The one entry point from text to
// a validated conf::Config.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "conf/diagnostics.h"
#include "conf/model.h"

namespace kadp::conf {

struct LoadOptions {
    std::string config_id;          // -i ID; empty: the host name up to the first dot
    bool allow_include = true;
    // Check the configuration against this host, as keepalived -t does:
    // kernel interfaces that do not exist (only for configurations without a
    // dataplane block, whose interfaces are DPDK ports), scripts that are
    // missing, not executable or insecure, script users that do not exist.
    // Off for unit tests and the fuzzer, which must not depend on the host.
    bool check_host = true;
};

// nullopt when the file cannot be read (exit status 4 for `kadp -t`).
// Otherwise the model, complete with defaults, and any diagnostics in `diags`:
// callers must refuse to run a model when diags.has_errors().
std::optional<Config> load_file(const std::string& path, const LoadOptions& options, Diagnostics& diags);
Config load_text(std::string_view text, const std::string& name, const LoadOptions& options,
                 Diagnostics& diags);

// The host name up to the first dot, keepalived's default config-id.
std::string default_config_id();

}  // namespace kadp::conf
