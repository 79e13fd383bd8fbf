// Runs on: worker lcores (resolve, learn, sweep) and the control thread
// (create, lookup, drain). The concurrency contract is in neigh_table.h.
#include "dataplane/neigh_table.h"

#include <bit>
#include <cstring>
#include <new>

#include "dataplane/conn_table.h"  // ms_reached

namespace kadp::dp {

struct alignas(64) NeighTable4::Entry {
    std::atomic<std::uint64_t> key{0};
    std::atomic<std::uint64_t> word{0};
    std::atomic<std::uint64_t> probe{0};
    std::atomic<std::uint32_t> state_ms{0};
    std::atomic<std::uint32_t> used_ms{0};
    std::atomic<rte_mbuf*> held[kHeldPerNeighbour]{};
};

namespace {

constexpr std::uint64_t kKeyLive = 1ULL << 63;
constexpr std::uint64_t kKeyFree = 1;  // removed: lookups probe past it, inserts may reuse it
constexpr std::uint64_t kMacMask = (1ULL << 48) - 1;

constexpr std::uint64_t make_key(std::uint16_t port, std::uint32_t ip)
{
    return kKeyLive | (std::uint64_t{port} << 32) | ip;
}

std::uint64_t mac_bits(const MacAddr& m)
{
    std::uint64_t v = 0;
    for (int i = 5; i >= 0; --i) v = (v << 8) | m[static_cast<std::size_t>(i)];
    return v;
}
MacAddr mac_of(std::uint64_t word)
{
    MacAddr m;
    if constexpr (std::endian::native == std::endian::little) {
        // One 6-byte copy out of a register: a byte-by-byte build would be
        // read back as 4 + 2 bytes by the frame copy and stall store forwarding.
        std::memcpy(m.data(), &word, m.size());
    } else {
        for (std::size_t i = 0; i < 6; ++i) m[i] = static_cast<std::uint8_t>(word >> (8 * i));
    }
    return m;
}
constexpr NeighState state_of(std::uint64_t word) { return static_cast<NeighState>((word >> 48) & 0xf); }
constexpr std::uint64_t gen_of(std::uint64_t word) { return word >> 52; }
constexpr std::uint64_t make_word(std::uint64_t mac, NeighState s, std::uint64_t gen)
{
    return (mac & kMacMask) | (std::uint64_t{static_cast<std::uint8_t>(s)} << 48) | ((gen & 0xfff) << 52);
}
constexpr std::uint64_t with(std::uint64_t word, std::uint64_t mac, NeighState s)
{
    return make_word(mac, s, gen_of(word));
}
constexpr std::uint64_t make_probe(std::uint32_t count, std::uint32_t at_ms)
{
    return (std::uint64_t{count} << 32) | at_ms;
}
constexpr std::uint32_t probe_count(std::uint64_t p) { return static_cast<std::uint32_t>(p >> 32); }
constexpr std::uint32_t probe_ms(std::uint64_t p) { return static_cast<std::uint32_t>(p); }

}  // namespace

std::unique_ptr<NeighTable4> NeighTable4::create(const NeighConfig& config)
{
    static_assert(sizeof(Entry) == 64, "a neighbour is one cache line");
    if (config.capacity == 0 || config.capacity > (1U << 20) || config.max_probes == 0) return nullptr;
    std::uint32_t cap = 64;
    while (cap < config.capacity) cap <<= 1;
    std::unique_ptr<NeighTable4> t(new (std::nothrow) NeighTable4(config));
    if (!t) return nullptr;
    t->entries_ = new (std::nothrow) Entry[cap];
    if (t->entries_ == nullptr) return nullptr;
    t->mask_ = cap - 1;
    return t;
}

NeighTable4::~NeighTable4() { delete[] entries_; }

std::uint32_t NeighTable4::home(std::uint64_t key) const
{
    // splitmix64 finaliser over the seeded key: every input bit moves every output bit.
    std::uint64_t z = key ^ cfg_.hash_seed;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return static_cast<std::uint32_t>(z) & mask_;
}

NeighTable4::Found NeighTable4::find(std::uint64_t key) const
{
    const std::uint32_t h = home(key);
    for (std::uint32_t d = 0; d < kMaxProbe && d <= mask_; ++d) {
        Entry& e = entries_[(h + d) & mask_];
        // Acquire pairs with the release CAS that claimed the slot.
        const std::uint64_t k = e.key.load(std::memory_order_acquire);
        if (k == 0) break;  // end of every chain through this slot
        if (k != key) continue;
        // Acquire: pairs with the release store/CAS of the word; the second
        // key load cannot move above it, so equal keys mean this word was
        // written while the slot held `key`.
        const std::uint64_t w = e.word.load(std::memory_order_acquire);
        if (e.key.load(std::memory_order_relaxed) != key) continue;
        return {&e, w};
    }
    return {nullptr, 0};
}

NeighTable4::Found NeighTable4::insert(std::uint64_t key, std::uint64_t word, std::uint32_t now_ms,
                                       std::uint64_t probe, bool& full, bool& created)
{
    full = false;
    created = false;
    const std::uint32_t h = home(key);
    for (int attempt = 0; attempt < 4; ++attempt) {
        Entry* slot = nullptr;
        std::uint64_t seen = 0;
        for (std::uint32_t d = 0; d < kMaxProbe && d <= mask_; ++d) {
            Entry& e = entries_[(h + d) & mask_];
            const std::uint64_t k = e.key.load(std::memory_order_acquire);
            if (k == key) {
                const std::uint64_t w = e.word.load(std::memory_order_acquire);
                return {&e, w};  // another worker got there first (its word may still be free: busy)
            }
            if (slot == nullptr && (k == 0 || k == kKeyFree)) {
                slot = &e;
                seen = k;
            }
            if (k == 0) break;
        }
        if (slot == nullptr) {
            full = true;
            return {nullptr, 0};
        }
        if (!slot->key.compare_exchange_strong(seen, key, std::memory_order_acq_rel)) continue;
        // The slot is ours; its word is `free` with the generation the last
        // removal left. Timers first, then the word (release) publishes the entry.
        const std::uint64_t gen = gen_of(slot->word.load(std::memory_order_relaxed));
        slot->probe.store(probe, std::memory_order_relaxed);
        slot->state_ms.store(now_ms, std::memory_order_relaxed);
        slot->used_ms.store(now_ms, std::memory_order_relaxed);
        const std::uint64_t w = make_word(word, state_of(word), gen);
        slot->word.store(w, std::memory_order_release);
        created = true;
        return {slot, w};
    }
    full = true;  // the chain keeps changing under us: treat as no room
    return {nullptr, 0};
}

// Elects the caller to send the next request for `e` when one is due
// (retrans_ms since the last and fewer than max_probes sent). CAS: exactly
// one worker wins per interval.
bool NeighTable4::claim_probe(Entry& e, std::uint32_t now_ms)
{
    std::uint64_t p = e.probe.load(std::memory_order_relaxed);
    for (;;) {
        if (now_ms - probe_ms(p) < cfg_.retrans_ms || probe_count(p) >= cfg_.max_probes) return false;
        if (e.probe.compare_exchange_weak(p, make_probe(probe_count(p) + 1, now_ms), std::memory_order_relaxed)) {
            return true;
        }
    }
}

std::uint32_t NeighTable4::take_held(Entry& e, rte_mbuf** out)
{
    std::uint32_t n = 0;
    for (auto& slot : e.held) {
        // seq_cst: ordered after the word CAS that took the entry out of incomplete (see the contract).
        if (rte_mbuf* m = slot.exchange(nullptr, std::memory_order_seq_cst)) out[n++] = m;
    }
    return n;
}

NeighResolve NeighTable4::hold(Entry& e, std::uint64_t word, rte_mbuf* m, ResolveVerdict ok)
{
    for (auto& slot : e.held) {
        rte_mbuf* expected = nullptr;
        if (!slot.compare_exchange_strong(expected, m, std::memory_order_seq_cst)) continue;
        const std::uint64_t now = e.word.load(std::memory_order_seq_cst);
        if (now == word) return {ok, {}};  // still incomplete: whoever completes it takes m
        // The entry left incomplete since we looked: take m back unless the
        // learner / sweeper already did (then it is theirs to send or free).
        rte_mbuf* mine = m;
        if (!slot.compare_exchange_strong(mine, nullptr, std::memory_order_seq_cst)) return {ok, {}};
        const NeighState s = state_of(now);
        if (gen_of(now) == gen_of(word) && (s == NeighState::reachable || s == NeighState::stale)) {
            return {ResolveVerdict::hit, now & kMacMask};
        }
        return {ResolveVerdict::failed, {}};
    }
    return {ResolveVerdict::hold_full, {}};
}

NeighResolve NeighTable4::resolve(std::uint16_t port, std::uint32_t ip, rte_mbuf* m, std::uint32_t now_ms)
{
    const std::uint64_t key = make_key(port, ip);
    Found f = find(key);
    if (f.e == nullptr) {
        bool full = false;
        bool created = false;
        f = insert(key, make_word(0, NeighState::incomplete, 0), now_ms, make_probe(1, now_ms), full, created);
        if (full) return {ResolveVerdict::table_full, {}};
        // The creator sends the first request (insert set probe_ to (1, now)).
        if (created) return hold(*f.e, f.word, m, ResolveVerdict::held_request);
    }
    Entry& e = *f.e;
    // A store only when the millisecond changed: keeps the line clean on a busy entry.
    if (e.used_ms.load(std::memory_order_relaxed) != now_ms) e.used_ms.store(now_ms, std::memory_order_relaxed);
    std::uint64_t w = f.word;
    for (int attempt = 0; attempt < 4; ++attempt) {
        switch (state_of(w)) {
        case NeighState::free:
            return {ResolveVerdict::busy, {}};
        case NeighState::reachable:
            if (now_ms - e.state_ms.load(std::memory_order_relaxed) < cfg_.reachable_ms) {
                return {ResolveVerdict::hit, w & kMacMask};
            }
            [[fallthrough]];
        case NeighState::stale: {
            const std::uint64_t p = e.probe.load(std::memory_order_relaxed);
            if (probe_count(p) < cfg_.max_probes) {
                return {claim_probe(e, now_ms) ? ResolveVerdict::hit_probe : ResolveVerdict::hit, w & kMacMask};
            }
            if (now_ms - probe_ms(p) < cfg_.retrans_ms) return {ResolveVerdict::hit, w & kMacMask};
            // Probes went unanswered: resolve again from scratch (broadcast).
            const std::uint64_t next = with(w, 0, NeighState::incomplete);
            if (e.word.compare_exchange_strong(w, next, std::memory_order_seq_cst)) {
                e.probe.store(make_probe(1, now_ms), std::memory_order_relaxed);
                return hold(e, next, m, ResolveVerdict::held_request);
            }
            continue;  // w reloaded by the failed CAS
        }
        case NeighState::incomplete: {
            const std::uint64_t p = e.probe.load(std::memory_order_relaxed);
            if (probe_count(p) >= cfg_.max_probes && now_ms - probe_ms(p) >= cfg_.retrans_ms) {
                return {ResolveVerdict::failed, {}};  // out of probes: the sweep fails it
            }
            const bool send = claim_probe(e, now_ms);
            return hold(e, w, m, send ? ResolveVerdict::held_request : ResolveVerdict::held);
        }
        case NeighState::failed:
            if (now_ms - e.state_ms.load(std::memory_order_relaxed) < cfg_.retrans_ms) {
                return {ResolveVerdict::failed, {}};
            }
            {
                const std::uint64_t next = with(w, 0, NeighState::incomplete);
                if (e.word.compare_exchange_strong(w, next, std::memory_order_seq_cst)) {
                    e.probe.store(make_probe(1, now_ms), std::memory_order_relaxed);
                    return hold(e, next, m, ResolveVerdict::held_request);
                }
            }
            continue;
        }
    }
    return {ResolveVerdict::busy, {}};
}

NeighLearn NeighTable4::learn(std::uint16_t port, std::uint32_t ip, const MacAddr& mac, ArpSource src,
                              std::uint32_t now_ms)
{
    NeighLearn out{LearnVerdict::unsolicited, 0, {}};
    const std::uint64_t key = make_key(port, ip);
    const std::uint64_t mbits = mac_bits(mac);
    Found f = find(key);
    if (f.e == nullptr) {
        if (src != ArpSource::request_to_us) return out;  // never create from a reply we did not ask for
        bool full = false;
        bool created = false;
        // Stale with a probe due at once: the first packet to it confirms it.
        f = insert(key, make_word(mbits, NeighState::stale, 0), now_ms, make_probe(0, now_ms - cfg_.retrans_ms), full,
                   created);
        if (full) {
            out.verdict = LearnVerdict::table_full;
            return out;
        }
        if (created) {
            out.verdict = LearnVerdict::learned;
            return out;
        }
        // Someone else created it meanwhile: apply the policy to theirs.
    }
    Entry& e = *f.e;
    std::uint64_t w = f.word;
    for (int attempt = 0; attempt < 8; ++attempt) {
        const NeighState s = state_of(w);
        if (s == NeighState::free) {
            out.verdict = LearnVerdict::busy;
            return out;
        }
        const bool same = (w & kMacMask) == mbits;
        const bool fresh = s == NeighState::reachable &&
                           now_ms - e.state_ms.load(std::memory_order_relaxed) < cfg_.reachable_ms;
        LearnVerdict v;
        if (s == NeighState::incomplete || s == NeighState::failed) {
            v = LearnVerdict::learned;
        } else if (same) {
            v = LearnVerdict::refreshed;
        } else if (fresh) {
            out.verdict = LearnVerdict::conflict;
            return out;
        } else {
            v = LearnVerdict::changed;
        }
        // Only an answer to our own request makes an entry fresh: a reply
        // while we resolve (incomplete, failed) or probe (a probe
        // outstanding). An announcement or an unasked-for reply may change
        // a stale entry's MAC, but leaves it stale (its next use probes the
        // new MAC); otherwise two forged frames -- a change, then the same
        // MAC again -- would lock a poisoned entry in for reachable_ms.
        NeighState next_state = NeighState::reachable;
        if (v != LearnVerdict::learned &&
            (src != ArpSource::reply || probe_count(e.probe.load(std::memory_order_relaxed)) == 0)) {
            if (v == LearnVerdict::refreshed) {
                out.verdict = v;  // the same MAC, unasked: nothing to change
                return out;
            }
            next_state = NeighState::stale;
        }
        const std::uint64_t next = with(w, mbits, next_state);
        // seq_cst: the held-packet handshake (see the contract in the header).
        if (!e.word.compare_exchange_strong(w, next, std::memory_order_seq_cst)) continue;
        e.state_ms.store(now_ms, std::memory_order_relaxed);
        // No probe outstanding; once stale, the first probe is due at once.
        e.probe.store(make_probe(0, now_ms - cfg_.retrans_ms), std::memory_order_relaxed);
        out.verdict = v;
        if (s == NeighState::incomplete) out.n_held = take_held(e, out.held);
        return out;
    }
    out.verdict = LearnVerdict::busy;
    return out;
}

bool NeighTable4::remove(Entry& e, std::uint64_t word, NeighSweep& out)
{
    const std::uint64_t next = make_word(0, NeighState::free, gen_of(word) + 1);
    if (!e.word.compare_exchange_strong(word, next, std::memory_order_seq_cst)) return false;
    out.n_dropped += take_held(e, out.dropped + out.n_dropped);
    // Release: the word is free before the slot can be claimed again.
    e.key.store(kKeyFree, std::memory_order_release);
    ++out.removed;
    return true;
}

void NeighTable4::sweep(std::uint32_t budget, std::uint32_t now_ms, NeighSweep& out)
{
    out.n_requests = out.n_dropped = out.failed = out.removed = 0;
    if (budget > NeighSweep::kMaxSlice) budget = NeighSweep::kMaxSlice;
    if (budget > mask_ + 1) budget = mask_ + 1;
    const std::uint32_t start = cursor_.fetch_add(budget, std::memory_order_relaxed);
    for (std::uint32_t i = 0; i < budget; ++i) {
        Entry& e = entries_[(start + i) & mask_];
        const std::uint64_t k = e.key.load(std::memory_order_acquire);
        if ((k & kKeyLive) == 0) continue;
        std::uint64_t w = e.word.load(std::memory_order_acquire);
        if (e.key.load(std::memory_order_relaxed) != k) continue;
        const NeighState s = state_of(w);
        if (s == NeighState::free) continue;
        if (s == NeighState::incomplete) {
            const std::uint64_t p = e.probe.load(std::memory_order_relaxed);
            if (now_ms - probe_ms(p) < cfg_.retrans_ms) continue;
            if (probe_count(p) < cfg_.max_probes) {
                if (claim_probe(e, now_ms)) {
                    out.requests[out.n_requests++] = {static_cast<std::uint16_t>(k >> 32), static_cast<std::uint32_t>(k)};
                }
                continue;
            }
            // Out of probes: failed, and whatever waited is dropped.
            if (e.word.compare_exchange_strong(w, with(w, 0, NeighState::failed), std::memory_order_seq_cst)) {
                e.state_ms.store(now_ms, std::memory_order_relaxed);
                out.n_dropped += take_held(e, out.dropped + out.n_dropped);
                ++out.failed;
            }
            continue;
        }
        if (now_ms - e.used_ms.load(std::memory_order_relaxed) >= cfg_.gc_unused_ms) remove(e, w, out);
    }
}

NeighView NeighTable4::lookup(std::uint16_t port, std::uint32_t ip, std::uint32_t now_ms) const
{
    const Found f = find(make_key(port, ip));
    if (f.e == nullptr) return {NeighState::free, {}, 0};
    NeighState s = state_of(f.word);
    if (s == NeighState::reachable && now_ms - f.e->state_ms.load(std::memory_order_relaxed) >= cfg_.reachable_ms) {
        s = NeighState::stale;
    }
    return {s, mac_of(f.word), probe_count(f.e->probe.load(std::memory_order_relaxed))};
}

std::uint32_t NeighTable4::size() const
{
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i <= mask_; ++i) {
        if ((entries_[i].key.load(std::memory_order_relaxed) & kKeyLive) != 0 &&
            state_of(entries_[i].word.load(std::memory_order_relaxed)) != NeighState::free) {
            ++n;
        }
    }
    return n;
}

std::uint32_t NeighTable4::drain(rte_mbuf** out, std::uint32_t cap)
{
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i <= mask_; ++i) {
        for (auto& slot : entries_[i].held) {
            if (n == cap) return n;
            if (rte_mbuf* m = slot.exchange(nullptr)) out[n++] = m;
        }
    }
    return n;
}

}  // namespace kadp::dp
