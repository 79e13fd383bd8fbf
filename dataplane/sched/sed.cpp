// Runs on: control thread (sched_build_sed) and worker lcores (sched_pick_sed).
//
// Shortest expected delay (ip_vs_sed.c): the available dest with the least
// (active + 1) / weight - the delay a new connection would expect if each
// server serves its active connections at a rate proportional to its weight.
// Inactive connections do not count. Ties go to the first in list order.
// Stateless like wlc.
#include "dataplane/sched/least.h"

namespace kadp::dp {

void sched_build_sed(SchedState& state, const SchedState*) {
    state.pick_ = &sched_pick_sed;
}

std::uint32_t sched_pick_sed(const SchedState& state, const SchedFlow&) {
    return least_weighted(state.dests_, [](const DestRef& d) {
        return std::uint64_t{d.stats->active.load(std::memory_order_relaxed)} + 1;
    });
}

}  // namespace kadp::dp
