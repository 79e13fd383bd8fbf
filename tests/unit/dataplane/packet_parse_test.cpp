// Runs on: any (unit test). The frame parser on scapy-built frames: every
// PacketMeta field, every truncation length, malformed headers, fragments,
// and random mutations. Frames are copied so that their last byte is the
// last byte of a readable page: any read past `len` faults, with or without
// a sanitizer.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dataplane/checksum.h"
#include "dataplane/packet_parse.h"
#include "tests/unit/dataplane/parse_frames.h"

#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace kadp::dp {
namespace {

using namespace kadp::dp::test_frames;

// A buffer that ends right before a PROT_NONE page.
class GuardedFrame {
public:
    GuardedFrame() {
        page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        map_ = mmap(nullptr, 3 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map_ == MAP_FAILED) {
            map_ = nullptr;
            return;
        }
        base_ = static_cast<std::uint8_t*>(map_);
        // Guard pages on both sides: reads before data fault too.
        mprotect(base_, page_, PROT_NONE);
        mprotect(base_ + 2 * page_, page_, PROT_NONE);
    }
    ~GuardedFrame() {
        if (map_ != nullptr) {
            munmap(map_, 3 * page_);
        }
    }
    GuardedFrame(const GuardedFrame&) = delete;
    GuardedFrame& operator=(const GuardedFrame&) = delete;

    // Copies bytes[0, len) so that it ends at the guard page.
    std::uint8_t* place(const std::uint8_t* bytes, std::size_t len) {
        std::uint8_t* p = base_ + 2 * page_ - len;
        if (len > 0) {
            std::memcpy(p, bytes, len);
        }
        return p;
    }
    bool ok() const { return map_ != nullptr; }

private:
    void* map_ = nullptr;
    std::uint8_t* base_ = nullptr;
    std::size_t page_ = 0;
};

// Copies a frame in front of the guard page; valid until the next call.
const std::uint8_t* place_guarded(const std::uint8_t* bytes, std::size_t len) {
    static GuardedFrame guard;
    EXPECT_TRUE(guard.ok());
    return guard.place(bytes, len);
}

ParseVerdict parse_guarded(const std::uint8_t* bytes, std::size_t len, PacketMeta& m) {
    return parse_frame(place_guarded(bytes, len), static_cast<std::uint16_t>(len), m);
}

template <std::size_t N>
ParseVerdict parse_guarded(const std::uint8_t (&bytes)[N], PacketMeta& m) {
    return parse_guarded(bytes, N, m);
}
ParseVerdict parse_guarded(const std::vector<std::uint8_t>& bytes, PacketMeta& m) {
    return parse_guarded(bytes.data(), bytes.size(), m);
}

std::uint32_t ip4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
    return be32_from_host((a << 24) | (b << 16) | (c << 8) | d);
}
std::uint16_t port(std::uint16_t p) { return be16_from_host(p); }

// Compares every field: a field the parser should have left 0 must be 0.
void expect_meta_eq(const PacketMeta& got, const PacketMeta& want) {
    EXPECT_EQ(got.l2_off, want.l2_off);
    EXPECT_EQ(got.l3_off, want.l3_off);
    EXPECT_EQ(got.l4_off, want.l4_off);
    EXPECT_EQ(got.l3_len, want.l3_len);
    EXPECT_EQ(got.l4_len, want.l4_len);
    EXPECT_EQ(got.ethertype, want.ethertype);
    EXPECT_EQ(got.vlan_tci, want.vlan_tci);
    EXPECT_EQ(got.frag_off, want.frag_off);
    EXPECT_EQ(got.sport, want.sport);
    EXPECT_EQ(got.dport, want.dport);
    EXPECT_EQ(got.icmp_id, want.icmp_id);
    EXPECT_EQ(got.arp_op, want.arp_op);
    EXPECT_EQ(got.saddr, want.saddr);
    EXPECT_EQ(got.daddr, want.daddr);
    EXPECT_EQ(got.arp_spa, want.arp_spa);
    EXPECT_EQ(got.arp_tpa, want.arp_tpa);
    EXPECT_EQ(0, std::memcmp(got.arp_sha, want.arp_sha, 6));
    EXPECT_EQ(0, std::memcmp(got.arp_tha, want.arp_tha, 6));
    EXPECT_EQ(got.l3_proto, want.l3_proto);
    EXPECT_EQ(got.l3_hlen, want.l3_hlen);
    EXPECT_EQ(got.l4_hlen, want.l4_hlen);
    EXPECT_EQ(got.ttl, want.ttl);
    EXPECT_EQ(got.tcp_flags, want.tcp_flags);
    EXPECT_EQ(got.icmp_type, want.icmp_type);
    EXPECT_EQ(got.icmp_code, want.icmp_code);
    EXPECT_EQ(got.flags, want.flags);
}

