// Runs on: control thread. VRRP tracking as keepalived 2.2.7 does it, with
// no I/O: the result counter of each vrrp_script (rise/fall), the up/down
// state of tracked interfaces, and what they mean for every vrrp_instance
// (track_script, track_interface, and the same of its vrrp_sync_group):
// a priority adjustment, FAULT, or "waiting for a first result". The I/O
// layer (vrrp/script_tracker.h) feeds it script results and link states;
// the state machine (vrrp/instance.h) reads the outcome. docs/vrrp_tracking.md
// lists the keepalived behaviours reproduced, checked against the 2.2.7
// binary.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "control/log_limiter.h"
#include "control/log_sink.h"

namespace kadp::conf {
struct Config;
}
namespace kadp::ctl {
struct ScriptResult;
}

namespace kadp::vrrp {

using TrackLogFn = ctl::LogSink;

inline constexpr int kPriorityOwner = 255;

// One vrrp_script's result counter (keepalived's vrrp_script_t.result):
// 0..rise+fall-1, OK iff >= rise. It starts at rise-1 ("one success is
// enough"); the first result always decides. A success below rise-1 counts
// up; from rise-1 it jumps to rise+fall-1. A failure above rise counts down;
// at or below rise it drops to 0. Only the crossings are logged.
//
// init_fail: the 2.2.7 binary ignores it (a rise 3 init_fail script is OK
// after its first success, a weight-0 one holds its instance like any
// other until the first result): kadp does the same.
class ScriptState {
public:
    enum class Status { init, ok, failed };  // init: no result yet

    ScriptState(std::string name, int rise, int fall);

    // One run's end. True when the status changed (the first result always
    // does). Logs keepalived's lines: "Script `NAME` now returning N" when
    // the exit status differs from the previous one, "VRRP_Script(NAME)
    // succeeded", "VRRP_Script(NAME) failed (exited with status N)",
    // "... failed (due to signal N)", "... timed_out".
    bool feed(const ctl::ScriptResult& r, const TrackLogFn& log);

    [[nodiscard]] Status status() const;
    [[nodiscard]] bool ok() const { return result_ >= rise_; }
    [[nodiscard]] int result() const { return result_; }
    [[nodiscard]] const std::string& name() const { return name_; }

private:
    std::string name_;
    int rise_;
    int fall_;
    int result_;
    bool init_ = true;    // no result yet
    int last_status_ = 0;  // last exit status, for "now returning"
};

// What an instance's tracking says, recomputed after every input.
struct TrackOutcome {
    int base_priority = 100;
    int adjustment = 0;           // the weights in effect (0 for an address owner)
    int effective_priority = 100; // base + adjustment in 1..254; an owner stays 255
    bool fault = false;           // a weight-0 tracker failed: the instance goes to FAULT
    bool waiting = false;         // a weight-0 script has no result yet: the instance
                                  // stays out of BACKUP/MASTER (keepalived's INIT)
    std::vector<std::string> reasons;  // one per tracker in effect: "script chk failed (-10)"

    bool operator==(const TrackOutcome&) const = default;
};

// The tracking of one configuration. Built from the conf::Config (after
// conf::load's validation: unknown scripts already dropped), it applies the
// rules keepalived 2.2.7 applies when it completes its configuration (and
// logs them the same way):
//   * an instance tracking its own interface: "(I) Ignoring track_interface
//     X since own interface"; that interface is tracked anyway (weight 0)
//     unless dont_track_primary;
//   * an address owner (priority 255) drops weighted entries: "(I)
//     ignoring X tracked interface due to address owner", "(I) ignoring
//     tracked script X with weights due to address_owner";
//   * a sync group member drops its weighted track_script entries ("(I)
//     ignoring tracked script X with weights due to SYNC group"); for a
//     weighted track_interface it logs "(I) ignoring X tracked interface
//     weight due to SYNC group" but keeps applying the weight (so does the
//     2.2.7 binary);
//   * an entry configured on both the member and its group keeps the
//     group's;
//   * a group's weighted entry with an owner member loses its weight:
//     "(G) Cannot have weighted track script 'X' with member having
//     priority 255 - clearing weight";
//   * a vrrp_script nobody tracks: "Warning - script X is not used", and it
//     is not run (used_scripts()).
// Interfaces neither in `links` nor reported since count as down.
class Tracker {
public:
    using ChangeFn = std::function<void(const std::string& instance, const TrackOutcome&)>;

    // `links`: the interface states known at start (LinkState::snapshot()).
    // The outcomes are ready on return; on_change only reports later changes.
    Tracker(const conf::Config& config, TrackLogFn log_fn, ChangeFn on_change = {},
            const std::map<std::string, bool>& links = {});

    // A run of vrrp_script `script` ended. Unknown names are ignored.
    void script_result(const std::string& script, const ctl::ScriptResult& r);
    // A tracked interface's link changed (or was first reported).
    void interface_state(const std::string& ifname, bool up);

    // nullptr for an unknown instance.
    [[nodiscard]] const TrackOutcome* outcome(const std::string& instance) const;
    [[nodiscard]] const ScriptState* script(const std::string& name) const;
    // The vrrp_scripts some instance tracks (the others are not run).
    [[nodiscard]] std::vector<std::string> used_scripts() const;
    // Every interface some instance tracks (its own included).
    [[nodiscard]] std::vector<std::string> interfaces() const;

private:
    struct Entry {
        enum class Kind { script, interface } kind;
        std::string name;
        int weight = 0;
        int multiplier = 1;  // -1: reverse
    };
    struct Instance {
        std::string name;
        int base_priority = 100;
        std::vector<Entry> entries;
        TrackOutcome outcome;
    };

    void add_instance_entries(const conf::Config& config, std::size_t index);
    TrackOutcome evaluate(const Instance& inst) const;
    // Recomputes the instances that track `kind` `name`; logs priority
    // changes and calls on_change_ for the outcomes that changed.
    void refresh(Entry::Kind kind, const std::string& name);
    void log(const std::string& line) const;

    TrackLogFn log_;
    ctl::LogLimiter limited_{log_};  // what a flapping script or link repeats
    ChangeFn on_change_;
    std::map<std::string, ScriptState> scripts_;  // the used ones
    std::map<std::string, bool> links_;           // reported interfaces
    std::vector<Instance> instances_;
};

}  // namespace kadp::vrrp
