// Runs on: control thread.
#include "control/dpdk_control.h"

#include <arpa/inet.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <ctime>
#include <map>
#include <set>

#include "conf/load.h"
#include "control/desired_services.h"
#include "control/port_link.h"
#include "control/reload_diff.h"
#include "dataplane/conn_state.h"
#include "dataplane/counters.h"
#include "dataplane/mempool_usage.h"
#include "dataplane/nat_pipeline.h"
#include "kadp_version.h"

namespace kadp::ctl {
namespace {

conf::IpAddr v4_addr(std::uint32_t be) {
    conf::IpAddr a;
    a.family = conf::IpAddr::Family::v4;
    std::memcpy(a.bytes.data(), &be, 4);
    return a;
}

// A snapshot key's address words (network order) in the family they say;
// only IPv4 is built today, IPv6 is listed right the day it is.
conf::IpAddr addr_of(const std::array<std::uint32_t, 4>& words, std::uint8_t family) {
    if (family != dp::kFamilyInet6) return v4_addr(words[0]);
    conf::IpAddr a;
    a.family = conf::IpAddr::Family::v6;
    std::memcpy(a.bytes.data(), words.data(), 16);
    return a;
}

conf::Protocol protocol_of(std::uint8_t proto) {
    return proto == IPPROTO_TCP ? conf::Protocol::tcp : proto == IPPROTO_UDP ? conf::Protocol::udp
                                                                             : conf::Protocol::sctp;
}

conf::LbKind forward_of(dp::FwdMethod f) {
    switch (f) {
    case dp::FwdMethod::nat: return conf::LbKind::nat;
    case dp::FwdMethod::dr: return conf::LbKind::dr;
    case dp::FwdMethod::tun: return conf::LbKind::tun;
    }
    return conf::LbKind::nat;
}

IpvsStats traffic_stats(const dp::TrafficTotals& t) {
    IpvsStats s;
    s.conns = t.conns;
    s.in_packets = t.in_packets;
    s.out_packets = t.out_packets;
    s.in_bytes = t.in_bytes;
    s.out_bytes = t.out_bytes;
    return s;
}

dp::DestKey dest_key(const dp::Service& svc, const dp::Dest& d) {
    return dp::DestKey{svc.key(), d.addr, d.port, d.family};
}

// The workers' coarse clock (NatPipeline::now_ms: TSC milliseconds, 32-bit,
// wrapping), which Conn4::expires_ms is written in. The TSC is the same on
// every core of the machines DPDK supports (invariant TSC).
std::uint32_t worker_clock_ms() {
    const std::uint64_t hz = rte_get_tsc_hz();
    const std::uint64_t per_ms = hz >= 1000 ? hz / 1000 : 1;
    return static_cast<std::uint32_t>(rte_get_tsc_cycles() / per_ms);
}

std::vector<conf::Diagnostic> diagnostics_of(const conf::Diagnostics& d) { return d.all(); }

// Each port's rte_eth_stats and link (status, stats).
std::vector<PortStatus> ports_status(const std::vector<dp::PortState>* ports) {
    std::vector<PortStatus> out;
    if (ports == nullptr) return out;
    for (const auto& p : *ports) {
        PortStatus ps;
        ps.name = p.name;
        ps.device = p.devargs;
        ps.port_id = p.port_id;
        ps.mac = dp::format_mac(p.mac);
        rte_eth_stats st{};
        if (rte_eth_stats_get(p.port_id, &st) == 0) {
            ps.rx_packets = st.ipackets;
            ps.rx_bytes = st.ibytes;
            ps.tx_packets = st.opackets;
            ps.tx_bytes = st.obytes;
            ps.rx_missed = st.imissed;
            ps.rx_errors = st.ierrors;
            ps.rx_nombuf = st.rx_nombuf;
            ps.tx_errors = st.oerrors;
        }
        ps.link = port_link_up(p.port_id, p.devargs) ? "up" : "down";
        out.push_back(std::move(ps));
    }
    return out;
}

// Only with EAL up (it is when there are ports): the walk needs its memory config.
std::vector<MempoolStatus> mempools_status(bool eal_up) {
    std::vector<MempoolStatus> out;
    if (!eal_up) return out;
    for (const auto& m : dp::mempool_usage()) out.push_back(MempoolStatus{m.name, m.size, m.available, m.in_use});
    return out;
}

}  // namespace

DpdkControl::DpdkControl(DpdkRuntime runtime, conf::Config running, LogFn log, const std::set<conf::IpAddr>& released)
    : rt_(runtime), desired_(std::move(running)), log_(std::move(log)), started_(std::chrono::steady_clock::now()) {
    for (const conf::IpAddr& vip : released) desired_.set_vip_owned(vip, false);
    applied_version_ = desired_.version();
    applied_released_ = released;
}

void DpdkControl::gratuitous_arp(const conf::IpAddr& vip) {
    if (rt_.publisher != nullptr && rt_.publisher->current() != nullptr) announce(*rt_.publisher->current(), vip);
}

std::vector<IpvsService> DpdkControl::services_of(const dp::Snapshot& snap) {
    std::vector<IpvsService> out;
    for (const auto& svc : snap.services().services()) {
        IpvsService s;
        const dp::ServiceKey& k = svc->key();
        s.protocol = protocol_of(k.proto);
        s.address = addr_of(k.addr, k.family);
        s.family = s.address.family;
        s.port = ntohs(k.port);
        s.scheduler = std::string(dp::sched_name(svc->sched().algo()));
        s.scheduler_flags = scheduler_flag_names(s.scheduler, svc->sched().flags());
        if (svc->persistent()) {
            s.persistence_timeout = svc->persist_ms() / 1000;
            s.persistence_netmask_v4 = ntohl(svc->persist_mask());
        }
        s.stats = traffic_stats(dp::sum_service(svc->counters()));
        for (const dp::Dest& d : svc->dests()) {
            IpvsDest x;
            x.address = addr_of(d.addr, d.family);
            x.port = ntohs(d.port);
            x.forward = forward_of(d.fwd);
            x.weight = d.weight;
            x.upper_threshold = d.u_threshold;
            x.lower_threshold = d.l_threshold;
            if (d.counters != nullptr) {
                const dp::DestTotals t = dp::sum_dest(*d.counters);
                x.active_conns = t.active;
                x.inactive_conns = t.inactive;
                x.stats = traffic_stats(t.traffic);
            }
            s.dests.push_back(std::move(x));
        }
        out.push_back(std::move(s));
    }
    return out;
}

ListReply DpdkControl::list() {
    ListReply r;
    r.backend = "dpdk";
    r.conn_table_size = rt_.conns->capacity();
    const dp::Snapshot* snap = rt_.publisher->current();
    if (snap == nullptr) return r;
    r.services = services_of(*snap);
    // services_of keeps the snapshot's order: pair them up again for the rates.
    const auto& svcs = snap->services().services();
    for (std::size_t i = 0; i < svcs.size(); ++i) {
        if (const auto it = service_rates_.find(svcs[i]->key()); it != service_rates_.end()) {
            it->second.fill(r.services[i].stats);
        }
        const auto dests = svcs[i]->dests();
        for (std::size_t j = 0; j < dests.size(); ++j) {
            if (const auto it = dest_rates_.find(dest_key(*svcs[i], dests[j])); it != dest_rates_.end()) {
                it->second.fill(r.services[i].dests[j].stats);
            }
        }
    }
    return r;
}

ConnsReply DpdkControl::conns(std::size_t limit) {
    ConnsReply r;
    const std::uint32_t now = worker_clock_ms();
    // A persistence template's real server may have been replaced since it
    // was made (Conn4::tpl_dest): listed by the current snapshot's dest.
    std::map<std::uint32_t, const dp::Dest*> dest_by_id;
    if (const dp::Snapshot* snap = rt_.publisher->current()) {
        for (const auto& svc : snap->services().services()) {
            for (const dp::Dest& d : svc->dests()) dest_by_id.emplace(d.id, &d);
        }
    }
    rt_.conns->for_each([&](const dp::Conn4& c) {
        ++r.total;
        if (r.conns.size() >= limit) {
            r.truncated = true;
            return;
        }
        IpvsConn ic;
        ic.protocol = protocol_of(c.proto);
        const auto state = static_cast<dp::ConnState>(c.state.load(std::memory_order_relaxed));
        ic.state = dp::to_string(state);
        const auto left = static_cast<std::int32_t>(c.expires_ms.load(std::memory_order_relaxed) - now);
        ic.expires_seconds = left > 0 ? static_cast<std::uint32_t>(left) / 1000 : 0;
        ic.client = v4_addr(c.caddr);
        ic.client_port = ntohs(c.cport);
        ic.virtual_address = v4_addr(c.vaddr);
        ic.virtual_port = ntohs(c.vport);
        ic.dest = v4_addr(c.daddr);
        ic.dest_port = ntohs(c.dport);
        if (c.kind == dp::kConnKindTemplate) {
            // As IPVS lists them: state NONE, client port 0, the VIP port (0
            // for a port-0 service) and the real server's port.
            ic.state = dp::to_string(dp::ConnState::none);
            const auto it = dest_by_id.find(c.tpl_dest.load(std::memory_order_relaxed));
            if (it != dest_by_id.end() && it->second->id != c.dest_id) {
                ic.dest = v4_addr(it->second->addr[0]);
                ic.dest_port = c.vport != 0 ? ntohs(it->second->port) : 0;
            }
        }
        r.conns.push_back(std::move(ic));
    });
    return r;
}

std::vector<WorkerCounterSet> DpdkControl::worker_counters() const {
    std::vector<WorkerCounterSet> out;
    if (rt_.workers == nullptr) return out;
    for (const auto& w : rt_.workers->workers()) {
        const auto* nat = dynamic_cast<const dp::NatPipeline*>(&w->pipeline());
        if (nat == nullptr) continue;
        WorkerCounterSet set;
        set.lcore = w->info().lcore_id;
        // Racy reads of the worker's own counters (counters.h allows them).
        const dp::WorkerCounters* one[] = {&nat->counters()};
        const dp::CounterTotals v = dp::sum_counters(std::span<const dp::WorkerCounters* const>(one));
        set.values.assign(v.begin(), v.end());
        out.push_back(std::move(set));
    }
    return out;
}

StatusReply DpdkControl::status() {
    StatusReply r;
    r.backend = "dpdk";
    r.version = KADP_VERSION;
    r.pid = getpid();
    r.uptime_seconds = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count());
    r.config_file = rt_.options->config_file;
    std::vector<const dp::WorkerCounters*> per_worker;
    static const std::vector<std::unique_ptr<dp::Worker>> kNone;
    for (const auto& w : rt_.workers != nullptr ? rt_.workers->workers() : kNone) {
        r.worker_lcores.push_back(w->info().lcore_id);
        // Racy reads of each worker's own counters (counters.h allows them).
        if (const auto* nat = dynamic_cast<const dp::NatPipeline*>(&w->pipeline())) per_worker.push_back(&nat->counters());
    }
    const dp::CounterTotals totals = dp::sum_counters(std::span<const dp::WorkerCounters* const>(per_worker));
    for (std::size_t i = 0; i < dp::kCounterCount; ++i) r.counters.emplace_back(std::string(dp::counter_name(i)), totals[i]);
    r.ports = ports_status(rt_.ports);
    r.mempools = mempools_status(rt_.ports != nullptr);
    const dp::ConnTableStats cs = rt_.conns->stats();
    r.conn_capacity = cs.capacity;
    r.conn_in_use = cs.in_use;
    if (const dp::Snapshot* snap = rt_.publisher->current()) {
        r.generation = snap->generation();
        r.services = snap->services().size();
        for (const auto& s : snap->services().services()) r.real_servers += s->dests().size();
    }
    r.last_reload = last_reload_;
    r.reloads_accepted = reloads_accepted_;
    r.reloads_rejected = reloads_rejected_;
    if (status_extra_) status_extra_(r);
    return r;
}

