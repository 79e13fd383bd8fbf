// Runs on: any (unit tests). Frames built from scratch for the pipeline
// tests, with checksums from a plain RFC 1071 loop, independent of
// dataplane/checksum.h: what the data plane sends is compared byte for byte
// with these. Used by every pipeline test (see pipeline_fixture.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace kadp::dp::testframes {

using Bytes = std::vector<std::uint8_t>;
using Mac = std::array<std::uint8_t, 6>;

// An independent RFC 1071 sum: 16-bit big-endian words, end-around carry.
inline std::uint16_t ref_csum(const Bytes& b, std::uint32_t sum = 0)
{
    for (std::size_t i = 0; i < b.size(); i += 2) {
        sum += static_cast<std::uint32_t>(b[i] << 8) + (i + 1 < b.size() ? b[i + 1] : 0);
    }
    while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffff);
}
inline std::uint32_t pseudo(std::uint32_t s, std::uint32_t d, std::uint8_t proto, std::size_t len)
{
    return (s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff) + proto + static_cast<std::uint32_t>(len);
}
inline void put16(Bytes& b, std::size_t off, std::uint16_t v)
{
    b[off] = static_cast<std::uint8_t>(v >> 8);
    b[off + 1] = static_cast<std::uint8_t>(v);
}
inline void put32(Bytes& b, std::size_t off, std::uint32_t v)
{
    put16(b, off, static_cast<std::uint16_t>(v >> 16));
    put16(b, off + 2, static_cast<std::uint16_t>(v));
}
inline std::uint16_t get16(const Bytes& b, std::size_t off) { return static_cast<std::uint16_t>((b[off] << 8) | b[off + 1]); }
inline std::uint32_t get32(const Bytes& b, std::size_t off)
{
    return (std::uint32_t{get16(b, off)} << 16) | get16(b, off + 2);
}

inline Bytes tcp_seg(std::uint32_t s, std::uint32_t d, std::uint16_t sport, std::uint16_t dport, std::uint32_t seq,
              std::uint32_t ack, std::uint8_t flags, std::uint16_t window, const Bytes& payload = {})
{
    Bytes b(20, 0);
    put16(b, 0, sport);
    put16(b, 2, dport);
    put32(b, 4, seq);
    put32(b, 8, ack);
    b[12] = 0x50;
    b[13] = flags;
    put16(b, 14, window);
    b.insert(b.end(), payload.begin(), payload.end());
    put16(b, 16, ref_csum(b, pseudo(s, d, 6, b.size())));
    return b;
}
inline Bytes udp_dgram(std::uint32_t s, std::uint32_t d, std::uint16_t sport, std::uint16_t dport, const Bytes& payload,
                bool no_checksum = false)
{
    Bytes b(8, 0);
    put16(b, 0, sport);
    put16(b, 2, dport);
    put16(b, 4, static_cast<std::uint16_t>(8 + payload.size()));
    b.insert(b.end(), payload.begin(), payload.end());
    if (!no_checksum) {
        std::uint16_t c = ref_csum(b, pseudo(s, d, 17, b.size()));
        put16(b, 6, c == 0 ? 0xffff : c);
    }
    return b;
}
inline Bytes icmp_msg(std::uint8_t type, std::uint8_t code, std::uint32_t rest, const Bytes& payload)
{
    Bytes b(8, 0);
    b[0] = type;
    b[1] = code;
    put32(b, 4, rest);
    b.insert(b.end(), payload.begin(), payload.end());
    put16(b, 2, ref_csum(b));
    return b;
}
struct IpOpts {
    std::uint8_t ttl = 64;
    std::uint16_t id = 0x1234;
    bool df = true;
    std::uint8_t tos = 0;
};
inline Bytes ipv4(std::uint32_t s, std::uint32_t d, std::uint8_t proto, const Bytes& l4, IpOpts o = {})
{
    Bytes b(20, 0);
    b[0] = 0x45;
    b[1] = o.tos;
    put16(b, 2, static_cast<std::uint16_t>(20 + l4.size()));
    put16(b, 4, o.id);
    put16(b, 6, o.df ? 0x4000 : 0);
    b[8] = o.ttl;
    b[9] = proto;
    put32(b, 12, s);
    put32(b, 16, d);
    put16(b, 10, ref_csum(b));
    b.insert(b.end(), l4.begin(), l4.end());
    return b;
}
inline Bytes eth(const Mac& dst, const Mac& src, std::uint16_t type, const Bytes& payload, bool pad = true)
{
    Bytes b(dst.begin(), dst.end());
    b.insert(b.end(), src.begin(), src.end());
    b.push_back(static_cast<std::uint8_t>(type >> 8));
    b.push_back(static_cast<std::uint8_t>(type));
    b.insert(b.end(), payload.begin(), payload.end());
    if (pad && b.size() < 60) b.resize(60, 0);
    return b;
}
inline Bytes arp(std::uint16_t op, const Mac& sha, std::uint32_t spa, const Mac& tha, std::uint32_t tpa)
{
    Bytes b = {0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, static_cast<std::uint8_t>(op)};
    b.insert(b.end(), sha.begin(), sha.end());
    b.resize(b.size() + 4);
    put32(b, 14, spa);
    b.insert(b.end(), tha.begin(), tha.end());
    b.resize(b.size() + 4);
    put32(b, 24, tpa);
    return b;
}
inline Bytes tcp_frame(const Mac& dmac, const Mac& smac, std::uint32_t s, std::uint32_t d, std::uint16_t sport,
                       std::uint16_t dport, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                       const Bytes& payload = {}, IpOpts o = {})
{
    return eth(dmac, smac, 0x0800, ipv4(s, d, 6, tcp_seg(s, d, sport, dport, seq, ack, flags, 8192, payload), o));
}

