// Runs on: control thread.
#include "vrrp/vrrp_service.h"

#include <sys/epoll.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <set>
#include <span>
#include <stdexcept>
#include <utility>

#include "vrrp/advert_screen.h"
#include "vrrp/codec.h"

namespace kadp::vrrp {

// One device's socket and the instances it carries.
struct VrrpService::Link {
    std::unique_ptr<VrrpSocket> socket;
    ctl::EventLoop::WatchId watch = 0;
    std::map<std::uint8_t, Running*> by_vrid;
};

struct VrrpService::Running {
    Running(ctl::EventLoop& loop, InstanceConfig cfg, conf::VrrpInstance vi)
        : fsm(std::move(cfg)), model(std::move(vi)), timer(loop) {}
    Instance fsm;
    conf::VrrpInstance model;  // as configured: interface, notify scripts
    Link* link = nullptr;
    ctl::Timer timer;
    std::uint16_t ip_id = 0;  // keepalived numbers each instance's packets from 1
    Advert mine;              // what validate() compares a received advert with
    SyncGroup* group = nullptr;
    // Not started: a weight-0 vrrp_script has not reported yet (keepalived
    // keeps such an instance in INIT without a word).
    bool held = false;
    DropCounters dropped;  // adverts for this VRID refused before the state machine
};

namespace {

TimePoint now() { return std::chrono::steady_clock::now(); }

bool same_addresses(const std::vector<conf::VirtualIp>& a, const std::vector<conf::VirtualIp>& b)
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].text != b[i].text) return false;
    }
    return true;
}

// What an instance runs on: equal = a reload leaves it running.
bool same_settings(const conf::VrrpInstance& a, const conf::VrrpInstance& b, const InstanceConfig& ca,
                   const InstanceConfig& cb)
{
    return a.interface == b.interface && ca.version == cb.version && ca.vrid == cb.vrid &&
           ca.priority == cb.priority && ca.advert_interval == cb.advert_interval &&
           ca.initial_master == cb.initial_master && ca.nopreempt == cb.nopreempt &&
           ca.preempt_delay == cb.preempt_delay && ca.auth_type == cb.auth_type && ca.auth_data == cb.auth_data &&
           ca.advert_addresses == cb.advert_addresses && same_addresses(ca.owned, cb.owned) &&
           ca.source == cb.source && ca.unicast_peers == cb.unicast_peers && ca.group == cb.group &&
           ca.garp_master_delay == cb.garp_master_delay && ca.garp_master_repeat == cb.garp_master_repeat &&
           ca.garp_master_refresh == cb.garp_master_refresh &&
           ca.garp_master_refresh_repeat == cb.garp_master_refresh_repeat;
}

}  // namespace

VrrpService::VrrpService(ctl::EventLoop& loop, VrrpBackend& backend, LogFn log)
    : loop_(&loop), backend_(&backend), log_(std::move(log))
{
}

VrrpService::~VrrpService()
{
    stop();
    backend_->links().subscribe({});
    notifies_.clear();
    for (auto& [device, link] : links_) loop_->unwatch(link->watch);
}

VrrpService::Link& VrrpService::link_for(const std::string& device)
{
    auto it = links_.find(device);
    if (it != links_.end()) return *it->second;
    auto link = std::make_unique<Link>();
    link->socket = std::make_unique<VrrpSocket>(device, true);
    Link* raw = link.get();
    link->watch = loop_->watch(link->socket->fd(), EPOLLIN, [this, raw](std::uint32_t) { on_readable(*raw); });
    return *links_.emplace(device, std::move(link)).first->second;
}

std::unique_ptr<VrrpService::Running> VrrpService::make(const conf::Config& config, const conf::VrrpInstance& vi)
{
    conf::IpAddr group = multicast_group(conf::IpAddr::Family::v4);
    if (!config.global_defs.vrrp_mcast_group4.empty()) group = config.global_defs.vrrp_mcast_group4;
    const conf::IpAddr primary = backend_->primary_address(vi.interface);
    InstanceConfig cfg = InstanceConfig::from_model(vi, primary, group);
    if (cfg.source.empty()) {
        throw std::runtime_error("(" + vi.name + ") interface " + vi.interface +
                                 " has no IPv4 address to send adverts from (set unicast_src_ip or mcast_src_ip)");
    }
    auto r = std::make_unique<Running>(*loop_, cfg, vi);
    r->mine = own_advert(cfg);
    return r;
}

