// Runs on: any (unit test). Checksums against known vectors (RFC 1071,
// scapy-built frames), a naive reference sum, and incremental updates
// against full recomputation over thousands of random packets.
#include <gtest/gtest.h>

#include "dataplane/checksum.h"
#include "tests/unit/dataplane/parse_frames.h"

#include <cstdint>
#include <random>
#include <vector>

namespace kadp::dp {
namespace {

using namespace kadp::dp::test_frames;

// Naive RFC 1071 in host arithmetic over big-endian words: the independent
// reference for csum_add_bytes (which sums wire-order words in 64 bits).
std::uint16_t naive_fold_be(const std::uint8_t* data, std::size_t len) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < len; i += 2) {
        const std::uint32_t hi = data[i];
        const std::uint32_t lo = i + 1 < len ? data[i + 1] : 0;
        sum += (hi << 8) | lo;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}

std::uint16_t wire(std::uint16_t host) { return be16_from_host(host); }

TEST(Checksum, Rfc1071Example) {
    // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
    const std::uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(host_from_be16(csum_fold(csum_add_bytes(data, sizeof data))), 0xddf2);
    std::uint8_t out[2];
    store16(out, csum_bytes(data, sizeof data));
    EXPECT_EQ(out[0], 0x22);
    EXPECT_EQ(out[1], 0x0d);
}

TEST(Checksum, OddLengthPadsWithZero) {
    const std::uint8_t odd[] = {0x12, 0x34, 0x56};
    const std::uint8_t even[] = {0x12, 0x34, 0x56, 0x00};
    EXPECT_EQ(csum_fold(csum_add_bytes(odd, 3)), csum_fold(csum_add_bytes(even, 4)));
    EXPECT_EQ(host_from_be16(csum_fold(csum_add_bytes(odd, 3))), 0x6834);
    EXPECT_EQ(csum_fold(csum_add_bytes(odd, 0)), 0);
}

TEST(Checksum, MatchesNaiveSumForRandomBuffers) {
    std::mt19937 rng(1071);
    std::vector<std::uint8_t> buf(70000);
    for (int iter = 0; iter < 2000; ++iter) {
        const std::size_t len = iter < 64 ? static_cast<std::size_t>(iter) : rng() % 2000;
        const bool all_ff = iter % 7 == 0;  // stresses carries
        for (std::size_t i = 0; i < len; ++i) {
            buf[i] = all_ff ? 0xff : static_cast<std::uint8_t>(rng());
        }
        ASSERT_EQ(host_from_be16(csum_fold(csum_add_bytes(buf.data(), len))), naive_fold_be(buf.data(), len))
            << "len " << len;
    }
    // Long run of 0xff words: the 64-bit accumulator must not lose carries.
    std::fill(buf.begin(), buf.end(), 0xff);
    EXPECT_EQ(host_from_be16(csum_fold(csum_add_bytes(buf.data(), buf.size()))), naive_fold_be(buf.data(), buf.size()));
}

TEST(Checksum, FoldIsEndAroundCarry) {
    EXPECT_EQ(csum_fold(0), 0);
    EXPECT_EQ(csum_fold(0xffff), 0xffff);
    EXPECT_EQ(csum_fold(0x10000), 1);
    EXPECT_EQ(csum_fold(0x1fffe), 0xffff);
    EXPECT_EQ(csum_fold(0xffffffffffffffffULL), 0xffff);
    EXPECT_EQ(csum_fold(0x0001000000000000ULL), 1);
}

TEST(Checksum, ByteOrderHelpers) {
    const std::uint8_t b[] = {0x12, 0x34, 0x56, 0x78};
    EXPECT_EQ(load_be16(b), 0x1234);
    EXPECT_EQ(load_be32(b), 0x12345678U);
    EXPECT_EQ(host_from_be16(load16(b)), 0x1234);
    EXPECT_EQ(host_from_be32(load32(b)), 0x12345678U);
    std::uint8_t o[4];
    store16(o, be16_from_host(0xabcd));
    EXPECT_EQ(o[0], 0xab);
    EXPECT_EQ(o[1], 0xcd);
    store32(o, be32_from_host(0x01020304));
    EXPECT_EQ(o[0], 1);
    EXPECT_EQ(o[3], 4);
}

// ---- known vectors: scapy computed these checksums ---------------------------

struct Ip4Frame {
    const std::uint8_t* ip;
    std::size_t hlen;
    std::size_t tot_len;
    const std::uint8_t* l4() const { return ip + hlen; }
    std::size_t l4_len() const { return tot_len - hlen; }
    std::uint32_t saddr() const { return load32(ip + 12); }
    std::uint32_t daddr() const { return load32(ip + 16); }
    std::uint8_t proto() const { return ip[9]; }
    CsumAcc pseudo(std::size_t len) const {
        return ipv4_pseudo_sum(saddr(), daddr(), proto(), static_cast<std::uint16_t>(len));
    }
};

Ip4Frame ip4_at(const std::uint8_t* frame, std::size_t l3_off = 14) {
    const std::uint8_t* ip = frame + l3_off;
    return {ip, static_cast<std::size_t>((ip[0] & 0xf) * 4), load_be16(ip + 2)};
}

TEST(ChecksumVectors, Ipv4Header) {
    for (const std::uint8_t* f : {kFrameTcpSyn, kFrameTcpIpOptions, kFrameUdp, kFrameIcmpEcho, kFrameFragFirst, kFrameFragLater}) {
        const Ip4Frame p = ip4_at(f);
        EXPECT_EQ(ipv4_header_checksum(p.ip, p.hlen), load16(p.ip + kIpv4CheckOffset));
        EXPECT_TRUE(ipv4_header_checksum_ok(p.ip, p.hlen));
    }
    const Ip4Frame v = ip4_at(kFrameVlanTcp, 18);
    EXPECT_EQ(ipv4_header_checksum(v.ip, v.hlen), load16(v.ip + kIpv4CheckOffset));
    EXPECT_EQ(ip4_at(kFrameTcpIpOptions).hlen, 28U);  // the options are really summed
}

TEST(ChecksumVectors, Ipv4HeaderDetectsCorruption) {
    std::vector<std::uint8_t> f(kFrameTcpSyn, kFrameTcpSyn + sizeof kFrameTcpSyn);
    Ip4Frame p = ip4_at(f.data());
    f[14 + 8] ^= 0x01;  // TTL
    EXPECT_FALSE(ipv4_header_checksum_ok(p.ip, p.hlen));
}

TEST(ChecksumVectors, Tcp) {
    for (const std::uint8_t* f : {kFrameTcpSyn, kFrameTcpIpOptions, kFrameTcpPadded}) {
        const Ip4Frame p = ip4_at(f);
        EXPECT_EQ(tcp_checksum(p.pseudo(p.l4_len()), p.l4(), p.l4_len()), load16(p.l4() + kTcpCheckOffset));
        EXPECT_TRUE(l4_checksum_ok(p.pseudo(p.l4_len()), p.l4(), p.l4_len()));
    }
    const Ip4Frame v = ip4_at(kFrameVlanTcp, 18);
    EXPECT_EQ(tcp_checksum(v.pseudo(v.l4_len()), v.l4(), v.l4_len()), load16(v.l4() + kTcpCheckOffset));
}

TEST(ChecksumVectors, UdpAndIcmp) {
    const Ip4Frame u = ip4_at(kFrameUdp);
    EXPECT_EQ(udp_checksum(u.pseudo(u.l4_len()), u.l4(), u.l4_len()), load16(u.l4() + kUdpCheckOffset));
    EXPECT_TRUE(udp_checksum_ok(u.pseudo(u.l4_len()), u.l4(), u.l4_len()));
    EXPECT_EQ(u.l4_len() % 2, 1U);  // odd length: the pad byte is exercised

    const Ip4Frame i = ip4_at(kFrameIcmpEcho);
    EXPECT_EQ(icmp4_checksum(i.l4(), i.l4_len()), load16(i.l4() + kIcmpCheckOffset));
    EXPECT_TRUE(l4_checksum_ok(0, i.l4(), i.l4_len()));
}

TEST(ChecksumVectors, Ipv6Udp) {
    const std::uint8_t* ip6 = kFrameIpv6Udp + 14;
    const std::uint16_t plen = load_be16(ip6 + 4);
    const CsumAcc pseudo = ipv6_pseudo_sum(ip6 + 8, ip6 + 24, kIpProtoUdp, plen);
    EXPECT_EQ(udp_checksum(pseudo, ip6 + 40, plen), load16(ip6 + 40 + kUdpCheckOffset));
    EXPECT_TRUE(udp_checksum_ok(pseudo, ip6 + 40, plen, false));
}

// ---- UDP zero-checksum rule ----------------------------------------------------------

// A UDP datagram whose checksum computes to 0: the last payload word is
// chosen to make the one's complement sum 0xffff.
std::vector<std::uint8_t> udp_with_zero_sum(std::uint32_t saddr, std::uint32_t daddr) {
    std::vector<std::uint8_t> udp = {0x1b, 0x58, 0x00, 0x35, 0x00, 0x0e, 0x00, 0x00, 'k', 'a', 'd', 'p', 0, 0};
    const CsumAcc pseudo = ipv4_pseudo_sum(saddr, daddr, kIpProtoUdp, static_cast<std::uint16_t>(udp.size()));
    const std::uint16_t c = csum_finish(csum_add_bytes(udp.data(), udp.size(), pseudo));
    store16(udp.data() + 12, c);  // S + ~S = 0xffff
    return udp;
}

TEST(ChecksumUdpZero, ComputedZeroIsSentAsFfff) {
    const std::uint32_t s = be32_from_host(0xc6120001);  // 198.18.0.1
    const std::uint32_t d = be32_from_host(0xc613000a);  // 198.19.0.10
    std::vector<std::uint8_t> udp = udp_with_zero_sum(s, d);
    const CsumAcc pseudo = ipv4_pseudo_sum(s, d, kIpProtoUdp, static_cast<std::uint16_t>(udp.size()));
    // The plain RFC 1071 result is 0; UDP must not send that.
    EXPECT_EQ(csum_finish(csum_add_bytes_skip(udp.data(), udp.size(), kUdpCheckOffset, pseudo)), 0);
    EXPECT_EQ(udp_checksum(pseudo, udp.data(), udp.size()), 0xffff);
    store16(udp.data() + kUdpCheckOffset, 0xffff);
    EXPECT_TRUE(udp_checksum_ok(pseudo, udp.data(), udp.size()));
}

TEST(ChecksumUdpZero, ZeroMeansNoChecksumAndStaysZero) {
    EXPECT_EQ(udp_csum_replace2(0, wire(53), wire(5353)), 0);
    EXPECT_EQ(udp_csum_replace4(0, be32_from_host(0xc6120001), be32_from_host(0xc6130002)), 0);
    // A datagram sent without checksum verifies over IPv4, not over IPv6.
    const Ip4Frame u = ip4_at(kFrameUdpNoCsum);
    ASSERT_EQ(load16(u.l4() + kUdpCheckOffset), 0);
    EXPECT_TRUE(udp_checksum_ok(u.pseudo(u.l4_len()), u.l4(), u.l4_len()));
    EXPECT_FALSE(udp_checksum_ok(u.pseudo(u.l4_len()), u.l4(), u.l4_len(), false));
}

TEST(ChecksumUdpZero, IncrementalResultZeroBecomesFfff) {
    // Start from a valid datagram, change the source address so the full
    // checksum becomes 0 (-> 0xffff): incremental must agree.
    const std::uint32_t d = be32_from_host(0xc613000a);
    const std::uint32_t s_new = be32_from_host(0xc6120001);
    std::vector<std::uint8_t> udp = udp_with_zero_sum(s_new, d);  // payload fits s_new
    const auto len = static_cast<std::uint16_t>(udp.size());
    const std::uint32_t s_old = be32_from_host(0xc6120063);
    const std::uint16_t old_check = udp_checksum(ipv4_pseudo_sum(s_old, d, kIpProtoUdp, len), udp.data(), len);
    ASSERT_NE(old_check, 0xffff);
    EXPECT_EQ(udp_checksum(ipv4_pseudo_sum(s_new, d, kIpProtoUdp, len), udp.data(), len), 0xffff);
    EXPECT_EQ(udp_csum_replace4(old_check, s_old, s_new), 0xffff);
    // Plain (TCP) replacement yields 0 for the same sums: the UDP variant matters.
    EXPECT_EQ(csum_replace4(old_check, s_old, s_new), 0);
    // And back again from the 0xffff form.
    EXPECT_EQ(udp_csum_replace4(0xffff, s_new, s_old), old_check);
}

// ---- incremental == full, random packets ------------------------------------------

struct RandomPacket {
    std::vector<std::uint8_t> bytes;  // IPv4 header + L4
    std::size_t hlen = 0;
    bool udp = false;
    std::uint8_t* ip() { return bytes.data(); }
    std::uint8_t* l4() { return bytes.data() + hlen; }
    std::size_t l4_len() const { return bytes.size() - hlen; }
    std::size_t l4_check() const { return udp ? kUdpCheckOffset : kTcpCheckOffset; }

