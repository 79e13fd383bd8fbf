// Runs on: control thread. See track.h; the keepalived 2.2.7 sources this
// follows are vrrp_scheduler.c (vrrp_script_child_thread), vrrp_track.c
// (initialise_tracking_priorities, process_script_update_priority,
// vrrp_set_effective_priority) and vrrp.c (vrrp_complete_instance). The
// outcome is recomputed from the current states rather than adjusted
// step by step as keepalived does: the two agree because keepalived only
// adjusts at the crossings ScriptState reports.
#include "vrrp/track.h"

#include <algorithm>
#include <csignal>
#include <set>
#include <utility>

#include "conf/model.h"
#include "control/script_runner.h"

namespace kadp::vrrp {

ScriptState::ScriptState(std::string name, int rise, int fall)
    : name_(std::move(name)), rise_(std::max(rise, 1)), fall_(std::max(fall, 1)), result_(rise_ - 1)
{
}

ScriptState::Status ScriptState::status() const
{
    if (init_) return Status::init;
    return ok() ? Status::ok : Status::failed;
}

bool ScriptState::feed(const ctl::ScriptResult& r, const TrackLogFn& log)
{
    const auto say = [&](const std::string& line) {
        if (log) log(line);
    };
    bool success = false;
    std::string exit_type = "failed";
    std::string reason;  // "(exited with status 1)"
    switch (r.status) {
    case ctl::ScriptResult::Status::exited:
        // keepalived judges a script that exits after its SIGTERM by its status.
        if (r.exit_code != last_status_) say("Script `" + name_ + "` now returning " + std::to_string(r.exit_code));
        last_status_ = r.exit_code;
        success = r.exit_code == 0;
        if (success) exit_type = "succeeded";
        else reason = " (exited with status " + std::to_string(r.exit_code) + ")";
        break;
    case ctl::ScriptResult::Status::killed:
        if (r.timed_out && (r.signal == SIGTERM || r.signal == SIGKILL)) exit_type = "timed_out";
        else reason = " (due to signal " + std::to_string(r.signal) + ")";
        break;
    case ctl::ScriptResult::Status::unkillable:
        exit_type = "timed_out";
        break;
    case ctl::ScriptResult::Status::not_started:
        // The runner logged why (missing, refused, unknown user); keepalived
        // has no line of its own for it.
        break;
    }

    bool changed = false;
    if (success) {
        if (result_ < rise_ - 1) {
            ++result_;
        } else if (result_ != rise_ + fall_ - 1) {
            if (result_ < rise_) {
                say("VRRP_Script(" + name_ + ") " + exit_type);
                changed = true;
            }
            result_ = rise_ + fall_ - 1;
        }
    } else {
        if (result_ > rise_) {
            --result_;
        } else {
            if (result_ == rise_ || init_) {
                say("VRRP_Script(" + name_ + ") " + exit_type + reason);
                changed = true;
            }
            result_ = 0;
        }
    }
    init_ = false;
    return changed;
}

namespace {

const conf::VrrpScript* find_script(const conf::Config& config, const std::string& name)
{
    for (const conf::VrrpScript& s : config.vrrp_scripts)
        if (s.name == name) return &s;
    return nullptr;
}

// The weight and direction of a track_script entry: its own weight when it
// has one, else the script's. The model keeps no "noreverse" apart from
// "no option", so a reverse script stays reverse (keepalived too, unless
// the entry says noreverse).
std::pair<int, int> script_weight(const conf::TrackedScript& t, const conf::VrrpScript& s)
{
    const int weight = t.weight ? *t.weight : s.weight;
    const bool reverse = t.reverse || s.weight_reverse;
    return {weight, reverse ? -1 : 1};
}

std::string signed_text(int v) { return (v > 0 ? "+" : "") + std::to_string(v); }

}  // namespace

Tracker::Tracker(const conf::Config& config, TrackLogFn log_fn, ChangeFn on_change,
                 const std::map<std::string, bool>& links)
    : log_(std::move(log_fn)), on_change_(std::move(on_change)), links_(links)
{
    for (std::size_t i = 0; i < config.vrrp_instances.size(); ++i) add_instance_entries(config, i);

    for (const conf::VrrpScript& s : config.vrrp_scripts) {
        if (!scripts_.contains(s.name)) log("Warning - script " + s.name + " is not used");
    }

    for (Instance& inst : instances_) {
        for (const Entry& e : inst.entries) {
            if (e.kind != Entry::Kind::interface || e.weight != 0) continue;
            const auto it = links_.find(e.name);
            const bool up = it != links_.end() && it->second;
            if (up != (e.multiplier == 1))
                log("(" + inst.name + "): entering FAULT state (interface " + e.name + " down)");
        }
        inst.outcome = evaluate(inst);
        if (inst.outcome.effective_priority != inst.base_priority) {
            log_("(" + inst.name + ") Changing effective priority from " + std::to_string(inst.base_priority) + " to " +
                 std::to_string(inst.outcome.effective_priority));
        }
    }
}

void Tracker::add_instance_entries(const conf::Config& config, std::size_t index)
{
    const conf::VrrpInstance& vi = config.vrrp_instances[index];
    const conf::VrrpSyncGroup* group = nullptr;
    for (const conf::VrrpSyncGroup& g : config.vrrp_sync_groups)
        if (!vi.sync_group.empty() && g.name == vi.sync_group) group = &g;
    const bool owner = vi.priority >= kPriorityOwner;

    Instance inst;
    inst.name = vi.name;
    inst.base_priority = vi.priority;
    const auto add = [&](Entry::Kind kind, const std::string& name, int weight, int multiplier) {
        inst.entries.push_back(Entry{kind, name, weight, multiplier});
        if (kind == Entry::Kind::script && !scripts_.contains(name)) {
            const conf::VrrpScript* s = find_script(config, name);
            scripts_.emplace(name, ScriptState(name, s != nullptr ? s->rise : 1, s != nullptr ? s->fall : 1));
        }
    };

    if (!vi.interface.empty() && !vi.dont_track_primary) add(Entry::Kind::interface, vi.interface, 0, 1);

    const auto in_group_if = [&](const std::string& name) {
        return group != nullptr && std::any_of(group->track_interface.begin(), group->track_interface.end(),
                                               [&](const conf::TrackedInterface& t) { return t.name == name; });
    };
    const auto in_group_script = [&](const std::string& name) {
        return group != nullptr && std::any_of(group->track_script.begin(), group->track_script.end(),
                                               [&](const conf::TrackedScript& t) { return t.name == name; });
    };
    // Group entries lose their weight when any member is an address owner.
    bool group_has_owner = false;
    if (group != nullptr) {
        for (const conf::VrrpInstance& other : config.vrrp_instances)
            if (other.sync_group == group->name && other.priority >= kPriorityOwner) group_has_owner = true;
    }

    for (const conf::TrackedInterface& t : vi.track_interface) {
        if (t.name == vi.interface) {
            log("(" + vi.name + ") Ignoring track_interface " + t.name + " since own interface");
            continue;
        }
        if (in_group_if(t.name)) {
            log("(" + vi.name + ") track_interface " + t.name +
                " is configured on VRRP instance and sync group. Remove vrrp instance or sync group config");
            continue;
        }
        if (t.weight != 0 && group != nullptr && !group->global_tracking) {
            // Said, not done: the 2.2.7 binary keeps applying the weight.
            log("(" + vi.name + ") ignoring " + t.name + " tracked interface weight due to SYNC group");
        } else if (t.weight != 0 && owner) {
            log("(" + vi.name + ") ignoring " + t.name + " tracked interface due to address owner");
            continue;
        }
        add(Entry::Kind::interface, t.name, t.weight, t.reverse ? -1 : 1);
    }
    if (group != nullptr) {
        for (const conf::TrackedInterface& t : group->track_interface) {
            int weight = t.weight;
            if (weight != 0 && group_has_owner) {
                if (vi.name == group->group.front())
                    log("(" + group->name + ") Cannot have weighted track interface '" + t.name +
                        "' with member having priority 255 - clearing weight");
                weight = 0;
            }
            add(Entry::Kind::interface, t.name, weight, t.reverse ? -1 : 1);
        }
    }

    for (const conf::TrackedScript& t : vi.track_script) {
        const conf::VrrpScript* s = find_script(config, t.name);
        if (s == nullptr) continue;  // conf::load warned
        if (in_group_script(t.name)) {
            log("(" + vi.name + ") track_script " + t.name +
                " is configured on VRRP instance and sync group. Remove vrrp instance config");
            continue;
        }
        const auto [weight, multiplier] = script_weight(t, *s);
        if (weight != 0 && group != nullptr && !group->global_tracking) {
            log("(" + vi.name + ") ignoring tracked script " + t.name + " with weights due to SYNC group");
            continue;
        }
        if (weight != 0 && owner) {
            log("(" + vi.name + ") ignoring tracked script " + t.name + " with weights due to address_owner");
            continue;
        }
        add(Entry::Kind::script, t.name, weight, multiplier);
    }
    if (group != nullptr) {
        for (const conf::TrackedScript& t : group->track_script) {
            const conf::VrrpScript* s = find_script(config, t.name);
            if (s == nullptr) continue;
            auto [weight, multiplier] = script_weight(t, *s);
            if (weight != 0 && group_has_owner) {
                if (vi.name == group->group.front())
                    log("(" + group->name + ") Cannot have weighted track script '" + t.name +
                        "' with member having priority 255 - clearing weight");
                weight = 0;
            }
            add(Entry::Kind::script, t.name, weight, multiplier);
        }
    }
    instances_.push_back(std::move(inst));
}

TrackOutcome Tracker::evaluate(const Instance& inst) const
{
    TrackOutcome out;
    out.base_priority = inst.base_priority;
    int adjustment = 0;
    for (const Entry& e : inst.entries) {
        const bool reverse = e.multiplier != 1;
        if (e.kind == Entry::Kind::script) {
            const ScriptState& st = scripts_.at(e.name);
            const ScriptState::Status status = st.status();
            if (e.weight == 0) {
                if (status == ScriptState::Status::init) {
                    out.waiting = true;
                    out.reasons.push_back("script " + e.name + " has no result yet");
                } else if (st.ok() != !reverse) {
                    out.fault = true;
                    out.reasons.push_back("script " + e.name + (st.ok() ? " succeeded (reverse)" : " failed"));
                }
                continue;
            }
            if (status == ScriptState::Status::init) continue;  // keepalived adjusts at the first result only
            int c = 0;
            if (st.ok() && e.weight > 0) c = e.weight * e.multiplier;
            if (!st.ok() && e.weight < 0) c = e.weight * e.multiplier;
            if (c != 0) {
                adjustment += c;
                out.reasons.push_back("script " + e.name + (st.ok() ? " succeeded" : " failed") + " (" +
                                      signed_text(c) + ")");
            }
            continue;
        }
        const auto it = links_.find(e.name);
        const bool up = it != links_.end() && it->second;
        if (e.weight == 0) {
            if (up != !reverse) {
                out.fault = true;
                out.reasons.push_back("interface " + e.name + (up ? " up (reverse)" : " down"));
            }
            continue;
        }
        int c = 0;
        if (up && e.weight > 0) c = e.weight * e.multiplier;
        if (!up && e.weight < 0) c = e.weight * e.multiplier;
        if (c != 0) {
            adjustment += c;
            out.reasons.push_back("interface " + e.name + (up ? " up" : " down") + " (" + signed_text(c) + ")");
        }
    }
    if (inst.base_priority >= kPriorityOwner) {
        // vrrp_set_effective_priority leaves an address owner alone.
        out.adjustment = 0;
        out.effective_priority = inst.base_priority;
    } else {
        out.adjustment = adjustment;
        out.effective_priority = std::clamp(inst.base_priority + adjustment, 1, kPriorityOwner - 1);
    }
    return out;
}

void Tracker::refresh(Entry::Kind kind, const std::string& name)
{
    for (Instance& inst : instances_) {
        if (std::none_of(inst.entries.begin(), inst.entries.end(),
                         [&](const Entry& e) { return e.kind == kind && e.name == name; }))
            continue;
        TrackOutcome next = evaluate(inst);
        if (next == inst.outcome) continue;
        if (next.effective_priority != inst.outcome.effective_priority) {
            limited_.info("(" + inst.name + ") priority",
                          "(" + inst.name + ") Changing effective priority from " +
                              std::to_string(inst.outcome.effective_priority) + " to " +
                              std::to_string(next.effective_priority));
        }
        inst.outcome = std::move(next);
        if (on_change_) on_change_(inst.name, inst.outcome);
    }
}

void Tracker::script_result(const std::string& script, const ctl::ScriptResult& r)
{
    const auto it = scripts_.find(script);
    if (it == scripts_.end()) return;
    // A flapping script: its lines limited per script.
    if (it->second.feed(r, limited_.sink("VRRP_Script(" + script + ")"))) refresh(Entry::Kind::script, script);
}

void Tracker::interface_state(const std::string& ifname, bool up)
{
    const auto it = links_.find(ifname);
    if (it != links_.end() && it->second == up) return;
    links_[ifname] = up;
    refresh(Entry::Kind::interface, ifname);
}

const TrackOutcome* Tracker::outcome(const std::string& instance) const
{
    for (const Instance& inst : instances_)
        if (inst.name == instance) return &inst.outcome;
    return nullptr;
}

const ScriptState* Tracker::script(const std::string& name) const
{
    const auto it = scripts_.find(name);
    return it == scripts_.end() ? nullptr : &it->second;
}

std::vector<std::string> Tracker::used_scripts() const
{
    std::vector<std::string> names;
    for (const auto& [name, state] : scripts_) names.push_back(name);
    return names;
}

std::vector<std::string> Tracker::interfaces() const
{
    std::set<std::string> names;
    for (const Instance& inst : instances_)
        for (const Entry& e : inst.entries)
            if (e.kind == Entry::Kind::interface) names.insert(e.name);
    return {names.begin(), names.end()};
}

// The configuration's tracking problems (keepalived's words), and FAULT at start.
void Tracker::log(const std::string& line) const { log_.warning(line); }

}  // namespace kadp::vrrp