PacketMeta ipv4_meta(std::uint16_t l3_off, std::uint16_t tot_len, std::uint8_t hlen, std::uint8_t proto,
                     std::uint32_t saddr, std::uint32_t daddr, std::uint8_t ttl) {
    PacketMeta m{};
    m.l3_off = l3_off;
    m.l4_off = static_cast<std::uint16_t>(l3_off + hlen);
    m.l3_len = tot_len;
    m.l4_len = static_cast<std::uint16_t>(tot_len - hlen);
    m.ethertype = kEtherTypeIpv4;
    m.l3_proto = proto;
    m.l3_hlen = hlen;
    m.saddr = saddr;
    m.daddr = daddr;
    m.ttl = ttl;
    return m;
}

// ---- every field of well-formed frames ---------------------------------------------

TEST(ParseFrame, TcpSynWithTcpOptions) {
    PacketMeta m;
    ASSERT_EQ(parse_guarded(kFrameTcpSyn, m), ParseVerdict::ok_ipv4_tcp);
    PacketMeta w = ipv4_meta(14, 52, 20, kIpProtoTcp, ip4(198, 18, 0, 1), ip4(198, 18, 1, 10), 64);
    w.sport = port(40000);
    w.dport = port(80);
    w.tcp_flags = kTcpSyn;
    w.l4_hlen = 32;  // MSS, NOP, WScale, SAckOK
    w.flags = kPmDontFragment;
    expect_meta_eq(m, w);
    EXPECT_EQ(verify_ipv4_header(kFrameTcpSyn, m), CsumCheck::ok);
    EXPECT_EQ(verify_l4(kFrameTcpSyn, m), CsumCheck::ok);
}

TEST(ParseFrame, TcpWithIpOptionsAndPayload) {
    PacketMeta m;
    ASSERT_EQ(parse_guarded(kFrameTcpIpOptions, m), ParseVerdict::ok_ipv4_tcp);
    PacketMeta w = ipv4_meta(14, 66, 28, kIpProtoTcp, ip4(198, 18, 0, 2), ip4(198, 18, 1, 10), 63);
    w.sport = port(40001);
    w.dport = port(443);
    w.tcp_flags = kTcpPsh | kTcpAck;
    w.l4_hlen = 20;
    w.flags = kPmIpOptions;
    expect_meta_eq(m, w);
    EXPECT_EQ(m.l4_len - m.l4_hlen, 18);  // "GET / HTTP/1.0\r\n\r\n"
    EXPECT_EQ(verify_ipv4_header(kFrameTcpIpOptions, m), CsumCheck::ok);
    EXPECT_EQ(verify_l4(kFrameTcpIpOptions, m), CsumCheck::ok);
}

TEST(ParseFrame, Udp) {
    PacketMeta m;
    ASSERT_EQ(parse_guarded(kFrameUdp, m), ParseVerdict::ok_ipv4_udp);
    PacketMeta w = ipv4_meta(14, 57, 20, kIpProtoUdp, ip4(198, 18, 0, 3), ip4(198, 18, 1, 10), 64);
    w.sport = port(5353);
    w.dport = port(53);
    w.l4_hlen = 8;
    expect_meta_eq(m, w);
    EXPECT_EQ(verify_l4(kFrameUdp, m), CsumCheck::ok);
}

TEST(ParseFrame, UdpWithoutChecksum) {
    PacketMeta m;
    ASSERT_EQ(parse_guarded(kFrameUdpNoCsum, m), ParseVerdict::ok_ipv4_udp);
    EXPECT_EQ(m.sport, port(5353));
    EXPECT_EQ(verify_ipv4_header(kFrameUdpNoCsum, m), CsumCheck::ok);
    EXPECT_EQ(verify_l4(kFrameUdpNoCsum, m), CsumCheck::not_checked);
}

TEST(ParseFrame, IcmpEcho) {
    PacketMeta m;
    ASSERT_EQ(parse_guarded(kFrameIcmpEcho, m), ParseVerdict::ok_ipv4_icmp);
    PacketMeta w = ipv4_meta(14, 44, 20, kIpProtoIcmp, ip4(198, 18, 0, 4), ip4(198, 18, 1, 10), 64);
    w.icmp_type = 8;
    w.icmp_code = 0;
    w.icmp_id = port(0x1234);
    w.l4_hlen = 8;
    expect_meta_eq(m, w);
    EXPECT_EQ(verify_l4(kFrameIcmpEcho, m), CsumCheck::ok);
}

