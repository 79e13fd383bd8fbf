// Runs on: control thread. See instance.h. The transitions follow keepalived
// 2.2.7's vrrp.c / vrrp_scheduler.c (vrrp_state_backup, vrrp_state_master_rx,
// vrrp_state_master_tx, vrrp_state_leave_master, vrrp_init_state, ...); the
// log texts are the 2.2.7 binary's.
#include "vrrp/instance.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

namespace kadp::vrrp {

namespace {

constexpr std::uint8_t kPrioOwner = 255;
constexpr std::uint8_t kPrioStop = 0;
constexpr std::int64_t kUsPerSecond = 1'000'000;
constexpr std::int64_t kUsPerCenti = 10'000;

std::string ms(Micros d) { return std::to_string(d.count() / 1000); }

// keepalived's vrrp_saddr_cmp: >0 when the advert's source is the higher address.
int compare_source(const conf::IpAddr& theirs, const conf::IpAddr& ours)
{
    if (theirs.family != ours.family) return 0;
    const auto order = theirs.bytes <=> ours.bytes;
    return order > 0 ? 1 : order < 0 ? -1 : 0;
}

}  // namespace

const char* to_string(State s)
{
    switch (s) {
    case State::init: return "INIT";
    case State::backup: return "BACKUP";
    case State::master: return "MASTER";
    case State::fault: return "FAULT";
    case State::stop: return "STOP";
    }
    return "?";
}

InstanceConfig InstanceConfig::from_model(const conf::VrrpInstance& vi, const conf::IpAddr& primary,
                                          const conf::IpAddr& group)
{
    InstanceConfig c;
    c.name = vi.name;
    c.version = vi.version;
    c.vrid = static_cast<std::uint8_t>(vi.virtual_router_id);
    c.priority = static_cast<std::uint8_t>(vi.priority);
    // v2 carries whole seconds, v3 centiseconds (the validator already warned and rounded).
    if (vi.version == 3) {
        c.advert_interval = Micros(std::llround(vi.advert_int * 100) * kUsPerCenti);
    } else {
        c.advert_interval = Micros(std::llround(vi.advert_int) * kUsPerSecond);
    }
    // conf::VrrpInstance does not record whether `state` was given; keepalived
    // derives wantstate MASTER from priority 255 when it was not.
    c.initial_master = vi.state == conf::VrrpState::master || vi.priority == kPrioOwner;
    c.nopreempt = vi.nopreempt;
    c.preempt_delay = Micros(std::llround(vi.preempt_delay * kUsPerSecond));
    if (vi.version == 2 && vi.auth_type != conf::AuthType::none) {
        c.auth_type = vi.auth_type == conf::AuthType::pass ? AuthType::pass : AuthType::ah;
        const std::size_t n = std::min(vi.auth_pass.size(), c.auth_data.size());
        for (std::size_t i = 0; i < n; ++i) c.auth_data[i] = static_cast<std::uint8_t>(vi.auth_pass[i]);
    }
    for (const conf::VirtualIp& v : vi.virtual_ipaddress) {
        c.advert_addresses.push_back(v.address.addr);
        c.owned.push_back(v);
    }
    for (const conf::VirtualIp& v : vi.virtual_ipaddress_excluded) c.owned.push_back(v);
    c.source = !vi.unicast_src_ip.empty() ? vi.unicast_src_ip
             : !vi.mcast_src_ip.empty()   ? vi.mcast_src_ip
                                          : primary;
    c.unicast_peers = vi.unicast_peer;
    c.group = group;
    c.garp_master_delay = Micros(std::llround(vi.garp_master_delay * kUsPerSecond));
    c.garp_master_repeat = static_cast<unsigned>(std::max(vi.garp_master_repeat, 0));
    c.garp_master_refresh = Micros(std::llround(vi.garp_master_refresh * kUsPerSecond));
    c.garp_master_refresh_repeat = static_cast<unsigned>(std::max(vi.garp_master_refresh_repeat, 0));
    return c;
}

// Reason texts (kadpctl vrrp, docs/kadpctl.md).
constexpr const char* kWhyStartup = "startup";
constexpr const char* kWhyStartupFault = "startup in fault (a tracked script or interface is down)";
constexpr const char* kWhyOwner = "address owner (priority 255) at startup";
constexpr const char* kWhyNoAdvert = "master down timer expired (no advert since we became backup)";
constexpr const char* kWhyDownTimer = "master down timer expired (the master stopped advertising)";
constexpr const char* kWhyPrio0 = "priority 0 advert from the master (it is shutting down)";
constexpr const char* kWhyPreempt = "preempt (the master's priority is lower than ours)";
constexpr const char* kWhyHigher = "higher priority advert";
constexpr const char* kWhyHigherAddr = "equal priority advert from a higher address";
constexpr const char* kWhyFault = "fault (a tracked script or interface failed)";
constexpr const char* kWhyFaultCleared = "fault cleared";
constexpr const char* kWhySync = "sync group";
constexpr const char* kWhyStop = "stopped";

struct Instance::Transition {
    Instance& self;
    TimePoint now;
    State before;
    Transition(Instance& i, TimePoint t) : self(i), now(t), before(i.state_) { self.why_ = ""; }
    ~Transition()
    {
        if (self.state_ == before) return;
        self.reason_ = self.why_;
        self.transition_at_ = now;
    }
    Transition(const Transition&) = delete;
    Transition& operator=(const Transition&) = delete;
};

std::optional<conf::IpAddr> Instance::master_address() const
{
    if (state_ == State::master) return cfg_.source;
    if (state_ == State::backup) return master_;
    return std::nullopt;
}

Instance::Instance(InstanceConfig config)
    : cfg_(std::move(config)),
      base_priority_(cfg_.priority),
      effective_priority_(cfg_.priority),
      master_adver_int_(cfg_.advert_interval)
{
    want_ = cfg_.initial_master ? State::master : State::backup;
}

// VRRP_TIMER_SKEW: v2 (256 - prio)/256 s whatever the interval; v3 scales with
// the master's interval, in keepalived's integer arithmetic (625/16 = 10000/256).
Micros Instance::skew() const
{
    const std::int64_t p = 256 - effective_priority_;
    if (cfg_.version == 3) return Micros(p * (master_adver_int_.count() / kUsPerCenti) * 625 / 16);
    return Micros(p * kUsPerSecond / 256);
}

Micros Instance::down_interval() const
{
    return static_cast<std::int64_t>(cfg_.down_timer_adverts) * master_adver_int_ + skew();
}

std::uint16_t Instance::interval_cs(Micros interval) const
{
    return static_cast<std::uint16_t>(interval.count() / kUsPerCenti);
}

void Instance::log(Actions& out, std::string text, bool detail) const
{
    out.emplace_back(Log{"(" + cfg_.name + ") " + std::move(text), detail});
}

void Instance::warn(Actions& out, std::string text) const
{
    out.emplace_back(Log{"(" + cfg_.name + ") " + std::move(text), false, true});
}

void Instance::send_advert(Actions& out, std::uint8_t priority) const
{
    Advert a;
    a.version = static_cast<std::uint8_t>(cfg_.version);
    a.vrid = cfg_.vrid;
    a.priority = priority;
    a.interval_cs = interval_cs(cfg_.advert_interval);
    if (cfg_.version == 2) {
        a.auth_type = cfg_.auth_type;
        a.auth_data = cfg_.auth_data;
    }
    a.addresses = cfg_.advert_addresses;
    a.source = cfg_.source;
    a.ttl = 255;
    if (cfg_.unicast_peers.empty()) {
        a.destination = cfg_.group;
        out.emplace_back(SendAdvert{std::move(a)});
        return;
    }
    for (const conf::IpAddr& peer : cfg_.unicast_peers) {
        a.destination = peer;
        out.emplace_back(SendAdvert{a});
    }
}

void Instance::send_garp(Actions& out, unsigned repeat) const
{
    // vrrp_send_link_update: only while the addresses are ours.
    if (!vipset_ || repeat == 0 || cfg_.owned.empty()) return;
    SendGarp g;
    g.repeat = repeat;
    for (const conf::VirtualIp& v : cfg_.owned) g.addresses.push_back(v.address.addr);
    out.emplace_back(std::move(g));
}

std::optional<TimePoint> Instance::next_deadline() const
{
    std::optional<TimePoint> next = sands_;
    if (garp_delayed_ && (!next || *garp_delayed_ < *next)) next = garp_delayed_;
    return next;
}

// ------------------------------------------------------------ start / stop

// vrrp_init_state for an instance whose interface is up.
Actions Instance::start(TimePoint now)
{
    Actions out;
    if (state_ != State::init) return out;
    const Transition t(*this, now);
    master_adver_int_ = cfg_.advert_interval;
    master_.reset();
    if (fault_) {
        why_ = kWhyStartupFault;
        warn(out, "Entering FAULT STATE (init)");
        state_ = State::fault;
        out.emplace_back(Notify{State::fault});
        return out;
    }
    state_ = State::backup;
    why_ = kWhyStartup;
    down_why_ = kWhyNoAdvert;
    if (want_ == State::master && base_priority_ == kPrioOwner) {
        down_why_ = kWhyOwner;
        // "The simplest way to become master is to timeout from the backup
        // state very quickly (1usec)": no BACKUP log, no notify.
        ms_down_timer_ = Micros(1);
    } else {
        ms_down_timer_ = down_interval();
        log(out, "Entering BACKUP STATE (init)");
        out.emplace_back(Notify{State::backup});
    }
    sands_ = now + ms_down_timer_;
    return out;
}

// shutdown_vrrp_instances: a master warns its peers (priority 0) and
// releases its addresses; every instance runs notify_stop.
Actions Instance::stop(TimePoint now)
{
    Actions out;
    if (state_ == State::stop) return out;
    const Transition t(*this, now);
    why_ = kWhyStop;
    if (state_ == State::master) {
        send_advert(out, kPrioStop);
        log(out, "sent 0 priority", true);
        release(out);
    }
    state_ = State::stop;
    sands_.reset();
    garp_delayed_.reset();
    garp_refresh_.reset();
    out.emplace_back(Notify{State::stop});
    return out;
}

// ---------------------------------------------------------------- timers

Actions Instance::on_timer(TimePoint now)
{
    Actions out;
    const Transition t(*this, now);
    if (garp_delayed_ && *garp_delayed_ <= now) {
        garp_delayed_.reset();
        if (state_ == State::master) send_garp(out, cfg_.garp_master_repeat);
    }
    if (!sands_ || *sands_ > now) return out;
    if (state_ == State::backup) {
        log(out, "Receive advertisement timeout", true);
        why_ = down_why_;
        goto_master(now, out);
    } else if (state_ == State::master) {
        master_tx(now, out);
        sands_ = now + cfg_.advert_interval;
    }
    return out;
}

// vrrp_goto_master + vrrp_state_goto_master.
void Instance::goto_master(TimePoint now, Actions& out)
{
    want_ = State::master;
    if (master_gate_ && !master_gate_()) {
        // Held in BACKUP by the sync group: wait another down interval (not
        // the owner's 1 us start-up timer again).
        if (ms_down_timer_ < master_adver_int_) ms_down_timer_ = down_interval();
        sands_ = now + ms_down_timer_;
        return;
    }
    state_ = State::master;
    sands_ = now + cfg_.advert_interval;
    master_tx(now, out);
}

// vrrp_state_master_tx: the advert goes first so that the old master drops
// the addresses before our gratuitous ARPs.
void Instance::master_tx(TimePoint now, Actions& out)
{
    send_advert(out, effective_priority_);
    if (!vipset_) {
        log(out, "Entering MASTER STATE");
        become_master(now, out);
        if (cfg_.garp_master_delay.count() > 0) garp_delayed_ = now + cfg_.garp_master_delay;
    } else if (garp_refresh_ && now > *garp_refresh_) {
        send_garp(out, cfg_.garp_master_refresh_repeat);
        garp_refresh_ = now + cfg_.garp_master_refresh;
    }
}

void Instance::become_master(TimePoint now, Actions& out)
{
    if (cfg_.version == 3 && master_adver_int_ != cfg_.advert_interval) {
        // keepalived only resets it when logging with -D (it looks like an
        // oversight); we always do, so the down timer uses our interval.
        log(out, "changing advert interval from " + ms(master_adver_int_) + "ms to locally configured " +
                     ms(cfg_.advert_interval) + "ms", true);
        master_adver_int_ = cfg_.advert_interval;
    }
    if (!cfg_.owned.empty()) out.emplace_back(OwnVips{cfg_.owned});
    vipset_ = true;
    send_garp(out, cfg_.garp_master_repeat);
    if (cfg_.garp_master_refresh.count() > 0) garp_refresh_ = now + cfg_.garp_master_refresh;
    out.emplace_back(Notify{State::master});
}

// vrrp_restore_interface without the advert.
void Instance::release(Actions& out)
{
    garp_delayed_.reset();
    garp_refresh_.reset();
    if (!vipset_) return;
    if (!cfg_.owned.empty()) out.emplace_back(ReleaseVips{cfg_.owned});
    vipset_ = false;
}

// vrrp_state_leave_master: to BACKUP (higher priority seen, sync group) or
// FAULT (which always sends priority 0; `send_prio0` is keepalived's advF,
// so down_instance sends it twice, as keepalived does).
void Instance::leave_master(TimePoint now, Actions& out, State to, bool send_prio0)
{
    if (to == State::backup) {
        log(out, "Entering BACKUP STATE");
        preempt_time_.reset();
    } else {
        warn(out, "Entering FAULT STATE");
        send_advert(out, kPrioStop);
    }
    if (send_prio0) {
        send_advert(out, kPrioStop);
        log(out, "sent 0 priority", true);
    }
    release(out);
    state_ = to;
    down_why_ = kWhyNoAdvert;
    out.emplace_back(Notify{to});
    ms_down_timer_ = down_interval();
    if (to == State::backup) sands_ = now + ms_down_timer_;
    else sands_.reset();
}

// vrrp_state_leave_fault (also used from INIT/BACKUP into FAULT).
void Instance::leave_fault(TimePoint now, Actions& out, State to)
{
    if (to == State::master) {
        goto_master(now, out);
        if (state_ != State::master) {
            // The sync group held us: come up as BACKUP still wanting MASTER.
            leave_fault(now, out, State::backup);
            want_ = State::master;
        }
        return;
    }
    if (state_ != to && to == State::fault) warn(out, "Entering FAULT STATE");
    else if (state_ != to) log(out, std::string("Entering ") + to_string(to) + " STATE");
    if (to == State::fault && state_ == State::master) {
        send_advert(out, kPrioStop);
        release(out);
    }
    state_ = to;
    master_.reset();
    down_why_ = kWhyNoAdvert;
    out.emplace_back(Notify{to});
    if (to == State::backup) preempt_time_.reset();
    master_adver_int_ = cfg_.advert_interval;
    ms_down_timer_ = down_interval();
    if (to == State::backup) sands_ = now + ms_down_timer_;
    else sands_.reset();
}

// ---------------------------------------------------------------- adverts

// The parts of vrrp_in_chk that need the instance's configuration (the codec
// has checked checksum, TTL, type and authentication).
bool Instance::accept_checks(const Advert& advert, Actions& out) const
{
    if (advert.version != cfg_.version) {
        warn(out, "wrong version. Received " + std::to_string(advert.version) + " and expect " +
                     std::to_string(cfg_.version));
        return false;
    }
    // RFC 3768 7.1: MUST drop an interval other than ours (v3 adopts it instead).
    if (cfg_.version == 2 && advert.interval_cs != interval_cs(cfg_.advert_interval)) {
        warn(out, "advertisement interval mismatch mine=" +
                     std::to_string(cfg_.advert_interval.count() / kUsPerSecond) + " sec rcv'd=" +
                     std::to_string(advert.interval_cs / 100) + " sec");
        return false;
    }
    if (advert.addresses.size() != cfg_.advert_addresses.size()) {
        warn(out, "received an unexpected ip number count " + std::to_string(advert.addresses.size()) +
                     ", expected " + std::to_string(cfg_.advert_addresses.size()) + "!");
        return false;
    }
    for (const conf::IpAddr& vip : cfg_.advert_addresses) {
        if (std::find(advert.addresses.begin(), advert.addresses.end(), vip) == advert.addresses.end()) {
            warn(out, "ip address associated with VRID " + std::to_string(cfg_.vrid) +
                         " not present in MASTER advert: " + vip.to_string());
            return false;
        }
    }
    return true;
}

Actions Instance::on_advert(TimePoint now, const Advert& advert)
{
    Actions out;
    // Another VRID's advert is another instance's business (keepalived looks
    // instances up by VRID); adverts in FAULT or before start are ignored.
    if (advert.vrid != cfg_.vrid) return out;
    const Transition t(*this, now);
    if (state_ == State::backup) backup_rx(now, advert, out);
    else if (state_ == State::master) master_rx(now, advert, out);
    return out;
}

// vrrp_state_backup.
void Instance::backup_rx(TimePoint now, const Advert& advert, Actions& out)
{
    bool ignore = !accept_checks(advert, out);
    if (ignore) {
    } else if (advert.priority == kPrioStop) {
        log(out, "Backup received priority 0 advertisement", true);
        master_ = advert.source;
        down_why_ = kWhyPrio0;
        ms_down_timer_ = skew();
    } else if (cfg_.nopreempt || advert.priority >= effective_priority_ ||
               (cfg_.preempt_delay.count() > 0 && (!preempt_time_ || *preempt_time_ > now))) {
        if (cfg_.version == 3) {
            // RFC 5798 6.4.2: Master_Adver_Interval := the advert's interval.
            const Micros theirs(static_cast<std::int64_t>(advert.interval_cs & 0x0fff) * kUsPerCenti);
            if (theirs != master_adver_int_) {
                log(out, "advertisement interval updated from " + ms(master_adver_int_) + "ms to " + ms(theirs) +
                             "ms by master", true);
                master_adver_int_ = theirs;
            }
        }
        ms_down_timer_ = down_interval();
        // Accepted (nopreempt, a preempt_delay running): the down timer
        // restarts, so only the master's silence can end it.
        master_ = advert.source;
        down_why_ = kWhyDownTimer;
        if (cfg_.preempt_delay.count() > 0) {
            // The delay starts with the first lower-priority advert; until it
            // runs out such adverts still hold us back (then the down timer
            // has to run out on top).
            if (advert.priority >= effective_priority_) {
                if (preempt_time_) {
                    log(out, "stop preempt delay", true);
                    preempt_time_.reset();
                }
            } else if (!preempt_time_) {
                const auto d = cfg_.preempt_delay.count();
                char frac[8];
                std::snprintf(frac, sizeof frac, "%6.6lld", static_cast<long long>(d % kUsPerSecond));
                log(out, "start preempt delay (" + std::to_string(d / kUsPerSecond) + "." + frac + ")", true);
                preempt_time_ = now + cfg_.preempt_delay;
            }
        }
        want_ = State::backup;
    } else {
        log(out, "received lower priority (" + std::to_string(advert.priority) + ") advert from " +
                     advert.source.to_string() + " - discarding");
        master_ = advert.source;
        down_why_ = kWhyPreempt;
        ignore = true;
    }
    if (ignore) {
        // The deadline stands: what is left of the down timer.
        ms_down_timer_ = std::max(Micros(0), std::chrono::duration_cast<Micros>(*sands_ - now));
    }
    sands_ = now + ms_down_timer_;
}

// vrrp_state_master_rx, then the dispatcher's timer reset.
void Instance::master_rx(TimePoint now, const Advert& advert, Actions& out)
{
    const auto reset_timer = [&] {
        // keepalived restarts the advert timer after every received packet
        // (we just sent one, unless lower_prio_no_advert).
        if (!cfg_.lower_prio_no_advert) sands_ = now + cfg_.advert_interval;
    };
    if (!accept_checks(advert, out)) {
        reset_timer();
        return;
    }
    const int cmp = compare_source(advert.source, cfg_.source);
    // Evaluated twice: the owner conflict below lowers our priority.
    const auto outbids_us = [&] {
        return advert.priority > effective_priority_ || (advert.priority == effective_priority_ && cmp > 0);
    };
    if (advert.priority == kPrioStop || (cfg_.higher_prio_send_advert && outbids_us())) {
        send_advert(out, effective_priority_);
        if (advert.priority == kPrioStop) {
            log(out, "Master received priority 0 message", true);
            reset_timer();
            return;
        }
    }
    if (advert.priority == effective_priority_) {
        if (cmp == 0) {
            warn(out, "WARNING - equal priority advert received from remote host with our IP address.");
        } else if (effective_priority_ == kPrioOwner) {
            warn(out, "CONFIGURATION ERROR: local instance and a remote instance are both configured as address "
                     "owner, please fix - reducing local priority");
            effective_priority_ = kPrioOwner - 1;
            base_priority_ = kPrioOwner - 1;
        }
    }
    if (advert.priority < effective_priority_ || (advert.priority == effective_priority_ && cmp < 0)) {
        log(out, "Received advert from " + advert.source.to_string() + " with lower priority " +
                     std::to_string(advert.priority) + ", ours " + std::to_string(effective_priority_) +
                     (cfg_.lower_prio_no_advert ? "" : ", forcing new election"));
        if (!cfg_.lower_prio_no_advert) send_advert(out, effective_priority_);
        reset_timer();
        return;
    }
    if (outbids_us()) {
        if (advert.priority > effective_priority_) {
            log(out, "Master received advert from " + advert.source.to_string() + " with higher priority " +
                         std::to_string(advert.priority) + ", ours " + std::to_string(effective_priority_));
        } else {
            log(out, "Master received advert from " + advert.source.to_string() + " with same priority " +
                         std::to_string(advert.priority) + " but higher IP address than ours");
        }
        if (cfg_.version == 3) {
            const Micros theirs(static_cast<std::int64_t>(advert.interval_cs & 0x0fff) * kUsPerCenti);
            if (theirs != master_adver_int_) {
                log(out, "advertisement interval updated from " + ms(master_adver_int_) + "ms to " + ms(theirs) +
                             "ms by master", true);
                master_adver_int_ = theirs;
            }
        }
        want_ = State::backup;
        why_ = advert.priority > effective_priority_ ? kWhyHigher : kWhyHigherAddr;
        leave_master(now, out, State::backup, false);
        master_ = advert.source;
        down_why_ = kWhyDownTimer;
        return;
    }
    reset_timer();  // equal priority from our own address
}

// ---------------------------------------------------------------- trackers

// vrrp_set_effective_priority.
Actions Instance::set_priority_adjustment(TimePoint now, int total_weight)
{
    (void)now;
    Actions out;
    total_weight_ = total_weight;
    if (base_priority_ == kPrioOwner) return out;
    const int total = base_priority_ + total_weight_;
    const auto new_prio = static_cast<std::uint8_t>(std::clamp(total, 1, kPrioOwner - 1));
    if (new_prio == effective_priority_) return out;
    // The Tracker logs this line itself (vrrp/track.h): detail only here.
    log(out, "Changing effective priority from " + std::to_string(effective_priority_) + " to " +
                 std::to_string(new_prio), true);
    effective_priority_ = new_prio;
    const Micros old_down = ms_down_timer_;
    ms_down_timer_ = down_interval();
    // A backup's pending deadline moves by the change of its down interval.
    if (state_ == State::backup && sands_) *sands_ += ms_down_timer_ - old_down;
    return out;
}

// down_instance / try_up_instance.
Actions Instance::set_fault(TimePoint now, bool fault)
{
    Actions out;
    if (fault == fault_) return out;
    fault_ = fault;
    if (state_ == State::init || state_ == State::stop) return out;  // start() looks at fault_
    const Transition t(*this, now);
    why_ = fault ? kWhyFault : kWhyFaultCleared;
    if (fault) {
        want_ = State::fault;
        if (state_ == State::master) leave_master(now, out, State::fault, true);
        else leave_fault(now, out, State::fault);
        return out;
    }
    want_ = (cfg_.initial_master && base_priority_ == kPrioOwner) ? State::master : State::backup;
    if (fault_hold_ && fault_hold_()) return out;
    master_adver_int_ = cfg_.advert_interval;
    leave_fault(now, out, want_);
    return out;
}

// ---------------------------------------------------------------- sync group

Actions Instance::sync_to_master(TimePoint now)
{
    Actions out;
    const Transition t(*this, now);
    why_ = kWhySync;
    if (state_ == State::master || state_ == State::init || state_ == State::stop) return out;
    want_ = State::master;
    state_ = State::master;
    sands_ = now + cfg_.advert_interval;
    master_tx(now, out);
    return out;
}

Actions Instance::sync_to_backup(TimePoint now)
{
    Actions out;
    const Transition t(*this, now);
    why_ = kWhySync;
    want_ = State::backup;
    if (state_ == State::master) leave_master(now, out, State::backup, false);
    else if (state_ == State::fault) leave_fault(now, out, State::backup);
    return out;
}

Actions Instance::sync_to_fault(TimePoint now)
{
    Actions out;
    const Transition t(*this, now);
    why_ = kWhySync;
    want_ = State::fault;
    if (state_ == State::master) leave_master(now, out, State::fault, true);
    else if (state_ == State::backup) leave_fault(now, out, State::fault);
    return out;
}

}  // namespace kadp::vrrp