StatsReply DpdkControl::stats() {
    StatsReply r;
    r.backend = "dpdk";
    std::vector<const dp::WorkerCounters*> per_worker;
    static const std::vector<std::unique_ptr<dp::Worker>> kNone;
    for (const auto& w : rt_.workers != nullptr ? rt_.workers->workers() : kNone) {
        const auto* nat = dynamic_cast<const dp::NatPipeline*>(&w->pipeline());
        if (nat == nullptr) continue;
        // Racy reads of each worker's own counters (counters.h allows them).
        const dp::WorkerCounters* one[] = {&nat->counters()};
        const dp::CounterTotals mine = dp::sum_counters(std::span<const dp::WorkerCounters* const>(one));
        WorkerStats ws;
        ws.lcore = w->info().lcore_id;
        for (std::size_t i = 0; i < dp::kCounterCount; ++i) ws.counters.emplace_back(std::string(dp::counter_name(i)), mine[i]);
        r.workers.push_back(std::move(ws));
        per_worker.push_back(&nat->counters());
    }
    const dp::CounterTotals totals = dp::sum_counters(std::span<const dp::WorkerCounters* const>(per_worker));
    for (std::size_t i = 0; i < dp::kCounterCount; ++i) r.totals.emplace_back(std::string(dp::counter_name(i)), totals[i]);
    r.ports = ports_status(rt_.ports);
    r.mempools = mempools_status(rt_.ports != nullptr);
    const dp::ConnTableStats cs = rt_.conns->stats();
    r.conn_capacity = cs.capacity;
    r.conn_in_use = cs.in_use;
    return r;
}

