// Runs on: control thread. `kadp --backend kernel -f FILE` (and `auto`
// without a dataplane block): the configuration's virtual servers in Linux
// IPVS, its static addresses and routes in the kernel, kept in step with
// the file: applied at start, SIGHUP reloads (parse, validate, diff, apply;
// a configuration with errors is rejected with its diagnostics and the
// running state stays), `kadpctl` is served on the control socket (list,
// conns, status, reload: control/kernel_control.h), the health checkers
// run from the same loop (a down real server is removed from IPVS, or kept
// at weight 0 with inhibit_on_failure, at once), SIGTERM/SIGINT remove
// what kadp added and exit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "conf/model.h"
#include "control/cli.h"
#include "control/desired_state.h"
#include "control/ipvs_model.h"
#include "control/kernel/kernel_backend.h"
#include "control/reload_diff.h"
#include "control/vs_expand.h"

namespace kadp::ctl {

// The kernel backend's daemon state, with the calls the kadpctl socket
// (KernelControl: list / conns / status / reload) and the checkers need.
// What should be lives in a DesiredState, the model the DPDK backend uses
// too (configuration + checker weight verdicts + VIPs VRRP released);
// apply() makes IPVS follow it. VRRP's VIPs are not its business: the VRRP
// service adds and removes them over rtnetlink (control/vrrp_kernel.h), so
// released VIPs are kept in the model but change nothing here. Control
// thread only.
class KernelDaemon {
public:
    // Opens IPVS and rtnetlink; throws IpvsMissing / IpvsError /
    // std::runtime_error (see KernelBackend). `record_path`: the record of
    // what this kadp put into the kernel (kernel_record.h); empty = none.
    KernelDaemon(CliOptions options, KernelBackend::Log log, std::string record_path = {});

    // Applies a loaded, error-free configuration. False when it could not be
    // turned into services (diagnostics logged) or the kernel could not be
    // read; refused operations are logged and do not make it fail.
    bool start(conf::Config config);

    struct ReloadResult {
        bool accepted = false;              // false: the running state is unchanged
        std::string reason;                 // why not (one line), when rejected
        std::vector<std::string> messages;  // diagnostics ("FILE:LINE: error: ...")
        std::vector<conf::Diagnostic> diagnostics;  // the same, structured
        ServiceChanges changes;             // desired services before -> after
        std::size_t applied = 0;            // kernel operations done
        std::size_t failed = 0;             // and refused (logged)
    };
    // Re-reads options.config_file: SIGHUP and `kadpctl reload`. The
    // checkers' verdicts carry over to the new file (those for real servers
    // it still has).
    ReloadResult reload();

    // What checkers (and later VRRP) change; apply() makes IPVS follow.
    DesiredState& desired() { return desired_; }
    // Re-applies the desired state when it changed since the last apply
    // (one pass for a whole batch of verdicts); nothing to do otherwise.
    // Throws IpvsError only when IPVS cannot even be read.
    KernelBackend::Result apply();
    // Replaces every checker verdict with `overrides` and applies them (see
    // desired_services() for what a verdict does).
    KernelBackend::Result set_weight_overrides(const WeightOverrides& overrides);

    std::vector<IpvsService> list() { return backend_.list(); }
    std::vector<IpvsConn> conns() { return backend_.conns(); }
    IpvsInfo info() { return backend_.info(); }
    // The configuration running now.
    const conf::Config& config() const { return desired_.config(); }
    // The services kadp last put into IPVS (desired settings, no counters).
    const std::vector<IpvsService>& services() const { return services_; }
    // 1 after start(), one more per accepted reload.
    std::uint64_t generation() const { return generation_; }
    const CliOptions& options() const { return options_; }

    // Removes what kadp added (services, static addresses and routes).
    void stop() { backend_.stop(); }

private:
    // The services, or false with the diagnostics in `messages`/`diags`.
    bool build(const conf::Config& config, std::vector<IpvsService>& services, LvsGlobals& globals,
               conf::Diagnostics& diags);

    CliOptions options_;
    KernelBackend::Log log_;
    KernelBackend backend_;
    DesiredState desired_;
    std::uint64_t applied_version_ = 0;  // desired_.version() IPVS shows
    std::vector<IpvsService> services_;
    std::uint64_t generation_ = 0;
};

// Runs until SIGTERM/SIGINT. 0 after a clean stop; kExitRunFailed when IPVS
// is missing or the configuration cannot be applied at all.
int run_kernel(const CliOptions& options, const conf::Config& config);

}  // namespace kadp::ctl
