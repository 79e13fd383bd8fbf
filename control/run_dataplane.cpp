// Runs on: control thread (the main lcore).
#include "control/run_dataplane.h"

#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "conf/load.h"
#include "control/config_check.h"
#include "control/event_loop.h"
#include "dataplane/conn_table.h"
#include "dataplane/eal.h"
#include "dataplane/forward_nothing_pipeline.h"
#include "dataplane/lcore_plan.h"
#include "dataplane/port.h"
#include "dataplane/startup_error.h"
#include "dataplane/worker.h"

namespace kadp::ctl {
namespace {

// One line per event on stderr.
void log_line(const std::string& line) { std::cerr << "kadp: " << line << '\n'; }

std::vector<dp::PortSpec> port_specs(const conf::Dataplane& dp)
{
    std::vector<dp::PortSpec> specs;
    for (const auto& itf : dp.interfaces) {
        specs.push_back({itf.name, itf.device, itf.mtu, itf.rx_queues, itf.tx_queues});
    }
    return specs;
}

std::string plural(unsigned n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

void log_port(const dp::PortState& p)
{
    const unsigned most = p.rx_queues > p.tx_queues ? p.rx_queues : p.tx_queues;
    log_line("port " + p.name + " (" + p.devargs + ") up, " + std::to_string(p.rx_queues) + " rx/" +
        std::to_string(p.tx_queues) + " tx " + (most == 1 ? "queue" : "queues") + ", mac " + dp::format_mac(p.mac) +
        (p.tx_ring != nullptr ? ", tx ring for workers without a queue" : ""));
}

void log_worker(const dp::Worker& w, const dp::WorkerPlan& plan, const std::vector<dp::PortState>& ports)
{
    std::string polls;
    for (const auto& rx : w.rx()) {
        polls += (polls.empty() ? "" : ", ") + ports[rx.port].name + " q" + std::to_string(rx.queue);
    }
    std::string tx;
    for (std::size_t p = 0; p < plan.tx.size(); ++p) {
        tx += (tx.empty() ? "" : ", ") + ports[p].name +
              (plan.tx[p].direct ? " q" + std::to_string(plan.tx[p].queue) : std::string(" via ring"));
    }
    std::string drains;
    for (auto p : plan.drains) drains += (drains.empty() ? "" : ", ") + ports[p].name;
    log_line("worker on lcore " + std::to_string(w.info().lcore_id) + " polls " + (polls.empty() ? "nothing" : polls) +
        "; tx " + tx + (drains.empty() ? "" : "; drains the tx ring of " + drains));
}

void log_worker_stats(const dp::Worker& w)
{
    const auto& s = w.stats();
    const auto* placeholder = dynamic_cast<const dp::ForwardNothingPipeline*>(&w.pipeline());
    log_line("worker on lcore " + std::to_string(w.info().lcore_id) + " stopped: rx " + std::to_string(s.rx_packets) +
        ", tx " + std::to_string(s.tx_packets) + ", tx dropped (queue full) " + std::to_string(s.tx_dropped_full) +
        ", tx ring dropped (full) " + std::to_string(s.tx_ring_dropped_full) +
        (placeholder != nullptr ? ", dropped by the placeholder pipeline " + std::to_string(placeholder->dropped())
                                : std::string()));
}

}  // namespace

int run_daemon(const CliOptions& options)
{
    conf::LoadOptions load;
    load.config_id = options.config_id;
    conf::Diagnostics diags;
    const auto config = conf::load_file(options.config_file, load, diags);
    for (const auto& d : diags.all()) std::cerr << conf::Diagnostics::format(d) << '\n';
    if (!config) return kExitNoConfig;
    if (diags.has_errors()) {
        std::cerr << options.config_file << ": " << diags.error_count() << " error(s), not starting\n";
        return kExitConfigError;
    }
    Backend backend = options.backend;
    if (backend == Backend::automatic) backend = config->dataplane ? Backend::dpdk : Backend::kernel;
    if (backend == Backend::kernel) {
        log_line("the kernel (IPVS) backend is not implemented yet; use --backend dpdk with a dataplane block");
        return kExitRunFailed;
    }
    if (!config->dataplane) {
        log_line("--backend dpdk needs a dataplane { interface ... } block in " + options.config_file);
        return kExitRunFailed;
    }
    return run_dataplane(options, *config);
}

int run_dataplane(const CliOptions& options, const conf::Config& config)
{
    const conf::Dataplane& dpc = *config.dataplane;
    try {
        // Before EAL creates its threads, so they inherit the blocked mask.
        block_control_signals();
        EventLoop loop;

        // Declaration order is start-up order; destruction runs in reverse:
        // workers, ports (rings, ports, pools), connection table, EAL.
        dp::Eal eal(options.eal_args);
        const auto& lcores = eal.worker_lcores();
        const auto workers = static_cast<std::uint32_t>(lcores.size());
        if (dpc.interfaces.empty()) throw dp::StartupError("the dataplane block has no interface");

        const auto conns = dp::ConnTable4::create(static_cast<std::uint32_t>(dpc.conn_table_size), workers);
        if (!conns) {
            throw dp::StartupError("cannot allocate the connection table (" + std::to_string(dpc.conn_table_size) +
                                   " connections, about 108 B each)");
        }
        const auto specs = port_specs(dpc);
        dp::PortSet ports(specs, workers, log_line);
        const auto queues = ports.queues();
        const dp::LcorePlan plan = dp::plan_lcores(workers, queues);
        ports.start(plan, workers + 1);
        for (const auto& p : ports.ports()) log_port(p);
        const std::uint64_t bytes = conns->stats().bytes;
        log_line("connection table: " + std::to_string(conns->capacity()) + " connections, " +
                 (bytes >= (16u << 20) ? std::to_string(bytes >> 20) + " MiB" : std::to_string((bytes + 1023) >> 10) + " KiB"));

        std::vector<dp::PortRuntime> runtime;
        for (const auto& p : ports.ports()) runtime.push_back({p.port_id, p.tx_ring});
        dp::WorkerGroup group(plan, lcores, runtime, conns.get(), dp::ForwardNothingPipeline::factory());
        for (std::size_t i = 0; i < group.workers().size(); ++i) {
            log_worker(*group.workers()[i], plan.workers[i], ports.ports());
        }
        group.launch();
        log_line("running with " + plural(workers, "worker") + " (placeholder pipeline: packets are counted and dropped)");

        LoopHandlers handlers;
        handlers.on_reload = [] { log_line("SIGHUP: reload not implemented yet"); };
        const int sig = loop.run(handlers);
        log_line(std::string("stopping (") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ")");
        group.stop_and_wait();
        for (const auto& w : group.workers()) log_worker_stats(*w);
    } catch (const dp::StartupError& e) {
        log_line(e.what());
        return kExitRunFailed;
    } catch (const std::system_error& e) {
        log_line(std::string("control loop: ") + e.what());
        return kExitRunFailed;
    }
    log_line("stopped");
    return 0;
}

}  // namespace kadp::ctl