void VrrpService::configure(const conf::Config& config)
{
    ctl::ScriptSettings settings = ctl::ScriptSettings::from(config.global_defs);
    settings.log = limited_.sink("VRRP scripts");  // a refused script comes at every run
    if (!runner_) runner_ = std::make_unique<ctl::ScriptRunner>(*loop_, std::move(settings));
    else runner_->set_settings(std::move(settings));

    // Build everything first: an instance that cannot start (no source
    // address, no socket) leaves the running ones as they were.
    std::map<std::string, std::unique_ptr<Running>> built;
    for (const conf::VrrpInstance& vi : config.vrrp_instances) {
        auto r = make(config, vi);
        r->link = &link_for(backend_->device(vi.interface));
        built.emplace(vi.name, std::move(r));
    }
    // An instance goes on, state and all, when its settings are the same
    // and so is its sync group (members, by name); otherwise it restarts.
    std::map<std::string, std::string> group_of;  // instance -> group
    std::map<std::string, conf::VrrpSyncGroup> models;
    for (const conf::VrrpSyncGroup& g : config.vrrp_sync_groups) {
        models.emplace(g.name, g);
        for (const std::string& m : g.group) group_of[m] = g.name;
    }
    const auto same_group = [&](const std::string& instance) {
        const auto now_in = group_of.find(instance);
        const Running* old = instances_.at(instance).get();
        if (now_in == group_of.end()) return old->group == nullptr;
        if (old->group == nullptr || old->group->name() != now_in->second) return false;
        const auto was = group_models_.find(now_in->second);
        return was != group_models_.end() && was->second.group == models.at(now_in->second).group;
    };
    std::set<std::string> kept;
    for (const auto& [name, r] : built) {
        const auto old = instances_.find(name);
        if (old != instances_.end() && old->second->link == r->link &&
            same_settings(old->second->model, r->model, old->second->fsm.config(), r->fsm.config()) && same_group(name)) {
            kept.insert(name);
        }
    }
    // A group is kept only with all of its members.
    for (const auto& [gname, g] : models) {
        const bool whole = std::all_of(g.group.begin(), g.group.end(), [&](const std::string& m) { return kept.contains(m); });
        if (!whole) {
            for (const std::string& m : g.group) kept.erase(m);
        }
    }

    // Groups that do not go on release their members first.
    const TimePoint t = now();
    std::map<std::string, std::unique_ptr<SyncGroup>> next_groups;
    for (auto& [gname, g] : groups_) {
        const bool whole = std::all_of(g->members().begin(), g->members().end(),
                                       [&](const Instance* m) { return kept.contains(m->config().name); });
        if (whole && models.contains(gname)) next_groups.emplace(gname, std::move(g));
    }
    // What is not kept stops as at shutdown.
    std::map<std::string, std::unique_ptr<Running>> next;
    for (auto& [name, r] : instances_) {
        if (kept.contains(name)) {
            r->model = built.at(name)->model;  // notify scripts and the like may change freely
            next.emplace(name, std::move(r));
            continue;
        }
        if (r->fsm.state() != State::stop && r->fsm.state() != State::init) carry_out(*r, r->fsm.stop(t));
        r->timer.cancel();
        const auto v = r->link->by_vrid.find(r->fsm.config().vrid);
        if (v != r->link->by_vrid.end() && v->second == r.get()) r->link->by_vrid.erase(v);
    }
    std::erase_if(held_groups_, [&next_groups](SyncGroup* g) {
        return std::none_of(next_groups.begin(), next_groups.end(), [g](const auto& e) { return e.second.get() == g; });
    });
    groups_.clear();  // the ones not kept: unhooks their members
    groups_ = std::move(next_groups);
    instances_ = std::move(next);
    std::vector<Running*> fresh;
    for (auto& [name, r] : built) {
        if (kept.contains(name)) continue;
        auto [it, added] = r->link->by_vrid.emplace(r->fsm.config().vrid, r.get());
        if (!added) {
            log_.error("(" + name + ") VRID " + std::to_string(r->fsm.config().vrid) + " on " + r->model.interface +
                 " is already used by (" + it->second->fsm.config().name + "): not started");
            continue;
        }
        fresh.push_back(r.get());
        instances_.emplace(name, std::move(r));
    }
    by_fsm_.clear();
    for (auto& [name, r] : instances_) by_fsm_[&r->fsm] = r.get();
    group_models_ = std::move(models);

    // New groups over their members (all fresh).
    std::vector<SyncGroup*> fresh_groups;
    for (const auto& [gname, g] : group_models_) {
        if (groups_.contains(gname)) continue;
        std::vector<Instance*> members;
        for (const std::string& m : g.group) {
            const auto it = instances_.find(m);
            if (it != instances_.end()) members.push_back(&it->second->fsm);
        }
        if (members.empty()) continue;
        auto group = std::make_unique<SyncGroup>(gname, members);
        for (Instance* m : members) by_fsm_.at(m)->group = group.get();
        fresh_groups.push_back(group.get());
        groups_.emplace(gname, std::move(group));
    }

    // Tracking, then the fresh instances start with its verdicts. One whose
    // weight-0 script has not reported yet stays in INIT, silently, as
    // keepalived does (and holds its sync group there): it starts with
    // that script's first result (on_tracking).
    track(config);
    for (Running* r : fresh) {
        if (const TrackOutcome* o = tracker_->outcome(r->model.name)) {
            (void)r->fsm.set_priority_adjustment(t, o->adjustment);
            (void)r->fsm.set_fault(t, o->fault);
            r->held = o->waiting;
        }
        if (r->group == nullptr && !r->held) carry_out(*r, r->fsm.start(t));
    }
    for (SyncGroup* g : fresh_groups) {
        if (group_held(*g)) held_groups_.insert(g);
        else carry_out(*g, g->start(t));
    }
    // Kept instances follow the new tracking (they do not wait again for a
    // first script result they already had).
    for (auto& [name, r] : instances_) {
        if (std::find(fresh.begin(), fresh.end(), r.get()) != fresh.end()) continue;
        if (const TrackOutcome* o = tracker_->outcome(name)) on_tracking(*r, *o);
    }
    if (scripts_) scripts_->start();
}

