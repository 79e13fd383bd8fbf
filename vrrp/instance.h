// Runs on: control thread. One VRRP instance's state machine (RFC 3768 /
// RFC 5798 as keepalived 2.2.7 runs them), pure: the caller feeds it time and
// decoded adverts and carries out the actions it returns. Reads: its
// InstanceConfig (built once from conf::VrrpInstance); writes: only its own
// state. No sockets, no clock, no logging: log lines are actions too.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "conf/inet.h"
#include "conf/model.h"
#include "vrrp/advert.h"

namespace kadp::vrrp {

using TimePoint = std::chrono::steady_clock::time_point;
// keepalived keeps every VRRP timer in microseconds; so do we, so that the
// skew's integer divisions round the same way.
using Micros = std::chrono::microseconds;

// `stop` is keepalived's VRRP_STATE_STOP: after stop(), for notify_stop.
enum class State : std::uint8_t { init, backup, master, fault, stop };
const char* to_string(State s);  // "INIT", "BACKUP", "MASTER", "FAULT", "STOP"

struct InstanceConfig {
    std::string name;                    // the `(NAME)` of every log line
    int version = 2;                     // 2 or 3
    std::uint8_t vrid = 1;
    std::uint8_t priority = 100;         // base priority, 1..255
    Micros advert_interval{1'000'000};   // v2: whole seconds; v3: 10 ms steps
    // keepalived's initial wantstate MASTER: `state MASTER`, or no `state`
    // and priority 255. Only with priority 255 does it take over at once.
    bool initial_master = false;
    bool nopreempt = false;
    Micros preempt_delay{0};
    AuthType auth_type = AuthType::none;          // v2 only
    std::array<std::uint8_t, 8> auth_data{};
    std::vector<conf::IpAddr> advert_addresses;   // virtual_ipaddress, in order (what adverts carry)
    std::vector<conf::VirtualIp> owned;           // virtual_ipaddress + _excluded (what is added/removed)
    conf::IpAddr source;                          // our primary address: adverts' source, tie-breaks
    std::vector<conf::IpAddr> unicast_peers;      // empty: multicast to `group`
    conf::IpAddr group;                           // vrrp_mcast_group4/6
    Micros garp_master_delay{5'000'000};          // 0: no second burst
    unsigned garp_master_repeat = 5;
    Micros garp_master_refresh{0};                // 0: off
    unsigned garp_master_refresh_repeat = 1;
    unsigned down_timer_adverts = 3;              // master down interval = N x interval + skew
    bool lower_prio_no_advert = false;            // keepalived's defaults (not in conf/model.h yet)
    bool higher_prio_send_advert = false;

    // `primary` is the interface's primary address (used when neither
    // unicast_src_ip nor mcast_src_ip is set); `group` the multicast group.
    static InstanceConfig from_model(const conf::VrrpInstance& vi, const conf::IpAddr& primary,
                                     const conf::IpAddr& group);
};

// ---------------------------------------------------------------- actions
struct SendAdvert { Advert advert; };  // one per destination (unicast: one per peer)
struct OwnVips { std::vector<conf::VirtualIp> addresses; };
struct ReleaseVips { std::vector<conf::VirtualIp> addresses; };
// `repeat` rounds of one gratuitous ARP (IPv6: unsolicited NA) per address.
struct SendGarp { std::vector<conf::IpAddr> addresses; unsigned repeat = 0; };
struct Notify { State state; };        // run notify_<state> (and `notify`)
// `detail`: keepalived prints the line only with -D (LOG_DETAIL): kadp logs
// it at debug. `warning`: something is wrong (FAULT, a peer's advert that
// does not match ours); the rest is info. docs/logging.md.
struct Log { std::string line; bool detail = false; bool warning = false; };

using Action = std::variant<SendAdvert, OwnVips, ReleaseVips, SendGarp, Notify, Log>;
using Actions = std::vector<Action>;

class Instance {
public:
    explicit Instance(InstanceConfig config);

    Actions start(TimePoint now);
    // Shutdown: a master sends priority 0 and releases its addresses.
    Actions stop(TimePoint now);
    // `advert` passed the codec's checks (checksum, TTL, auth, type).
    Actions on_advert(TimePoint now, const Advert& advert);
    // Call when now >= next_deadline(); early calls do nothing.
    Actions on_timer(TimePoint now);
    [[nodiscard]] std::optional<TimePoint> next_deadline() const;