    std::uint16_t full_ip_check() { return ipv4_header_checksum(ip(), hlen); }
    std::uint16_t full_l4_check() {
        const CsumAcc pseudo = ipv4_pseudo_sum(load32(ip() + 12), load32(ip() + 16), ip()[9],
                                               static_cast<std::uint16_t>(l4_len()));
        return udp ? udp_checksum(pseudo, l4(), l4_len()) : tcp_checksum(pseudo, l4(), l4_len());
    }
};

// Values with extra weight on 0 and all-ones, where one's complement has
// its two zeros.
template <class T>
T random_field(std::mt19937& rng) {
    switch (rng() % 8) {
    case 0:
        return 0;
    case 1:
        return static_cast<T>(~T{0});
    default:
        return static_cast<T>(rng());
    }
}

RandomPacket make_packet(std::mt19937& rng, bool udp_zero) {
    RandomPacket p;
    p.udp = rng() % 2 == 0;
    p.hlen = 20 + 4 * (rng() % 11);
    const std::size_t l4_len = (p.udp ? 8 : 20) + rng() % 1400;
    p.bytes.resize(p.hlen + l4_len);
    for (auto& b : p.bytes) {
        b = static_cast<std::uint8_t>(rng());
    }
    std::uint8_t* ip = p.ip();
    ip[0] = static_cast<std::uint8_t>(0x40 | (p.hlen / 4));
    store16(ip + 2, be16_from_host(static_cast<std::uint16_t>(p.bytes.size())));
    ip[9] = p.udp ? kIpProtoUdp : kIpProtoTcp;
    store32(ip + 12, random_field<std::uint32_t>(rng));
    store32(ip + 16, random_field<std::uint32_t>(rng));
    store16(ip + kIpv4CheckOffset, p.full_ip_check());
    if (p.udp) {
        store16(p.l4() + 4, be16_from_host(static_cast<std::uint16_t>(l4_len)));
    }
    store16(p.l4() + p.l4_check(), udp_zero && p.udp ? std::uint16_t{0} : p.full_l4_check());
    return p;
}

TEST(ChecksumIncremental, EqualsFullRecomputationForRandomNatRewrites) {
    std::mt19937 rng(20240601);
    int udp_zero_seen = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        const bool udp_zero = rng() % 10 == 0;
        RandomPacket p = make_packet(rng, udp_zero);
        ASSERT_TRUE(ipv4_header_checksum_ok(p.ip(), p.hlen));
        std::uint8_t* l4c = p.l4() + p.l4_check();
        const bool zero = p.udp && load16(l4c) == 0;
        udp_zero_seen += zero;
        // Up to three rewrites in a row, as DNAT+SNAT or repeated edits do.
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int e = 0; e < edits; ++e) {
            std::uint16_t ip_check = load16(p.ip() + kIpv4CheckOffset);
            std::uint16_t l4_check = load16(l4c);
            const auto repl4 = [&](std::uint16_t c, std::uint32_t o, std::uint32_t n) {
                return p.udp ? udp_csum_replace4(c, o, n) : csum_replace4(c, o, n);
            };
            const auto repl2 = [&](std::uint16_t c, std::uint16_t o, std::uint16_t n) {
                return p.udp ? udp_csum_replace2(c, o, n) : csum_replace2(c, o, n);
            };
            const unsigned kind = rng() % 6;
            if (kind <= 1) {  // saddr or daddr: IP header and pseudo-header
                std::uint8_t* field = p.ip() + (kind == 0 ? 12 : 16);
                const std::uint32_t o = load32(field);
                const std::uint32_t n = random_field<std::uint32_t>(rng);
                store32(field, n);
                ip_check = csum_replace4(ip_check, o, n);
                l4_check = repl4(l4_check, o, n);
            } else if (kind <= 3) {  // one port
                std::uint8_t* field = p.l4() + (kind == 2 ? 0 : 2);
                const std::uint16_t o = load16(field);
                const std::uint16_t n = random_field<std::uint16_t>(rng);
                store16(field, n);
                l4_check = repl2(l4_check, o, n);
            } else if (kind == 5) {  // address and port at once through deltas, as the NAT rewrite does
                const bool src = rng() % 2 == 0;
                std::uint8_t* addr = p.ip() + (src ? 12 : 16);
                std::uint8_t* port = p.l4() + (src ? 0 : 2);
                const std::uint32_t oa = load32(addr);
                const std::uint16_t op = load16(port);
                const std::uint32_t na = random_field<std::uint32_t>(rng);
                const std::uint16_t np = random_field<std::uint16_t>(rng);
                store32(addr, na);
                store16(port, np);
                const CsumDelta da = csum_delta4(oa, na);
                ip_check = csum_apply(ip_check, da);
                l4_check = p.udp ? udp_csum_apply(l4_check, da + csum_delta2(op, np))
                                 : csum_apply(l4_check, da + csum_delta2(op, np));
            } else {  // both ports as one 32-bit word; TTL decrement in the header
                const std::uint32_t o = load32(p.l4());
                const std::uint32_t n = random_field<std::uint32_t>(rng);
                store32(p.l4(), n);
                l4_check = repl4(l4_check, o, n);
                const std::uint16_t ttl_proto = load16(p.ip() + 8);
                p.ip()[8] = static_cast<std::uint8_t>(p.ip()[8] - 1);
                ip_check = csum_replace2(ip_check, ttl_proto, load16(p.ip() + 8));
            }
            store16(p.ip() + kIpv4CheckOffset, ip_check);
            store16(l4c, l4_check);
            ASSERT_EQ(ip_check, p.full_ip_check()) << "iter " << iter << " edit " << e << " kind " << kind;
            ASSERT_TRUE(ipv4_header_checksum_ok(p.ip(), p.hlen));
            if (zero) {
                ASSERT_EQ(l4_check, 0) << "iter " << iter << ": a UDP zero checksum must stay zero";
            } else {
                ASSERT_EQ(l4_check, p.full_l4_check()) << "iter " << iter << " edit " << e << " kind " << kind;
            }
        }
    }
    EXPECT_GT(udp_zero_seen, 500);  // the zero rule was really exercised
}

