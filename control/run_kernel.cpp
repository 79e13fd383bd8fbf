// Runs on: control thread.
#include "control/run_kernel.h"

#include <iostream>
#include <system_error>
#include <utility>

#include "conf/load.h"
#include "control/config_check.h"
#include "control/desired_services.h"
#include "control/event_loop.h"
#include "control/run_dataplane.h"

namespace kadp::ctl {
namespace {

void log_line(const std::string& line) { std::cerr << "kadp: " << line << '\n'; }

std::string plural(std::size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

KernelDaemon::KernelDaemon(CliOptions options, KernelBackend::Log log)
    : options_(std::move(options)), log_(std::move(log)), backend_(log_) {}

bool KernelDaemon::build(const conf::Config& config, std::vector<IpvsService>& services, LvsGlobals& globals,
                         std::vector<std::string>& messages) {
    conf::Diagnostics diags;
    services = desired_services(config, overrides_, diags);
    globals = lvs_globals(config.global_defs, diags);
    for (const auto& d : diags.all()) messages.push_back(conf::Diagnostics::format(d));
    return !diags.has_errors();
}

bool KernelDaemon::start(conf::Config config) {
    std::vector<IpvsService> services;
    LvsGlobals globals;
    std::vector<std::string> messages;
    const bool ok = build(config, services, globals, messages);
    for (const auto& m : messages) std::cerr << m << '\n';
    if (!ok) return false;
    try {
        const auto r = backend_.apply(config, services, globals);
        log_(plural(services.size(), "virtual service") + " in IPVS: " + plural(r.applied, "change") +
             (r.failed ? ", " + plural(r.failed, "refused operation") : std::string()));
    } catch (const IpvsError& e) {
        log_(e.what());
        return false;
    }
    config_ = std::move(config);
    return true;
}

KernelDaemon::ReloadResult KernelDaemon::reload() {
    ReloadResult out;
    conf::LoadOptions load;
    load.config_id = options_.config_id;
    conf::Diagnostics diags;
    auto config = conf::load_file(options_.config_file, load, diags);
    for (const auto& d : diags.all()) out.messages.push_back(conf::Diagnostics::format(d));
    std::vector<IpvsService> services;
    LvsGlobals globals;
    if (!config) {
        out.messages.push_back(options_.config_file + ": cannot be read");
    } else if (!diags.has_errors() && build(*config, services, globals, out.messages)) {
        out.accepted = true;
    }
    for (const auto& m : out.messages) std::cerr << m << '\n';
    if (!out.accepted) {
        log_("reload rejected: " + options_.config_file + " has errors; the running configuration stays");
        return out;
    }
    try {
        const auto r = backend_.apply(*config, services, globals);
        out.applied = r.applied;
        out.failed = r.failed;
    } catch (const IpvsError& e) {
        log_(e.what());
        out.failed = 1;
    }
    log_("reloaded " + options_.config_file + ": " + plural(services.size(), "virtual service") + ", " +
         plural(out.applied, "change") + (out.failed ? ", " + plural(out.failed, "refused operation") : std::string()));
    config_ = std::move(*config);
    return out;
}

KernelBackend::Result KernelDaemon::set_weight_overrides(WeightOverrides overrides) {
    overrides_ = std::move(overrides);
    std::vector<IpvsService> services;
    LvsGlobals globals;
    std::vector<std::string> messages;
    build(config_, services, globals, messages);  // the running configuration built before: no new errors
    return backend_.apply(config_, services, globals);
}

int run_kernel(const CliOptions& options, const conf::Config& config) {
    try {
        block_control_signals();
        EventLoop loop;
        KernelDaemon daemon(options, log_line);
        if (!daemon.start(config)) {
            daemon.stop();
            return kExitRunFailed;
        }
        log_line("running with the kernel (IPVS) backend");
        LoopHandlers handlers;
        handlers.on_reload = [&daemon] {
            log_line("SIGHUP: reloading");
            daemon.reload();
        };
        const int sig = loop.run(handlers);
        log_line(std::string("stopping (") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ")");
        daemon.stop();
    } catch (const IpvsError& e) {
        log_line(e.what());
        return kExitRunFailed;
    } catch (const std::system_error& e) {
        log_line(std::string("control loop: ") + e.what());
        return kExitRunFailed;
    } catch (const std::runtime_error& e) {
        log_line(e.what());
        return kExitRunFailed;
    }
    log_line("stopped");
    return 0;
}

}  // namespace kadp::ctl
