// Runs on: worker lcores (NatPipeline's DR and TUN transmit paths); any
// thread in tests.
//
// The packet surgery of IPVS's direct routing and IP-in-IP tunnelling
// (ip_vs_dr_xmit, ip_vs_tunnel_xmit in net/netfilter/ipvs/ip_vs_xmit.c),
// as pure functions on one mbuf, so the pipeline keeps only the decisions
// (route, MTU, counters; xmit_dr_tun.cpp) and tests can check the bytes.
//
// What IPVS does and kadp does the same way:
// * DR: the IP packet is not changed except TTL - 1 and its checksum
//   (__ip_vs_get_out_rt decrements the TTL for every forwarding method since
//   Linux 4.1); the frame goes to the real server's MAC. The route to the
//   server must not need a gateway (IP_VS_RT_MODE_KNOWN_NH).
// * TUN (ipip): inner TTL - 1 (checksum updated), then a 20-byte outer
//   header: TOS = the inner's whole TOS byte (DSCP + ECN), DF = the
//   inner's DF (sysctl pmtu_disc, on by default), TTL = the inner's TTL after
//   the decrement, protocol 4, source = the egress interface's address,
//   destination = the real server. Outer ID: 0 with DF (Linux's
//   ip_select_ident for a DF packet without a socket), else a per-worker
//   counter (Linux hashes a per-destination counter; any value unique per
//   source/destination pair in flight serves reassembly).
// * Too big for the egress MTU (the outer packet for TUN): with DF, ICMP
//   fragmentation needed (type 3 code 4) to the client with next-hop MTU =
//   the egress MTU (TUN: minus 20), and the packet dropped; without DF the
//   packet (TUN: the outer packet) is fragmented (ip_fragment after
//   ip_local_out, skb->ignore_df).
#pragma once

#include <cstdint>

#include "dataplane/packet_parse.h"

struct rte_mbuf;
struct rte_mempool;

namespace kadp::dp {

inline constexpr std::uint16_t kIpipHeaderLen = 20;
inline constexpr std::uint8_t kIpProtoIpip = 4;
// At most this many fragments per packet (a 9000-byte packet over a
// 1280-byte MTU needs 8; a 1500-byte one over the 68-byte minimum 32).
inline constexpr std::uint32_t kMaxFragments = 32;

// Decrements the TTL of the IPv4 header at `ip` (callers dropped TTL <= 1),
// updating its checksum incrementally.
void ipv4_decrement_ttl(std::uint8_t* ip);

// IP-in-IP: decrements the inner TTL and puts a 20-byte outer IPv4 header
// in front of the inner packet (the L2 header moves 20 bytes towards the
// headroom, so meta.l3_off, the VLAN flag and TCI still describe the frame;
// the outer header sits at l3_off, the inner at l3_off + 20). The outer TTL
// is the inner's TTL before the decrement: the forwarding step takes one off
// it. Ethernet padding after the inner packet is cut. False (frame
// unchanged) when the first segment has no 20 bytes of headroom.
bool ipip_encap(rte_mbuf* m, const PacketMeta& meta, std::uint32_t saddr, std::uint32_t daddr, std::uint16_t id);

// Splits the IPv4 packet at l3_off (20-byte header, no options) into
// fragments of at most `mtu` bytes of IP packet: new mbufs from `pool`, each
// with a copy of the frame's L2 header and the IP header (offset, MF, total
// length and checksum set; a fragment of a first fragment keeps MF on its
// last piece), payload in multiples of 8 bytes. Frees `m` and returns the
// count on success; returns 0 and leaves `m` alone when the packet has
// options, needs more than `max_out` (<= kMaxFragments) fragments, a
// fragment does not fit one mbuf, or the pool is empty.
std::uint32_t ipv4_fragment(rte_mbuf* m, std::uint16_t l3_off, std::uint16_t mtu, rte_mempool* pool, rte_mbuf** out,
                            std::uint32_t max_out);

}  // namespace kadp::dp