TEST(ParseFrame, IcmpErrorHasNoEchoId) {
    std::vector<std::uint8_t> f(kFrameIcmpEcho, kFrameIcmpEcho + sizeof kFrameIcmpEcho);
    f[34] = 3;  // destination unreachable
    f[35] = 3;  // port unreachable
    PacketMeta m;
    ASSERT_EQ(parse_guarded(f, m), ParseVerdict::ok_ipv4_icmp);
    EXPECT_EQ(m.icmp_type, 3);
    EXPECT_EQ(m.icmp_code, 3);
    EXPECT_EQ(m.icmp_id, 0);
    EXPECT_EQ(verify_l4(f.data(), m), CsumCheck::bad);  // type changed under the checksum
}

TEST(ParseFrame, ArpRequestPadded) {
    PacketMeta m;
    ASSERT_EQ(parse_guarded(kFrameArpRequest, m), ParseVerdict::ok_arp);
    PacketMeta w{};
    w.l3_off = 14;
    w.ethertype = kEtherTypeArp;
    w.arp_op = kArpOpRequest;
    const std::uint8_t sha[6] = {0x02, 0, 0, 0, 0, 0x01};
    std::memcpy(w.arp_sha, sha, 6);
    w.arp_spa = ip4(198, 18, 0, 1);
    w.arp_tpa = ip4(198, 18, 1, 10);
    w.l3_hlen = 28;
    w.l3_len = 28;
    w.flags = kPmPadded;  // 60-byte frame
    expect_meta_eq(m, w);
    EXPECT_EQ(verify_ipv4_header(kFrameArpRequest, m), CsumCheck::not_checked);
    EXPECT_EQ(verify_l4(kFrameArpRequest, m), CsumCheck::not_checked);
}

TEST(ParseFrame, ArpReply) {
    PacketMeta m;
    ASSERT_EQ(parse_guarded(kFrameArpReply, m), ParseVerdict::ok_arp);
    PacketMeta w{};
    w.l3_off = 14;
    w.ethertype = kEtherTypeArp;
    w.arp_op = kArpOpReply;
    const std::uint8_t sha[6] = {0x02, 0, 0, 0, 0, 0x02};
    const std::uint8_t tha[6] = {0x02, 0, 0, 0, 0, 0x01};
    std::memcpy(w.arp_sha, sha, 6);
    std::memcpy(w.arp_tha, tha, 6);
    w.arp_spa = ip4(198, 18, 1, 10);
    w.arp_tpa = ip4(198, 18, 0, 1);
    w.l3_hlen = 28;
    w.l3_len = 28;
    expect_meta_eq(m, w);
}

TEST(ParseFrame, Vlan) {
    PacketMeta m;
    ASSERT_EQ(parse_guarded(kFrameVlanTcp, m), ParseVerdict::ok_ipv4_tcp);
    PacketMeta w = ipv4_meta(18, 40, 20, kIpProtoTcp, ip4(198, 18, 0, 5), ip4(198, 18, 1, 10), 64);
    w.vlan_tci = (3 << 13) | 100;
    w.sport = port(40002);
    w.dport = port(80);
    w.tcp_flags = kTcpAck;
    w.l4_hlen = 20;
    w.flags = kPmVlan;
    expect_meta_eq(m, w);
    EXPECT_EQ(m.vlan_tci & 0x0fff, 100);
    EXPECT_EQ(verify_ipv4_header(kFrameVlanTcp, m), CsumCheck::ok);
    EXPECT_EQ(verify_l4(kFrameVlanTcp, m), CsumCheck::ok);
}

TEST(ParseFrame, VlanArp) {
    // 802.1Q tag inserted into the ARP reply.
    std::vector<std::uint8_t> f(kFrameArpReply, kFrameArpReply + 12);
    const std::uint8_t tag[4] = {0x81, 0x00, 0x00, 0x07};
    f.insert(f.end(), tag, tag + 4);
    f.insert(f.end(), kFrameArpReply + 12, kFrameArpReply + sizeof kFrameArpReply);
    PacketMeta m;
    ASSERT_EQ(parse_guarded(f, m), ParseVerdict::ok_arp);
    EXPECT_EQ(m.l3_off, 18);
    EXPECT_EQ(m.vlan_tci, 7);
    EXPECT_EQ(m.flags, kPmVlan);
    EXPECT_EQ(m.arp_spa, ip4(198, 18, 1, 10));
}

TEST(ParseFrame, QinqIsRejected) {
    std::vector<std::uint8_t> f(kFrameVlanTcp, kFrameVlanTcp + sizeof kFrameVlanTcp);
    PacketMeta m;
    f[12] = 0x88;  // 802.1ad outer tag
    f[13] = 0xa8;
    EXPECT_EQ(parse_guarded(f, m), ParseVerdict::vlan_qinq);
    f[12] = 0x81;  // 802.1Q followed by 802.1Q
    f[13] = 0x00;
    f[16] = 0x81;
    f[17] = 0x00;
    EXPECT_EQ(parse_guarded(f, m), ParseVerdict::vlan_qinq);
    f[16] = 0x88;  // 802.1Q followed by 802.1ad
    f[17] = 0xa8;
    EXPECT_EQ(parse_guarded(f, m), ParseVerdict::vlan_qinq);
}

