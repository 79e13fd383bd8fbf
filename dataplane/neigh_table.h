// Runs on: worker lcores (resolve, learn, sweep) and the control thread
// (create/destroy, lookup for listings).
//
// The IPv4 neighbour (ARP) table: one fixed-capacity table shared by every
// worker, lock-free. Keyed by (port, IPv4 address); open addressing with
// linear probing, at most kMaxProbe slots from a key's home slot.
//
// Memory: capacity rounded up to a power of two (64 .. 2^20), one 64-byte
// cache line per entry, allocated once by create(): 4096 entries = 256 KiB.
// When no slot within kMaxProbe of a key's home is free, a new neighbour is
// refused (table_full; the caller counts it). Entries unused for
// gc_unused_ms are removed by sweep(), which every worker calls a slice at
// a time, so the table does not fill with neighbours nobody talks to.
//
// Entry words (who writes, who reads: any worker, both):
// * key_    0 = never used, kKeyFree = removed (lookups probe past it), or
//           kKeyLive | port << 32 | ip. Claimed by CAS (empty/free -> key),
//           released by the thread whose CAS removed the entry.
// * word_   MAC (48 bits) | state (4) | generation (12): one atomic, so a
//           reader always sees a MAC that belongs to the state. Changed only
//           by CAS; every removal bumps the generation, so a CAS prepared
//           against a previous tenant of the slot fails.
// * probe_  requests sent (high 32) | time of the last one (low 32); a CAS
//           on it elects the one worker that sends the next request (rate
//           limit: one per retrans_ms per entry).
// * state_ms_ time of the last confirmation (reachable) or failure.
//   used_ms_  last time a packet resolved through the entry (expiry).
//   These two are hints written after the word_ CAS; a write that lands on
//   a re-used slot only shifts a timer.
// * held_[kHeldPerNeighbour] packets waiting for the MAC: CAS nullptr -> m
//   to hold, exchange -> nullptr to take. The thread whose word_ CAS moves an
//   entry out of `incomplete` (learn, failure, removal) takes every held
//   packet afterwards; a holder re-reads word_ after its CAS and, if the
//   entry left `incomplete`, takes its own packet back with CAS m ->
//   nullptr. Both sides are seq_cst, so each held packet is taken exactly
//   once: by the learner/sweeper or by its holder.
// * Readers: key_ (acquire), word_ (acquire), key_ again: the word belongs to
//   the key only if both key loads agree (a removal changes key_ after
//   word_, an insert changes word_ after key_).
//
// Two workers inserting the same new key race on the same first free slot;
// the loser finds the winner's key. Only when a removal frees an earlier slot
// in between can a key get a second entry; lookups always use the first in
// probe order, and the shadowed copy fails and expires like any unanswered
// entry (its held packets are dropped and counted).
//
// States (Linux NUD vocabulary):
//   incomplete  request sent, waiting; packets held; a request every
//               retrans_ms, failed after max_probes unanswered.
//   reachable   MAC confirmed less than reachable_ms ago.
//   stale       older than that (or learned from a request): still used, and
//               the next packet sends a probe (rate-limited); after
//               max_probes unanswered probes the entry resolves again
//               (incomplete, broadcast).
//   failed      resolution failed: packets are dropped until retrans_ms has
//               passed, then the next packet starts over.
//
// ARP poisoning policy (learn()):
// * A reply or gratuitous ARP is learned only for an IP already in the
//   table: it completes an `incomplete` (or `failed`) entry, refreshes one
//   with the same MAC, and is ignored (unsolicited) for unknown IPs -- we
//   never create entries from replies we did not ask for.
// * A request addressed to one of our addresses teaches us its sender (as
//   Linux does, the entry starts `stale`, so its first use confirms it).
// * A different MAC for an entry that is `reachable` is refused and counted
//   as a conflict; it is accepted while we are asking (incomplete, failed)
//   or once the entry went stale. The price: a neighbour that really moved
//   (e.g. a gateway's VRRP failover without a virtual MAC) is followed only
//   after reachable_ms.
// * Only an answer to our own request makes an entry `reachable`: a reply
//   while it is incomplete/failed, or while a probe of the stale entry is
//   outstanding. A gratuitous ARP, a request, or a reply nobody asked for
//   that changes a stale entry's MAC leaves it `stale` (its next use probes
//   the new MAC); with the same MAC it changes nothing. So a forged frame
//   can move a stale entry at most until the real owner's next ARP, never
//   lock it in for reachable_ms.
// * The pipeline learns a request's sender only when it is on a connected
//   prefix of the port (arp_request_offlink otherwise): a flood of spoofed
//   requests fills at most the port's prefixes. A full table refuses new
//   neighbours and never evicts one; unused entries expire after
//   gc_unused_ms.
// The caller decides which source a frame is (see arp.h) and never passes
// ARP that targets someone else.
//
// Clock: the worker's coarse millisecond clock, passed in; no syscalls.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>