TEST(ChecksumIncremental, Ipv6AddressRewrite) {
    std::mt19937 rng(6);
    for (int iter = 0; iter < 5000; ++iter) {
        std::uint8_t saddr[16];
        std::uint8_t daddr[16];
        std::vector<std::uint8_t> l4(8 + rng() % 600);
        for (auto& b : saddr) b = static_cast<std::uint8_t>(rng());
        for (auto& b : daddr) b = static_cast<std::uint8_t>(rng());
        for (auto& b : l4) b = static_cast<std::uint8_t>(rng());
        const bool udp = rng() % 2 == 0;
        if (!udp && l4.size() < 20) l4.resize(20);
        const std::uint32_t l4_len = static_cast<std::uint32_t>(l4.size());
        const std::uint8_t nh = udp ? kIpProtoUdp : kIpProtoTcp;
        const std::size_t off = udp ? kUdpCheckOffset : kTcpCheckOffset;
        const auto full = [&] {
            const CsumAcc ps = ipv6_pseudo_sum(saddr, daddr, nh, l4_len);
            return udp ? udp_checksum(ps, l4.data(), l4.size()) : tcp_checksum(ps, l4.data(), l4.size());
        };
        store16(l4.data() + off, full());
        std::uint8_t fresh[16];
        for (auto& b : fresh) b = static_cast<std::uint8_t>(rng() % 4 == 0 ? 0 : rng());
        std::uint16_t c = csum_replace16(load16(l4.data() + off), daddr, fresh);
        if (udp && c == 0) c = 0xffff;
        std::copy(fresh, fresh + 16, daddr);
        ASSERT_EQ(c, full()) << "iter " << iter;
        store16(l4.data() + off, c);
        ASSERT_TRUE(l4_checksum_ok(ipv6_pseudo_sum(saddr, daddr, nh, l4_len), l4.data(), l4.size()));
    }
}

