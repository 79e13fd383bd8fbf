// Runs on: worker lcores (the first stage of the fast path); any thread in tests.
//
// Parses one Ethernet frame -- the first segment of an mbuf, or a plain
// buffer in tests -- into a PacketMeta: offsets, addresses, ports and flags
// the later stages (ARP, connection lookup, NAT) need, plus a verdict. The
// parser trusts nothing: it never reads past `len`, and every malformation
// has its own verdict (and counter, see counters.h).
//
// What the parser decides:
// * Ethernet II only; an ethertype below 0x0600 (802.3 length/LLC) is not_ip.
// * One 802.1Q tag (TPID 0x8100) is parsed and its TCI kept. QinQ is
//   rejected as `vlan_qinq`: an outer 0x88a8 tag, or a 0x8100 tag followed by
//   another 0x8100/0x88a8. kadp has no use for stacked tags, and passing
//   them on with the inner tag unparsed would hide the real ethertype.
// * IPv4 lengths: the IPv4 total length wins over the frame length, so
//   Ethernet padding is ignored. A total length shorter than 20 or longer
//   than what the frame holds is `bad_total_length` (so a frame cut after
//   the first 20 bytes of its IPv4 header reports bad_total_length; a frame
//   cut earlier reports truncated_l2 / truncated_l3). IHL < 5 or IHL * 4 >
//   total length is `bad_ihl`. Everything after that is read only within
//   the total length, so the L4 checks see the datagram, not the frame.
// * Fragments: ports, TCP flags and ICMP fields live only in the first
//   fragment (offset 0); a first fragment parses like a whole datagram and
//   carries kPmFragment. A later fragment (offset != 0) gets
//   `ok_ipv4_fragment`: L3 fields and l4_off are set, ports are 0, and the
//   worker must not look up a flow by it.
// * TCP: data offset < 5 or beyond the IPv4 payload is `bad_tcp_doff`.
//   UDP: a length field < 8 or beyond the IPv4 payload is `bad_udp_length`
//   (a shorter UDP length than the payload is allowed; l4_len keeps the IPv4
//   payload length, the UDP length is at l4_off + 4). In a first fragment
//   the UDP length describes the whole datagram and may exceed l4_len.
// * ARP: Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4) requests and
//   replies only; anything else (RARP, InARP, other hardware) is `bad_arp`.
// * IPv6: the fixed header is checked (version, payload length within the
//   frame) and reported as ok_ipv6 with l3_proto = the first next-header;
//   extension headers are not walked and l4_off stays 0 until NAT66 lands.
// * Checksums are not verified here; verify_ipv4_header() / verify_l4()
//   do: the pipeline checks every IPv4 header, and the L4 checksum of what
//   it answers itself (docs/dataplane.md, Hostile input).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kadp::dp {

// X(verdict, counter, help): every verdict names the per-worker counter the
// worker bumps for it (counters.h builds the mapping from this list, so a
// verdict without a counter does not compile). ok_* verdicts come first.
#define KADP_PARSE_VERDICTS(X)                                                                  \
    X(ok_ipv4_tcp, rx_ipv4_tcp, "IPv4 TCP, first fragment or whole datagram")                   \
    X(ok_ipv4_udp, rx_ipv4_udp, "IPv4 UDP, first fragment or whole datagram")                   \
    X(ok_ipv4_icmp, rx_ipv4_icmp, "IPv4 ICMP, first fragment or whole datagram")                \
    X(ok_ipv4_other, rx_ipv4_other, "IPv4 with another protocol (VRRP, GRE, IPIP, ...)")        \
    X(ok_ipv4_fragment, rx_ipv4_fragment, "IPv4 fragment with offset != 0: no L4 header")       \
    X(ok_arp, rx_arp, "ARP request or reply for Ethernet/IPv4")                                 \
    X(ok_ipv6, rx_ipv6, "IPv6 (fixed header checked only; not handled yet)")                    \
    X(not_ip, rx_not_ip, "another ethertype (LLDP, 802.3/LLC, ...)")                            \
    X(vlan_qinq, drop_vlan_qinq, "stacked VLAN tags (QinQ): not supported")                     \
    X(truncated_l2, drop_truncated_l2, "frame shorter than its Ethernet (+VLAN) header")        \
    X(truncated_l3, drop_truncated_l3, "frame shorter than the fixed IPv4/IPv6/ARP header")     \
    X(truncated_l4, drop_truncated_l4, "IPv4 payload shorter than the TCP/UDP/ICMP header")     \
    X(bad_ip_version, drop_bad_ip_version, "IP version does not match the ethertype")           \
    X(bad_ihl, drop_bad_ihl, "IPv4 IHL < 5 or longer than the total length")                    \
    X(bad_total_length, drop_bad_total_length, "IP length shorter than the header or longer than the frame") \
    X(bad_tcp_doff, drop_bad_tcp_doff, "TCP data offset < 5 or beyond the IPv4 payload")        \
    X(bad_udp_length, drop_bad_udp_length, "UDP length < 8 or beyond the IPv4 payload")         \
    X(bad_arp, drop_bad_arp, "ARP that is not an Ethernet/IPv4 request or reply")

enum class ParseVerdict : std::uint8_t {
#define KADP_X(verdict, counter, help) verdict,
    KADP_PARSE_VERDICTS(KADP_X)
#undef KADP_X
};