#include "dataplane/counters.h"

struct rte_mbuf;

namespace kadp::dp {

inline constexpr std::uint32_t kHeldPerNeighbour = 4;

using MacAddr = std::array<std::uint8_t, 6>;

enum class NeighState : std::uint8_t { free = 0, incomplete, reachable, stale, failed };

struct NeighConfig {
    std::uint32_t capacity = 4096;        // entries, rounded up to a power of two (64 .. 2^20)
    std::uint32_t reachable_ms = 30000;   // Linux base_reachable_time
    std::uint32_t retrans_ms = 1000;      // one request per second per entry
    std::uint32_t max_probes = 3;         // Linux mcast_solicit / ucast_solicit
    std::uint32_t gc_unused_ms = 60000;   // Linux gc_stale_time
    std::uint64_t hash_seed = 0x9e3779b97f4a7c15ULL;  // random per process, so peers cannot aim at one chain
};

// What resolve() did with a packet for a next hop.
enum class ResolveVerdict : std::uint8_t {
    hit,           // transmit to `mac`
    hit_probe,     // transmit to `mac`, and send a request (unicast to `mac`) now
    held,          // parked until the MAC is known
    held_request,  // parked; send a broadcast request now
    hold_full,     // not held: kHeldPerNeighbour packets already wait -> drop
    failed,        // resolution failed recently -> drop
    table_full,    // no slot for a new neighbour -> drop
    busy,          // the entry is being created/removed by another worker right now -> drop
};

struct NeighResolve {
    ResolveVerdict verdict;
    // hit / hit_probe: the MAC, its first byte in the lowest bits. A word,
    // not a byte array, so the result comes back in registers: one packed
    // on the stack byte by byte and read back whole stalls store forwarding.
    std::uint64_t mac_bits = 0;

    MacAddr mac() const {
        MacAddr m;
        for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<std::uint8_t>(mac_bits >> (8 * i));
        return m;
    }
    // The MAC into a frame's destination field.
    void write_mac(std::uint8_t* dst) const { write_mac_bits(dst, mac_bits); }

    static void write_mac_bits(std::uint8_t* dst, std::uint64_t bits) {
        if constexpr (std::endian::native == std::endian::little) {
            std::memcpy(dst, &bits, 6);
        } else {
            for (std::size_t i = 0; i < 6; ++i) dst[i] = static_cast<std::uint8_t>(bits >> (8 * i));
        }
    }
};

// Counters for a resolve verdict: up to two (second is tx_packets when unused).
struct VerdictCounters {
    Counter first;
    Counter second;
    std::uint8_t count;
};
constexpr VerdictCounters resolve_counters(ResolveVerdict v)
{
    switch (v) {
    case ResolveVerdict::hit: return {Counter::tx_packets, Counter::tx_packets, 0};
    case ResolveVerdict::hit_probe: return {Counter::arp_request_sent, Counter::tx_packets, 1};
    case ResolveVerdict::held: return {Counter::neigh_unresolved_held, Counter::tx_packets, 1};
    case ResolveVerdict::held_request: return {Counter::neigh_unresolved_held, Counter::arp_request_sent, 2};
    case ResolveVerdict::hold_full:
    case ResolveVerdict::failed:
    case ResolveVerdict::table_full:
    case ResolveVerdict::busy: return {Counter::neigh_unresolved_dropped, Counter::tx_packets, 1};
    }
    return {Counter::neigh_unresolved_dropped, Counter::tx_packets, 1};
}

// Where a learned (IP, MAC) came from; arp.h classifies frames.
enum class ArpSource : std::uint8_t {
    reply,          // ARP reply (not gratuitous)
    request_to_us,  // ARP request whose target is an address we answer for
    gratuitous,     // sender IP == target IP (request or reply)
};

enum class LearnVerdict : std::uint8_t {
    learned,      // completed an incomplete/failed entry, or created one from a request to us
    refreshed,    // same MAC confirmed
    changed,      // new MAC accepted (entry was stale or being resolved)
    conflict,     // new MAC for a reachable entry refused
    unsolicited,  // reply/gratuitous for an IP we have no entry for: ignored
    table_full,   // request to us from a new neighbour, no slot
    busy,         // the entry is being created/removed right now: ignored
};

constexpr Counter learn_counter(ArpSource src, LearnVerdict v)
{
    switch (v) {
    case LearnVerdict::learned:
    case LearnVerdict::refreshed:
    case LearnVerdict::changed:
        return src == ArpSource::request_to_us ? Counter::arp_request_learned : Counter::arp_reply_learned;
    case LearnVerdict::conflict: return Counter::arp_conflict;
    case LearnVerdict::unsolicited:
    case LearnVerdict::busy: return Counter::arp_reply_unsolicited;
    case LearnVerdict::table_full: return Counter::neigh_unresolved_dropped;
    }
    return Counter::arp_reply_unsolicited;
}

// The packets learn() released: set their destination MAC and transmit
// (neigh_held_sent).
struct NeighLearn {
    LearnVerdict verdict;
    std::uint32_t n_held;
    rte_mbuf* held[kHeldPerNeighbour];
};

// What one sweep() slice asks the caller to do.
struct NeighSweep {
    static constexpr std::uint32_t kMaxSlice = 64;
    struct Request {
        std::uint16_t port;
        std::uint32_t ip;  // wire order
    };
    Request requests[kMaxSlice];  // broadcast requests due for incomplete entries (arp_request_sent)
    std::uint32_t n_requests = 0;
    rte_mbuf* dropped[kMaxSlice * kHeldPerNeighbour];  // free them (neigh_unresolved_dropped)
    std::uint32_t n_dropped = 0;
    std::uint32_t failed = 0;   // entries that ran out of probes
    std::uint32_t removed = 0;  // entries expired
};

// A consistent view of one entry (tests, listings).
struct NeighView {
    NeighState state;
    MacAddr mac;
    std::uint32_t probes;
};

class NeighTable4 {
public:
    static constexpr std::uint32_t kMaxProbe = 32;

