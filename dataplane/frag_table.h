// Runs on: worker lcores (each worker owns one FragTable; the constructor
// runs on the control thread). Not shared: no atomics, no locks.
//
// IPv4 fragment tracking without reassembly. Only the first fragment of a
// datagram carries the TCP/UDP ports, so only it can find (or open) a
// connection; the worker then records here how it rewrote it, keyed by
// what every fragment of the datagram carries -- (source, destination,
// protocol, IP id) -- and later fragments get the same rewrite (NAT: the
// address and the IP checksum; the L4 checksum, in the first fragment,
// was updated incrementally and stays right for the whole datagram).
//
// Why tracking and not reassembly (librte_ip_frag): a forwarder needs the
// decision, not the bytes. Tracking costs one 80-byte entry per datagram
// in flight, no copies, no mbuf chains to re-fragment against the egress
// MTU, and the fragments leave as they came.
//
// Bounds (all fixed at construction, nothing allocated afterwards):
// * `capacity` entries (a power of two >= kWays), in sets of kWays: a key
//   may sit in one set only. A full set evicts an expired entry, else the
//   pending one (fragments waiting for their first) that expires first,
//   else the entry that expires first (counted as evicted).
// * Every entry expires `timeout_ms` after it was created; fragments do not
//   extend it, so an endless stream of fragments of one datagram ends with
//   its entry. An entry is freed at once when the fragments seen cover the
//   datagram (byte count; the last fragment gives its length).
// * Later fragments that arrive before their first are held, at most
//   kHoldPerEntry per datagram and `hold_limit` for the whole table; they
//   are released when the first arrives, dropped when their entry expires
//   or is evicted.
// The caller frees every mbuf this table gives back (FragSpill) and counts it.
#pragma once

#include <cstdint>
#include <memory>

struct rte_mbuf;

namespace kadp::dp {

// What every fragment of one datagram carries (wire order, as in the header).
struct FragKey {
    std::uint32_t saddr = 0;
    std::uint32_t daddr = 0;
    std::uint16_t id = 0;
    std::uint8_t proto = 0;
    bool operator==(const FragKey&) const = default;
};

// How the first fragment was forwarded, for the rest of the datagram.
enum class FragEnd : std::uint8_t { none = 0, source = 1, destination = 2 };
struct FragRewrite {
    std::uint32_t addr = 0;      // the new address of `end` (wire order)
    std::uint32_t route_to = 0;  // the address the fragment is forwarded towards
    std::uint32_t svc_id = 0;    // for the traffic counters
    std::uint32_t dest_id = 0;
    FragEnd end = FragEnd::none;  // none: forwarded unchanged (DR/TUN)
    std::uint8_t fwd = 0;         // the connection's FwdMethod
    std::uint8_t dir = 0;         // the connection's ConnDir
};

enum class FragState : std::uint8_t { free = 0, pending = 1, resolved = 2 };

struct FragEntry {
    static constexpr std::uint32_t kHoldPerEntry = 4;
    FragKey key;
    FragState state = FragState::free;
    std::uint8_t n_held = 0;
    std::uint32_t expires_ms = 0;
    std::uint32_t seen = 0;   // payload bytes of the fragments forwarded
    std::uint32_t total = 0;  // datagram payload length, once its last fragment was seen (0: unknown)
    FragRewrite rw;
    rte_mbuf* held[kHoldPerEntry] = {};
};
static_assert(sizeof(FragEntry) <= 80, "docs/dataplane.md gives the table's size per entry");

// Mbufs a call hands back: `released` to forward now (their first fragment
// arrived), `dropped` to free (their entry expired or was evicted).
// Only the first n_* slots of the arrays are written (left uninitialised:
// one lives on the stack for every later fragment).
struct FragSpill {
    static constexpr std::uint32_t kMax = 64;
    rte_mbuf* released[FragEntry::kHoldPerEntry];
    std::uint32_t n_released = 0;
    rte_mbuf* dropped[kMax];
    std::uint32_t n_dropped = 0;
    std::uint32_t evicted = 0;  // entries evicted before their time
    std::uint32_t expired = 0;  // entries that expired incomplete
};

enum class FragHold : std::uint8_t { held, entry_full, limit };
enum class FragAccount : std::uint8_t { more, complete, inconsistent };

class FragTable {
public:
    static constexpr std::uint32_t kWays = 4;

    // capacity rounded up to a power of two (>= kWays); control thread.
    FragTable(std::uint32_t capacity, std::uint32_t timeout_ms, std::uint32_t hold_limit);

    // The live resolved entry of `key`, nullptr otherwise (a pending entry
    // is not a hit: its first fragment has not been seen).
    FragEntry* find(const FragKey& key, std::uint32_t now);
    // The first fragment was forwarded with `rw`: records it (seen = its
    // payload `len`), and moves fragments held for it to spill.released.
    // nullptr only if the key is already resolved (a duplicate first
    // fragment: the existing entry is returned instead) -- never fails.
    FragEntry* resolve(const FragKey& key, const FragRewrite& rw, std::uint16_t len, std::uint32_t now,
                       FragSpill& spill);
    // Holds a later fragment whose first has not been seen.
    FragHold hold(const FragKey& key, rte_mbuf* m, std::uint32_t now, FragSpill& spill);
    // Accounts a forwarded later fragment (offset and payload length in
    // bytes, MF). complete: the entry was freed; inconsistent: the fragment
    // contradicts what was seen (beyond the datagram's end, a second last
    // fragment of another length, more bytes than a datagram holds) and
    // must be dropped.
    FragAccount account(FragEntry& e, std::uint16_t off, std::uint16_t len, bool more);
    // Expires up to `budget` entries' worth of the table (continuing where
    // the last call stopped); stops early when spill.dropped is full.
    void expire_step(std::uint32_t now, std::uint32_t budget, FragSpill& spill);

    std::uint32_t capacity() const { return capacity_; }
    std::uint32_t in_use() const { return in_use_; }
    std::uint32_t held() const { return held_; }
    std::uint32_t timeout_ms() const { return timeout_ms_; }

private:
    FragEntry* set_of(const FragKey& key);
    FragEntry* take_slot(const FragKey& key, std::uint32_t now, FragSpill& spill);
    void free_entry(FragEntry& e, FragSpill& spill);

    std::unique_ptr<FragEntry[]> entries_;
    std::uint32_t capacity_ = 0;
    std::uint32_t set_mask_ = 0;
    std::uint32_t timeout_ms_ = 0;
    std::uint32_t hold_limit_ = 0;
    std::uint32_t in_use_ = 0;
    std::uint32_t held_ = 0;
    std::uint32_t sweep_pos_ = 0;
};

}  // namespace kadp::dp
