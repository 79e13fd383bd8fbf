// Runs on: control thread (sched_build_wlc) and worker lcores (sched_pick_wlc).
//
// Weighted least connection (ip_vs_wlc.c): the available dest with the least
// overhead (active * 256 + inactive) / weight; ties go to the first in list
// order (least.h). Stateless like lc.
#include "dataplane/sched/least.h"

namespace kadp::dp {

void sched_build_wlc(SchedState& state, const SchedState*) {
    state.pick_ = &sched_pick_wlc;
}

std::uint32_t sched_pick_wlc(const SchedState& state, const SchedFlow&) {
    return least_weighted(state.dests_, [](const DestRef& d) { return dest_overhead(*d.stats); });
}

}  // namespace kadp::dp
