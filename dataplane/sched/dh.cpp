// Runs on: control thread (sched_build_dh) and worker lcores (sched_pick_dh).
//
// Destination hashing (ip_vs_dh.c): 256 buckets dealt to the dests one each
// in list order, round and round (weights play no part); the connection's
// destination address picks the bucket with IPVS's multiplicative hash
// (addr * 2654435761) & 255 (host order, IPv6 folded). An unavailable dest
// (weight 0 or overloaded) gives no dest: dh has no fallback. Rebuilt for
// every snapshot, as IPVS rebuilds it on every dest change.
#include "dataplane/sched/overload.h"
#include "dataplane/sched/sched_hash.h"

namespace kadp::dp {

namespace {

constexpr std::uint32_t kDhSize = 256;

}  // namespace

void sched_build_dh(SchedState& state, const SchedState*) {
    state.pick_ = &sched_pick_dh;
    state.table_.assign(kDhSize, kNoDest);
    const auto n = static_cast<std::uint32_t>(state.dests_.size());
    if (n == 0) return;
    for (std::uint32_t b = 0; b < kDhSize; ++b) state.table_[b] = b % n;
}

std::uint32_t sched_pick_dh(const SchedState& state, const SchedFlow& flow) {
    const std::uint32_t bucket = (sched_addr_fold(flow.daddr) * 2654435761U) & (kDhSize - 1);
    const std::uint32_t i = state.table_[bucket];
    if (i == kNoDest || !dest_available(state.dests_[i])) return kNoDest;
    return i;
}

}  // namespace kadp::dp
