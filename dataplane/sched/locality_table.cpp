// Runs on: worker lcores (find, claim, locality_overloaded) and the control
// thread (carry_over). See locality_table.h.
#include "dataplane/sched/locality_table.h"

#include <unordered_map>

#include "dataplane/sched/sched_hash.h"

namespace kadp::dp {

namespace {

LocalityEntry* bucket_of(const LocalityTable& t, std::uint32_t fold) {
    return &t.entries[linux_hash_32(fold, kLocalityBucketBits) * kLocalityWays];
}

}  // namespace

std::uint32_t locality_fold(const SchedFlow& flow) { return sched_addr_fold(flow.daddr); }

LocalityEntry* LocalityTable::find(std::uint32_t fold, std::uint32_t now) const {
    LocalityEntry* b = bucket_of(*this, fold);
    const std::uint64_t key = key_of(fold);
    for (std::uint32_t w = 0; w < kLocalityWays; ++w) {
        // An expired way is gone; a racing claim may have left a live twin.
        if (b[w].key.load(std::memory_order_relaxed) != key) continue;
        if (expired(b[w].lastuse.load(std::memory_order_relaxed), now)) continue;
        return &b[w];
    }
    return nullptr;
}

LocalityEntry* LocalityTable::claim(std::uint32_t fold, std::uint32_t dest, std::uint32_t now) const {
    LocalityEntry* b = bucket_of(*this, fold);
    // Victim: a way holding this address (expired), an empty or expired way,
    // else the least recently used.
    LocalityEntry* victim = nullptr;
    std::uint32_t victim_idle = 0;
    for (std::uint32_t w = 0; w < kLocalityWays; ++w) {
        const std::uint64_t k = b[w].key.load(std::memory_order_relaxed);
        const std::uint32_t idle = now - b[w].lastuse.load(std::memory_order_relaxed);
        if (k == 0 || k == key_of(fold) || idle >= kLocalityExpiration) {
            victim = &b[w];
            break;
        }
        if (victim == nullptr || idle > victim_idle) {
            victim = &b[w];
            victim_idle = idle;
        }
    }
    std::uint64_t old = victim->key.load(std::memory_order_relaxed);
    if (old != key_of(fold) && !victim->key.compare_exchange_strong(old, key_of(fold), std::memory_order_relaxed)) {
        return nullptr;
    }
    victim->members[0].store(dest + 1, std::memory_order_relaxed);
    for (std::uint32_t m = 1; m < kLocalitySetMax; ++m) victim->members[m].store(0, std::memory_order_relaxed);
    victim->lastuse.store(now, std::memory_order_relaxed);
    victim->lastmod.store(now, std::memory_order_relaxed);
    return victim;
}

void LocalityTable::carry_over(const LocalityTable& prev, std::span<const DestRef> prev_dests,
                               std::span<const DestRef> dests, std::uint32_t now) {
    std::unordered_map<const DestStats*, std::uint32_t> index;
    for (std::uint32_t i = 0; i < dests.size(); ++i) index.emplace(dests[i].stats, i);
    for (std::uint32_t e = 0; e < kLocalityEntries; ++e) {
        const LocalityEntry& from = prev.entries[e];
        const std::uint64_t key = from.key.load(std::memory_order_relaxed);
        const std::uint32_t lastuse = from.lastuse.load(std::memory_order_relaxed);
        if (key == 0 || expired(lastuse, now)) continue;
        LocalityEntry& to = entries[e];  // same size, same hash: same way
        std::uint32_t kept = 0;
        for (std::uint32_t m = 0; m < kLocalitySetMax; ++m) {
            const std::uint32_t v = from.members[m].load(std::memory_order_relaxed);
            if (v == 0 || v > prev_dests.size()) continue;
            const auto it = index.find(prev_dests[v - 1].stats);
            if (it == index.end()) continue;
            to.members[kept++].store(it->second + 1, std::memory_order_relaxed);
        }
        if (kept == 0) continue;
        to.key.store(key, std::memory_order_relaxed);
        to.lastuse.store(lastuse, std::memory_order_relaxed);
        to.lastmod.store(from.lastmod.load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
}

bool locality_overloaded(std::span<const DestRef> dests, std::uint32_t i) {
    const DestRef& d = dests[i];
    if (d.stats->active.load(std::memory_order_relaxed) <= static_cast<std::uint32_t>(d.weight)) return false;
    for (const DestRef& o : dests) {
        if (std::uint64_t{o.stats->active.load(std::memory_order_relaxed)} * 2 < static_cast<std::uint64_t>(o.weight)) {
            return true;
        }
    }
    return false;
}

}  // namespace kadp::dp
