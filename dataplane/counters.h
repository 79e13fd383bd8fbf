// Runs on: worker lcores (each bumps its own WorkerCounters) and the control
// thread (reads and sums them for kadpctl / metrics).
//
// Every outcome of the data plane is one named per-worker counter, declared
// once in KADP_COUNTERS below (name + one-line help); the enum, the names and
// the help texts are generated from that list. The fast path never logs: a
// counter is how an operator sees what happened to a packet.
//
// Concurrency: a WorkerCounters is written by exactly one worker and read
// racily by the control thread. Values are std::atomic<uint64_t> updated
// with a relaxed load + relaxed store -- on x86-64 plain movs, no locked
// instruction -- which is correct because there is a single writer; the
// atomics only make the concurrent reads well defined (aligned 64-bit loads
// are atomic on x86-64, and the type says so to the compiler and TSAN).
// A reader sees each counter's value at some recent instant, not a
// consistent snapshot across counters (tx_packets may briefly exceed
// rx_packets' contribution). Nobody but the owner writes: the control
// thread never resets a running worker's counters (it would race with the
// owner's load+store and be lost); it keeps a baseline instead.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/packet_parse.h"

namespace kadp::dp {

// X(name, help). Grouped by stage, in packet-path order.
#define KADP_COUNTERS(X)                                                                                        \
    /* rx / tx */                                                                                              \
    X(rx_packets, "frames received")                                                                          \
    X(rx_bytes, "bytes received (whole frames)")                                                              \
    X(tx_packets, "frames handed to a TX queue")                                                              \
    X(tx_bytes, "bytes handed to a TX queue")                                                                 \
    X(tx_full_drop, "frames dropped because the TX queue was full")                                           \
    X(mbuf_alloc_fail, "replies not built (RST, ICMP, ARP request): mbuf pool empty")                         \
    /* parse verdicts (see KADP_PARSE_VERDICTS in packet_parse.h) */                                           \
    X(rx_ipv4_tcp, "IPv4 TCP received (whole datagram or first fragment)")                                    \
    X(rx_ipv4_udp, "IPv4 UDP received (whole datagram or first fragment)")                                    \
    X(rx_ipv4_icmp, "IPv4 ICMP received (whole datagram or first fragment)")                                  \
    X(rx_ipv4_other, "IPv4 with another protocol received (VRRP, GRE, IPIP, ...)")                            \
    X(rx_ipv4_fragment, "IPv4 fragments with offset != 0 received (no L4 header)")                            \
    X(rx_arp, "ARP requests and replies received")                                                            \
    X(rx_ipv6, "IPv6 received")                                                                               \
    X(rx_not_ip, "frames with another ethertype received (LLDP, 802.3/LLC, ...)")                             \
    X(drop_vlan_qinq, "stacked VLAN tags (QinQ): dropped, not supported")                                     \
    X(drop_truncated_l2, "dropped: frame shorter than its Ethernet (+VLAN) header")                           \
    X(drop_truncated_l3, "dropped: frame shorter than the fixed IPv4/IPv6/ARP header")                        \
    X(drop_truncated_l4, "dropped: IPv4 payload shorter than the TCP/UDP/ICMP header")                        \
    X(drop_bad_ip_version, "dropped: IP version does not match the ethertype")                                \
    X(drop_bad_ihl, "dropped: IPv4 IHL < 5 or longer than the total length")                                  \
    X(drop_bad_total_length, "dropped: IP length shorter than its header or longer than the frame")          \
    X(drop_bad_tcp_doff, "dropped: TCP data offset < 5 or beyond the IPv4 payload")                           \
    X(drop_bad_udp_length, "dropped: UDP length < 8 or beyond the IPv4 payload")                              \
    X(drop_bad_arp, "dropped: ARP that is not an Ethernet/IPv4 request or reply")                             \
    X(drop_bad_ip_checksum, "dropped: bad IPv4 header checksum (always verified, RFC 1812 5.2.2)")            \
    X(drop_bad_l4_checksum, "dropped: bad TCP/UDP/ICMP checksum on what kadp answers (forwarded: not verified)") \
    /* what the worker does with what it parsed */                                                             \
    X(vlan_passed, "802.1Q frames of a configured VLAN, handled with their tag kept")                         \
    X(vlan_priority_tagged, "802.1p priority-tagged frames (VID 0) on an untagged port, handled as untagged") \
    X(drop_vlan_unknown, "dropped: 802.1Q frames for a VLAN not configured on the port")                      \
    X(drop_not_ip, "dropped: another ethertype and no exception port to pass it to")                        \
    X(drop_ipv6, "dropped: IPv6 not handled yet and no exception port")                                       \
    X(drop_ipv4_fragment, "dropped: IPv4 fragments for a port address (no exception port) or an ICMP echo") \
    X(drop_martian_source, "dropped: a new flow to a VIP from 0/8, 127/8, 224/3 or our own address (a martian)") \
    X(not_for_us, "dropped: IPv4 for an address this node does not own")                                      \
    X(garp_sent, "gratuitous ARPs sent for a VIP this node took over (control thread's command)")               \
    X(event_queue_full, "alarm reports to the control thread delayed: its event queue was full")                \
    X(vip_not_owned, "dropped: a new flow to a service whose VIP this node does not own now (VRRP backup)")    \
    /* exception path (the kernel's TAPs, exception_path.h) */                                                 \
    X(exception_to_kernel, "frames for the appliance itself queued for the kernel (exception TAP)")           \
    X(exception_vrrp_to_kernel, "of those, VRRP adverts (IP protocol 112)")                                   \
    X(exception_arp_to_kernel, "of those, ARP replies and gratuitous ARPs (the kernel resolves its neighbours too)") \
    X(exception_ring_full, "dropped: the worker's ring towards the exception TAPs was full")                  \
    X(exception_tap_sent, "frames written to an exception TAP (service worker)")                              \
    X(exception_tap_full, "dropped: an exception TAP refused a frame (kernel queue full)")                    \
    X(exception_from_kernel, "frames the kernel sent on an exception TAP, transmitted on its port")           \
    X(exception_from_kernel_drop, "dropped: frames from the kernel that the port's TX queue or ring refused") \
    /* ARP */                                                                                                  \
    X(arp_request_answered, "ARP requests for an owned VIP or port address answered")                         \
    X(arp_request_not_ours, "ARP requests for an address this node does not own, ignored")                    \
    X(arp_request_learned, "neighbours learned or refreshed from requests addressed to us")                  \
    X(arp_request_offlink, "ARP requests to us answered, their sender not learned: not on a connected prefix of the port") \
    X(arp_reply_learned, "neighbours learned or refreshed from ARP replies (gratuitous included)")            \
    X(arp_reply_unsolicited, "ARP replies for an address we never asked about, ignored")                      \
    X(arp_conflict, "ARP claiming our address, or a refused MAC change of a fresh neighbour")                \
    X(arp_bad_sender, "dropped: ARP with a broadcast, multicast or zero sender MAC (never answered, never learned)") \
    X(arp_request_sent, "ARP requests sent to resolve a next hop")                                            \
    X(arp_gratuitous_sent, "gratuitous ARPs sent for a VIP this node took over")                              \
    /* ICMP */                                                                                                 \
    X(icmp_echo_answered, "ICMP echo requests to an owned address answered")                                  \
    X(icmp_error_nat, "ICMP errors about a NAT connection, rewritten and forwarded (icmp_error.h)")           \
    X(icmp_error_forwarded, "ICMP errors about a DR/TUN connection, forwarded unchanged to its real server")   \
    X(icmp_error_no_conn, "dropped: ICMP errors quoting no known connection")                                 \
    X(icmp_error_bad_quote, "dropped: ICMP errors quoting < IP header + 8 bytes, a later fragment, or fragmented") \
    X(icmp_error_bad_checksum, "dropped: ICMP errors (unreach, quench, time exceeded) with a bad ICMP checksum") \
    X(icmp_error_not_related, "dropped: redirect / parameter problem not for us (IPVS relates only unreach, quench, time exceeded)") \
    /* IPv4 fragments (frag_table.h) */                                                                        \
    X(frag_first_tracked, "first fragments of a connection's datagram: rewrite recorded for the later ones")  \
    X(frag_forwarded, "later fragments forwarded with their first fragment's rewrite")                        \
    X(frag_datagram_done, "fragmented datagrams whose fragments all passed (tracking entry freed)")           \
    X(frag_held, "later fragments held until their first fragment arrives")                                  \
    X(frag_held_sent, "held fragments forwarded once their first fragment arrived")                           \
    X(frag_held_dropped, "dropped: held fragments whose first never came (entry expired or evicted)")         \
    X(frag_hold_full, "dropped: later fragments without their first and no room to hold them")               \
    X(frag_oversized, "dropped: fragments ending beyond 65535 or contradicting their datagram's length")      \
    X(frag_malformed, "dropped: non-last fragments empty or not a multiple of 8, TCP at offset 8 (RFC 1858)") \
    X(frag_evicted, "fragment-tracking entries evicted early (their set was full)")                            \
    X(frag_expired, "fragment-tracking entries expired before their datagram was complete")                   \
    /* routing and neighbours */                                                                               \
    X(route_miss, "dropped: no route to the real server or next hop")                                         \
    X(drop_ttl_exceeded, "dropped unanswered: TTL 1 or 0 on a packet to forward that is a fragment or from an unanswerable source") \
    X(ttl_exceeded_icmp, "dropped: TTL 1 or 0 on a packet to forward; ICMP time exceeded sent to its source (IPVS's decrement_ttl)") \
    X(neigh_unresolved_held, "packets held while the next hop's MAC is resolved")                             \
    X(neigh_unresolved_dropped, "dropped: next hop unresolved and hold queue full or timed out")              \
    X(neigh_held_sent, "held packets sent once their next hop resolved")                                      \
    X(neigh_memo_hit, "next hops resolved from the burst's memo, without a neighbour-table lookup")           \
    /* connection table */                                                                                     \
    X(conn_new, "connections created")                                                                        \
    X(conn_table_full, "dropped: new connection with no free entry in the connection table")                  \
    X(conn_bucket_full, "dropped: new connection whose index buckets are both full")                          \
    X(conn_hit_in, "packets matching a connection in the client -> service direction")                        \
    X(conn_hit_out, "packets matching a connection in the real server -> client direction")                   \
    X(conn_not_syn, "dropped: TCP without SYN for a service and no connection")                               \
    X(conn_expired, "connections removed by the expiry sweep")                                                \
    X(conn_reset, "connections closed early by an RST")                                                       \
    X(conn_reused, "TCP SYNs on a TIME_WAIT/CLOSE connection of the same ports: old one removed, SYN scheduled anew") \
    X(conn_evicted_half_open, "half-open TCP connections removed early by the SYN-flood defense (not in conn_expired)") \
    X(conn_defense_raised, "times this worker's SYN-flood defense level went up (table occupancy crossed a mark)") \
    X(conn_defense_level, "gauge, not a count: this worker's SYN-flood defense level now (0 off, 1, 2), summed over workers") \
    /* services and schedulers */                                                                              \
    X(sched_no_dest, "dropped: no available real server (weight 0, overloaded, or the hashed one)")           \
    X(persist_template_new, "persistence templates created")                                                  \
    X(persist_template_hit, "new connections sent to a real server by a persistence template")               \
    X(persist_template_replaced, "persistence templates whose real server left the service, given a new one")  \
    X(persist_template_race_lost, "persistence templates another worker created at the same moment (theirs used)") \
    X(persist_template_expired, "persistence templates removed by the expiry sweep (also in conn_expired)")   \
    X(no_service_rst, "TCP to a VIP on a port with no service: RST sent")                                     \
    X(no_service_icmp_unreach, "UDP to a VIP on a port with no service: ICMP port unreachable sent")          \
    X(icmp_error_rate_limited, "dropped unanswered: an ICMP error kadp would send (port unreachable, time exceeded) over the worker's rate limit") \
    X(no_service_dropped, "dropped unanswered: an RST, or from a broadcast/multicast source, to a VIP port with no service") \
    /* forwarding */                                                                                           \
    X(nat_in, "packets rewritten client -> real server (destination NAT)")                                    \
    X(nat_out, "replies rewritten real server -> client (source back to the VIP)")                            \
    X(nat_reply_no_conn, "dropped: from a real server address and port with no connection")                   \
    X(xmit_dr, "packets forwarded by direct routing (MAC rewrite)")                                           \
    X(xmit_tun, "packets forwarded IP-in-IP encapsulated")                                                    \
    X(dr_not_on_link, "dropped: DR real server not on a connected network (its route has a gateway)")       \
    X(tun_no_source, "dropped: TUN egress interface without an IPv4 address for the outer source")           \
    X(tun_no_headroom, "dropped: no mbuf headroom for the outer IPv4 header of a TUN packet")                \
    X(frag_needed_sent, "dropped, ICMP fragmentation needed sent: too big for the egress MTU with DF")        \
    X(drop_too_big, "dropped: too big for the egress MTU with DF, no ICMP (unanswerable source)")            \
    X(fragmented, "packets too big for the egress MTU without DF, sent as fragments (TUN: outer; NAT: after the rewrite)") \
    X(frag_failed, "dropped: too big for the egress MTU without DF and not fragmented (options, no mbuf)")

enum class Counter : std::uint16_t {
#define KADP_X(name, help) name,
    KADP_COUNTERS(KADP_X)
#undef KADP_X
};

inline constexpr std::size_t kCounterCount = 0
#define KADP_X(name, help) +1
    KADP_COUNTERS(KADP_X)
#undef KADP_X
    ;

namespace detail {
inline constexpr std::array<std::string_view, kCounterCount> kCounterNames = {
#define KADP_X(name, help) #name,
    KADP_COUNTERS(KADP_X)
#undef KADP_X
};
inline constexpr std::array<std::string_view, kCounterCount> kCounterHelp = {
#define KADP_X(name, help) help,
    KADP_COUNTERS(KADP_X)
#undef KADP_X
};
}  // namespace detail

// Name / help of counter `index` (a Counter value); empty when out of range.
constexpr std::string_view counter_name(std::size_t index) {
    return index < kCounterCount ? detail::kCounterNames[index] : std::string_view{};
}
constexpr std::string_view counter_name(Counter c) { return counter_name(static_cast<std::size_t>(c)); }
constexpr std::string_view counter_help(std::size_t index) {
    return index < kCounterCount ? detail::kCounterHelp[index] : std::string_view{};
}

// The counter a worker bumps for a parse verdict, generated from
// KADP_PARSE_VERDICTS: a verdict naming a counter that does not exist here
// fails to compile.
constexpr Counter parse_verdict_counter(ParseVerdict v) {
    switch (v) {
#define KADP_X(verdict, counter, help) \
    case ParseVerdict::verdict:        \
        return Counter::counter;
        KADP_PARSE_VERDICTS(KADP_X)
#undef KADP_X
    }
    return Counter::rx_not_ip;  // unreachable for a valid verdict
}

inline constexpr std::size_t kCacheLine = 64;

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

// One worker's counters. Written only by that worker; read by the control
// thread (see the contract at the top). Cache-line aligned and padded so
// workers' blocks, allocated side by side, never share a line.
class alignas(kCacheLine) WorkerCounters {
public:
    // Owner only. Single writer: load + store, no read-modify-write lock.
    void add(Counter c, std::uint64_t n = 1) {
        std::atomic<std::uint64_t>& v = values_[static_cast<std::size_t>(c)];
        v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void inc(Counter c) { add(c, 1); }

    // Any thread.
    [[nodiscard]] std::uint64_t get(Counter c) const { return get(static_cast<std::size_t>(c)); }
    [[nodiscard]] std::uint64_t get(std::size_t index) const {
        return values_[index].load(std::memory_order_relaxed);
    }

    // Only while the owning worker is not running (start-up, tests).
    void clear() {
        for (auto& v : values_) {
            v.store(0, std::memory_order_relaxed);
        }
    }

private:
    std::array<std::atomic<std::uint64_t>, kCounterCount> values_{};
};
static_assert(sizeof(WorkerCounters) % kCacheLine == 0);

using CounterTotals = std::array<std::uint64_t, kCounterCount>;

// Sums of every counter over several workers; control thread.
inline CounterTotals sum_counters(std::span<const WorkerCounters> workers) {
    CounterTotals totals{};
    for (const WorkerCounters& w : workers) {
        for (std::size_t i = 0; i < kCounterCount; ++i) {
            totals[i] += w.get(i);
        }
    }
    return totals;
}
inline CounterTotals sum_counters(std::span<const WorkerCounters* const> workers) {
    CounterTotals totals{};
    for (const WorkerCounters* w : workers) {
        for (std::size_t i = 0; i < kCounterCount; ++i) {
            totals[i] += w->get(i);
        }
    }
    return totals;
}
inline std::uint64_t sum_counter(std::span<const WorkerCounters> workers, Counter c) {
    std::uint64_t total = 0;
    for (const WorkerCounters& w : workers) {
        total += w.get(c);
    }
    return total;
}

}  // namespace kadp::dp