TEST(ParseFrame, Ipv6) {
    PacketMeta m;
    ASSERT_EQ(parse_guarded(kFrameIpv6Udp, m), ParseVerdict::ok_ipv6);
    PacketMeta w{};
    w.l3_off = 14;
    w.ethertype = kEtherTypeIpv6;
    w.l3_len = 40 + 13;
    w.l3_hlen = 40;
    w.l3_proto = kIpProtoUdp;
    w.ttl = 64;
    expect_meta_eq(m, w);
    EXPECT_EQ(verify_ipv4_header(kFrameIpv6Udp, m), CsumCheck::not_checked);
    EXPECT_EQ(verify_l4(kFrameIpv6Udp, m), CsumCheck::not_checked);
}

TEST(ParseFrame, Ipv6BadVersionAndLength) {
    std::vector<std::uint8_t> f(kFrameIpv6Udp, kFrameIpv6Udp + sizeof kFrameIpv6Udp);
    PacketMeta m;
    f[14] = 0x45;
    EXPECT_EQ(parse_guarded(f, m), ParseVerdict::bad_ip_version);
    f[14] = 0x60;
    store16(f.data() + 18, be16_from_host(14));  // one byte more than the frame has
    EXPECT_EQ(parse_guarded(f, m), ParseVerdict::bad_total_length);
    store16(f.data() + 18, 0xffff);  // 65535 + 40 must not wrap around 16 bits
    EXPECT_EQ(parse_guarded(f, m), ParseVerdict::bad_total_length);
}

TEST(ParseFrame, OtherEthertypes) {
    PacketMeta m;
    ASSERT_EQ(parse_guarded(kFrameLldp, m), ParseVerdict::not_ip);
    PacketMeta w{};
    w.l3_off = 14;
    w.ethertype = 0x88cc;
    expect_meta_eq(m, w);

    std::vector<std::uint8_t> llc(kFrameLldp, kFrameLldp + sizeof kFrameLldp);
    llc[12] = 0x00;  // 802.3 length field
    llc[13] = 0x14;
    EXPECT_EQ(parse_guarded(llc, m), ParseVerdict::not_ip);
    EXPECT_EQ(m.ethertype, 0x0014);
}

TEST(ParseFrame, PaddingIsIgnored) {
    PacketMeta m;
    ASSERT_EQ(parse_guarded(kFrameTcpPadded, m), ParseVerdict::ok_ipv4_tcp);
    PacketMeta w = ipv4_meta(14, 40, 20, kIpProtoTcp, ip4(198, 18, 0, 7), ip4(198, 18, 1, 10), 64);
    w.sport = port(40003);
    w.dport = port(80);
    w.tcp_flags = kTcpRst;
    w.l4_hlen = 20;
    w.flags = kPmPadded;
    expect_meta_eq(m, w);
    // The checksum covers the datagram, not the padding.
    EXPECT_EQ(verify_l4(kFrameTcpPadded, m), CsumCheck::ok);
}

// ---- fragments ------------------------------------------------------------------

TEST(ParseFragments, FirstFragmentHasPorts) {
    PacketMeta m;
    ASSERT_EQ(parse_guarded(kFrameFragFirst, m), ParseVerdict::ok_ipv4_udp);
    PacketMeta w = ipv4_meta(14, 276, 20, kIpProtoUdp, ip4(198, 18, 0, 6), ip4(198, 18, 1, 10), 64);
    w.sport = port(7000);
    w.dport = port(53);
    w.l4_hlen = 8;
    w.flags = kPmFragment | kPmMoreFragments;
    expect_meta_eq(m, w);
    EXPECT_EQ(verify_ipv4_header(kFrameFragFirst, m), CsumCheck::ok);
    EXPECT_EQ(verify_l4(kFrameFragFirst, m), CsumCheck::not_checked);  // covers the whole datagram
}

TEST(ParseFragments, LaterFragmentHasNoL4) {
    PacketMeta m;
    ASSERT_EQ(parse_guarded(kFrameFragLater, m), ParseVerdict::ok_ipv4_fragment);
    PacketMeta w = ipv4_meta(14, 276, 20, kIpProtoUdp, ip4(198, 18, 0, 6), ip4(198, 18, 1, 10), 64);
    w.frag_off = 256;
    w.flags = kPmFragment | kPmMoreFragments;
    expect_meta_eq(m, w);
    EXPECT_EQ(verify_ipv4_header(kFrameFragLater, m), CsumCheck::ok);
    EXPECT_EQ(verify_l4(kFrameFragLater, m), CsumCheck::not_checked);
}

