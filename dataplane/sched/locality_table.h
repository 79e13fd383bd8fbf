// Runs on: worker lcores (lookups and updates from pick), the control thread
// (allocation and carry-over when a SchedState is built).
//
// lblc/lblcr's memory of which dest(s) serve a destination address
// (IPVS's ip_vs_lblc_table / ip_vs_lblcr_table), lock-free. IPVS keeps a
// hash of 1024 chains that grows under a spin lock and a timer that prunes
// it; kadp's table is fixed at build time: 1024 buckets (IPVS's hash_32 of
// the address, 10 bits) of 4 ways, one 64-byte entry per way. Workers
// update entries with relaxed atomics; no lock, no allocation.
//
// Entry: `key` = the folded destination address | 1 << 32 (0: empty),
// `lastuse`/`lastmod` in SchedClock seconds, `members` = dest index + 1
// (0: empty); lblc uses members[0], lblcr up to kLocalitySetMax of them.
//
// Races are benign by construction: every member value ever stored is a
// valid index into the owning SchedState's dests (the carry-over remaps
// before publishing), so a reader that sees a half-updated entry may pick a
// less local dest, never an invalid one. Two workers missing the same new
// address at once may both claim a way; the duplicate ages out.
//
// Differences from IPVS, documented in docs/dataplane.md:
// * capacity 4096 addresses; a full bucket gives its least recently used
//   way to a new address (IPVS grows, and only collects entries idle for
//   ENTRY_TIMEOUT = 6 min once it holds more than 16384);
// * an entry idle for kLocalityExpiration (IPVS's default
//   lblc_expiration / lblcr_expiration, 24 h; not tunable) is treated as
//   gone when looked up, instead of by a timer every 30 minutes;
// * an lblcr set holds at most kLocalitySetMax dests: when full, the new
//   dest replaces the most loaded one. Ties between set members go to the
//   lower slot (IPVS: the most recently added).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

#include "dataplane/sched/sched.h"

namespace kadp::dp {

inline constexpr unsigned kLocalityBucketBits = 10;  // IPVS's IP_VS_LBLC(R)_TAB_BITS
inline constexpr std::uint32_t kLocalityWays = 4;
inline constexpr std::uint32_t kLocalityEntries = (1U << kLocalityBucketBits) * kLocalityWays;
inline constexpr std::uint32_t kLocalitySetMax = 12;
inline constexpr std::uint32_t kLocalityExpiration = 24 * 60 * 60;

struct alignas(64) LocalityEntry {
    std::atomic<std::uint64_t> key{0};
    std::atomic<std::uint32_t> lastuse{0};
    std::atomic<std::uint32_t> lastmod{0};
    std::atomic<std::uint32_t> members[kLocalitySetMax] = {};
};
static_assert(sizeof(LocalityEntry) == 64, "one entry, one cache line");

struct LocalityTable {
    LocalityTable() : entries(std::make_unique<LocalityEntry[]>(kLocalityEntries)) {}

    static std::uint64_t key_of(std::uint32_t fold) { return (std::uint64_t{1} << 32) | fold; }
    static bool expired(std::uint32_t lastuse, std::uint32_t now) { return now - lastuse >= kLocalityExpiration; }

    // Worker: the live entry for `fold`, or nullptr.
    LocalityEntry* find(std::uint32_t fold, std::uint32_t now) const;
    // Worker: a way for `fold`, initialised to {dest}; nullptr when another
    // worker changed the chosen way meanwhile (then nothing is cached, as
    // IPVS when it cannot allocate an entry).
    LocalityEntry* claim(std::uint32_t fold, std::uint32_t dest, std::uint32_t now) const;
    // Control thread: copy `prev`'s live entries, members remapped from
    // prev_dests' indices to dests' (by stats identity); members whose dest
    // left are dropped, and entries left empty with them.
    void carry_over(const LocalityTable& prev, std::span<const DestRef> prev_dests, std::span<const DestRef> dests,
                    std::uint32_t now);

    std::unique_ptr<LocalityEntry[]> entries;
};

// Touch an entry (IPVS: en->lastuse = jiffies), writing only when the second
// changed so that busy entries do not bounce their line between workers.
inline void locality_touch(LocalityEntry& e, std::uint32_t now) {
    if (e.lastuse.load(std::memory_order_relaxed) != now) e.lastuse.store(now, std::memory_order_relaxed);
}

// The destination address lblc/lblcr key on, folded as IPVS folds it.
std::uint32_t locality_fold(const SchedFlow& flow);

// lblc/lblcr's is_overloaded(): the dest has more active connections than
// its weight while some dest of the service has fewer than half its weight.
bool locality_overloaded(std::span<const DestRef> dests, std::uint32_t i);

}  // namespace kadp::dp
