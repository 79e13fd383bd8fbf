// Runs on: worker lcores (parse_frame on every received frame); any thread.
#include "dataplane/packet_parse.h"

#include <array>
#include <cstddef>
#include <cstring>

#include "dataplane/checksum.h"

namespace kadp::dp {

namespace {

constexpr std::uint16_t kEthHlen = 14;
constexpr std::uint16_t kVlanHlen = 4;
constexpr std::uint16_t kIpv4MinHlen = 20;
constexpr std::uint16_t kIpv6Hlen = 40;
constexpr std::uint16_t kArpLen = 28;
constexpr std::uint16_t kTcpMinHlen = 20;
constexpr std::uint16_t kUdpHlen = 8;
constexpr std::uint16_t kIcmpHlen = 8;
constexpr std::uint16_t kIpFlagDf = 0x4000;
constexpr std::uint16_t kIpFlagMf = 0x2000;
constexpr std::uint16_t kIpFragMask = 0x1fff;
constexpr std::uint8_t kIcmpEchoReply = 0;
constexpr std::uint8_t kIcmpEchoRequest = 8;

// Source and destination port in one copy (see the addresses in parse_ipv4).
void copy_ports(PacketMeta& m, const std::uint8_t* l4) {
    static_assert(offsetof(PacketMeta, dport) == offsetof(PacketMeta, sport) + 2);
    std::memcpy(reinterpret_cast<std::uint8_t*>(&m) + offsetof(PacketMeta, sport), l4, 4);
}

// IPv4 L4 header for the first fragment / whole datagram. `l4` points at
// l4_len readable bytes (bounded by the total length, which is within len).
ParseVerdict parse_ipv4_l4(const std::uint8_t* l4, std::uint16_t l4_len, PacketMeta& m) {
    switch (m.l3_proto) {
    case kIpProtoTcp: {
        if (l4_len < kTcpMinHlen) [[unlikely]] {
            return ParseVerdict::truncated_l4;
        }
        const auto doff = static_cast<std::uint16_t>((l4[12] >> 4) * 4);
        if (doff < kTcpMinHlen || doff > l4_len) [[unlikely]] {
            return ParseVerdict::bad_tcp_doff;
        }
        copy_ports(m, l4);
        m.tcp_flags = l4[13];
        m.l4_hlen = static_cast<std::uint8_t>(doff);
        return ParseVerdict::ok_ipv4_tcp;
    }
    case kIpProtoUdp: {
        if (l4_len < kUdpHlen) [[unlikely]] {
            return ParseVerdict::truncated_l4;
        }
        // A first fragment holds only part of the datagram its UDP length
        // describes; the bound applies to whole datagrams.
        const std::uint16_t ulen = load_be16(l4 + 4);
        if (ulen < kUdpHlen || (ulen > l4_len && (m.flags & kPmMoreFragments) == 0)) [[unlikely]] {
            return ParseVerdict::bad_udp_length;
        }
        copy_ports(m, l4);
        m.l4_hlen = kUdpHlen;
        return ParseVerdict::ok_ipv4_udp;
    }
    case kIpProtoIcmp: {
        if (l4_len < kIcmpHlen) [[unlikely]] {
            return ParseVerdict::truncated_l4;
        }
        m.icmp_type = l4[0];
        m.icmp_code = l4[1];
        if (m.icmp_type == kIcmpEchoRequest || m.icmp_type == kIcmpEchoReply) {
            m.icmp_id = load16(l4 + 4);
        }
        m.l4_hlen = kIcmpHlen;
        return ParseVerdict::ok_ipv4_icmp;
    }
    default:
        return ParseVerdict::ok_ipv4_other;
    }
}

ParseVerdict parse_ipv4(const std::uint8_t* data, std::uint16_t len, PacketMeta& m) {
    const std::uint8_t* ip = data + m.l3_off;
    const auto avail = static_cast<std::uint16_t>(len - m.l3_off);
    if (avail < kIpv4MinHlen) [[unlikely]] {
        return ParseVerdict::truncated_l3;
    }
    if ((ip[0] >> 4) != 4) [[unlikely]] {
        return ParseVerdict::bad_ip_version;
    }
    const auto hlen = static_cast<std::uint16_t>((ip[0] & 0x0f) * 4);
    const std::uint16_t tot_len = load_be16(ip + 2);
    if (tot_len < kIpv4MinHlen || tot_len > avail) [[unlikely]] {
        return ParseVerdict::bad_total_length;
    }
    if (hlen < kIpv4MinHlen || hlen > tot_len) [[unlikely]] {
        return ParseVerdict::bad_ihl;
    }
    // From here on every read is below l3_off + tot_len <= len.
    m.l3_len = tot_len;
    m.l3_hlen = static_cast<std::uint8_t>(hlen);
    m.l4_off = static_cast<std::uint16_t>(m.l3_off + hlen);
    m.l4_len = static_cast<std::uint16_t>(tot_len - hlen);
    m.ttl = ip[8];
    m.l3_proto = ip[9];
    // Both addresses in one copy (adjacent in the header and in meta), so a
    // later 8-byte read of them (the flow key) is forwarded from one store.
    static_assert(offsetof(PacketMeta, daddr) == offsetof(PacketMeta, saddr) + 4);
    std::memcpy(reinterpret_cast<std::uint8_t*>(&m) + offsetof(PacketMeta, saddr), ip + 12, 8);
    const std::uint16_t frag = load_be16(ip + 6);
    m.frag_off = static_cast<std::uint16_t>((frag & kIpFragMask) * 8);
    std::uint8_t flags = m.flags;
    if (hlen > kIpv4MinHlen) {
        flags |= kPmIpOptions;
    }
    if (frag & kIpFlagDf) {
        flags |= kPmDontFragment;
    }
    if (frag & kIpFlagMf) {
        flags |= kPmMoreFragments | kPmFragment;
    }
    if (tot_len < avail) {
        flags |= kPmPadded;
    }
    if (m.frag_off != 0) [[unlikely]] {
        m.flags = flags | kPmFragment;
        return ParseVerdict::ok_ipv4_fragment;
    }
    m.flags = flags;
    return parse_ipv4_l4(ip + hlen, m.l4_len, m);
}

ParseVerdict parse_arp(const std::uint8_t* data, std::uint16_t len, PacketMeta& m) {
    const std::uint8_t* arp = data + m.l3_off;
    if (len - m.l3_off < kArpLen) [[unlikely]] {
        return ParseVerdict::truncated_l3;
    }
    const std::uint16_t op = load_be16(arp + 6);
    if (load_be16(arp) != 1 || load_be16(arp + 2) != kEtherTypeIpv4 || arp[4] != 6 || arp[5] != 4 ||
        (op != kArpOpRequest && op != kArpOpReply)) [[unlikely]] {
        return ParseVerdict::bad_arp;
    }
    m.arp_op = op;
    std::memcpy(m.arp_sha, arp + 8, 6);
    m.arp_spa = load32(arp + 14);
    std::memcpy(m.arp_tha, arp + 18, 6);
    m.arp_tpa = load32(arp + 24);
    m.l3_hlen = kArpLen;
    m.l3_len = kArpLen;
    if (len - m.l3_off > kArpLen) {
        m.flags |= kPmPadded;
    }
    return ParseVerdict::ok_arp;
}

ParseVerdict parse_ipv6(const std::uint8_t* data, std::uint16_t len, PacketMeta& m) {
    const std::uint8_t* ip = data + m.l3_off;
    const auto avail = static_cast<std::uint16_t>(len - m.l3_off);
    if (avail < kIpv6Hlen) [[unlikely]] {
        return ParseVerdict::truncated_l3;
    }
    if ((ip[0] >> 4) != 6) [[unlikely]] {
        return ParseVerdict::bad_ip_version;
    }
    // 32-bit: a payload length near 65535 plus 40 does not fit 16 bits.
    const std::uint32_t total = std::uint32_t{load_be16(ip + 4)} + kIpv6Hlen;
    if (total > avail) [[unlikely]] {
        return ParseVerdict::bad_total_length;
    }
    m.l3_len = static_cast<std::uint16_t>(total);
    m.l3_hlen = kIpv6Hlen;
    m.l3_proto = ip[6];
    m.ttl = ip[7];
    if (total < avail) {
        m.flags |= kPmPadded;
    }
    return ParseVerdict::ok_ipv6;
}

}  // namespace

std::string_view parse_verdict_name(ParseVerdict v) {
    static constexpr std::array<std::string_view, kParseVerdictCount> kNames = {
#define KADP_X(verdict, counter, help) #verdict,
        KADP_PARSE_VERDICTS(KADP_X)
#undef KADP_X
    };
    const auto i = static_cast<std::size_t>(v);
    return i < kNames.size() ? kNames[i] : std::string_view{"unknown"};
}

ParseVerdict parse_frame(const std::uint8_t* data, std::uint16_t len, PacketMeta& meta) {
    meta = PacketMeta{};
    if (len < kEthHlen) [[unlikely]] {
        return ParseVerdict::truncated_l2;
    }
    std::uint16_t type = load_be16(data + 12);
    std::uint16_t l3_off = kEthHlen;
    if (type == kEtherTypeVlan || type == kEtherTypeQinq) [[unlikely]] {
        if (len < kEthHlen + kVlanHlen) {
            return ParseVerdict::truncated_l2;
        }
        const std::uint16_t inner = load_be16(data + 16);
        if (type == kEtherTypeQinq || inner == kEtherTypeVlan || inner == kEtherTypeQinq) {
            return ParseVerdict::vlan_qinq;
        }
        meta.vlan_tci = load_be16(data + 14);
        meta.flags = kPmVlan;
        type = inner;
        l3_off = kEthHlen + kVlanHlen;
    }
    meta.ethertype = type;
    meta.l3_off = l3_off;
    switch (type) {
    case kEtherTypeIpv4:
        [[likely]] return parse_ipv4(data, len, meta);
    case kEtherTypeArp:
        return parse_arp(data, len, meta);
    case kEtherTypeIpv6:
        return parse_ipv6(data, len, meta);
    default:
        // 802.3 length fields (< 0x0600) included: LLC/SNAP is not ours either.
        return ParseVerdict::not_ip;
    }
}

CsumCheck verify_ipv4_header(const std::uint8_t* data, const PacketMeta& meta) {
    // l3_hlen is set only once IHL and total length were validated.
    if (meta.ethertype != kEtherTypeIpv4 || meta.l3_hlen < kIpv4MinHlen) {
        return CsumCheck::not_checked;
    }
    return ipv4_header_checksum_ok(data + meta.l3_off, meta.l3_hlen) ? CsumCheck::ok : CsumCheck::bad;
}

CsumCheck verify_l4(const std::uint8_t* data, const PacketMeta& meta) {
    // l4_hlen is set only once the L4 header was validated, and never for
    // later fragments; a first fragment has only part of the datagram.
    if (meta.ethertype != kEtherTypeIpv4 || meta.l4_hlen == 0 || (meta.flags & kPmFragment) != 0) {
        return CsumCheck::not_checked;
    }
    const std::uint8_t* l4 = data + meta.l4_off;
    switch (meta.l3_proto) {
    case kIpProtoTcp:
        return l4_checksum_ok(ipv4_pseudo_sum(meta.saddr, meta.daddr, kIpProtoTcp, meta.l4_len), l4, meta.l4_len)
                   ? CsumCheck::ok
                   : CsumCheck::bad;
    case kIpProtoUdp: {
        if (load16(l4 + kUdpCheckOffset) == 0) {
            return CsumCheck::not_checked;
        }
        // The UDP length, not the IPv4 payload length, bounds the checksum.
        const std::uint16_t ulen = load_be16(l4 + 4);
        return l4_checksum_ok(ipv4_pseudo_sum(meta.saddr, meta.daddr, kIpProtoUdp, ulen), l4, ulen) ? CsumCheck::ok
                                                                                                     : CsumCheck::bad;
    }
    case kIpProtoIcmp:
        return l4_checksum_ok(0, l4, meta.l4_len) ? CsumCheck::ok : CsumCheck::bad;
    default:
        return CsumCheck::not_checked;
    }
}

}  // namespace kadp::dp
