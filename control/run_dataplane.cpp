// Runs on: control thread (the main lcore).
#include "control/run_dataplane.h"

#include <arpa/inet.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "checks/health_checkers.h"
#include "conf/load.h"
#include "control/config_check.h"
#include "control/control_socket.h"
#include "control/dpdk_control.h"
#include "control/event_loop.h"
#include "control/metrics_server.h"
#include "control/exception_watch.h"
#include "control/log.h"
#include "control/run_kernel.h"
#include "control/sd_notify.h"
#include "control/snapshot_builder.h"
#include "control/stuck_workers.h"
#include "control/vrrp_dpdk.h"
#include "control/vrrp_status.h"
#include "dataplane/conn_table.h"
#include "dataplane/eal.h"
#include "dataplane/exception_port.h"
#include "dataplane/lcore_plan.h"
#include "dataplane/nat_pipeline.h"
#include "dataplane/neigh_table.h"
#include "dataplane/port.h"
#include "dataplane/snapshot.h"
#include "dataplane/startup_error.h"
#include "dataplane/worker.h"
#include "vrrp/vrrp_service.h"

namespace kadp::ctl {
namespace {

// One line per event (control/log.h: stderr or syslog).
void log_line(const std::string& line) { log_info(line); }

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
    log_line("worker on lcore " + std::to_string(w.info().lcore_id) + " stopped: rx " + std::to_string(s.rx_packets) +
        ", tx " + std::to_string(s.tx_packets) + ", tx dropped (queue full) " + std::to_string(s.tx_dropped_full) +
        ", tx ring dropped (full) " + std::to_string(s.tx_ring_dropped_full));
}

// Every non-zero outcome counter, summed over the workers: one line, each
// name once, so tests and operators read totals (per worker: kadpctl, later).
void log_counter_totals(const dp::WorkerGroup& group)
{
    std::vector<const dp::WorkerCounters*> per_worker;
    for (const auto& w : group.workers())
        if (const auto* nat = dynamic_cast<const dp::NatPipeline*>(&w->pipeline())) per_worker.push_back(&nat->counters());
    const dp::CounterTotals totals = dp::sum_counters(std::span<const dp::WorkerCounters* const>(per_worker));
    std::string line;
    for (std::size_t i = 0; i < dp::kCounterCount; ++i)
        if (totals[i] != 0) line += " " + std::string(dp::counter_name(i)) + "=" + std::to_string(totals[i]);
    log_line("counters (all workers):" + (line.empty() ? std::string(" none") : line));
}

std::string format_v4(std::uint32_t wire, std::uint16_t port_wire)
{
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &wire, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(port_wire));
}

// One line per real server of the current snapshot: what tests and operators
// read at shutdown until kadpctl can list them.
void log_real_servers(const dp::Snapshot* snap)
{
    if (snap == nullptr) return;
    for (const auto& svc : snap->services().services()) {
        const dp::ServiceKey& k = svc->key();
        const std::string vs = format_v4(k.addr[0], k.port) + (k.proto == IPPROTO_TCP ? "/tcp" : "/udp");
        for (const dp::Dest& d : svc->dests()) {
            if (d.counters == nullptr) continue;
            const dp::DestTotals t = dp::sum_dest(*d.counters);
            log_line("real server " + format_v4(d.addr[0], d.port) + " of " + vs + ": conns " +
                     std::to_string(t.traffic.conns) + ", in packets " + std::to_string(t.traffic.in_packets) +
                     ", in bytes " + std::to_string(t.traffic.in_bytes) + ", out packets " +
                     std::to_string(t.traffic.out_packets) + ", out bytes " + std::to_string(t.traffic.out_bytes) +
                     ", active " + std::to_string(t.active) + ", inactive " + std::to_string(t.inactive));
        }
    }
}

// The pipeline's view of the ports: MAC from the started port, VLAN and MTU
// of the interface, ARP sender
// address from the first IPv4 address of its interface block.
std::vector<dp::NatPort> nat_ports(const conf::Dataplane& dpc, const std::vector<dp::PortState>& ports)
{
    std::vector<dp::NatPort> out(ports.size());
    for (std::size_t i = 0; i < ports.size(); ++i) {
        out[i].mac = ports[i].mac;
        out[i].vlan = static_cast<std::uint16_t>(dpc.interfaces[i].vlan.value_or(0));
        out[i].mtu = static_cast<std::uint16_t>(dpc.interfaces[i].mtu);
        for (const auto& a : dpc.interfaces[i].address) {
            if (!a.addr.is_v4()) continue;
            std::memcpy(&out[i].ip, a.addr.bytes.data(), 4);
            break;
        }
    }
    return out;
}

