// Runs on: control thread.
#include "control/run_kernel.h"

#include <iostream>
#include <system_error>
#include <utility>

#include "checks/health_checkers.h"
#include "conf/load.h"
#include "control/config_check.h"
#include "control/control_socket.h"
#include "control/desired_services.h"
#include "control/event_loop.h"
#include "control/metrics_server.h"
#include "control/kernel/kernel_record.h"
#include "control/kernel/leftover_vips.h"
#include "control/kernel/rtnl.h"
#include "control/kernel_control.h"
#include "control/log.h"
#include "control/run_dataplane.h"
#include "control/sd_notify.h"
#include "control/vrrp_kernel.h"
#include "control/vrrp_status.h"
#include "vrrp/vrrp_service.h"

namespace kadp::ctl {
namespace {

void log_line(const std::string& line) { log_info(line); }

std::string plural(std::size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

KernelDaemon::KernelDaemon(CliOptions options, KernelBackend::Log log, std::string record_path)
    : options_(std::move(options)),
      log_(std::move(log)),
      backend_(log_, std::move(record_path)),
      desired_(conf::Config{}) {}

bool KernelDaemon::build(const conf::Config& config, std::vector<IpvsService>& services, LvsGlobals& globals,
                         conf::Diagnostics& diags) {
    services = desired_services(config, desired_.verdicts(), diags);
    globals = lvs_globals(config.global_defs, diags);
    return !diags.has_errors();
}

bool KernelDaemon::start(conf::Config config) {
    std::vector<IpvsService> services;
    LvsGlobals globals;
    conf::Diagnostics diags;
    const bool ok = build(config, services, globals, diags);
    for (const auto& d : diags.all()) std::cerr << conf::Diagnostics::format(d) << '\n';
    if (!ok) return false;
    try {
        const auto r = backend_.apply(config, services, globals);
        log_.at(r.failed ? LogLevel::warning : LogLevel::info,
                plural(services.size(), "virtual service") + " in IPVS: " + plural(r.applied, "change") +
             (r.failed ? ", " + plural(r.failed, "refused operation") : std::string()));
    } catch (const IpvsError& e) {
        log_.error(e.what());
        return false;
    }
    desired_.set_config(std::move(config));
    applied_version_ = desired_.version();
    services_ = std::move(services);
    generation_ = 1;
    return true;
}

KernelDaemon::ReloadResult KernelDaemon::reload() {
    ReloadResult out;
    const std::string& file = options_.config_file;
    conf::LoadOptions load;
    load.config_id = options_.config_id;
    conf::Diagnostics diags;
    auto config = conf::load_file(file, load, diags);
    std::vector<IpvsService> services;
    LvsGlobals globals;
    if (!config) {
        out.reason = file + " cannot be read";
    } else if (diags.has_errors()) {
        out.reason = file + ": " + std::to_string(diags.error_count()) + " error(s)";
    } else if (auto why = metrics_restart_reason(desired_.config().metrics, config->metrics)) {
        out.reason = *why;
    } else if (!build(*config, services, globals, diags)) {
        out.reason = file + ": " + std::to_string(diags.error_count()) + " error(s) in the services";
    } else {
        out.accepted = true;
    }
    out.diagnostics = diags.all();
    for (const auto& d : out.diagnostics) out.messages.push_back(conf::Diagnostics::format(d));
    if (!config) out.messages.push_back(out.reason);
    for (const auto& m : out.messages) std::cerr << m << '\n';
    if (!out.accepted) {
        log_.error("reload rejected: " + out.reason + "; the running configuration stays");
        return out;
    }
    out.changes = diff_services(services_, services);
    try {
        const auto r = backend_.apply(*config, services, globals);
        out.applied = r.applied;
        out.failed = r.failed;
    } catch (const IpvsError& e) {
        log_.error(e.what());
        out.failed = 1;
    }
    // One summary line at info (warning when the kernel refused some);
    // the full diff at debug.
    log_.at(out.failed ? LogLevel::warning : LogLevel::info,
            "reloaded " + file + ": " + plural(services.size(), "virtual service") + ", " + plural(out.applied, "change") +
                (out.failed ? ", " + plural(out.failed, "refused operation") : std::string()) + " (" +
                out.changes.summary() + ")");
    for (const auto& line : out.changes.lines) log_.debug("  " + line);
    // The checkers' verdicts for real servers the new file keeps stay.
    desired_.set_config(std::move(*config));
    applied_version_ = desired_.version();
    services_ = std::move(services);
    ++generation_;
    return out;
}

KernelBackend::Result KernelDaemon::apply() {
    if (desired_.version() == applied_version_) return {};
    std::vector<IpvsService> services;
    LvsGlobals globals;
    conf::Diagnostics diags;
    build(desired_.config(), services, globals, diags);  // the running configuration built before: no new errors
    const auto r = backend_.apply(desired_.config(), services, globals);
    applied_version_ = desired_.version();
    log_.at(r.failed ? LogLevel::warning : LogLevel::debug,
            "desired state applied: " + plural(desired_.weights().size(), "weight verdict") + ", " +
         plural(r.applied, "change") + (r.failed ? ", " + plural(r.failed, "refused operation") : std::string()));
    services_ = std::move(services);
    return r;
}

KernelBackend::Result KernelDaemon::set_weight_overrides(const WeightOverrides& overrides) {
    std::vector<RsIdentity> gone;
    for (const auto& [rs, weight] : desired_.weights()) {
        if (!overrides.contains(rs)) gone.push_back(rs);
    }
    for (const RsIdentity& rs : gone) desired_.clear_weight(rs);
    for (const auto& [rs, weight] : overrides) desired_.set_weight(rs, weight);
    return apply();
}

int run_kernel(const CliOptions& options, const conf::Config& config) {
    try {
        const SdNotify notify = SdNotify::from_environment();
        block_control_signals();
        EventLoop loop;
        // Before IPVS is touched: a kadp already serving the socket stops
        // us here, before we change its services. Removed last.
        ControlServer control(loop, options.control_socket, process_log_sink());
        // Prometheus metrics (config `metrics { }`, docs/metrics.md); nullptr: off.
        const auto metrics = make_metrics_server(loop, config, process_log_sink());
        {
            // VIPs a master killed before it could leave MASTER left behind;
            // before the static addresses go in, as keepalived orders it.
            Rtnl rtnl;
            remove_leftover_vips(config, rtnl, process_log_sink());
        }
        // The record beside the control socket: this kadp owns both.
        KernelDaemon daemon(options, process_log_sink(), record_path_for(options.control_socket));
        if (!daemon.start(config)) {
            daemon.stop();
            return kExitRunFailed;
        }
        KernelControl ctl(daemon, process_log_sink());
        // The health checkers (through the host stack): a verdict is a weight
        // in the desired state, applied to IPVS at once (down = removed, or
        // weight 0 with inhibit_on_failure: desired_services()); an accepted
        // reload hands them the new configuration, and unchanged real
        // servers keep their checkers and verdicts.
        chk::DesiredStateSink verdicts(daemon.desired(), [&ctl] { ctl.apply(); });
        chk::HealthCheckers checkers(loop, verdicts, process_log_sink());
        checkers.configure(daemon.config());
        // VRRP: adverts on raw sockets, VIPs added and removed over
        // rtnetlink, gratuitous ARPs from packet sockets.
        KernelVrrpBackend vrrp_backend(loop, process_log_sink());
        vrrp::VrrpService vrrp(loop, vrrp_backend, process_log_sink());
        vrrp.configure(daemon.config());
        ctl.on_reloaded([&checkers, &vrrp](const conf::Config& next) {
            checkers.configure(next);
            try {
                vrrp.configure(next);
            } catch (const std::exception& e) {
                log_warning(std::string("VRRP keeps its running instances: ") + e.what());
            }
        });
        WithVrrpStatus handler(ctl, vrrp, &checkers);
        control.set_handler(&handler);
        if (metrics) {
            metrics->set_render(metrics_from(handler, nullptr,
                                             [&daemon, &checkers] { return checker_verdicts(daemon.config(), checkers); }));
        }
        log_line("running with the kernel (IPVS) backend");
        log_line("control socket " + control.path());
        LoopHandlers handlers;
        handlers.on_reload = [&ctl, &notify] {
            notify.reloading();
            try {
                ctl.reload("SIGHUP");
            } catch (const std::exception& e) {  // a reload that cannot even run must not stop the daemon
                log_error(std::string("reload (SIGHUP) failed: ") + e.what());
            }
            notify.ready("serving (kernel IPVS backend)");
        };
        handlers.on_tick = [&ctl, &control, &metrics] {
            ctl.tick();
            control.tick();
            if (metrics) metrics->tick();
        };
        // IPVS holds the services, VRRP and the checkers started.
        notify.ready("serving (kernel IPVS backend)");
        // No workers here: the watchdog shows only that the control loop turns.
        WatchdogPinger watchdog(loop, notify, nullptr);
        const int sig = loop.run(handlers);
        notify.stopping(std::string("stopping (") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ")");
        ctl.on_reloaded(nullptr);
        control.set_handler(nullptr);
        if (metrics) metrics->set_render(nullptr);
        log_line(std::string("stopping (") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ")");
        vrrp.stop();
        daemon.stop();
    } catch (const IpvsError& e) {
        log_error(e.what());
        return kExitRunFailed;
    } catch (const std::system_error& e) {
        log_error(std::string("control loop: ") + e.what());
        return kExitRunFailed;
    } catch (const std::runtime_error& e) {
        log_error(e.what());
        return kExitRunFailed;
    }
    log_line("stopped");
    return 0;
}

}  // namespace kadp::ctl
