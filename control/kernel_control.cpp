// Runs on: control thread.
#include "control/kernel_control.h"

#include <unistd.h>

#include <ctime>
#include <exception>
#include <utility>

#include "control/kernel/ipvs_netlink.h"
#include "kadp_version.h"

namespace kadp::ctl {

KernelControl::KernelControl(KernelDaemon& daemon, LogFn log)
    : daemon_(&daemon), log_(std::move(log)), started_(std::chrono::steady_clock::now()) {}

ListReply KernelControl::list() {
    ListReply r;
    r.backend = "kernel";
    const IpvsInfo info = daemon_->info();  // IpvsError: the client gets the kernel's reason
    r.ipvs_version = info.version;
    r.conn_table_size = info.conn_table_size;
    r.services = daemon_->list();
    return r;
}

ConnsReply KernelControl::conns(std::size_t limit) {
    ConnsReply r;
    std::vector<IpvsConn> all = daemon_->conns();
    r.total = all.size();
    if (all.size() > limit) {
        all.resize(limit);
        r.truncated = true;
    }
    r.conns = std::move(all);
    return r;
}

StatusReply KernelControl::status() {
    StatusReply r;
    r.backend = "kernel";
    r.version = KADP_VERSION;
    r.pid = getpid();
    r.uptime_seconds = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count());
    r.config_file = daemon_->options().config_file;
    r.generation = daemon_->generation();
    r.services = daemon_->services().size();
    for (const IpvsService& s : daemon_->services()) r.real_servers += s.dests.size();
    r.conn_capacity = daemon_->info().conn_table_size;  // IPVS's hash buckets: it has no fixed capacity
    // What IPVS counts on its real servers (ActiveConn + InActConn): one
    // netlink dump, where reading /proc/net/ip_vs_conn would parse every
    // connection. Connections of real servers already removed are not in it.
    for (const IpvsService& s : daemon_->list()) {
        for (const IpvsDest& d : s.dests) r.conn_in_use += std::uint64_t{d.active_conns} + d.inactive_conns;
    }
    r.last_reload = last_reload_;
    return r;
}

StatsReply KernelControl::stats() {
    StatsReply r;
    r.backend = "kernel";  // no workers, ports or mempools: Linux forwards
    r.conn_capacity = daemon_->info().conn_table_size;
    IpvsStats total;
    for (const IpvsService& s : daemon_->list()) {
        total.conns += s.stats.conns;
        total.in_packets += s.stats.in_packets;
        total.out_packets += s.stats.out_packets;
        total.in_bytes += s.stats.in_bytes;
        total.out_bytes += s.stats.out_bytes;
        total.cps += s.stats.cps;
        total.in_pps += s.stats.in_pps;
        total.out_pps += s.stats.out_pps;
        total.in_bps += s.stats.in_bps;
        total.out_bps += s.stats.out_bps;
        for (const IpvsDest& d : s.dests) r.conn_in_use += std::uint64_t{d.active_conns} + d.inactive_conns;
    }
    r.ipvs = total;
    return r;
}

ReloadReply KernelControl::reload_reply(const KernelDaemon::ReloadResult& result, std::uint64_t generation,
                                        const std::string& trigger, std::int64_t time) {
    ReloadReply r;
    r.accepted = result.accepted;
    r.generation = generation;
    r.time = time;
    r.trigger = trigger;
    r.diagnostics = result.diagnostics;
    if (!result.accepted) {
        r.message = result.reason + "; the running configuration stays (generation " + std::to_string(generation) + ")";
        return r;
    }
    r.message = "generation " + std::to_string(generation) + ": " + result.changes.summary();
    if (result.failed != 0) {
        r.message += "; the kernel refused " + std::to_string(result.failed) + " operation(s) (see kadp's log)";
    }
    r.changes = result.changes.lines;
    return r;
}

ReloadReply KernelControl::reload(const std::string& trigger) {
    log_("reload (" + trigger + ")");
    const KernelDaemon::ReloadResult result = daemon_->reload();
    ReloadReply r = reload_reply(result, daemon_->generation(), trigger, static_cast<std::int64_t>(std::time(nullptr)));
    last_reload_ = r;
    if (result.accepted && on_reloaded_) on_reloaded_(daemon_->config());
    return r;
}

void KernelControl::apply() {
    const std::uint64_t version = daemon_->desired().version();
    if (version == failed_version_) return;  // logged once; the next change tries again
    try {
        daemon_->apply();
    } catch (const std::exception& e) {  // IpvsError: IPVS cannot even be read
        failed_version_ = version;
        log_.error("cannot apply the desired state: " + std::string(e.what()) + "; IPVS keeps what it has");
    }
}

}  // namespace kadp::ctl