TEST(ParseFragments, LastFragmentAndTinyOffsets) {
    std::vector<std::uint8_t> f(kFrameFragLater, kFrameFragLater + sizeof kFrameFragLater);
    PacketMeta m;
    store16(f.data() + 20, be16_from_host(64));  // last fragment: MF clear, offset 512
    ASSERT_EQ(parse_guarded(f, m), ParseVerdict::ok_ipv4_fragment);
    EXPECT_EQ(m.frag_off, 512);
    EXPECT_EQ(m.flags, kPmFragment);
    EXPECT_EQ(m.sport, 0);
    // Offset 8 bytes (RFC 1858 overlap attack): still a later fragment, never
    // parsed as a TCP header.
    f[23] = kIpProtoTcp;
    store16(f.data() + 20, be16_from_host(1));
    ASSERT_EQ(parse_guarded(f, m), ParseVerdict::ok_ipv4_fragment);
    EXPECT_EQ(m.frag_off, 8);
    EXPECT_EQ(m.tcp_flags, 0);
    EXPECT_EQ(m.l4_hlen, 0);
    // Maximum offset does not overflow.
    store16(f.data() + 20, be16_from_host(0x1fff));
    ASSERT_EQ(parse_guarded(f, m), ParseVerdict::ok_ipv4_fragment);
    EXPECT_EQ(m.frag_off, 0x1fff * 8);
}

TEST(ParseFragments, FirstFragmentWithTruncatedL4) {
    // First fragment (MF) carrying only 4 bytes of a TCP header.
    std::vector<std::uint8_t> f(kFrameTcpSyn, kFrameTcpSyn + 14 + 24);
    store16(f.data() + 16, be16_from_host(24));
    store16(f.data() + 20, be16_from_host(0x2000));
    PacketMeta m;
    EXPECT_EQ(parse_guarded(f, m), ParseVerdict::truncated_l4);
}

// ---- every truncation ------------------------------------------------------------

struct FrameCase {
    const char* name;
    const std::uint8_t* bytes;
    std::size_t size;
    std::uint16_t l3_off;
    std::uint16_t l3_min;   // fixed header: 20 (IPv4), 40 (IPv6), 28 (ARP), 0 (not IP)
    std::uint16_t l3_len;   // what the header says the L3 packet is
    ParseVerdict full;
};

