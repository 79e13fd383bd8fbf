// Runs on: control thread. See sync_group.h.
#include "vrrp/sync_group.h"

#include <utility>

namespace kadp::vrrp {

SyncGroup::SyncGroup(std::string name, std::vector<Instance*> members)
    : name_(std::move(name)), members_(std::move(members))
{
    for (Instance* m : members_) {
        m->set_master_gate([this, m] { return can_goto_master(*m); });
        m->set_fault_hold([this, m] { return other_member_faulted(*m); });
    }
}

// vrrp_sync_can_goto_master: only when every other member wants MASTER too
// (prefer BACKUP to thrashing), or the group already is MASTER.
bool SyncGroup::can_goto_master(const Instance& member) const
{
    if (state_ == State::master) return true;
    for (const Instance* m : members_)
        if (m != &member && !m->wants_master()) return false;
    return true;
}

bool SyncGroup::other_member_faulted(const Instance& member) const
{
    for (const Instance* m : members_)
        if (m != &member && m->faulted()) return true;
    return false;
}

void SyncGroup::append(MemberActions& out, const Instance& member, Actions actions) const
{
    for (Action& a : actions) out.push_back(MemberAction{&member, std::move(a)});
}

void SyncGroup::log(MemberActions& out, const std::string& text) const
{
    out.push_back(MemberAction{nullptr, Log{"VRRP_Group(" + name_ + ") " + text, false}});
}

SyncGroup::~SyncGroup()
{
    for (Instance* m : members_) {
        m->set_master_gate({});
        m->set_fault_hold({});
    }
}

MemberActions SyncGroup::start(TimePoint now)
{
    MemberActions out;
    for (Instance* m : members_) append(out, *m, m->start(now));
    for (Instance* m : members_) {
        if (m->state() == State::fault) {
            sync_fault(out, *m, now);
            return out;
        }
    }
    state_ = State::backup;
    out.push_back(MemberAction{nullptr, Notify{State::backup}});
    return out;
}

MemberActions SyncGroup::stop(TimePoint now)
{
    MemberActions out;
    for (Instance* m : members_) append(out, *m, m->stop(now));
    state_ = State::stop;
    return out;
}

MemberActions SyncGroup::on_timer(Instance& member, TimePoint now)
{
    MemberActions out;
    const State before = member.state();
    append(out, member, member.on_timer(now));
    follow(out, member, before, now);
    return out;
}

MemberActions SyncGroup::on_advert(Instance& member, TimePoint now, const Advert& advert)
{
    MemberActions out;
    const State before = member.state();
    append(out, member, member.on_advert(now, advert));
    follow(out, member, before, now);
    return out;
}

MemberActions SyncGroup::set_priority_adjustment(Instance& member, TimePoint now, int total_weight)
{
    MemberActions out;
    append(out, member, member.set_priority_adjustment(now, total_weight));
    return out;
}

MemberActions SyncGroup::set_fault(Instance& member, TimePoint now, bool fault)
{
    MemberActions out;
    const State before = member.state();
    append(out, member, member.set_fault(now, fault));
    follow(out, member, before, now);
    return out;
}

void SyncGroup::follow(MemberActions& out, Instance& member, State before, TimePoint now)
{
    const State after = member.state();
    if (after == before) return;
    if (after == State::master) sync_master(out, member, now);
    else if (after == State::fault) sync_fault(out, member, now);
    else if (after == State::backup) sync_backup(out, member, now);
}

void SyncGroup::sync_master(MemberActions& out, Instance& member, TimePoint now)
{
    if (state_ == State::master || !can_goto_master(member)) return;
    log(out, "Syncing instances to MASTER state");
    state_ = State::master;  // before the others move, so that their gates open
    for (Instance* m : members_)
        if (m != &member) append(out, *m, m->sync_to_master(now));
    out.push_back(MemberAction{nullptr, Notify{State::master}});
}

void SyncGroup::sync_backup(MemberActions& out, Instance& member, TimePoint now)
{
    if (state_ == State::backup) return;
    log(out, "Syncing instances to BACKUP state");
    state_ = State::backup;
    for (Instance* m : members_)
        if (m != &member && m->state() != State::backup) append(out, *m, m->sync_to_backup(now));
    out.push_back(MemberAction{nullptr, Notify{State::backup}});
}

void SyncGroup::sync_fault(MemberActions& out, Instance& member, TimePoint now)
{
    if (state_ == State::fault) return;
    log(out, "Syncing instances to FAULT state");
    state_ = State::fault;
    for (Instance* m : members_)
        if (m != &member && m->state() != State::fault) append(out, *m, m->sync_to_fault(now));
    out.push_back(MemberAction{nullptr, Notify{State::fault}});
}

}  // namespace kadp::vrrp
