// Runs on: control thread. Every vrrp_instance of the configuration, live on
// the control thread's event loop: each instance's state machine
// (vrrp/instance.h) gets the time (one ctl::Timer per instance, armed for
// its next deadline) and the adverts its interface's VrrpSocket receives
// (decoded and validated by vrrp/codec.h), and the service carries out the
// actions it returns: adverts out of the socket, addresses owned and
// released and gratuitous ARPs through the VrrpBackend, notify scripts
// through a ScriptRunner, log lines to the log. Tracking (vrrp/track.h:
// vrrp_script, track_interface) sets each instance's priority adjustment
// and FAULT; members of a vrrp_sync_group go through their SyncGroup.
//
// The backend is the seam between the protocol and what owning an address
// means: the DPDK backend marks VIPs owned in the DesiredState (the data
// plane answers ARP for them from the next burst) and has the data plane
// send the gratuitous ARPs; the kernel backend adds the addresses over
// rtnetlink and sends them from a packet socket.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conf/model.h"
#include "control/event_loop.h"
#include "control/log_limiter.h"
#include "control/log_sink.h"
#include "control/script_runner.h"
#include "vrrp/advert_screen.h"
#include "vrrp/instance.h"
#include "vrrp/link_state.h"
#include "vrrp/script_tracker.h"
#include "vrrp/socket.h"
#include "vrrp/sync_group.h"
#include "vrrp/track.h"

namespace kadp::vrrp {

class VrrpBackend {
public:
    virtual ~VrrpBackend() = default;
    // The device whose raw socket carries VRRP for the configured
    // `interface` (DPDK: its exception TAP; kernel: itself).
    virtual std::string device(const std::string& interface) = 0;
    // The interface's primary IPv4 address (adverts' source when neither
    // unicast_src_ip nor mcast_src_ip is set); empty when it has none.
    virtual conf::IpAddr primary_address(const std::string& interface) = 0;
    virtual void own(const std::string& interface, const std::vector<conf::VirtualIp>& vips) = 0;
    virtual void release(const std::string& interface, const std::vector<conf::VirtualIp>& vips) = 0;
    // One gratuitous ARP per address, out of `interface`.
    virtual void gratuitous_arp(const std::string& interface, const std::vector<conf::IpAddr>& addresses) = 0;
    // Link states for track_interface (and every instance's own
    // interface): the kernel's (rtnetlink) or the data plane ports'.
    virtual LinkState& links() = 0;
};

class VrrpService {
public:
    using LogFn = ctl::LogSink;

    VrrpService(ctl::EventLoop& loop, VrrpBackend& backend, LogFn log);
    // Stops what still runs (stop()).
    ~VrrpService();
    VrrpService(const VrrpService&) = delete;
    VrrpService& operator=(const VrrpService&) = delete;

    // Start (first call) or reload: instances whose settings did not change
    // go on, state and all; changed ones are stopped (priority 0 if master)
    // and started again; removed ones stop. Throws std::system_error when an
    // interface's socket cannot be opened (nothing is left half started).
    void configure(const conf::Config& config);
    // Shutdown: every master sends its priority-0 advert and releases its
    // addresses; notify_stop runs.
    void stop();

    struct InstanceStatus {
        std::string name;
        std::string interface;
        int vrid = 0;
        State state = State::init;
        int priority = 0;  // effective
        int base_priority = 0;
        // kadpctl vrrp (Instance::master_address, transition_reason).
        std::optional<conf::IpAddr> master;
        std::string reason;  // why the state last changed; "" never
        std::optional<std::chrono::system_clock::time_point> transition;
        // Adverts for its VRID refused before its state machine (TTL, auth,
        // not a unicast peer), by reason name: vrrp/advert_screen.h.
        std::map<std::string, std::uint64_t> dropped;
    };
    std::vector<InstanceStatus> status() const;

    // Every advert dropped before a state machine, by reason name (codec.h
    // Reason names): decode failures and unknown VRIDs (vrid_mismatch),
    // which match no instance, plus the per-instance ones (status()).
    const std::map<std::string, std::uint64_t>& dropped() const { return dropped_.by_reason(); }

private:
    struct Link;
    struct Running;

    void on_readable(Link& link);
    // receive_advert() (vrrp/advert_screen.h), then the instance's state machine.
    void deliver(Link& link, std::span<const std::uint8_t> packet);
    // Events for an instance, through its sync group when it has one.
    void on_timer(Running& r);
    void on_advert(Running& r, const Advert& a);
    void on_tracking(Running& r, const TrackOutcome& o);
    bool group_held(const SyncGroup& g) const;
    void carry_out(Running& r, Actions actions);
    void carry_out(SyncGroup& g, MemberActions actions);
    void run(Running& r, Action& action);
    void log_action(const std::string& who, const Log& l);
    void arm(Running& r);
    void notify(const Running& r, State state);
    void notify_group(const SyncGroup& g, State state);
    void run_notify(const conf::Script& script, std::vector<std::string> extra, const std::string& what);
    void track(const conf::Config& config);
    Link& link_for(const std::string& device);
    std::unique_ptr<Running> make(const conf::Config& config, const conf::VrrpInstance& vi);

    ctl::EventLoop* loop_;
    VrrpBackend* backend_;
    LogFn log_;
    // Declared before what logs through them (the runner holds a sink of limited_).
    ctl::LogLimiter limited_{log_, {10, std::chrono::seconds(60)}};      // adverts, priority, scripts, sends
    std::unique_ptr<ctl::ScriptRunner> runner_;
    std::map<std::uint64_t, ctl::ScriptRunner::Handle> notifies_;
    std::uint64_t next_notify_ = 0;
    std::map<std::string, std::unique_ptr<Link>> links_;         // by device
    std::map<std::string, std::unique_ptr<Running>> instances_;  // by instance name
    std::map<const Instance*, Running*> by_fsm_;
    std::map<std::string, std::unique_ptr<SyncGroup>> groups_;  // by name
    std::set<SyncGroup*> held_groups_;  // not started: a member is held
    std::map<std::string, conf::VrrpSyncGroup> group_models_;
    std::unique_ptr<Tracker> tracker_;
    std::unique_ptr<ScriptTracker> scripts_;
    DropCounters dropped_;
};

}  // namespace kadp::vrrp
