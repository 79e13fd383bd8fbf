// Runs on: control thread (sched_build_lblc) and worker lcores (sched_pick_lblc).
//
// Locality-based least connection (ip_vs_lblc.c), for cache clusters: the
// connection's destination address is remembered with the dest that served
// it, and goes back to it while that dest has weight > 0 and is not
// "overloaded" in lblc's own sense (more active connections than its
// weight while another dest is below half of its weight; the threshold
// flag is not consulted for a remembered dest, as in IPVS). Otherwise the
// available dest with the least overhead / weight (wlc) is picked and
// remembered. Every use refreshes the entry's last use; an entry unused for
// 24 hours is forgotten.
//
// The memory is a fixed lock-free table (locality_table.h, differences from
// IPVS listed there). It carries over a rebuild, as IPVS keeps its table
// across dest changes; entries whose dest left are dropped.
#include "dataplane/sched/least.h"
#include "dataplane/sched/locality_table.h"

namespace kadp::dp {

void sched_build_lblc(SchedState& state, const SchedState* prev) {
    state.pick_ = &sched_pick_lblc;
    state.locality_ = std::make_unique<LocalityTable>();
    if (prev != nullptr && prev->locality_ != nullptr) {
        state.locality_->carry_over(*prev->locality_, prev->dests_, state.dests_, state.clock_());
    }
}

std::uint32_t sched_pick_lblc(const SchedState& state, const SchedFlow& flow) {
    const std::uint32_t now = state.clock_();
    const std::uint32_t fold = locality_fold(flow);
    const std::span<const DestRef> dests = state.dests_;
    LocalityEntry* e = state.locality_->find(fold, now);
    if (e != nullptr) {
        locality_touch(*e, now);
        const std::uint32_t m = e->members[0].load(std::memory_order_relaxed);
        if (m != 0 && m <= dests.size() && dests[m - 1].weight > 0 && !locality_overloaded(dests, m - 1)) {
            return m - 1;
        }
    }
    const std::uint32_t i = least_weighted(dests, [](const DestRef& d) { return dest_overhead(*d.stats); });
    if (i == kNoDest) return kNoDest;
    if (e != nullptr) {
        e->members[0].store(i + 1, std::memory_order_relaxed);  // ip_vs_lblc_new: the entry now names i
    } else {
        state.locality_->claim(fold, i, now);
    }
    return i;
}

}  // namespace kadp::dp
