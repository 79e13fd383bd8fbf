// Runs on: worker lcores; any thread in tests.
#include "dataplane/icmp_error.h"

#include "dataplane/checksum.h"

namespace kadp::dp {
namespace {

constexpr std::uint16_t kIcmpHlen = 8;
constexpr std::uint16_t kPortsQuoted = 8;      // RFC 792: the IP header + 64 bits
constexpr std::uint16_t kTcpCheckEnd = 18;     // the TCP checksum's last byte + 1
constexpr std::uint16_t kIpFragOffsetMask = 0x1fff;

}  // namespace

IcmpQuoteVerdict parse_icmp_quote(const std::uint8_t* frame, const PacketMeta& meta, IcmpQuote& q)
{
    if ((meta.flags & kPmFragment) != 0) return IcmpQuoteVerdict::fragmented;
    const std::uint8_t* icmp = frame + meta.l4_off;
    if (!l4_checksum_ok(0, icmp, meta.l4_len)) return IcmpQuoteVerdict::bad_checksum;
    // Everything below reads within [l4_off, l4_off + l4_len), which
    // parse_frame bounded by the IPv4 total length and the frame.
    if (meta.l4_len < kIcmpHlen + 20) return IcmpQuoteVerdict::truncated;
    const std::uint8_t* ip = icmp + kIcmpHlen;
    const auto avail = static_cast<std::uint16_t>(meta.l4_len - kIcmpHlen);
    const auto hlen = static_cast<std::uint16_t>((ip[0] & 0x0f) * 4);
    if ((ip[0] >> 4) != 4 || hlen < 20 || hlen + kPortsQuoted > avail) return IcmpQuoteVerdict::truncated;
    if ((load_be16(ip + 6) & kIpFragOffsetMask) != 0) return IcmpQuoteVerdict::not_first;
    q.proto = ip[9];
    if (q.proto != kIpProtoTcp && q.proto != kIpProtoUdp) return IcmpQuoteVerdict::other_proto;
    q.ip_off = static_cast<std::uint16_t>(meta.l4_off + kIcmpHlen);
    q.l4_off = static_cast<std::uint16_t>(q.ip_off + hlen);
    q.l4_quoted = static_cast<std::uint16_t>(avail - hlen);
    q.saddr = load32(ip + 12);
    q.daddr = load32(ip + 16);
    q.sport = load16(ip + hlen);
    q.dport = load16(ip + hlen + 2);
    return IcmpQuoteVerdict::ok;
}

void icmp_error_rewrite(std::uint8_t* frame, const PacketMeta& meta, const IcmpQuote& q, IcmpToward toward,
                        std::uint32_t addr, std::uint16_t port)
{
    const bool to_server = toward == IcmpToward::real_server;
    // Outer header: the destination (to the server) or source (to the client).
    std::uint8_t* ip = frame + meta.l3_off;
    const std::size_t outer_field = to_server ? 16 : 12;
    const std::uint32_t outer_old = load32(ip + outer_field);
    store16(ip + kIpv4CheckOffset, csum_apply(load16(ip + kIpv4CheckOffset), csum_delta4(outer_old, addr)));
    store32(ip + outer_field, addr);
    // Quoted header: its source (to the server) or destination (to the client).
    std::uint8_t* qip = frame + q.ip_off;
    std::uint8_t* ql4 = frame + q.l4_off;
    const std::size_t inner_field = to_server ? 12 : 16;
    const std::size_t port_field = to_server ? 0 : 2;
    const std::uint32_t inner_old = load32(qip + inner_field);
    const std::uint16_t port_old = load16(ql4 + port_field);
    const CsumDelta d_addr = csum_delta4(inner_old, addr);
    store16(qip + kIpv4CheckOffset, csum_apply(load16(qip + kIpv4CheckOffset), d_addr));
    store32(qip + inner_field, addr);
    // The quoted TCP/UDP checksum covers the pseudo-header's address and
    // the port: updated as NAT would have, when the quote holds it.
    const CsumDelta d_l4 = d_addr + csum_delta2(port_old, port);
    if (q.proto == kIpProtoUdp) {
        store16(ql4 + kUdpCheckOffset, udp_csum_apply(load16(ql4 + kUdpCheckOffset), d_l4));
    } else if (q.l4_quoted >= kTcpCheckEnd) {
        store16(ql4 + kTcpCheckOffset, csum_apply(load16(ql4 + kTcpCheckOffset), d_l4));
    }
    store16(ql4 + port_field, port);
    // The ICMP checksum covers the whole message: recomputed.
    std::uint8_t* icmp = frame + meta.l4_off;
    store16(icmp + kIcmpCheckOffset, icmp4_checksum(icmp, meta.l4_len));
}

}  // namespace kadp::dp