#define KADP_FRAME(arr, l3_off, l3_min, l3_len, verdict) \
    FrameCase { #arr, arr, sizeof arr, l3_off, l3_min, l3_len, ParseVerdict::verdict }

const FrameCase kFrames[] = {
    KADP_FRAME(kFrameTcpSyn, 14, 20, 52, ok_ipv4_tcp),
    KADP_FRAME(kFrameTcpIpOptions, 14, 20, 66, ok_ipv4_tcp),
    KADP_FRAME(kFrameUdp, 14, 20, 57, ok_ipv4_udp),
    KADP_FRAME(kFrameUdpNoCsum, 14, 20, 35, ok_ipv4_udp),
    KADP_FRAME(kFrameIcmpEcho, 14, 20, 44, ok_ipv4_icmp),
    KADP_FRAME(kFrameArpRequest, 14, 28, 28, ok_arp),
    KADP_FRAME(kFrameArpReply, 14, 28, 28, ok_arp),
    KADP_FRAME(kFrameVlanTcp, 18, 20, 40, ok_ipv4_tcp),
    KADP_FRAME(kFrameIpv6Udp, 14, 40, 53, ok_ipv6),
    KADP_FRAME(kFrameLldp, 14, 0, 0, not_ip),
    KADP_FRAME(kFrameFragFirst, 14, 20, 276, ok_ipv4_udp),
    KADP_FRAME(kFrameFragLater, 14, 20, 276, ok_ipv4_fragment),
    KADP_FRAME(kFrameTcpPadded, 14, 20, 40, ok_ipv4_tcp),
};

// The documented verdict for the first `len` bytes of a frame.
ParseVerdict expected_truncated(const FrameCase& fc, std::size_t len) {
    if (len < fc.l3_off) {
        return ParseVerdict::truncated_l2;
    }
    if (fc.l3_min == 0) {
        return fc.full;
    }
    if (len < std::size_t{fc.l3_off} + fc.l3_min) {
        return ParseVerdict::truncated_l3;
    }
    if (len < std::size_t{fc.l3_off} + fc.l3_len) {
        return ParseVerdict::bad_total_length;
    }
    return fc.full;
}

TEST(ParseTruncation, EveryLengthOfEveryFrame) {
    int checked = 0;
    for (const FrameCase& fc : kFrames) {
        ASSERT_GE(fc.size, std::size_t{fc.l3_off} + fc.l3_len) << fc.name;
        PacketMeta full;
        ASSERT_EQ(parse_guarded(fc.bytes, fc.size, full), fc.full) << fc.name;
        for (std::size_t len = 0; len <= fc.size; ++len) {
            PacketMeta m;
            const ParseVerdict v = parse_guarded(fc.bytes, len, m);
            ASSERT_EQ(v, expected_truncated(fc, len))
                << fc.name << " cut to " << len << " bytes: got " << parse_verdict_name(v);
            if (parse_ok(v)) {
                // A frame still holding its whole L3 packet parses exactly
                // like the full frame, padding aside.
                const bool padded = len > std::size_t{fc.l3_off} + fc.l3_len && fc.l3_min != 0;
                PacketMeta want = full;
                want.flags = static_cast<std::uint8_t>((full.flags & ~kPmPadded) | (padded ? kPmPadded : 0));
                expect_meta_eq(m, want);
                ASSERT_LE(std::size_t{m.l3_off} + m.l3_len, len);
            }
            ++checked;
        }
    }
    EXPECT_GT(checked, 1000);
}

// ---- malformed headers ----------------------------------------------------------

class Malformed : public ::testing::Test {
protected:
    // The SYN (IPv4 at 14, TCP at 34, TCP header 32 bytes, total length 52).
    std::vector<std::uint8_t> f_{kFrameTcpSyn, kFrameTcpSyn + sizeof kFrameTcpSyn};
    std::uint8_t* ip() { return f_.data() + 14; }
    void set_tot_len(std::uint16_t v) { store16(ip() + 2, be16_from_host(v)); }
    ParseVerdict parse() { return parse_guarded(f_, m_); }
    PacketMeta m_{};
};

TEST_F(Malformed, IpVersion) {
    for (const std::uint8_t v : {0x05, 0x65, 0x00, 0xf5}) {
        ip()[0] = v;
        EXPECT_EQ(parse(), ParseVerdict::bad_ip_version) << int{v};
    }
}

TEST_F(Malformed, IhlBelowFive) {
    for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
        ip()[0] = static_cast<std::uint8_t>(0x40 | ihl);
        EXPECT_EQ(parse(), ParseVerdict::bad_ihl) << int{ihl};
        EXPECT_EQ(m_.l3_hlen, 0);  // nothing past the failed check is trusted
    }
}

TEST_F(Malformed, IhlBeyondTotalLength) {
    // IHL 15 = 60 bytes: longer than the 52-byte total length.
    ip()[0] = 0x4f;
    EXPECT_EQ(parse(), ParseVerdict::bad_ihl);
    // Within a bigger frame too: header fits the frame but not the datagram.
    f_.resize(14 + 80, 0);
    EXPECT_EQ(parse(), ParseVerdict::bad_ihl);
    // IHL 13 = 52 = total length: a header with options and no payload at all.
    ip()[0] = 0x4d;
    EXPECT_EQ(parse(), ParseVerdict::truncated_l4);
    EXPECT_EQ(m_.l3_hlen, 52);
    EXPECT_EQ(m_.l4_len, 0);
}

TEST_F(Malformed, TotalLength) {
    for (const std::uint16_t tl : {0, 1, 19}) {
        set_tot_len(tl);
        EXPECT_EQ(parse(), ParseVerdict::bad_total_length) << tl;
    }
    set_tot_len(53);  // one byte more than the frame holds
    EXPECT_EQ(parse(), ParseVerdict::bad_total_length);
    set_tot_len(0xffff);
    EXPECT_EQ(parse(), ParseVerdict::bad_total_length);
    set_tot_len(20);  // header only: TCP header missing
    EXPECT_EQ(parse(), ParseVerdict::truncated_l4);
}

TEST_F(Malformed, TcpHeader) {
    set_tot_len(20 + 19);
    EXPECT_EQ(parse(), ParseVerdict::truncated_l4);
    set_tot_len(52);
    std::uint8_t* tcp = f_.data() + 34;
    tcp[12] = 0x40;  // data offset 4
    EXPECT_EQ(parse(), ParseVerdict::bad_tcp_doff);
    tcp[12] = 0x90;  // 36 bytes > 32 in the datagram
    EXPECT_EQ(parse(), ParseVerdict::bad_tcp_doff);
    tcp[12] = 0x80;  // exactly the datagram
    EXPECT_EQ(parse(), ParseVerdict::ok_ipv4_tcp);
    EXPECT_EQ(m_.l4_hlen, 32);
    // The TCP length counts within the IPv4 total length, not the frame:
    // a 20-byte header in a 39-byte datagram is truncated even though the
    // frame's padding would hold it.
    tcp[12] = 0x50;
    f_.resize(100, 0);
    set_tot_len(39);
    EXPECT_EQ(parse(), ParseVerdict::truncated_l4);
}

