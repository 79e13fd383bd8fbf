// Runs on: control thread (sched_build_ovf) and worker lcores (sched_pick_ovf).
//
// Weighted overflow (ip_vs_ovf.c): the weight is a connection budget. New
// connections go to the highest-weight available dest whose active
// connections do not exceed its weight; when it is full they overflow to the
// next heaviest. Ties go to the first in list order. Stateless.
#include "dataplane/sched/overload.h"

namespace kadp::dp {

void sched_build_ovf(SchedState& state, const SchedState*) {
    state.pick_ = &sched_pick_ovf;
}

std::uint32_t sched_pick_ovf(const SchedState& state, const SchedFlow&) {
    std::uint32_t best = kNoDest;
    for (std::uint32_t i = 0; i < state.dests_.size(); ++i) {
        const DestRef& d = state.dests_[i];
        if (d.weight <= 0) continue;
        if (d.stats->active.load(std::memory_order_relaxed) > static_cast<std::uint32_t>(d.weight)) continue;
        if (best != kNoDest && d.weight <= state.dests_[best].weight) continue;
        if (dest_overloaded(d)) continue;
        best = i;
    }
    return best;
}

}  // namespace kadp::dp
