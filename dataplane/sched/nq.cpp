// Runs on: control thread (sched_build_nq) and worker lcores (sched_pick_nq).
//
// Never queue (ip_vs_nq.c): the first available dest in list order with no
// active connection, at once; when every one is busy, sed's choice (least
// (active + 1) / weight, first on ties). Stateless.
#include "dataplane/sched/least.h"

namespace kadp::dp {

void sched_build_nq(SchedState& state, const SchedState*) {
    state.pick_ = &sched_pick_nq;
}

std::uint32_t sched_pick_nq(const SchedState& state, const SchedFlow&) {
    std::uint32_t least = kNoDest;
    std::uint64_t least_overhead = 0;
    for (std::uint32_t i = 0; i < state.dests_.size(); ++i) {
        const DestRef& d = state.dests_[i];
        if (!dest_available(d)) continue;
        const std::uint32_t active = d.stats->active.load(std::memory_order_relaxed);
        if (active == 0) return i;  // an idle server: nothing to queue behind
        const std::uint64_t oh = std::uint64_t{active} + 1;
        if (least == kNoDest || detail::heavier(least_overhead, state.dests_[least].weight, oh, d.weight)) {
            least = i;
            least_overhead = oh;
        }
    }
    return least;
}

}  // namespace kadp::dp
