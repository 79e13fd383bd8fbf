// Runs on: control thread. The DPDK backend's side of kadpctl and reload
// (ControlHandler): lists the published snapshot's services with their
// long-lived counters (StatsRegistry) and rates (RateEstimator, sampled every
// 2 s from tick()), walks the connection table for `conns`, reports ports,
// workers and counters for `status`, and reloads the configuration file.
//
// Reload = load + validate the file again, refuse dataplane-block changes
// that need a restart, build the next snapshot from the previous one
// (SnapshotBuilder: unchanged services keep their counters and scheduler
// position) and publish it; the old one is deleted by the publisher after
// the workers' grace period. Any error keeps the running snapshot.
// Connections are never touched: a connection of a removed real server or
// service keeps flowing to it until it closes or expires (IPVS with
// expire_nodest_conn=0; docs/reload.md).
//
// Reads (never writes) the publisher's current snapshot, the registry, the
// connection table (ConnTable4::for_each, as an RCU reader), the ports'
// DPDK statistics and the workers' counters; all of them outlive it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conf/model.h"
#include "control/cli.h"
#include "control/control_handler.h"
#include "control/desired_state.h"
#include "control/log_limiter.h"
#include "control/log_sink.h"
#include "control/metrics_text.h"
#include "control/rate_estimator.h"
#include "control/snapshot_builder.h"
#include "dataplane/conn_table.h"
#include "dataplane/port.h"
#include "dataplane/snapshot.h"
#include "dataplane/worker.h"
#include "dataplane/worker_channel.h"

namespace kadp::ctl {

// What the running data plane is made of (run_dataplane owns all of it).
// ports and workers may be null (tests without EAL): status() lists none.
struct DpdkRuntime {
    const CliOptions* options = nullptr;
    dp::SnapshotPublisher* publisher = nullptr;
    dp::StatsRegistry* registry = nullptr;
    SnapshotBuilder* builder = nullptr;
    const dp::ConnTable4* conns = nullptr;
    const std::vector<dp::PortState>* ports = nullptr;
    const dp::WorkerGroup* workers = nullptr;
    // One command/event channel per worker (may be null: no workers).
    dp::WorkerChannel* channels = nullptr;
    std::size_t channel_count = 0;
};

class DpdkControl final : public ControlHandler {
public:
    using LogFn = LogSink;

    // `running` is the configuration the current snapshot was built from,
    // with the configured weights and every VIP owned but `released`.
    DpdkControl(DpdkRuntime runtime, conf::Config running, LogFn log, const std::set<conf::IpAddr>& released = {});

    ListReply list() override;
    ConnsReply conns(std::size_t limit) override;
    StatusReply status() override;
    ReloadReply reload(const std::string& trigger) override;
    // Per worker and summed counters, ports, connection table, mempools.
    StatsReply stats() override;

    // What checkers and VRRP change (weights, VIP ownership); apply() makes
    // the data plane follow.
    DesiredState& desired() { return desired_; }
    // Publishes a snapshot of the desired state when it changed since the
    // last one (one snapshot for a batch of changes). Returns false when
    // the build or the publication failed: logged, the running snapshot
    // stays, and the next apply() tries again.
    bool apply();

    // One gratuitous ARP for `vip` out of the port whose connected prefix
    // holds it (every port when none does), sent by worker 0.
    void gratuitous_arp(const conf::IpAddr& vip);
    // Whether apply() announces VIPs it takes over by itself (one
    // gratuitous ARP each; the default). Off when VRRP sends its own
    // (garp_master_repeat, garp_master_delay).
    void announce_takeovers(bool on) { announce_takeovers_ = on; }

    // Called after every accepted reload with the new configuration (the
    // health checkers follow it: checks::HealthCheckers::configure).
    void on_reloaded(std::function<void(const conf::Config&)> hook) { on_reloaded_ = std::move(hook); }

    // Every second from the loop's timer: the workers' alarm events
    // logged, rate samples every 2 s, and apply() for changes nobody
    // applied yet.
    void tick();
    // Adds what others know to every `status` reply (the exception TAPs'
    // health, control/exception_watch.h).
    void set_status_extra(std::function<void(StatusReply&)> extra) { status_extra_ = std::move(extra); }
    // Each worker's own counters, in status()'s counter order (metrics).
    std::vector<WorkerCounterSet> worker_counters() const;

    // The snapshot in IPVS terms (desired settings + counters; no rates).
    static std::vector<IpvsService> services_of(const dp::Snapshot& snap);

private:
    ReloadReply reject(ReloadReply r, const std::string& why);
    void sample_rates();
    void published(std::uint64_t version);
    void announce(const dp::Snapshot& snap, const conf::IpAddr& vip);
    void log_worker_events();

    DpdkRuntime rt_;
    DesiredState desired_;
    std::uint64_t applied_version_;  // desired_.version() the published snapshot shows
    std::uint64_t failed_version_ = 0;  // a version whose build failed (not retried until it moves)
    std::set<conf::IpAddr> applied_released_;  // released VIPs as of the published snapshot
    LogFn log_;
    LogLimiter limited_{log_};  // lines outside input repeats: worker alarms, GARPs not sent
    std::chrono::steady_clock::time_point started_;
    unsigned ticks_ = 0;
    std::map<dp::ServiceKey, RateEstimator> service_rates_;
    std::map<dp::DestKey, RateEstimator> dest_rates_;
    std::optional<ReloadReply> last_reload_;
    std::function<void(StatusReply&)> status_extra_;
    std::uint64_t reloads_accepted_ = 0;
    std::uint64_t reloads_rejected_ = 0;
    std::function<void(const conf::Config&)> on_reloaded_;
    bool announce_takeovers_ = true;
};

}  // namespace kadp::ctl