inline constexpr std::size_t kParseVerdictCount = 0
#define KADP_X(verdict, counter, help) +1
    KADP_PARSE_VERDICTS(KADP_X)
#undef KADP_X
    ;

// True for the verdicts whose PacketMeta the worker may use.
constexpr bool parse_ok(ParseVerdict v) { return v <= ParseVerdict::ok_ipv6; }
// True for malformed frames (counted and dropped, never trusted).
constexpr bool parse_malformed(ParseVerdict v) { return v >= ParseVerdict::truncated_l2; }

std::string_view parse_verdict_name(ParseVerdict v);

// PacketMeta::flags
inline constexpr std::uint8_t kPmVlan = 0x01;           // one 802.1Q tag; vlan_tci valid
inline constexpr std::uint8_t kPmIpOptions = 0x02;      // IPv4 IHL > 5
inline constexpr std::uint8_t kPmFragment = 0x04;       // IPv4 MF set or offset != 0
inline constexpr std::uint8_t kPmDontFragment = 0x08;   // IPv4 DF
inline constexpr std::uint8_t kPmMoreFragments = 0x10;  // IPv4 MF
inline constexpr std::uint8_t kPmPadded = 0x20;         // frame longer than the L3 packet (Ethernet padding)

inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeArp = 0x0806;
inline constexpr std::uint16_t kEtherTypeVlan = 0x8100;
inline constexpr std::uint16_t kEtherTypeQinq = 0x88a8;
inline constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;
inline constexpr std::uint16_t kArpOpRequest = 1;
inline constexpr std::uint16_t kArpOpReply = 2;

inline constexpr std::uint8_t kTcpFin = 0x01;
inline constexpr std::uint8_t kTcpSyn = 0x02;
inline constexpr std::uint8_t kTcpRst = 0x04;
inline constexpr std::uint8_t kTcpPsh = 0x08;
inline constexpr std::uint8_t kTcpAck = 0x10;
inline constexpr std::uint8_t kTcpUrg = 0x20;

// Written by parse_frame() on the worker that received the frame; read by the
// same worker's later stages. Fields that do not apply to the verdict are 0;
// after a malformation verdict only the fields parsed before it are set.
// Wire-order fields (addresses, ports, icmp_id) go straight into FlowKey4
// and the checksum helpers; host-order fields are numbers to compare.
struct PacketMeta {
    std::uint16_t l2_off;     // Ethernet header (0: the frame starts at data)
    std::uint16_t l3_off;     // IPv4/IPv6/ARP header: 14, or 18 with a VLAN tag
    std::uint16_t l4_off;     // TCP/UDP/ICMP/other payload of IPv4 (l3_off + l3_hlen)
    std::uint16_t l3_len;     // IPv4 total length, IPv6 40 + payload length, ARP 28 (host)
    std::uint16_t l4_len;     // IPv4 payload bytes (l3_len - l3_hlen), in this fragment (host)
    std::uint16_t ethertype;  // after the VLAN tag (host)
    std::uint16_t vlan_tci;   // PCP/DEI/VID of the 802.1Q tag when kPmVlan (host)
    std::uint16_t frag_off;   // IPv4 fragment offset in bytes (host)
    std::uint16_t sport;      // TCP/UDP source port (wire)
    std::uint16_t dport;      // TCP/UDP destination port (wire)
    std::uint16_t icmp_id;    // ICMP echo request/reply identifier (wire)
    std::uint16_t arp_op;     // ARP opcode (host)
    std::uint32_t saddr;      // IPv4 source (wire)
    std::uint32_t daddr;      // IPv4 destination (wire)
    std::uint32_t arp_spa;    // ARP sender protocol address (wire)
    std::uint32_t arp_tpa;    // ARP target protocol address (wire)
    std::uint8_t arp_sha[6];  // ARP sender hardware address
    std::uint8_t arp_tha[6];  // ARP target hardware address
    std::uint8_t l3_proto;    // IPv4 protocol / IPv6 next header
    std::uint8_t l3_hlen;     // IPv4 IHL * 4, IPv6 40, ARP 28
    std::uint8_t l4_hlen;     // TCP data offset * 4, UDP 8, ICMP 8
    std::uint8_t ttl;         // IPv4 TTL / IPv6 hop limit
    std::uint8_t tcp_flags;   // kTcpFin..., plus ECE 0x40 / CWR 0x80
    std::uint8_t icmp_type;
    std::uint8_t icmp_code;
    std::uint8_t flags;       // kPm*
};
static_assert(sizeof(PacketMeta) <= 64, "PacketMeta fits one cache line");

// Parses the frame data[0, len) into meta (every field written). Never reads
// outside data[0, len). No allocation, no exceptions; any thread.
ParseVerdict parse_frame(const std::uint8_t* data, std::uint16_t len, PacketMeta& meta);

enum class CsumCheck : std::uint8_t {
    ok,
    bad,
    not_checked,  // nothing to verify: not IPv4, a later fragment, UDP checksum 0, ...
};

// Verifies the IPv4 header checksum of a frame parse_frame() accepted.
CsumCheck verify_ipv4_header(const std::uint8_t* data, const PacketMeta& meta);
// Verifies the TCP/UDP/ICMP checksum of a whole (unfragmented) IPv4
// datagram parse_frame() accepted; fragments are not_checked (the checksum
// covers the reassembled datagram).
CsumCheck verify_l4(const std::uint8_t* data, const PacketMeta& meta);

}  // namespace kadp::dp