bool VrrpService::group_held(const SyncGroup& g) const
{
    return std::any_of(g.members().begin(), g.members().end(), [this](const Instance* m) {
        const auto it = by_fsm_.find(m);
        return it != by_fsm_.end() && it->second->held;
    });
}

// vrrp_script and track_interface, rebuilt with every configuration.
void VrrpService::track(const conf::Config& config)
{
    scripts_.reset();
    backend_->links().subscribe({});
    tracker_ = std::make_unique<Tracker>(
        config, log_,
        [this](const std::string& instance, const TrackOutcome& o) {
            const auto it = instances_.find(instance);
            if (it != instances_.end()) on_tracking(*it->second, o);
        },
        backend_->links().snapshot());
    feed_link_states(backend_->links(), *tracker_);
    scripts_ = std::make_unique<ScriptTracker>(*loop_, *runner_, *tracker_, config, log_);
}

void VrrpService::on_tracking(Running& r, const TrackOutcome& o)
{
    const TimePoint t = now();
    const bool fault = o.fault;
    if (r.held) {
        // Not started yet: the verdicts wait in the state machine.
        (void)r.fsm.set_priority_adjustment(t, o.adjustment);
        (void)r.fsm.set_fault(t, fault);
        if (o.waiting) return;
        r.held = false;
        if (r.group == nullptr) {
            carry_out(r, r.fsm.start(t));
        } else if (held_groups_.contains(r.group) && !group_held(*r.group)) {
            held_groups_.erase(r.group);
            carry_out(*r.group, r.group->start(t));
        }
        return;
    }
    if (r.group != nullptr) {
        carry_out(*r.group, r.group->set_priority_adjustment(r.fsm, t, o.adjustment));
        carry_out(*r.group, r.group->set_fault(r.fsm, t, fault));
    } else {
        carry_out(r, r.fsm.set_priority_adjustment(t, o.adjustment));
        carry_out(r, r.fsm.set_fault(t, fault));
    }
}

void VrrpService::on_timer(Running& r)
{
    if (r.group != nullptr) carry_out(*r.group, r.group->on_timer(r.fsm, now()));
    else carry_out(r, r.fsm.on_timer(now()));
}

void VrrpService::on_advert(Running& r, const Advert& a)
{
    if (r.group != nullptr) carry_out(*r.group, r.group->on_advert(r.fsm, now(), a));
    else carry_out(r, r.fsm.on_advert(now(), a));
}