    // Allocates every entry now; nullptr on bad config or no memory. Control thread.
    static std::unique_ptr<NeighTable4> create(const NeighConfig& config);
    ~NeighTable4();
    NeighTable4(const NeighTable4&) = delete;
    NeighTable4& operator=(const NeighTable4&) = delete;

    // --- worker fast path (any worker, lock-free, no allocation) ---------
    // Next hop `ip` (wire order) on port `port` for packet `m` (non-null):
    // a MAC to transmit to, or `m` is held (the table owns it until learn()
    // or sweep() hands it back), or a drop verdict (`m` stays the caller's).
    NeighResolve resolve(std::uint16_t port, std::uint32_t ip, rte_mbuf* m, std::uint32_t now_ms);

    // (ip, mac) seen in an ARP frame from `src` on `port`, by the policy above.
    NeighLearn learn(std::uint16_t port, std::uint32_t ip, const MacAddr& mac, ArpSource src, std::uint32_t now_ms);

    // Scans the next `budget` (<= kMaxSlice) slots (a shared cursor, so
    // concurrent callers take disjoint slices): incomplete entries get their
    // next request or fail, unused entries expire. Call from end_of_loop.
    void sweep(std::uint32_t budget, std::uint32_t now_ms, NeighSweep& out);

    // --- any thread ---------------------------------------------------------
    // Read-only look at an entry as of now_ms (reachable turns stale with
    // age); state free when absent.
    NeighView lookup(std::uint16_t port, std::uint32_t ip, std::uint32_t now_ms) const;
    std::uint32_t capacity() const { return mask_ + 1; }
    std::uint32_t size() const;  // live entries (a racy count; control thread)
    // Frees nothing: held packets left at destruction are the caller's
    // problem; drain() hands them back first. Control thread, workers stopped.
    std::uint32_t drain(rte_mbuf** out, std::uint32_t cap);

private:
    struct Entry;
    struct Found {
        Entry* e;
        std::uint64_t word;
    };

    explicit NeighTable4(const NeighConfig& c) : cfg_(c) {}
    std::uint32_t home(std::uint64_t key) const;
    Found find(std::uint64_t key) const;
    Found insert(std::uint64_t key, std::uint64_t word, std::uint32_t now_ms, std::uint64_t probe, bool& full,
                 bool& created);
    bool claim_probe(Entry& e, std::uint32_t now_ms);
    std::uint32_t take_held(Entry& e, rte_mbuf** out);
    NeighResolve hold(Entry& e, std::uint64_t word, rte_mbuf* m, ResolveVerdict ok);
    bool remove(Entry& e, std::uint64_t word, NeighSweep& out);

    NeighConfig cfg_;
    Entry* entries_ = nullptr;
    std::uint32_t mask_ = 0;
    alignas(64) std::atomic<std::uint32_t> cursor_{0};  // sweep position, shared by the workers
};

}  // namespace kadp::dp