// `a` is inside the connected prefix of `p` (same family, first p.length bits).
bool in_prefix(const conf::IpPrefix& p, const conf::IpAddr& a)
{
    if (p.addr.family != a.family) return false;
    for (int bit = 0; bit < p.length; ++bit) {
        const auto byte = static_cast<std::size_t>(bit / 8);
        const int mask = 0x80 >> (bit % 8);
        if ((p.addr.bytes[byte] & mask) != (a.bytes[byte] & mask)) return false;
    }
    return true;
}

// One exception TAP per interface, with the port's MAC, the interface's
// MTU and addresses, and the routes that leave through it.
std::vector<dp::ExceptionSpec> exception_specs(const conf::Dataplane& dpc, const std::vector<dp::PortState>& ports)
{
    std::vector<dp::ExceptionSpec> specs(ports.size());
    for (std::size_t i = 0; i < ports.size(); ++i) {
        const conf::DataplaneInterface& itf = dpc.interfaces[i];
        specs[i].interface = itf.name;
        specs[i].tap = itf.exception_interface;
        specs[i].mac = ports[i].mac;
        specs[i].mtu = itf.mtu;
        specs[i].addresses = itf.address;
        for (const conf::DataplaneRoute& r : dpc.routes) {
            const bool here = r.dev.empty() ? std::any_of(itf.address.begin(), itf.address.end(),
                                                          [&r](const conf::IpPrefix& a) { return in_prefix(a, r.via); })
                                            : r.dev == itf.name;
            if (here) specs[i].routes.emplace_back(r.prefix, r.via);
        }
    }
    return specs;
}

// What the data plane forwards: NAT, DR and TUN (ipip).
BuildOptions dataplane_build_options()
{
    BuildOptions o;
    o.dr = true;
    o.tun = true;
    return o;
}

// The services as a snapshot, checked before EAL starts so a bad
// configuration exits with kExitConfigError and no DPDK noise.
bool services_valid(const conf::Config& config)
{
    dp::StatsRegistry registry(1);
    SnapshotBuilder builder(registry, dataplane_build_options());
    conf::Diagnostics diags;
    const auto snap = builder.build(config, nullptr, {}, diags);
    for (const auto& d : diags.all()) std::cerr << conf::Diagnostics::format(d) << '\n';
    return snap != nullptr;
}

// systemd's STATUS= line while serving.
std::string serving_status(const dp::SnapshotPublisher& publisher)
{
    return "serving " + plural(static_cast<unsigned>(publisher.current()->services().size()), "virtual service") +
           ", generation " + std::to_string(publisher.current()->generation());
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
    if (backend == Backend::kernel) return run_kernel(options, *config);
    if (!config->dataplane) {
        log_error("--backend dpdk needs a dataplane { interface ... } block in " + options.config_file);
        return kExitRunFailed;
    }
    return run_dataplane(options, *config);
}