// The same frame with an 802.1Q tag (TCI `tci`) after the MACs.
inline Bytes tagged(const Bytes& frame, std::uint16_t tci)
{
    Bytes b(frame.begin(), frame.begin() + 12);
    b.push_back(0x81);
    b.push_back(0x00);
    b.push_back(static_cast<std::uint8_t>(tci >> 8));
    b.push_back(static_cast<std::uint8_t>(tci));
    b.insert(b.end(), frame.begin() + 12, frame.end());
    return b;
}

// The IPv4 packet of an untagged frame (Ethernet header and padding cut).
inline Bytes ip_of(const Bytes& frame)
{
    const std::size_t len = get16(frame, 16);
    return Bytes(frame.begin() + 14, frame.begin() + 14 + static_cast<std::ptrdiff_t>(len));
}

// Full recomputation of the checksums of a frame's IPv4 header and TCP/UDP.
inline void expect_checksums_valid(const Bytes& f)
{
    ASSERT_GE(f.size(), 34U);
    const std::size_t ihl = (f[14] & 0xf) * 4U;
    const Bytes ip(f.begin() + 14, f.begin() + 14 + static_cast<std::ptrdiff_t>(ihl));
    EXPECT_EQ(ref_csum(ip), 0) << "IPv4 header checksum";
    const std::size_t total = get16(f, 16);
    const Bytes l4(f.begin() + 14 + static_cast<std::ptrdiff_t>(ihl), f.begin() + 14 + static_cast<std::ptrdiff_t>(total));
    const std::uint8_t proto = f[23];
    if (proto == 6 || (proto == 17 && get16(l4, 6) != 0)) {
        EXPECT_EQ(ref_csum(l4, pseudo(get32(f, 26), get32(f, 30), proto, l4.size())), 0) << "L4 checksum";
    } else if (proto == 1) {
        EXPECT_EQ(ref_csum(l4), 0) << "ICMP checksum";
    }
}

}  // namespace kadp::dp::testframes