TEST_F(Malformed, UdpHeader) {
    std::vector<std::uint8_t> u(kFrameUdp, kFrameUdp + sizeof kFrameUdp);
    std::uint8_t* udp = u.data() + 34;
    PacketMeta m;
    store16(udp + 4, be16_from_host(7));
    EXPECT_EQ(parse_guarded(u, m), ParseVerdict::bad_udp_length);
    store16(udp + 4, be16_from_host(38));  // payload is 37 bytes
    EXPECT_EQ(parse_guarded(u, m), ParseVerdict::bad_udp_length);
    store16(udp + 4, be16_from_host(8));  // shorter than the payload: allowed
    EXPECT_EQ(parse_guarded(u, m), ParseVerdict::ok_ipv4_udp);
    EXPECT_EQ(m.l4_len, 37);
    EXPECT_EQ(verify_l4(u.data(), m), CsumCheck::bad);  // checksum now covers 8 bytes only
    store16(u.data() + 16, be16_from_host(20 + 7));
    EXPECT_EQ(parse_guarded(u, m), ParseVerdict::truncated_l4);
}

TEST(ParseUdp, TrailingBytesAfterTheUdpDatagram) {
    // IPv4 payload 3 bytes longer than the UDP length: allowed, and the
    // checksum covers the UDP length only.
    std::vector<std::uint8_t> u(kFrameUdp, kFrameUdp + sizeof kFrameUdp);
    u.insert(u.end(), {0xde, 0xad, 0xbe});
    store16(u.data() + 16, be16_from_host(57 + 3));
    store16(u.data() + 24, ipv4_header_checksum(u.data() + 14, 20));
    PacketMeta m;
    ASSERT_EQ(parse_guarded(u, m), ParseVerdict::ok_ipv4_udp);
    EXPECT_EQ(m.l4_len, 40);
    EXPECT_EQ(load_be16(u.data() + m.l4_off + 4), 37);
    EXPECT_EQ(verify_ipv4_header(u.data(), m), CsumCheck::ok);
    EXPECT_EQ(verify_l4(u.data(), m), CsumCheck::ok);
}

TEST_F(Malformed, IcmpHeader) {
    std::vector<std::uint8_t> i(kFrameIcmpEcho, kFrameIcmpEcho + sizeof kFrameIcmpEcho);
    PacketMeta m;
    store16(i.data() + 16, be16_from_host(20 + 7));
    EXPECT_EQ(parse_guarded(i, m), ParseVerdict::truncated_l4);
    store16(i.data() + 16, be16_from_host(20 + 8));
    EXPECT_EQ(parse_guarded(i, m), ParseVerdict::ok_ipv4_icmp);
}

TEST_F(Malformed, OtherProtocolNeedsNoL4) {
    ip()[9] = 112;  // VRRP
    set_tot_len(20);
    EXPECT_EQ(parse(), ParseVerdict::ok_ipv4_other);
    EXPECT_EQ(m_.l3_proto, 112);
    EXPECT_EQ(m_.l4_off, 34);
    EXPECT_EQ(m_.l4_len, 0);
    EXPECT_EQ(m_.l4_hlen, 0);
    EXPECT_EQ(verify_l4(f_.data(), m_), CsumCheck::not_checked);
}

TEST(ParseArp, Malformed) {
    PacketMeta m;
    const auto mutate = [&](std::size_t off, std::uint8_t v) {
        std::vector<std::uint8_t> f(kFrameArpReply, kFrameArpReply + sizeof kFrameArpReply);
        f[14 + off] = v;
        return parse_guarded(f, m);
    };
    EXPECT_EQ(mutate(1, 6), ParseVerdict::bad_arp);      // htype 6 (IEEE 802)
    EXPECT_EQ(mutate(2, 0x86), ParseVerdict::bad_arp);   // ptype 0x86.. not IPv4
    EXPECT_EQ(mutate(4, 8), ParseVerdict::bad_arp);      // hlen 8
    EXPECT_EQ(mutate(5, 16), ParseVerdict::bad_arp);     // plen 16
    EXPECT_EQ(mutate(7, 3), ParseVerdict::bad_arp);      // RARP request
    EXPECT_EQ(mutate(7, 0), ParseVerdict::bad_arp);
    EXPECT_EQ(mutate(6, 1), ParseVerdict::bad_arp);      // opcode 0x0102
    EXPECT_EQ(mutate(7, 1), ParseVerdict::ok_arp);       // request
    EXPECT_EQ(m.arp_op, kArpOpRequest);
}

