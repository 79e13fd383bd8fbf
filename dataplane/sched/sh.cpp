// Runs on: control thread (sched_build_sh) and worker lcores (sched_pick_sh).
//
// Source hashing (ip_vs_sh.c): 256 buckets, each naming a dest; the client's
// source address (plus its source port with sh-port) picks the bucket. The
// buckets are dealt out in list order, `weight` consecutive buckets per dest
// (one for a dest of weight 0), round and round until all 256 are dealt
// (ip_vs_sh_reassign). A bucket is hash_32(port + addr, 8) (host order,
// IPv6 folded), so a key lands in the bucket Linux would choose.
//
// A bucket whose dest is unavailable (weight 0 or overloaded) gives no dest;
// with sh-fallback the walk goes on over the buckets IPVS tries next
// (ip_vs_sh_get_fallback: offset o visits bucket (o + 2 * ihash) mod 256,
// the kernel adding the start twice) and takes the first available one.
//
// The table is built on the control thread for every snapshot, as IPVS
// rebuilds it on every dest change; nothing is carried over.
#include "dataplane/sched/overload.h"
#include "dataplane/sched/sched_hash.h"

namespace kadp::dp {

namespace {

constexpr unsigned kShBits = 8;
constexpr std::uint32_t kShSize = 1U << kShBits;
constexpr std::uint32_t kShMask = kShSize - 1;

std::uint32_t sh_bucket(std::uint32_t fold, std::uint16_t port, std::uint32_t offset) {
    return (offset + linux_hash_32(port + fold, kShBits)) & kShMask;
}

}  // namespace

void sched_build_sh(SchedState& state, const SchedState*) {
    state.pick_ = &sched_pick_sh;
    state.table_.assign(kShSize, kNoDest);
    const auto n = static_cast<std::uint32_t>(state.dests_.size());
    if (n == 0) return;
    std::uint32_t p = 0;
    std::int64_t dealt = 0;
    for (std::uint32_t b = 0; b < kShSize; ++b) {
        state.table_[b] = p;
        if (++dealt >= state.dests_[p].weight) {  // weight 0 still takes one bucket
            p = (p + 1) % n;
            dealt = 0;
        }
    }
}

std::uint32_t sched_pick_sh(const SchedState& state, const SchedFlow& flow) {
    const std::uint32_t fold = sched_addr_fold(flow.saddr);
    const std::uint16_t port = sched_flow_port(flow, state.flags_);
    const std::uint32_t ihash = sh_bucket(fold, port, 0);
    const std::uint32_t first = state.table_[ihash];
    if (first == kNoDest) return kNoDest;
    if (dest_available(state.dests_[first])) return first;
    if ((state.flags_ & kSchedFallback) == 0) return kNoDest;
    for (std::uint32_t offset = 0; offset < kShSize; ++offset) {
        const std::uint32_t i = state.table_[sh_bucket(fold, port, (offset + ihash) & kShMask)];
        if (dest_available(state.dests_[i])) return i;
    }
    return kNoDest;
}

}  // namespace kadp::dp