ReloadReply DpdkControl::reject(ReloadReply r, const std::string& why) {
    r.accepted = false;
    r.message = why + "; the running configuration stays (generation " + std::to_string(r.generation) + ")";
    log_.error("reload (" + r.trigger + ") rejected: " + r.message);
    for (const auto& d : r.diagnostics) log_.error("  " + conf::Diagnostics::format(d));
    last_reload_ = r;
    ++reloads_rejected_;
    return r;
}

ReloadReply DpdkControl::reload(const std::string& trigger) {
    ReloadReply r;
    r.trigger = trigger;
    r.time = static_cast<std::int64_t>(std::time(nullptr));
    const dp::Snapshot* current = rt_.publisher->current();
    r.generation = current != nullptr ? current->generation() : 0;
    const std::string& file = rt_.options->config_file;

    conf::LoadOptions load;
    load.config_id = rt_.options->config_id;
    conf::Diagnostics diags;
    auto config = conf::load_file(file, load, diags);
    r.diagnostics = diagnostics_of(diags);
    if (!config) return reject(std::move(r), file + " cannot be read");
    if (diags.has_errors()) {
        return reject(std::move(r), file + ": " + std::to_string(diags.error_count()) + " error(s)");
    }
    if (auto why = dataplane_restart_reason(*desired_.config().dataplane, config->dataplane)) {
        return reject(std::move(r), *why);
    }
    if (auto why = metrics_restart_reason(desired_.config().metrics, config->metrics)) {
        return reject(std::move(r), *why);
    }
    // The checkers' verdicts and VRRP's ownership carry over to the new file.
    auto next = rt_.builder->build(*config, current, desired_.verdicts(), diags, desired_.released_vips());
    r.diagnostics = diagnostics_of(diags);
    if (!next) {
        return reject(std::move(r), file + ": " + std::to_string(diags.error_count()) + " error(s) in the services");
    }
    const ServiceChanges changes =
        diff_services(current != nullptr ? services_of(*current) : std::vector<IpvsService>{}, services_of(*next));
    const std::uint64_t generation = next->generation();
    if (rt_.publisher->publish(std::move(next)) != 0) {
        return reject(std::move(r), std::to_string(rt_.publisher->retired()) +
                                        " earlier snapshots still wait for a worker's grace period; try again");
    }
    std::vector<std::string> live = dataplane_live_changes(*desired_.config().dataplane, *config->dataplane);
    desired_.set_config(std::move(*config));
    published(desired_.version());
    r.accepted = true;
    r.generation = generation;
    r.message = "generation " + std::to_string(generation) + ": " + changes.summary();
    r.changes = changes.lines;
    for (auto& line : live) r.changes.push_back(std::move(line));
    log_("reload (" + trigger + "): " + r.message);
    ++reloads_accepted_;
    // The summary above at info; each change (the full diff) at debug.
    for (const auto& line : r.changes) log_.debug("  " + line);
    for (const auto& d : r.diagnostics) log_.warning("  " + conf::Diagnostics::format(d));
    last_reload_ = r;
    if (on_reloaded_) {
        on_reloaded_(desired_.config());
        apply();  // verdicts of servers whose checkers changed
    }
    return r;
}