TEST(ParseChecksums, CorruptionIsDetected) {
    for (const FrameCase& fc : kFrames) {
        PacketMeta m;
        const ParseVerdict v = parse_guarded(fc.bytes, fc.size, m);
        if (v != ParseVerdict::ok_ipv4_tcp && v != ParseVerdict::ok_ipv4_udp && v != ParseVerdict::ok_ipv4_icmp) {
            continue;
        }
        std::vector<std::uint8_t> f(fc.bytes, fc.bytes + fc.size);
        f[m.l3_off + 8] ^= 0x10;  // TTL: header only
        EXPECT_EQ(verify_ipv4_header(f.data(), m), CsumCheck::bad) << fc.name;
        f[m.l3_off + 8] ^= 0x10;
        EXPECT_EQ(verify_ipv4_header(f.data(), m), CsumCheck::ok) << fc.name;
        const CsumCheck before = verify_l4(f.data(), m);
        f[m.l4_off + m.l4_len - 1] ^= 0x01;  // last datagram byte
        const CsumCheck after = verify_l4(f.data(), m);
        if (before == CsumCheck::ok) {
            EXPECT_EQ(after, CsumCheck::bad) << fc.name;
        } else {
            EXPECT_EQ(after, CsumCheck::not_checked) << fc.name;  // fragment or UDP without checksum
        }
    }
}

// ---- random mutations: never out of bounds, meta consistent ------------------

TEST(ParseFuzz, RandomMutationsStayInBounds) {
    std::mt19937 rng(8021);
    std::set<ParseVerdict> seen;
    for (int iter = 0; iter < 60000; ++iter) {
        const FrameCase& fc = kFrames[rng() % std::size(kFrames)];
        std::vector<std::uint8_t> f(fc.bytes, fc.bytes + fc.size);
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < flips; ++i) {
            // Mostly the first 60 bytes, where the headers are.
            const std::size_t at = rng() % std::min<std::size_t>(f.size(), rng() % 4 == 0 ? f.size() : 60);
            f[at] = static_cast<std::uint8_t>(rng() % 3 == 0 ? rng() : f[at] ^ (1U << (rng() % 8)));
        }
        f.resize(rng() % 3 == 0 ? rng() % (f.size() + 1) : f.size());
        PacketMeta m;
        const std::uint8_t* data = place_guarded(f.data(), f.size());
        const ParseVerdict v = parse_frame(data, static_cast<std::uint16_t>(f.size()), m);
        seen.insert(v);
        ASSERT_LT(static_cast<std::size_t>(v), kParseVerdictCount);
        if (parse_ok(v) && v != ParseVerdict::not_ip) {
            ASSERT_LE(std::size_t{m.l3_off} + m.l3_len, f.size()) << parse_verdict_name(v);
            ASSERT_GE(m.l3_len, m.l3_hlen);
        }
        if (v == ParseVerdict::ok_ipv4_tcp || v == ParseVerdict::ok_ipv4_udp || v == ParseVerdict::ok_ipv4_icmp) {
            ASSERT_EQ(m.frag_off, 0);
            ASSERT_LE(m.l4_hlen, m.l4_len);
            ASSERT_EQ(std::size_t{m.l4_off} + m.l4_len, std::size_t{m.l3_off} + m.l3_len);
            // The verifiers read only inside the datagram, too.
            verify_ipv4_header(data, m);
            verify_l4(data, m);
        }
    }
    // The mutations reached every verdict, so every check above ran on
    // every kind of outcome.
    EXPECT_EQ(seen.size(), kParseVerdictCount);
}

TEST(ParseVerdicts, NamesAndClasses) {
    std::set<std::string_view> names;
    int ok = 0;
    int malformed = 0;
    for (std::size_t i = 0; i < kParseVerdictCount; ++i) {
        const auto v = static_cast<ParseVerdict>(i);
        EXPECT_FALSE(parse_verdict_name(v).empty());
        names.insert(parse_verdict_name(v));
        ok += parse_ok(v);
        malformed += parse_malformed(v);
        EXPECT_FALSE(parse_ok(v) && parse_malformed(v));
    }
    EXPECT_EQ(names.size(), kParseVerdictCount);
    EXPECT_EQ(ok, 7);          // ok_ipv4_{tcp,udp,icmp,other,fragment}, ok_arp, ok_ipv6
    EXPECT_EQ(malformed, 9);   // not_ip and vlan_qinq are neither
    EXPECT_EQ(parse_verdict_name(ParseVerdict::truncated_l4), "truncated_l4");
}

}  // namespace
}  // namespace kadp::dp