    // Trackers (vrrp_script, track_interface, ...) report the sum of their
    // weights; the effective priority is base + sum clamped to 1..254
    // (an address owner, 255, is never adjusted).
    Actions set_priority_adjustment(TimePoint now, int total_weight);
    // A failed unweighted tracker: FAULT until cleared.
    Actions set_fault(TimePoint now, bool fault);

    [[nodiscard]] State state() const { return state_; }
    [[nodiscard]] const InstanceConfig& config() const { return cfg_; }
    [[nodiscard]] std::uint8_t effective_priority() const { return effective_priority_; }
    [[nodiscard]] Micros master_advert_interval() const { return master_adver_int_; }
    [[nodiscard]] Micros master_down_timer() const { return ms_down_timer_; }
    [[nodiscard]] bool owns_vips() const { return vipset_; }
    [[nodiscard]] bool faulted() const { return fault_; }
    [[nodiscard]] std::uint8_t base_priority() const { return base_priority_; }
    // For kadpctl vrrp: why the state last changed ("" before start), when
    // (nullopt: never), and who is master: our own source address while
    // MASTER, the source of the last advert accepted while BACKUP, else
    // nobody known.
    [[nodiscard]] const char* transition_reason() const { return reason_; }
    [[nodiscard]] std::optional<TimePoint> transition_time() const { return transition_at_; }
    [[nodiscard]] std::optional<conf::IpAddr> master_address() const;

    // ---- sync group seam (vrrp/sync_group.h drives these)
    // Asked before a backup takes over; false keeps it BACKUP, wanting MASTER.
    void set_master_gate(std::function<bool()> gate) { master_gate_ = std::move(gate); }
    // Asked when this instance's own fault clears; true keeps it in FAULT
    // (another member of its group is still failing).
    void set_fault_hold(std::function<bool()> hold) { fault_hold_ = std::move(hold); }
    [[nodiscard]] bool wants_master() const { return want_ == State::master; }
    Actions sync_to_master(TimePoint now);
    Actions sync_to_backup(TimePoint now);
    Actions sync_to_fault(TimePoint now);

private:
    // Records a change of state made by one public call, with why_.
    struct Transition;

    [[nodiscard]] Micros skew() const;
    [[nodiscard]] Micros down_interval() const;
    [[nodiscard]] std::uint16_t interval_cs(Micros interval) const;
    [[nodiscard]] bool accept_checks(const Advert& advert, Actions& out) const;
    void log(Actions& out, std::string text, bool detail = false) const;
    void warn(Actions& out, std::string text) const;
    void send_advert(Actions& out, std::uint8_t priority) const;
    void send_garp(Actions& out, unsigned repeat) const;
    void goto_master(TimePoint now, Actions& out);  // honours the gate
    void become_master(TimePoint now, Actions& out);
    void master_tx(TimePoint now, Actions& out);
    void leave_master(TimePoint now, Actions& out, State to, bool send_prio0);
    void leave_fault(TimePoint now, Actions& out, State to);
    void release(Actions& out);
    void backup_rx(TimePoint now, const Advert& advert, Actions& out);
    void master_rx(TimePoint now, const Advert& advert, Actions& out);

    InstanceConfig cfg_;
    State state_ = State::init;
    State want_ = State::backup;
    std::uint8_t base_priority_;
    std::uint8_t effective_priority_;
    int total_weight_ = 0;
    bool fault_ = false;
    bool vipset_ = false;
    Micros master_adver_int_;
    Micros ms_down_timer_{0};
    std::optional<TimePoint> sands_;          // advert (MASTER) or master-down (BACKUP) deadline
    std::optional<TimePoint> garp_delayed_;   // second gratuitous ARP burst
    std::optional<TimePoint> garp_refresh_;   // next periodic refresh (checked when advertising)
    std::optional<TimePoint> preempt_time_;   // preempt_delay running until then
    std::function<bool()> master_gate_;
    std::function<bool()> fault_hold_;
    // Reasons are string literals: recording one costs nothing.
    const char* why_ = "";          // the reason of a change this call makes
    const char* down_why_ = "";     // what a BACKUP's down timer expiring would mean
    const char* reason_ = "";       // the last change's
    std::optional<TimePoint> transition_at_;
    std::optional<conf::IpAddr> master_;  // source of the last advert accepted in BACKUP
};

}  // namespace kadp::vrrp
