// Runs on: control thread (sched_build_mh) and worker lcores (sched_pick_mh).
//
// Maglev hashing (ip_vs_mh.c, Eisenbud et al., NSDI'16 section 3.4): a
// lookup table of M = 4093 entries (IPVS's default size, a prime) in which
// each dest owns a share proportional to its weight. Each dest has a
// preference order over the entries (offset and skip from its address and
// port); the table is filled round by round, each dest in list order taking
// its next free preferred entry `turns` times per round, turns being
// weight / gcd (shifted right when the largest quotient has more than 6
// bits). Since a dest's preferences do not depend on the others, adding or
// removing one dest moves only about 1/N of the keys.
//
// As IPVS, the table is built from each dest's last non-zero weight
// (last_weight): setting a weight to 0 leaves the table alone, so the dest's
// keys find it unavailable (no dest, or with mh-fallback the next entries)
// and come back to it when its weight returns. The last weights carry over a
// rebuild by dest identity (aux_); a dest added with weight 0 has none.
//
// Lookup: entry hsiphash(port + addr) mod M of the client's source address
// (IPv6 folded), port only with mh-port. Hashes are Linux's hsiphash with
// IPVS's fixed keys, so the table and the key positions are Linux's. An
// unavailable dest (weight 0, overloaded) gives no dest; with mh-fallback the
// walk goes on over entries hash(port + addr + (o + ihash) mod M) and takes
// the first available dest.
#include <algorithm>
#include <bit>
#include <numeric>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/sched/overload.h"
#include "dataplane/sched/sched_hash.h"
#include "dataplane/sched/siphash.h"

namespace kadp::dp {

namespace {

constexpr std::uint32_t kMhSize = 4093;  // primes[CONFIG_IP_VS_MH_TAB_INDEX (12) - 8]
constexpr int kMhBits = 12 / 2;          // IP_VS_MH_TAB_BITS
// generate_hash_secret(): the same keys on every Linux director.
constexpr std::uint64_t kMhKey1 = 2654435761ULL;
constexpr std::uint64_t kMhKey2 = 2654446892ULL;

std::uint32_t mh_hash(std::uint32_t fold, std::uint16_t port, std::uint64_t key, std::uint32_t offset) {
    return linux_hsiphash_u32(offset + port + fold, key, key);
}

}  // namespace

void sched_build_mh(SchedState& state, const SchedState* prev) {
    state.pick_ = &sched_pick_mh;
    state.table_.assign(kMhSize, kNoDest);
    const auto n = static_cast<std::uint32_t>(state.dests_.size());
    if (n > kMhSize) {  // IPVS refuses too (-EINVAL): not every dest could own an entry
        throw std::invalid_argument("scheduler mh: " + std::to_string(n) + " real servers, at most " +
                                    std::to_string(kMhSize));
    }

    // last_weight: today's weight, or the last non-zero one for a dest that
    // was already there (IPVS keeps it when a dest is edited to weight 0).
    std::unordered_map<const DestStats*, std::uint64_t> last;
    if (prev != nullptr) {
        for (std::size_t i = 0; i < prev->dests_.size() && i < prev->aux_.size(); ++i) {
            last.emplace(prev->dests_[i].stats, prev->aux_[i]);
        }
    }
    state.aux_.resize(n);
    std::int64_t g = 0;
    std::int64_t max = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
        const DestRef& d = state.dests_[i];
        std::uint64_t lw = static_cast<std::uint64_t>(d.weight);
        if (lw == 0) {
            if (const auto it = last.find(d.stats); it != last.end()) lw = it->second;
        }
        state.aux_[i] = lw;
        if (lw > 0) g = std::gcd(g, static_cast<std::int64_t>(lw));
        max = std::max(max, static_cast<std::int64_t>(lw));
    }
    if (g < 1) return;  // no dest with a weight: every lookup finds none
    const int shift = std::max(0, static_cast<int>(std::bit_width(static_cast<std::uint64_t>(max / g))) - kMhBits);

    struct Setup {
        std::uint32_t perm;
        std::uint32_t skip;
        std::int64_t turns;
    };
    std::vector<Setup> setup(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        const DestRef& d = state.dests_[i];
        const std::uint32_t fold = d.addr_fold;
        const std::uint16_t port = d.port;
        const auto lw = static_cast<std::int64_t>(state.aux_[i]);
        const std::int64_t turns = (lw / g) >> shift;
        setup[i] = Setup{mh_hash(fold, port, kMhKey1, 0) % kMhSize, mh_hash(fold, port, kMhKey2, 0) % (kMhSize - 1) + 1,
                         turns != 0 ? turns : (lw != 0 ? 1 : 0)};
    }

    // ip_vs_mh_populate: rounds over the list; each dest takes its next free
    // preferred entry `turns` times in a row.
    std::vector<bool> taken(kMhSize, false);
    std::uint32_t filled = 0;
    while (filled < kMhSize) {
        for (std::uint32_t i = 0; i < n && filled < kMhSize; ++i) {
            Setup& s = setup[i];
            for (std::int64_t t = 0; t < s.turns && filled < kMhSize; ++t) {
                while (taken[s.perm]) {
                    s.perm += s.skip;
                    if (s.perm >= kMhSize) s.perm -= kMhSize;
                }
                taken[s.perm] = true;
                state.table_[s.perm] = i;
                ++filled;
            }
        }
    }
}

std::uint32_t sched_pick_mh(const SchedState& state, const SchedFlow& flow) {
    const std::uint32_t fold = sched_addr_fold(flow.saddr);
    const std::uint16_t port = sched_flow_port(flow, state.flags_);
    const std::uint32_t ihash = mh_hash(fold, port, kMhKey1, 0) % kMhSize;
    const std::uint32_t first = state.table_[ihash];
    if (first == kNoDest) return kNoDest;
    if (dest_available(state.dests_[first])) return first;
    if ((state.flags_ & kSchedFallback) == 0) return kNoDest;
    // Up to M hashes when most dests are down: look only if one can answer.
    if (std::none_of(state.dests_.begin(), state.dests_.end(), [](const DestRef& d) { return dest_available(d); })) {
        return kNoDest;
    }
    for (std::uint32_t offset = 0; offset < kMhSize; ++offset) {
        const std::uint32_t i = state.table_[mh_hash(fold, port, kMhKey1, (offset + ihash) % kMhSize) % kMhSize];
        if (dest_available(state.dests_[i])) return i;
    }
    return kNoDest;
}

}  // namespace kadp::dp
