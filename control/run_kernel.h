// Runs on: control thread. `kadp --backend kernel -f FILE` (and `auto`
// without a dataplane block): the configuration's virtual servers in Linux
// IPVS, its static addresses and routes in the kernel, kept in step with
// the file: applied at start, SIGHUP reloads (parse, validate, diff, apply;
// a configuration with errors is rejected with its diagnostics and the
// running state stays), SIGTERM/SIGINT remove what kadp added and exit.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "conf/model.h"
#include "control/cli.h"
#include "control/ipvs_model.h"
#include "control/kernel/kernel_backend.h"
#include "control/vs_expand.h"

namespace kadp::ctl {

// The kernel backend's daemon state, with the few calls a control socket
// (kadpctl list / conns / reload) needs. Control thread only.
class KernelDaemon {
public:
    // Opens IPVS and rtnetlink; throws IpvsMissing / IpvsError /
    // std::runtime_error (see KernelBackend).
    KernelDaemon(CliOptions options, KernelBackend::Log log);

    // Applies a loaded, error-free configuration. False when it could not be
    // turned into services (diagnostics logged) or the kernel could not be
    // read; refused operations are logged and do not make it fail.
    bool start(conf::Config config);

    struct ReloadResult {
        bool accepted = false;              // false: the running state is unchanged
        std::vector<std::string> messages;  // diagnostics ("FILE:LINE: error: ...")
        std::size_t applied = 0;            // kernel operations done
        std::size_t failed = 0;             // and refused (logged)
    };
    // Re-reads options.config_file: SIGHUP and `kadpctl reload`.
    ReloadResult reload();

    // The checkers' verdicts changed: re-applies the running configuration
    // with them (see desired_services() for what a verdict does).
    KernelBackend::Result set_weight_overrides(WeightOverrides overrides);

    std::vector<IpvsService> list() { return backend_.list(); }
    std::vector<IpvsConn> conns() { return backend_.conns(); }
    // The configuration running now.
    const conf::Config& config() const { return config_; }

    // Removes what kadp added (services, static addresses and routes).
    void stop() { backend_.stop(); }

private:
    // The services, or false with the diagnostics in `messages`.
    bool build(const conf::Config& config, std::vector<IpvsService>& services, LvsGlobals& globals,
               std::vector<std::string>& messages);

    CliOptions options_;
    KernelBackend::Log log_;
    KernelBackend backend_;
    conf::Config config_;
    WeightOverrides overrides_;  // checker verdicts (none until the checkers land)
};

// Runs until SIGTERM/SIGINT. 0 after a clean stop; kExitRunFailed when IPVS
// is missing or the configuration cannot be applied at all.
int run_kernel(const CliOptions& options, const conf::Config& config);

}  // namespace kadp::ctl
