// Runs on: control thread (sched_build_lblcr) and worker lcores (sched_pick_lblcr).
//
// Locality-based least connection with replication (ip_vs_lblcr.c): like
// lblc, but a destination address maps to a set of dests. A connection goes
// to the set's least loaded member (overhead / weight among members with
// weight > 0 and not overloaded). When that member is missing or
// lblc-overloaded (locality_overloaded()), the service's least loaded dest
// (wlc) is picked and added to the set. When a set of more than one member
// has not changed for 24 hours, its most loaded member is dropped. Sets
// change by relaxed compare-and-swap on their member slots: no lock.
//
// The memory is a fixed lock-free table (locality_table.h, differences from
// IPVS listed there: at most kLocalitySetMax members, ties to the lower
// slot). It carries over a rebuild like lblc's.
#include "dataplane/sched/least.h"
#include "dataplane/sched/locality_table.h"

namespace kadp::dp {

namespace {

// ip_vs_dest_set_max: the member with the most overhead / weight among those
// with weight > 0; its slot, or kLocalitySetMax.
std::uint32_t set_max_slot(const LocalityEntry& e, std::span<const DestRef> dests) {
    std::uint32_t most = kLocalitySetMax;
    std::uint64_t most_oh = 0;
    std::int32_t most_w = 0;
    for (std::uint32_t s = 0; s < kLocalitySetMax; ++s) {
        const std::uint32_t m = e.members[s].load(std::memory_order_relaxed);
        if (m == 0 || m > dests.size()) continue;
        const DestRef& d = dests[m - 1];
        if (d.weight <= 0) continue;
        const std::uint64_t oh = dest_overhead(*d.stats);
        if (most == kLocalitySetMax || detail::heavier(oh, d.weight, most_oh, most_w)) {
            most = s;
            most_oh = oh;
            most_w = d.weight;
        }
    }
    return most;
}

// ip_vs_dest_set_min: the available member with the least overhead / weight.
std::uint32_t set_min(const LocalityEntry& e, std::span<const DestRef> dests, std::uint32_t& size) {
    std::uint32_t least = kNoDest;
    std::uint64_t least_oh = 0;
    size = 0;
    for (std::uint32_t s = 0; s < kLocalitySetMax; ++s) {
        const std::uint32_t m = e.members[s].load(std::memory_order_relaxed);
        if (m == 0 || m > dests.size()) continue;
        ++size;
        const DestRef& d = dests[m - 1];
        if (!dest_available(d)) continue;
        const std::uint64_t oh = dest_overhead(*d.stats);
        if (least == kNoDest || detail::heavier(least_oh, dests[least].weight, oh, d.weight)) {
            least = m - 1;
            least_oh = oh;
        }
    }
    return least;
}

// ip_vs_dest_set_insert: add `dest` unless present; a full set gives up its
// most loaded member.
void set_insert(LocalityEntry& e, std::span<const DestRef> dests, std::uint32_t dest, std::uint32_t now) {
    const std::uint32_t v = dest + 1;
    std::uint32_t empty = kLocalitySetMax;
    for (std::uint32_t s = 0; s < kLocalitySetMax; ++s) {
        const std::uint32_t m = e.members[s].load(std::memory_order_relaxed);
        if (m == v) return;
        if (m == 0 && empty == kLocalitySetMax) empty = s;
    }
    std::uint32_t slot = empty != kLocalitySetMax ? empty : set_max_slot(e, dests);
    if (slot == kLocalitySetMax) slot = 0;
    std::uint32_t old = e.members[slot].load(std::memory_order_relaxed);
    if ((empty == kLocalitySetMax || old == 0) &&
        e.members[slot].compare_exchange_strong(old, v, std::memory_order_relaxed)) {
        e.lastmod.store(now, std::memory_order_relaxed);
    }
}

}  // namespace

void sched_build_lblcr(SchedState& state, const SchedState* prev) {
    state.pick_ = &sched_pick_lblcr;
    state.locality_ = std::make_unique<LocalityTable>();
    if (prev != nullptr && prev->locality_ != nullptr) {
        state.locality_->carry_over(*prev->locality_, prev->dests_, state.dests_, state.clock_());
    }
}

std::uint32_t sched_pick_lblcr(const SchedState& state, const SchedFlow& flow) {
    const std::uint32_t now = state.clock_();
    const std::uint32_t fold = locality_fold(flow);
    const std::span<const DestRef> dests = state.dests_;
    const auto wlc = [dests] {
        return least_weighted(dests, [](const DestRef& d) { return dest_overhead(*d.stats); });
    };
    LocalityEntry* e = state.locality_->find(fold, now);
    if (e == nullptr) {
        const std::uint32_t i = wlc();
        if (i != kNoDest) state.locality_->claim(fold, i, now);
        return i;
    }
    locality_touch(*e, now);
    std::uint32_t size = 0;
    const std::uint32_t least = set_min(*e, dests, size);
    // A set unchanged for the expiration time sheds its most loaded member.
    if (size > 1 && now - e->lastmod.load(std::memory_order_relaxed) > kLocalityExpiration) {
        const std::uint32_t s = set_max_slot(*e, dests);
        if (s != kLocalitySetMax) {
            std::uint32_t m = e->members[s].load(std::memory_order_relaxed);
            if (m != 0 && e->members[s].compare_exchange_strong(m, 0, std::memory_order_relaxed)) {
                e->lastmod.store(now, std::memory_order_relaxed);
            }
        }
    }
    if (least != kNoDest && !locality_overloaded(dests, least)) return least;
    const std::uint32_t i = wlc();
    if (i == kNoDest) return kNoDest;
    set_insert(*e, dests, i, now);
    return i;
}

}  // namespace kadp::dp