// The snapshot of desired-state `version` is out: VIPs it owns that the
// previous one had released are announced.
void DpdkControl::published(std::uint64_t version) {
    applied_version_ = version;
    std::set<conf::IpAddr> taken_over;
    for (const conf::IpAddr& vip : applied_released_) {
        if (!desired_.released_vips().contains(vip)) taken_over.insert(vip);
    }
    applied_released_ = desired_.released_vips();
    if (!announce_takeovers_) return;
    for (const conf::IpAddr& vip : taken_over) announce(*rt_.publisher->current(), vip);
}

bool DpdkControl::apply() {
    const std::uint64_t version = desired_.version();
    if (version == applied_version_ || version == failed_version_) return version == applied_version_;
    const dp::Snapshot* current = rt_.publisher->current();
    conf::Diagnostics diags;
    auto next = rt_.builder->build(desired_.config(), current, desired_.verdicts(), diags, desired_.released_vips());
    if (!next) {
        failed_version_ = version;  // logged once; the next change tries again
        log_.error("cannot apply the desired state: " + std::to_string(diags.error_count()) +
                   " error(s); the running snapshot stays");
        for (const auto& d : diagnostics_of(diags)) log_.error("  " + conf::Diagnostics::format(d));
        return false;
    }
    const std::uint64_t generation = next->generation();
    if (rt_.publisher->publish(std::move(next)) != 0) return false;  // retired queue full: next tick
    published(version);
    log_.debug("desired state applied: generation " + std::to_string(generation) + ", " +
         std::to_string(desired_.weights().size()) + " weight verdict(s), " +
         std::to_string(desired_.released_vips().size()) + " VIP(s) released");
    return true;
}

