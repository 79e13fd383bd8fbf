// Runs on: control thread. A vrrp_sync_group: its member instances change
// state together (keepalived 2.2.7's vrrp_sync.c). Pure like Instance: the
// caller routes a member's events through the group and carries out the
// returned actions. Reads and writes its members (which it does not own:
// they must outlive the group and not move).
#pragma once

#include <string>
#include <vector>

#include "vrrp/instance.h"

namespace kadp::vrrp {

// `instance` is the member an action belongs to; nullptr: the group itself
// (its Notify runs the group's notify_* scripts).
struct MemberAction {
    const Instance* instance = nullptr;
    Action action;
};
using MemberActions = std::vector<MemberAction>;

class SyncGroup {
public:
    SyncGroup(std::string name, std::vector<Instance*> members);
    // Unhooks its members (they may outlive it: a reload that regroups them).
    ~SyncGroup();
    SyncGroup(const SyncGroup&) = delete;
    SyncGroup& operator=(const SyncGroup&) = delete;

    MemberActions start(TimePoint now);
    MemberActions stop(TimePoint now);
    MemberActions on_timer(Instance& member, TimePoint now);
    MemberActions on_advert(Instance& member, TimePoint now, const Advert& advert);
    MemberActions set_priority_adjustment(Instance& member, TimePoint now, int total_weight);
    MemberActions set_fault(Instance& member, TimePoint now, bool fault);

    [[nodiscard]] State state() const { return state_; }
    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] const std::vector<Instance*>& members() const { return members_; }

private:
    [[nodiscard]] bool can_goto_master(const Instance& member) const;
    [[nodiscard]] bool other_member_faulted(const Instance& member) const;
    void append(MemberActions& out, const Instance& member, Actions actions) const;
    void log(MemberActions& out, const std::string& text) const;
    // keepalived's VRRP_TSM_HANDLE after `member` went from `before`.
    void follow(MemberActions& out, Instance& member, State before, TimePoint now);
    void sync_master(MemberActions& out, Instance& member, TimePoint now);
    void sync_backup(MemberActions& out, Instance& member, TimePoint now);
    void sync_fault(MemberActions& out, Instance& member, TimePoint now);

    std::string name_;
    std::vector<Instance*> members_;
    State state_ = State::init;
};

}  // namespace kadp::vrrp