void VrrpService::stop()
{
    const TimePoint t = now();
    for (auto& [name, g] : groups_) {
        if (g->state() != State::stop && !held_groups_.contains(g.get())) carry_out(*g, g->stop(t));
    }
    for (auto& [name, r] : instances_) {
        if (r->fsm.state() != State::stop && r->fsm.state() != State::init) carry_out(*r, r->fsm.stop(t));
        r->timer.cancel();
    }
    scripts_.reset();
}

void VrrpService::on_readable(Link& link)
{
    std::array<std::uint8_t, 2048> buf;
    for (int i = 0; i < 64; ++i) {  // a burst, then back to the loop
        const ssize_t n = link.socket->receive(buf);
        if (n <= 0) return;
        deliver(link, std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)));
    }
}

void VrrpService::deliver(Link& link, std::span<const std::uint8_t> packet)
{
    const auto find = [&link](std::uint8_t vrid) {
        const auto it = link.by_vrid.find(vrid);
        if (it == link.by_vrid.end()) return ScreenTarget{};
        Running& r = *it->second;
        return ScreenTarget{&r.fsm.config(), &r.mine, &r.dropped};
    };
    Reception rx = receive_advert(packet, link.socket->ifname(), find, dropped_);
    // One line per reason per 1,000 packets (advert_screen), and a few a
    // minute per interface whatever the flood's rate.
    if (!rx.log.empty()) limited_.warning("dropped VRRP packets on " + link.socket->ifname(), rx.log);
    if (rx.accepted) on_advert(*link.by_vrid.at(rx.advert.vrid), rx.advert);
}

void VrrpService::carry_out(Running& r, Actions actions)
{
    for (Action& action : actions) run(r, action);
    arm(r);
}

void VrrpService::carry_out(SyncGroup& g, MemberActions actions)
{
    for (MemberAction& ma : actions) {
        if (ma.instance == nullptr) {
            if (const auto* n = std::get_if<Notify>(&ma.action)) notify_group(g, n->state);
            else if (const auto* l = std::get_if<Log>(&ma.action)) log_action("VRRP_Group(" + g.name() + ")", *l);
            continue;
        }
        const auto it = by_fsm_.find(ma.instance);
        if (it != by_fsm_.end()) run(*it->second, ma.action);
    }
    for (Instance* m : g.members()) {
        const auto it = by_fsm_.find(m);
        if (it != by_fsm_.end()) arm(*it->second);
    }
}

void VrrpService::run(Running& r, Action& action)
{
    const std::string& iface = r.model.interface;
    if (auto* s = std::get_if<SendAdvert>(&action)) {
        const Result<std::vector<std::uint8_t>> p = encode_ipv4(s->advert, ++r.ip_id);
        if (!p) {
            limited_.error("(" + r.fsm.config().name + ") cannot send", "(" + r.fsm.config().name + ") cannot send an advert: " + p.text);
            return;
        }
        const conf::IpAddr dst = s->advert.destination.empty() ? r.fsm.config().group : s->advert.destination;
        if (r.link != nullptr) r.link->socket->send(p.value, dst);
    } else if (auto* o = std::get_if<OwnVips>(&action)) {
        backend_->own(iface, o->addresses);
    } else if (auto* rel = std::get_if<ReleaseVips>(&action)) {
        backend_->release(iface, rel->addresses);
    } else if (auto* g = std::get_if<SendGarp>(&action)) {
        for (unsigned i = 0; i < g->repeat; ++i) backend_->gratuitous_arp(iface, g->addresses);
    } else if (auto* n = std::get_if<Notify>(&action)) {
        notify(r, n->state);
    } else if (auto* l = std::get_if<Log>(&action)) {
        const std::string who = "(" + r.fsm.config().name + ")";
        log_action(who, *l);
        // keepalived's transition line stays as it is; kadp says why next
        // (the reason kadpctl vrrp shows; the call that made it has returned).
        const char* why = r.fsm.transition_reason();
        if (!l->detail && l->line.find(" Entering ") != std::string::npos && why != nullptr && *why != '\0') {
            log_.at(l->warning ? ctl::LogLevel::warning : ctl::LogLevel::info, who + " reason: " + why);
        }
    }
}

