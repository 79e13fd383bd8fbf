// Runs on: control thread (sched_build_lc) and worker lcores (sched_pick_lc).
//
// Least connection (ip_vs_lc.c): the available dest (weight > 0, not
// overloaded) with the least overhead (active * 256 + inactive,
// dest_overhead()); ties go to the first in list order. Reads the shared
// counts only, so it has no state and no table: two workers picking at the
// same instant may choose the same dest, as two CPUs may in IPVS.
#include "dataplane/sched/overload.h"

namespace kadp::dp {

void sched_build_lc(SchedState& state, const SchedState*) {
    state.pick_ = &sched_pick_lc;
}

std::uint32_t sched_pick_lc(const SchedState& state, const SchedFlow&) {
    std::uint32_t least = kNoDest;
    std::uint64_t least_overhead = 0;
    for (std::uint32_t i = 0; i < state.dests_.size(); ++i) {
        const DestRef& d = state.dests_[i];
        if (!dest_available(d)) continue;
        const std::uint64_t overhead = dest_overhead(*d.stats);
        // Strictly less: a tie keeps the earlier dest.
        if (least == kNoDest || overhead < least_overhead) {
            least = i;
            least_overhead = overhead;
        }
    }
    return least;
}

}  // namespace kadp::dp