int run_dataplane(const CliOptions& options, const conf::Config& config)
{
    const conf::Dataplane& dpc = *config.dataplane;
    if (!services_valid(config)) return kExitConfigError;
    try {
        // Before EAL creates threads: it edits the environment.
        const SdNotify notify = SdNotify::from_environment();
        // Before EAL creates its threads, so they inherit the blocked mask.
        block_control_signals();
        EventLoop loop;
        // Before EAL: a daemon already serving the socket stops us here,
        // before we touch its DPDK files or its ports. Removed last.
        ControlServer control(loop, options.control_socket, process_log_sink());
        // Prometheus metrics (config `metrics { }`, docs/metrics.md); nullptr: off.
        const auto metrics = make_metrics_server(loop, config, process_log_sink());

        // Declaration order is start-up order; destruction runs in reverse:
        // workers, neighbour table, publisher (the snapshots), stats
        // registry, ports (rings, ports, pools), connection table, EAL.
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
        dp::PortSet ports(specs, workers, process_log_sink());
        const auto queues = ports.queues();
        const dp::LcorePlan plan = dp::plan_lcores(workers, queues);
        ports.start(plan, workers + 1, options.exception_path ? dp::ExceptionPorts::ring_mbufs(workers) : 0);
        for (const auto& p : ports.ports()) log_port(p);
        // After the ports (their MACs), destroyed before them (the rings
        // hold their mbufs) and after the workers stopped.
        std::optional<dp::ExceptionPorts> exception;
        if (options.exception_path) {
            const auto exc_specs = exception_specs(dpc, ports.ports());
            exception.emplace(exc_specs, workers, 0, process_log_sink());
        } else {
            log_line("no exception path (--no-exception-path): traffic for the node's own addresses is dropped");
        }
        const std::uint64_t bytes = conns->stats().bytes;
        log_line("connection table: " + std::to_string(conns->capacity()) + " connections, " +
                 (bytes >= (16u << 20) ? std::to_string(bytes >> 20) + " MiB" : std::to_string((bytes + 1023) >> 10) + " KiB"));

        dp::StatsRegistry registry(workers);
        dp::SnapshotPublisher publisher(workers, 16);
        SnapshotBuilder builder(registry, dataplane_build_options());
        conf::Diagnostics build_diags;
        // Addresses VRRP owns only as master start released: every instance
        // starts as backup, and the data plane must not answer for them first.
        const std::set<conf::IpAddr> vrrp_vips = vrrp_addresses(config);
        if (!vrrp_vips.empty() && !options.exception_path) {
            throw dp::StartupError("VRRP needs the exception path (its adverts travel through the exception TAPs): "
                                   "drop --no-exception-path");
        }
        auto snap = builder.build(config, nullptr, {}, build_diags, vrrp_vips);
        if (!snap) throw dp::StartupError("cannot build the service snapshot");  // services_valid() passed
        if (publisher.publish(std::move(snap)) != 0) throw dp::StartupError("cannot publish the service snapshot");
        log_line("services: " + std::to_string(publisher.current()->services().size()) + " virtual, generation " +
                 std::to_string(publisher.current()->generation()));

        dp::NeighConfig neigh_config;
        neigh_config.hash_seed = (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}();
        const auto neigh = dp::NeighTable4::create(neigh_config);
        if (!neigh) throw dp::StartupError("cannot allocate the neighbour table");

        // Commands and events between the control thread and each worker.
        const auto channels = std::make_unique<dp::WorkerChannel[]>(workers);
        dp::NatPipelineConfig nat;
        nat.channels = channels.get();
        nat.ports = nat_ports(dpc, ports.ports());
        nat.conns = conns.get();
        nat.neigh = neigh.get();
        nat.publisher = &publisher;
        nat.registry = &registry;
        // Not the pipeline's lazy default (the first received packet's
        // pool): a VRRP takeover on a quiet LAN sends its GARPs before any.
        nat.pool = ports.first_pool();
        nat.defense.high_pct = dpc.conn_defense_high_pct;
        nat.defense.full_pct = dpc.conn_defense_full_pct;
        if (exception) nat.exception = exception->path();

        std::vector<dp::PortRuntime> runtime;
        for (const auto& p : ports.ports()) runtime.push_back({p.port_id, p.tx_ring});
        dp::QuiescentParticipant* const participants[] = {&publisher};
        dp::WorkerGroup group(plan, lcores, runtime, conns.get(), dp::NatPipeline::factory(std::move(nat)),
                              participants);
        for (std::size_t i = 0; i < group.workers().size(); ++i) {
            log_worker(*group.workers()[i], plan.workers[i], ports.ports());
        }
        group.launch();
        DpdkRuntime dpdk;
        dpdk.options = &options;
        dpdk.publisher = &publisher;
        dpdk.registry = &registry;
        dpdk.builder = &builder;
        dpdk.conns = conns.get();
        dpdk.ports = &ports.ports();
        dpdk.workers = &group;
        dpdk.channels = channels.get();
        dpdk.channel_count = workers;
        DpdkControl ctl(dpdk, config, process_log_sink(), vrrp_vips);
        // The health checkers: verdicts become weights in the desired state,
        // applied at once; a reload hands them the new configuration.
        chk::DesiredStateSink verdicts(ctl.desired(), [&ctl] { ctl.apply(); });
        chk::HealthCheckers checkers(loop, verdicts, process_log_sink());
        checkers.configure(config);
        if (!options.exception_path && checkers.checkers() > 0) {
            log_line("health checks leave through the kernel's own routes: with --no-exception-path they reach "
                     "real servers only where the host routes to them, else every checked server goes down");
        }
        // VRRP: adverts through the exception TAPs, VIPs owned in the
        // desired state, gratuitous ARPs from the data plane.
        ctl.announce_takeovers(false);
        std::vector<std::uint16_t> port_ids;
        for (const auto& p : ports.ports()) port_ids.push_back(p.port_id);
        DpdkLinkState vrrp_links(loop, dpc, port_ids, process_log_sink());
        DpdkVrrpBackend vrrp_backend(ctl, dpc, vrrp_links);
        vrrp::VrrpService vrrp(loop, vrrp_backend, process_log_sink());
        vrrp.configure(config);
        // A worker that stopped polling: logged, counted, and no more
        // watchdog pings while it lasts (systemd restarts kadp). Its
        // threshold follows the dataplane block, also on a reload.
        std::vector<StuckWorkerWatch::Source> beats;
        for (const auto& w : group.workers())
            beats.push_back({w->info().lcore_id, [&w = *w] { return w.heartbeat(); }});
        StuckWorkerWatch stuck(std::move(beats), std::chrono::milliseconds(dpc.stuck_worker_timeout_ms), process_log_sink());
        ctl.on_reloaded([&checkers, &vrrp, &ctl, &stuck, running = config](const conf::Config& next) mutable {
            checkers.configure(next);
            if (next.dataplane) stuck.set_threshold(std::chrono::milliseconds(next.dataplane->stuck_worker_timeout_ms));
            follow_vrrp_addresses(ctl.desired(), running, next);
            try {
                vrrp.configure(next);
            } catch (const std::exception& e) {
                log_warning(std::string("VRRP keeps its running instances: ") + e.what());
            }
            ctl.apply();
            running = next;
        });
        // An exception TAP deleted under us: said once, and in every status.
        std::vector<ExceptionWatch::Tap> watched;
        if (exception) {
            for (const auto& t : exception->taps()) watched.push_back({t.interface, t.tap, t.ifindex});
        }
        ExceptionWatch exception_watch(std::move(watched), process_log_sink());
        ctl.set_status_extra([&exception_watch, &stuck](StatusReply& r) {
            r.degraded = exception_watch.degraded();
            r.exception_taps_lost = exception_watch.lost();
            for (auto& line : stuck.degraded()) r.degraded.push_back(std::move(line));
            r.workers_stuck = stuck.stuck();
        });
        WithVrrpStatus handler(ctl, vrrp, &checkers);
        control.set_handler(&handler);
        if (metrics) {
            metrics->set_render(metrics_from(
                handler, [&ctl] { return ctl.worker_counters(); },
                [&ctl, &checkers] { return checker_verdicts(ctl.desired().config(), checkers); }));
        }
        log_line("running with " + plural(workers, "worker") + " (NAT pipeline)");
        log_line("control socket " + control.path());

        LoopHandlers handlers;
        handlers.on_reload = [&ctl, &notify, &publisher] {
            notify.reloading();
            try {
                ctl.reload("SIGHUP");
            } catch (const std::exception& e) {  // a reload that cannot even run must not stop the data plane
                log_error(std::string("reload (SIGHUP) failed: ") + e.what());
            }
            notify.ready(serving_status(publisher));
        };
        handlers.on_tick = [&publisher, &registry, &ctl, &control, &exception_watch, &metrics, &stuck] {
            exception_watch.check();
            stuck.sample();
            publisher.reclaim();
            registry.collect(publisher);
            ctl.tick();
            control.tick();
            if (metrics) metrics->tick();
        };
        Timer test_stall(loop);
        if (const auto ts = test_stall_from_environment(); ts && !group.workers().empty()) {
            test_stall.arm(ts->after, [&group, ms = ts->for_ms] {
                log_line("test: the worker on lcore " + std::to_string(group.workers()[0]->info().lcore_id) +
                         " sleeps " + std::to_string(ms) + " ms (KADP_TEST_STALL_WORKER)");
                group.workers()[0]->stall_once(ms);
            });
        }
        // Workers polling, services published, VRRP and checkers started.
        notify.ready(serving_status(publisher));
        WatchdogPinger watchdog(loop, notify, [&stuck] {
            stuck.sample();
            return stuck.stuck() == 0;
        });
        const int sig = loop.run(handlers);
        notify.stopping(std::string("stopping (") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ")");
        ctl.set_status_extra(nullptr);
        ctl.on_reloaded(nullptr);
        control.set_handler(nullptr);
        if (metrics) metrics->set_render(nullptr);
        log_line(std::string("stopping (") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ")");
        // Masters hand over (priority 0) while the data plane still carries
        // their adverts out of the exception TAPs.
        if (!config.vrrp_instances.empty()) {
            vrrp.stop();
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        group.stop_and_wait();
        for (const auto& w : group.workers()) log_worker_stats(*w);
        log_counter_totals(group);
        log_real_servers(publisher.current());
        // Held packets go back to their pool before the ports free it.
        rte_mbuf* held[64];
        for (std::uint32_t k; (k = neigh->drain(held, 64)) != 0;) {
            for (std::uint32_t i = 0; i < k; ++i) rte_pktmbuf_free(held[i]);
        }
    } catch (const dp::StartupError& e) {
        log_error(e.what());
        return kExitRunFailed;
    } catch (const ControlSocketError& e) {
        log_error(e.what());
        return kExitRunFailed;
    } catch (const std::system_error& e) {
        log_error(std::string("control loop: ") + e.what());
        return kExitRunFailed;
    } catch (const std::runtime_error& e) {  // VRRP cannot start (an instance without a source address...)
        log_error(e.what());
        return kExitRunFailed;
    }
    log_line("stopped");
    return 0;
}

}  // namespace kadp::ctl
