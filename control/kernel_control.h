// Runs on: control thread. The kernel backend's side of kadpctl and reload
// (ControlHandler), over a KernelDaemon:
// * list: what Linux IPVS has now (generic netlink: every service, also
//   those kadp does not manage, as `ipvsadm -Ln` shows them), with IPVS's
//   version and connection table size for the header line, its counters and
//   the kernel's own rate estimates (IPVS_STATS_ATTR_CPS ... OUTBPS, what
//   `ipvsadm -Ln --rate` prints): no RateEstimator here;
// * conns: /proc/net/ip_vs_conn, as `ipvsadm -Lnc` reads it;
// * status: backend "kernel", configuration file, generation (1 at start,
//   one more per accepted reload), last reload, services and real servers
//   kadp manages, connections IPVS counts on its real servers; no workers
//   or ports;
// * reload: KernelDaemon::reload, reported like the DPDK backend's (accepted
//   or rejected, diagnostics with file:line, one line per change).
// apply() (checker verdicts, at once) and tick() (every second) make IPVS
// follow the desired state; on_reloaded() lets the health checkers follow
// an accepted reload, whichever way it came (SIGHUP or kadpctl).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "control/control_handler.h"
#include "control/log_sink.h"
#include "control/run_kernel.h"

namespace kadp::ctl {

class KernelControl final : public ControlHandler {
public:
    using LogFn = LogSink;

    // `daemon` is started and outlives this.
    KernelControl(KernelDaemon& daemon, LogFn log);

    ListReply list() override;
    ConnsReply conns(std::size_t limit) override;
    StatusReply status() override;
    ReloadReply reload(const std::string& trigger) override;
    // IPVS totals over every service (no workers, ports or mempools).
    StatsReply stats() override;

    // Called after each accepted reload with the configuration now running
    // (the health checkers reconfigure); nullptr removes it.
    void on_reloaded(std::function<void(const conf::Config&)> hook) { on_reloaded_ = std::move(hook); }

    // KernelDaemon::apply() for desired-state changes not applied yet: right
    // after a checker verdict. A failure is logged, and not retried until the
    // state moves again.
    void apply();
    // Every second from the loop's timer: apply() for changes nobody
    // applied yet.
    void tick() { apply(); }

    // The reply for a reload result (pure: tested without a kernel).
    static ReloadReply reload_reply(const KernelDaemon::ReloadResult& result, std::uint64_t generation,
                                    const std::string& trigger, std::int64_t time);

private:
    KernelDaemon* daemon_;
    LogFn log_;
    std::chrono::steady_clock::time_point started_;
    std::optional<ReloadReply> last_reload_;
    std::uint64_t failed_version_ = 0;  // a desired-state version IPVS could not be read for
    std::function<void(const conf::Config&)> on_reloaded_;
};

}  // namespace kadp::ctl