// The state machine's lines: detail at debug; transitions always (each is
// bounded by the protocol's own timers: advert and master-down intervals);
// priority changes and complaints about adverts limited per instance
// (hostile or misconfigured peers, a flapping track script drive them).
void VrrpService::log_action(const std::string& who, const Log& l)
{
    if (l.detail) {
        log_.debug(l.line);
        return;
    }
    const ctl::LogLevel level = l.warning ? ctl::LogLevel::warning : ctl::LogLevel::info;
    if (l.line.find("Entering ") != std::string::npos || l.line.find("Syncing instances") != std::string::npos) {
        log_.at(level, l.line);
    } else if (l.line.find("effective priority") != std::string::npos) {
        limited_.at(level, who + " priority", l.line);
    } else {
        limited_.at(level, who + " adverts", l.line);
    }
}

void VrrpService::arm(Running& r)
{
    const auto deadline = r.fsm.next_deadline();
    if (!deadline) {
        r.timer.cancel();
        return;
    }
    const auto left = *deadline - now();
    // Millisecond timers: round up, so on_timer never comes early.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left);
    r.timer.arm(ms.count() > 0 ? ms : std::chrono::milliseconds(0), [this, &r] { on_timer(r); });
}

// keepalived: notify_master / _backup / _fault / _stop with no arguments
// of their own, then `notify` with "INSTANCE" NAME STATE PRIORITY.
void VrrpService::notify(const Running& r, State state)
{
    const conf::VrrpInstance& vi = r.model;
    const conf::Script* specific = state == State::master   ? &vi.notify_master
                                   : state == State::backup ? &vi.notify_backup
                                   : state == State::fault  ? &vi.notify_fault
                                   : state == State::stop   ? &vi.notify_stop
                                                            : nullptr;
    const std::string what = "notify of (" + vi.name + ")";
    if (specific != nullptr) run_notify(*specific, {}, what);
    run_notify(vi.notify, {"INSTANCE", vi.name, to_string(state), std::to_string(r.fsm.effective_priority())}, what);
}

// A vrrp_sync_group's: notify_<state>, then `notify` with "GROUP" NAME STATE.
void VrrpService::notify_group(const SyncGroup& g, State state)
{
    const auto it = group_models_.find(g.name());
    if (it == group_models_.end()) return;
    const conf::VrrpSyncGroup& m = it->second;
    const conf::Script* specific = state == State::master   ? &m.notify_master
                                   : state == State::backup ? &m.notify_backup
                                   : state == State::fault  ? &m.notify_fault
                                   : state == State::stop   ? &m.notify_stop
                                                            : nullptr;
    const std::string what = "notify of group (" + g.name() + ")";
    if (specific != nullptr) run_notify(*specific, {}, what);
    run_notify(m.notify, {"GROUP", g.name(), to_string(state)}, what);
}

void VrrpService::run_notify(const conf::Script& script, std::vector<std::string> extra, const std::string& what)
{
    if (!runner_ || script.empty() || script.disabled) return;
    ctl::ScriptSpec spec = ctl::ScriptSpec::from(script, what);
    spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
    const std::uint64_t id = next_notify_++;
    const std::string line = what + " [" + script.command + "]";
    try {
        notifies_.emplace(id, runner_->run(std::move(spec), std::chrono::milliseconds(60000),
                                           [this, id, line](const ctl::ScriptResult& res) {
                                               if (!res.succeeded()) limited_.warning(line, line + " " + res.describe());
                                               notifies_.erase(id);
                                           }));
    } catch (const std::exception& e) {
        limited_.warning(line, line + " not started: " + e.what());
    }
}

std::vector<VrrpService::InstanceStatus> VrrpService::status() const
{
    std::vector<InstanceStatus> out;
    const TimePoint t = now();
    const auto wall = std::chrono::system_clock::now();
    for (const auto& [name, r] : instances_) {
        InstanceStatus s;
        s.name = name;
        s.interface = r->model.interface;
        s.vrid = r->fsm.config().vrid;
        s.state = r->fsm.state();
        s.priority = r->fsm.effective_priority();
        s.dropped = r->dropped.by_reason();
        s.base_priority = r->fsm.base_priority();
        s.master = r->fsm.master_address();
        s.reason = r->fsm.transition_reason();
        // The state machine runs on the monotonic clock; kadpctl shows wall time.
        if (const auto at = r->fsm.transition_time())
            s.transition = wall - std::chrono::duration_cast<std::chrono::system_clock::duration>(t - *at);
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace kadp::vrrp
