// Runs on: worker lcores (answering, classifying, building requests); the
// control thread may build gratuitous ARPs with the same functions.
//
// ARP frames over raw bytes -- so tests need no mbufs -- plus thin mbuf
// wrappers. Nothing here is shared: every function works on the frame it is
// given. No allocation except the explicit mbuf allocators, no logging; every
// outcome is an ArpRx / length the caller maps to a counter.
//
// Built frames: Ethernet II, an optional 802.1Q tag, the 28-byte ARP body,
// zero-padded to 60 bytes (the Ethernet minimum without FCS) because not
// every PMD pads runts (af_packet on a veth does not). The gratuitous ARP is
// what keepalived sends: a broadcast request with sender = target = the
// address and target hardware ff:ff:ff:ff:ff:ff.
//
// Byte order: IPv4 addresses are wire order in a uint32_t (checksum.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dataplane/neigh_table.h"
#include "dataplane/packet_parse.h"

struct rte_mbuf;
struct rte_mempool;

namespace kadp::dp {

inline constexpr std::size_t kArpFrameMin = 60;
inline constexpr MacAddr kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// Where an ARP frame leaves from.
struct ArpIface {
    MacAddr mac{};
    std::uint32_t ip = 0;       // wire order; the sender address of requests
    std::uint16_t vlan_tci = 0;  // host order; used when `tagged`
    bool tagged = false;
};

// Writes an ARP request for `target_ip` into buf: broadcast, or unicast to
// `*unicast_to` (the re-probe of a stale neighbour). Returns the frame length
// (60), 0 when cap is too small.
std::size_t build_arp_request(std::uint8_t* buf, std::size_t cap, const ArpIface& ifc, std::uint32_t target_ip,
                              const MacAddr* unicast_to = nullptr);
// Gratuitous ARP for `ip` (a VIP this node took over) from ifc's MAC.
std::size_t build_gratuitous_arp(std::uint8_t* buf, std::size_t cap, const ArpIface& ifc, std::uint32_t ip);

// What a received ARP frame (parse_frame said ok_arp) is, and what to do.
enum class ArpRx : std::uint8_t {
    request_answered,  // request for an address we answer for: now a reply, transmit it back (arp_request_answered)
    request_not_ours,  // request for someone else: drop (arp_request_not_ours)
    gratuitous,        // sender == target address, not ours: learn as ArpSource::gratuitous, drop
    reply,             // learn as ArpSource::reply, drop
    conflict,          // another MAC claims an address we answer for: drop (arp_conflict)
    bad_sender,        // broadcast, multicast or zero sender MAC: drop, never answered or learned (arp_bad_sender)
};

// The counter the frame itself bumps; false for gratuitous / reply, whose
// counter is the learn verdict's (learn_counter in neigh_table.h).
constexpr bool arp_rx_counter(ArpRx v, Counter& c)
{
    switch (v) {
    case ArpRx::request_answered: c = Counter::arp_request_answered; return true;
    case ArpRx::request_not_ours: c = Counter::arp_request_not_ours; return true;
    case ArpRx::conflict: c = Counter::arp_conflict; return true;
    case ArpRx::bad_sender: c = Counter::arp_bad_sender; return true;
    case ArpRx::gratuitous:
    case ArpRx::reply: return false;
    }
    return false;
}

// Rewrites a request into its reply in place (RFC 826): Ethernet
// destination = the requester's sender MAC, source = our_mac; op 2; sender =
// (our_mac, requested address); target = the requester. The 802.1Q tag and
// the frame length (padding) stay as they were. Requires parse_frame's ok_arp
// meta for these bytes.
void arp_reply_in_place(std::uint8_t* frame, const PacketMeta& meta, const MacAddr& our_mac);

// Classifies an ARP frame and answers it when it should be answered.
// answer_for(ip) -> bool: the port's own addresses and the VIPs the
// snapshot says this node owns on that port (a predicate, not a global).
// When the result is request_answered / gratuitous / reply and
// *learn_sender is set, the caller passes (meta.arp_spa, meta.arp_sha) to
// NeighTable4::learn with arp_learn_source(result). A sender address of
// 0.0.0.0 (RFC 5227 probe) is answered but never learned. A sender MAC that
// is not a station's (broadcast, multicast, all zero) is bad_sender: a
// neighbour entry with it would flood or blackhole the traffic sent to it.
template <class AnswerFor>
ArpRx arp_input(std::uint8_t* frame, const PacketMeta& meta, const MacAddr& our_mac, AnswerFor&& answer_for,
                bool* learn_sender)
{
    const bool from_us = std::memcmp(meta.arp_sha, our_mac.data(), 6) == 0;
    *learn_sender = false;
    static constexpr std::uint8_t kZeroMac[6] = {};
    if ((meta.arp_sha[0] & 0x01) != 0 || std::memcmp(meta.arp_sha, kZeroMac, 6) == 0) return ArpRx::bad_sender;
    if (meta.arp_spa != 0 && !from_us && answer_for(meta.arp_spa)) return ArpRx::conflict;
    if (meta.arp_spa == meta.arp_tpa) {
        *learn_sender = meta.arp_spa != 0 && !from_us;
        return ArpRx::gratuitous;
    }
    if (meta.arp_op == kArpOpReply) {
        *learn_sender = meta.arp_spa != 0 && !from_us;
        return ArpRx::reply;
    }
    if (from_us || !answer_for(meta.arp_tpa)) return ArpRx::request_not_ours;
    *learn_sender = meta.arp_spa != 0;
    arp_reply_in_place(frame, meta, our_mac);
    return ArpRx::request_answered;
}

constexpr ArpSource arp_learn_source(ArpRx v)
{
    return v == ArpRx::request_answered ? ArpSource::request_to_us
           : v == ArpRx::gratuitous     ? ArpSource::gratuitous
                                        : ArpSource::reply;
}

inline MacAddr arp_sender_mac(const PacketMeta& meta)
{
    MacAddr m;
    std::memcpy(m.data(), meta.arp_sha, 6);
    return m;
}

// --- mbuf wrappers ------------------------------------------------------------
// The first segment's data; the frame must be contiguous there (ARP always is).
template <class AnswerFor>
ArpRx arp_input_mbuf(rte_mbuf* m, const PacketMeta& meta, const MacAddr& our_mac, AnswerFor&& answer_for,
                     bool* learn_sender);
std::uint8_t* mbuf_frame(rte_mbuf* m);
// A new mbuf from `pool` holding the request / gratuitous ARP; nullptr when
// the pool is empty (mbuf_alloc_fail). Needs an initialised EAL.
rte_mbuf* alloc_arp_request(rte_mempool* pool, const ArpIface& ifc, std::uint32_t target_ip,
                            const MacAddr* unicast_to = nullptr);
rte_mbuf* alloc_gratuitous_arp(rte_mempool* pool, const ArpIface& ifc, std::uint32_t ip);

template <class AnswerFor>
ArpRx arp_input_mbuf(rte_mbuf* m, const PacketMeta& meta, const MacAddr& our_mac, AnswerFor&& answer_for,
                     bool* learn_sender)
{
    return arp_input(mbuf_frame(m), meta, our_mac, answer_for, learn_sender);
}

}  // namespace kadp::dp
