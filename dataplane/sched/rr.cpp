// Runs on: control thread (sched_build_rr) and worker lcores (sched_pick_rr).
//
// Round robin (ip_vs_rr.c): the next dest in list order whose weight is > 0.
// IPVS walks the list from the last dest picked, under the service's lock.
// Here table_ lists the eligible dests in list order, built at publish time,
// and the shared counter seq_ says where the walk is: pick number s takes
// table_[s % period_]. That is IPVS's global order, without a lock.
// An overloaded dest is skipped like IPVS skips it: the walk goes on to the
// next one, each step taking a sequence number.
#include <algorithm>

#include "dataplane/sched/overload.h"

namespace kadp::dp {

void sched_build_rr(SchedState& state, const SchedState* prev) {
    state.pick_ = &sched_pick_rr;
    for (std::uint32_t i = 0; i < state.dests_.size(); ++i) {
        if (state.dests_[i].weight > 0) state.table_.push_back(i);
    }
    state.period_ = state.table_.size();
    if (state.period_ == 0 || prev == nullptr || prev->period_ == 0) return;

    // Like IPVS after a dest change: carry on after the dest picked last,
    // found by identity (its stats) in the new list, even if its weight is
    // now 0; a dest that left restarts the walk at the top. Workers may
    // still pick from `prev` meanwhile: those picks are not seen here.
    const std::uint64_t taken = prev->seq_.load(std::memory_order_relaxed);
    if (taken == 0) return;
    const DestStats* last = prev->dests_[prev->table_[(taken - 1) % prev->period_]].stats;
    const auto it = std::find_if(state.dests_.begin(), state.dests_.end(),
                                 [last](const DestRef& d) { return d.stats == last; });
    if (it == state.dests_.end()) return;
    const auto last_index = static_cast<std::uint32_t>(it - state.dests_.begin());
    const auto next = std::upper_bound(state.table_.begin(), state.table_.end(), last_index);
    state.seq_.store(static_cast<std::uint64_t>(next - state.table_.begin()) % state.period_,
                     std::memory_order_relaxed);
}

std::uint32_t sched_pick_rr(const SchedState& state, const SchedFlow&) {
    if (state.period_ == 0) return kNoDest;
    for (std::uint64_t step = 0; step < state.period_; ++step) {
        const std::uint64_t s = state.seq_.fetch_add(1, std::memory_order_relaxed);
        const std::uint32_t i = state.table_[s % state.period_];
        if (!state.has_thresholds_ || !dest_overloaded(state.dests_[i])) return i;
    }
    return kNoDest;  // one full lap, every dest overloaded
}

}  // namespace kadp::dp
