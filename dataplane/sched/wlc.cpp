// Runs on: control thread (sched_build_wlc) and worker lcores (sched_pick_wlc).
//
// Weighted least connection (ip_vs_wlc.c): the dest with the least
// overhead / weight among those with weight > 0, compared without division
// (replace the current choice L by D when overhead(L) * weight(D) >
// overhead(D) * weight(L)); ties go to the first in list order. Stateless
// like lc.
#include "dataplane/sched/sched.h"

namespace kadp::dp {

namespace {

// Overheads reach 2^41 and weights 2^31: the products need more than 64 bits.
__extension__ using Uint128 = unsigned __int128;

}  // namespace

void sched_build_wlc(SchedState& state, const SchedState*) {
    state.pick_ = &sched_pick_wlc;
}

std::uint32_t sched_pick_wlc(const SchedState& state, const SchedFlow&) {
    std::uint32_t least = kNoDest;
    std::uint64_t least_overhead = 0;
    for (std::uint32_t i = 0; i < state.dests_.size(); ++i) {
        const DestRef& d = state.dests_[i];
        if (d.weight <= 0) continue;
        const std::uint64_t overhead = dest_overhead(*d.stats);
        if (least == kNoDest ||
            static_cast<Uint128>(least_overhead) * static_cast<std::uint32_t>(d.weight) >
                static_cast<Uint128>(overhead) * static_cast<std::uint32_t>(state.dests_[least].weight)) {
            least = i;
            least_overhead = overhead;
        }
    }
    return least;
}

}  // namespace kadp::dp
