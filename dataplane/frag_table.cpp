// Runs on: worker lcores (the owner of the table); control thread (construction).
#include "dataplane/frag_table.h"

#include <algorithm>
#include <bit>

#include "dataplane/conn_table.h"  // ms_reached

namespace kadp::dp {
namespace {

// The largest IPv4 payload a datagram can carry (total length 65535, a
// 20-byte header at least).
constexpr std::uint32_t kMaxPayload = 65535 - 20;

std::uint32_t key_hash(const FragKey& k)
{
    // The id varies fastest between datagrams of one pair of hosts; the
    // multiplier spreads it into the high bits the set index takes.
    const std::uint64_t x = (std::uint64_t{k.saddr} << 32 | k.daddr) ^
                            (std::uint64_t{k.id} << 16 | k.proto) * 0x9e3779b97f4a7c15ULL;
    return static_cast<std::uint32_t>((x * 0xff51afd7ed558ccdULL) >> 32);
}

bool live(const FragEntry& e, std::uint32_t now)
{
    return e.state != FragState::free && !ms_reached(now, e.expires_ms);
}

}  // namespace

FragTable::FragTable(std::uint32_t capacity, std::uint32_t timeout_ms, std::uint32_t hold_limit)
    : capacity_(std::bit_ceil(std::max(capacity, kWays))), timeout_ms_(timeout_ms), hold_limit_(hold_limit)
{
    entries_ = std::make_unique<FragEntry[]>(capacity_);
    set_mask_ = capacity_ / kWays - 1;
}

FragEntry* FragTable::set_of(const FragKey& key)
{
    return &entries_[(key_hash(key) & set_mask_) * kWays];
}

void FragTable::free_entry(FragEntry& e, FragSpill& spill)
{
    for (std::uint32_t i = 0; i < e.n_held; ++i) {
        // The spill has room for a whole entry's held mbufs: callers stop
        // before it is full (expire_step) or free at most one entry.
        spill.dropped[spill.n_dropped++] = e.held[i];
        e.held[i] = nullptr;
    }
    held_ -= e.n_held;
    e.n_held = 0;
    e.state = FragState::free;
    --in_use_;
}

FragEntry* FragTable::find(const FragKey& key, std::uint32_t now)
{
    FragEntry* set = set_of(key);
    for (std::uint32_t w = 0; w < kWays; ++w) {
        FragEntry& e = set[w];
        if (e.state == FragState::resolved && e.key == key && live(e, now)) return &e;
    }
    return nullptr;
}

// A slot for a new entry of `key` in its set: a free one, an expired one,
// else the victim the header describes.
FragEntry* FragTable::take_slot(const FragKey& key, std::uint32_t now, FragSpill& spill)
{
    FragEntry* set = set_of(key);
    FragEntry* victim = nullptr;
    for (std::uint32_t w = 0; w < kWays; ++w) {
        FragEntry& e = set[w];
        if (e.state == FragState::free) return &e;
        if (!live(e, now)) {
            ++spill.expired;
            free_entry(e, spill);
            return &e;
        }
        const bool pending = e.state == FragState::pending;
        if (victim == nullptr) {
            victim = &e;
            continue;
        }
        const bool victim_pending = victim->state == FragState::pending;
        const bool earlier = static_cast<std::int32_t>(e.expires_ms - victim->expires_ms) < 0;
        if ((pending && !victim_pending) || (pending == victim_pending && earlier)) victim = &e;
    }
    ++spill.evicted;
    free_entry(*victim, spill);
    return victim;
}

FragEntry* FragTable::resolve(const FragKey& key, const FragRewrite& rw, std::uint16_t len, std::uint32_t now,
                              FragSpill& spill)
{
    FragEntry* set = set_of(key);
    FragEntry* e = nullptr;
    for (std::uint32_t w = 0; w < kWays && e == nullptr; ++w) {
        if (set[w].state != FragState::free && set[w].key == key && live(set[w], now)) e = &set[w];
    }
    if (e != nullptr && e->state == FragState::resolved) return e;  // a duplicate first fragment
    if (e == nullptr) {
        e = take_slot(key, now, spill);
        e->key = key;
        e->n_held = 0;
        e->expires_ms = now + timeout_ms_;
        e->total = 0;
        ++in_use_;
    }
    // Fragments held for it go back to the caller, which forwards them
    // through find() + account() like any later fragment.
    for (std::uint32_t i = 0; i < e->n_held; ++i) {
        spill.released[spill.n_released++] = e->held[i];
        e->held[i] = nullptr;
    }
    held_ -= e->n_held;
    e->n_held = 0;
    e->state = FragState::resolved;
    e->rw = rw;
    e->seen = len;
    return e;
}

FragHold FragTable::hold(const FragKey& key, rte_mbuf* m, std::uint32_t now, FragSpill& spill)
{
    if (held_ >= hold_limit_) return FragHold::limit;
    FragEntry* set = set_of(key);
    FragEntry* e = nullptr;
    for (std::uint32_t w = 0; w < kWays && e == nullptr; ++w) {
        if (set[w].state == FragState::pending && set[w].key == key && live(set[w], now)) e = &set[w];
    }
    if (e == nullptr) {
        e = take_slot(key, now, spill);
        e->key = key;
        e->state = FragState::pending;
        e->n_held = 0;
        e->expires_ms = now + timeout_ms_;
        e->seen = 0;
        e->total = 0;
        e->rw = FragRewrite{};
        ++in_use_;
    }
    if (e->n_held >= FragEntry::kHoldPerEntry) return FragHold::entry_full;
    e->held[e->n_held++] = m;
    ++held_;
    return FragHold::held;
}

FragAccount FragTable::account(FragEntry& e, std::uint16_t off, std::uint16_t len, bool more)
{
    const std::uint32_t end = std::uint32_t{off} + len;
    if (e.total != 0 && (end > e.total || (!more && end != e.total))) return FragAccount::inconsistent;
    if (e.seen + len > kMaxPayload) return FragAccount::inconsistent;
    if (!more) e.total = end;
    e.seen += len;
    if (e.total != 0 && e.seen >= e.total) {
        FragSpill none;  // a resolved entry holds nothing
        free_entry(e, none);
        return FragAccount::complete;
    }
    return FragAccount::more;
}

void FragTable::expire_step(std::uint32_t now, std::uint32_t budget, FragSpill& spill)
{
    budget = std::min(budget, capacity_);
    for (std::uint32_t i = 0; i < budget; ++i) {
        if (spill.n_dropped + FragEntry::kHoldPerEntry > FragSpill::kMax) return;
        FragEntry& e = entries_[sweep_pos_];
        sweep_pos_ = (sweep_pos_ + 1) & (capacity_ - 1);
        if (e.state != FragState::free && ms_reached(now, e.expires_ms)) {
            ++spill.expired;
            free_entry(e, spill);
        }
    }
}

}  // namespace kadp::dp