TEST(ChecksumIncremental, KnownFrameDnat) {
    // DNAT of the scapy SYN: 198.18.1.10:80 -> 198.19.0.20:8080.
    std::vector<std::uint8_t> f(kFrameTcpSyn, kFrameTcpSyn + sizeof kFrameTcpSyn);
    std::uint8_t* ip = f.data() + 14;
    std::uint8_t* tcp = ip + 20;
    const std::uint32_t new_daddr = be32_from_host(0xc6130014);
    const std::uint16_t new_dport = wire(8080);
    store16(ip + kIpv4CheckOffset, csum_replace4(load16(ip + kIpv4CheckOffset), load32(ip + 16), new_daddr));
    std::uint16_t c = csum_replace4(load16(tcp + kTcpCheckOffset), load32(ip + 16), new_daddr);
    c = csum_replace2(c, load16(tcp + 2), new_dport);
    store16(tcp + kTcpCheckOffset, c);
    store32(ip + 16, new_daddr);
    store16(tcp + 2, new_dport);
    EXPECT_TRUE(ipv4_header_checksum_ok(ip, 20));
    const auto l4_len = static_cast<std::uint16_t>(f.size() - 34);
    EXPECT_TRUE(l4_checksum_ok(ipv4_pseudo_sum(load32(ip + 12), new_daddr, kIpProtoTcp, l4_len), tcp, l4_len));
    EXPECT_EQ(load16(tcp + kTcpCheckOffset),
              tcp_checksum(ipv4_pseudo_sum(load32(ip + 12), new_daddr, kIpProtoTcp, l4_len), tcp, l4_len));
}

}  // namespace
}  // namespace kadp::dp
