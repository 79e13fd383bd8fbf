// Runs on: control thread (sched_build_fo) and worker lcores (sched_pick_fo).
//
// Weighted failover (ip_vs_fo.c): every new connection goes to the available
// dest (weight > 0, not overloaded) with the highest weight; ties go to the
// first in list order. Lowering the active server's weight (or its failing)
// fails over to the next heaviest. Stateless.
#include "dataplane/sched/overload.h"

namespace kadp::dp {

void sched_build_fo(SchedState& state, const SchedState*) {
    state.pick_ = &sched_pick_fo;
}

std::uint32_t sched_pick_fo(const SchedState& state, const SchedFlow&) {
    std::uint32_t best = kNoDest;
    std::int32_t best_weight = 0;
    for (std::uint32_t i = 0; i < state.dests_.size(); ++i) {
        const DestRef& d = state.dests_[i];
        if (d.weight > best_weight && !dest_overloaded(d)) {
            best = i;
            best_weight = d.weight;
        }
    }
    return best;
}

}  // namespace kadp::dp