// On the port whose connected prefix holds the VIP; on every port when none does.
void DpdkControl::announce(const dp::Snapshot& snap, const conf::IpAddr& vip) {
    if (!vip.is_v4() || rt_.channels == nullptr || rt_.channel_count == 0) return;
    std::uint32_t ip;
    std::memcpy(&ip, vip.bytes.data(), 4);
    const dp::RouteHop4 hop = snap.routes() != nullptr ? snap.routes()->lookup(ip) : dp::RouteHop4{};
    std::vector<std::uint16_t> ports;
    if (hop.kind == dp::RouteKind::connected) {
        ports.push_back(hop.port);
    } else {
        const std::size_t n = rt_.ports != nullptr ? rt_.ports->size() : 0;
        for (std::size_t p = 0; p < n; ++p) ports.push_back(static_cast<std::uint16_t>(p));
    }
    for (const std::uint16_t port : ports) {
        // Worker 0 transmits on every port (its own queue, or the port's ring).
        if (!rt_.channels[0].commands.push(dp::WorkerCommand{dp::WorkerCommand::Kind::send_garp, port, ip})) {
            limited_.warning("gratuitous ARP not sent",
                             "gratuitous ARP for " + vip.to_string() + " not sent: worker 0's command queue is full");
        }
    }
}

// What workers may not log themselves (worker_channel.h).
void DpdkControl::log_worker_events() {
    for (std::size_t w = 0; w < rt_.channel_count; ++w) {
        dp::WorkerEvent ev;
        while (rt_.channels[w].events.pop(ev)) {
            // Once a second per alarm counter under attack: at most a few lines a minute each.
            limited_.warning("worker " + std::to_string(w) + ": " + std::string(dp::counter_name(ev.counter)),
                             "worker " + std::to_string(w) + ": " + std::to_string(ev.delta) + " more in the last second: " +
                                 std::string(dp::counter_help(static_cast<std::size_t>(ev.counter))) + " (" +
                                 std::string(dp::counter_name(ev.counter)) + ")");
        }
    }
}

void DpdkControl::tick() {
    log_worker_events();
    limited_.flush();  // the "suppressed" summaries once a window has passed
    apply();
    if (++ticks_ % RateEstimator::kIntervalSeconds == 0) sample_rates();
}

void DpdkControl::sample_rates() {
    const dp::Snapshot* snap = rt_.publisher->current();
    std::set<dp::ServiceKey> live_services;
    std::set<dp::DestKey> live_dests;
    if (snap != nullptr) {
        for (const auto& svc : snap->services().services()) {
            live_services.insert(svc->key());
            service_rates_[svc->key()].sample(traffic_stats(dp::sum_service(svc->counters())));
            for (const dp::Dest& d : svc->dests()) {
                if (d.counters == nullptr) continue;
                const dp::DestKey key = dest_key(*svc, d);
                live_dests.insert(key);
                dest_rates_[key].sample(traffic_stats(dp::sum_dest(*d.counters).traffic));
            }
        }
    }
    std::erase_if(service_rates_, [&](const auto& e) { return !live_services.contains(e.first); });
    std::erase_if(dest_rates_, [&](const auto& e) { return !live_dests.contains(e.first); });
}

}  // namespace kadp::ctl
