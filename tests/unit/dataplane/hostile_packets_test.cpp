// Runs on: any (unit test; binary unit_hostile, its own EAL like the other
// pipeline binaries). Malformed and adversarial IPv4 through the whole
// NatPipeline on real mbufs: each is counted by its named counter and
// nothing else moves, nothing is transmitted (or exactly the expected frame),
// the mbuf pool is full again, and a connection established before the
// abuse still forwards byte-exact with its entry unchanged
// (hostile_fixture.h). Covered elsewhere and not repeated here: ICMP errors
// quoting nothing / a truncated quote / no connection / a forged direction,
// bad ICMP checksums and fragmented errors
// (nat_icmp_frag_test.cpp ErrorsQuotingNothingTruncatedForgedOrBrokenAreDroppedAndCounted);
// later fragments without their first (held, then dropped on expiry:
// LaterFragmentsBeforeTheirFirstAreHeldThenSentAfterIt,
// EndlessFragmentStreamsStayBoundedAndExpire); overlapping / oversized /
// tiny fragments (OverlappingOversizedAndTinyFragmentsNeverCrashAndAreCounted);
// the parser's bounds under random mutation and each malformation alone
// (packet_parse_test.cpp ParseFuzz, Malformed).
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "hostile_fixture.h"

namespace kadp::dp {
namespace {

using namespace pipetest;

Bytes tcp_ip(std::uint16_t sport, std::uint8_t flags, IpOpts o = {})
{
    return ipv4(kClient, kVip, 6, tcp_seg(kClient, kVip, sport, 80, 1, 0, flags, 8192), o);
}
Bytes udp_ip(std::uint16_t sport) { return ipv4(kClient, kVip, 17, udp_dgram(kClient, kVip, sport, 53, kHello)); }
Bytes icmp_ip() { return ipv4(kClient, kVip, 1, icmp_msg(8, 0, 0x00070001, kHello)); }
Bytes lan_frame(const Bytes& ip, bool pad = true) { return eth(kLanMac, kClientMac, 0x0800, ip, pad); }

// --- truncation ------------------------------------------------------------------

TEST_F(HostileTest, EveryCutOfATcpUdpAndIcmpFrameIsCountedByWhereItWasCut)
{
    const std::vector<Bytes> whole = {lan_frame(tcp_ip(41000, kSyn), false), lan_frame(udp_ip(41000), false),
                                      lan_frame(icmp_ip(), false)};
    for (const Bytes& f : whole) {
        for (std::size_t n = 0; n < f.size(); ++n) {
            // Shorter than Ethernet; than Ethernet + 20; then the IPv4 total
            // length claims more than the frame holds.
            const char* c = n < 14 ? "drop_truncated_l2" : n < 34 ? "drop_truncated_l3" : "drop_bad_total_length";
            expect_dropped(0, cut(f, n), {{"rx_packets", 1}, {c, 1}}, "cut at " + std::to_string(n));
        }
    }
    // A consistent IPv4 header whose payload is shorter than the L4 header,
    // zero-padded to the Ethernet minimum as a NIC would.
    const std::vector<std::pair<Bytes, std::size_t>> l4 = {
        {tcp_ip(41000, kSyn), 20}, {udp_ip(41000), 8}, {icmp_ip(), 8}};
    for (const auto& [ip, hdr] : l4) {
        for (std::size_t k = 0; k < hdr; ++k) {
            Bytes short_ip = cut(ip, 20 + k);
            put16(short_ip, 2, static_cast<std::uint16_t>(20 + k));
            put16(short_ip, 10, 0);
            put16(short_ip, 10, ref_csum(cut(short_ip, 20)));
            expect_dropped(0, lan_frame(short_ip), {{"rx_packets", 1}, {"drop_truncated_l4", 1}},
                           "L4 header cut at " + std::to_string(k));
        }
    }
    EXPECT_EQ(count(Counter::conn_new), 1U);  // the fixture's connection only
    expect_connection_intact();
}

// --- IPv4 header fields ------------------------------------------------------------

TEST_F(HostileTest, BadIhlTotalLengthAndVersionAreCountedAndDropped)
{
    const Bytes good = lan_frame(tcp_ip(41000, kSyn), false);
    auto with = [&](std::uint8_t ver_ihl, std::uint16_t total) {
        Bytes f = good;
        f[14] = ver_ihl;
        put16(f, 16, total);
        fix_ip_checksum(f);
        return f;
    };
    for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
        expect_dropped(0, with(static_cast<std::uint8_t>(0x40 | ihl), 40), {{"rx_packets", 1}, {"drop_bad_ihl", 1}},
                       "IHL " + std::to_string(ihl));
    }
    // IHL 15 (60 bytes) in a 40-byte packet; IHL 6 and a total length of 20.
    expect_dropped(0, with(0x4f, 40), {{"rx_packets", 1}, {"drop_bad_ihl", 1}}, "IHL beyond the total length");
    expect_dropped(0, with(0x46, 20), {{"rx_packets", 1}, {"drop_bad_ihl", 1}}, "total length < IHL*4");
    // IHL 15 and a total length of 60: the frame holds 40.
    expect_dropped(0, with(0x4f, 60), {{"rx_packets", 1}, {"drop_bad_total_length", 1}}, "IHL beyond the frame");
    expect_dropped(0, with(0x45, 41), {{"rx_packets", 1}, {"drop_bad_total_length", 1}}, "total length > frame");
    expect_dropped(0, with(0x45, 19), {{"rx_packets", 1}, {"drop_bad_total_length", 1}}, "total length 19");
    expect_dropped(0, with(0x45, 0), {{"rx_packets", 1}, {"drop_bad_total_length", 1}}, "total length 0");
    expect_dropped(0, with(0x65, 40), {{"rx_packets", 1}, {"drop_bad_ip_version", 1}}, "version 6 in IPv4");
    // TCP data offset under 5 words or beyond the IPv4 payload.
    for (std::uint8_t doff : {std::uint8_t{0}, std::uint8_t{4}, std::uint8_t{6}, std::uint8_t{15}}) {
        Bytes f = good;
        f[14 + 20 + 12] = static_cast<std::uint8_t>(doff << 4);
        expect_dropped(0, f, {{"rx_packets", 1}, {"drop_bad_tcp_doff", 1}}, "TCP data offset " + std::to_string(doff));
    }
    expect_connection_intact();
}

TEST_F(HostileTest, ABadIpHeaderChecksumNeitherOpensNorClosesAConnection)
{
    Bytes syn = lan_frame(tcp_ip(41000, kSyn));
    syn[14 + 10] ^= 0x40;
    expect_dropped(0, syn, {{"rx_packets", 1}, {"rx_ipv4_tcp", 1}, {"drop_bad_ip_checksum", 1}}, "SYN");
    // An RST and a FIN for the established connection with a corrupt header:
    // the end host would drop them, so they must not move its state here.
    for (std::uint8_t flags : {kRst, static_cast<std::uint8_t>(kFin | kAck)}) {
        Bytes f = tcp_frame(kLanMac, kClientMac, kClient, kVip, kEstPort, 80, 1001, 5001, flags);
        f[14 + 8] ^= 0x01;  // the TTL changed under the checksum
        expect_dropped(0, f, {{"rx_packets", 1}, {"rx_ipv4_tcp", 1}, {"drop_bad_ip_checksum", 1}}, "in");
    }
    Bytes reply_rst = tcp_frame(kSrvMac, kSrv1Mac, kSrv1, kClient, 80, kEstPort, 5001, 1001, kRst);
    reply_rst[14 + 10] ^= 0x01;
    expect_dropped(1, reply_rst, {{"rx_packets", 1}, {"rx_ipv4_tcp", 1}, {"drop_bad_ip_checksum", 1}}, "out");
    Bytes echo = lan_frame(icmp_ip());
    echo[14 + 11] ^= 0x01;
    expect_dropped(0, echo, {{"rx_packets", 1}, {"rx_ipv4_icmp", 1}, {"drop_bad_ip_checksum", 1}}, "echo");
    EXPECT_EQ(count(Counter::conn_new), 1U);
    expect_connection_intact();
}

// Forwarded traffic: the L4 checksum is not verified (IPVS verifies it only
// for connections with an application helper); the incremental update keeps
// a wrong checksum exactly as wrong, so the end host drops the segment.
TEST_F(HostileTest, ABadTcpChecksumIsForwardedStillBadAndWhatKadpAnswersIsVerified)
{
    Bytes in = tcp_frame(kLanMac, kClientMac, kClient, kVip, kEstPort, 80, 1001, 5001, kAck | kPsh, kHello);
    in[14 + 20 + 20] = 'H';  // payload changed under the checksum
    rx(0, in);
    auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    Bytes want = tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, kEstPort, 80, 1001, 5001, kAck | kPsh, kHello, {.ttl = 63});
    want[14 + 20 + 20] = 'H';
    EXPECT_EQ(out[0], want);  // the checksum of "hello", rewritten: still wrong for "Hello"
    EXPECT_NE(ref_csum(Bytes(want.begin() + 34, want.begin() + 59), pseudo(kClient, kSrv1, 6, 25)), 0);
    // Where kadp answers itself, it verifies first, as Linux's TCP, UDP and
    // ICMP do: no RST, no port unreachable, no echo reply for a corrupt one.
    Bytes syn81 = tcp_frame(kLanMac, kClientMac, kClient, kVip, 41000, 81, 1, 0, kSyn);
    syn81[14 + 20 + 16] ^= 0x01;
    expect_dropped(0, syn81, {{"rx_packets", 1}, {"rx_ipv4_tcp", 1}, {"drop_bad_l4_checksum", 1}}, "SYN to 81");
    Bytes udp54 = lan_frame(ipv4(kClient, kVip, 17, udp_dgram(kClient, kVip, 41000, 54, kHello)));
    udp54[14 + 20 + 6] ^= 0x01;
    expect_dropped(0, udp54, {{"rx_packets", 1}, {"rx_ipv4_udp", 1}, {"drop_bad_l4_checksum", 1}}, "UDP to 54");
    Bytes echo = lan_frame(icmp_ip());
    echo[14 + 20 + 2] ^= 0x01;
    expect_dropped(0, echo, {{"rx_packets", 1}, {"rx_ipv4_icmp", 1}, {"drop_bad_l4_checksum", 1}}, "echo");
    // UDP without a checksum (0) has nothing to verify: answered.
    rx(0, lan_frame(ipv4(kClient, kVip, 17, udp_dgram(kClient, kVip, 41000, 54, kHello, true))));
    out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    expect_checksums_valid(out[0]);
    EXPECT_EQ(count(Counter::no_service_icmp_unreach), 1U);
    EXPECT_EQ(count(Counter::conn_new), 1U);
    expect_connection_intact();
}

// --- TTL -------------------------------------------------------------------------

// IPVS's decrement_ttl() (ip_vs_xmit.c): a packet it would forward with
// TTL 1 or 0 is dropped and its sender gets an ICMP time exceeded in
// transit quoting the IP header + 8 bytes -- from the VIP for a client's
// packet, from kadp's srv address for a real server's reply -- before a
// connection is made or moved. Addressed to kadp itself (an echo to the
// VIP), TTL does not matter.
TEST_F(HostileTest, TtlOneAndZeroGetTimeExceededBeforeAConnectionIsMadeOrMoved)
{
    struct Case {
        std::uint16_t port;
        Mac sender_mac;
        Mac own_mac;
        Bytes frame;
        std::uint32_t answer_from;
        const char* rx_kind;
        const char* what;
    };
    for (std::uint8_t ttl : {std::uint8_t{1}, std::uint8_t{0}}) {
        const std::vector<Case> cases = {
            {0, kClientMac, kLanMac, lan_frame(tcp_ip(41000, kSyn, {.ttl = ttl})), kVip, "rx_ipv4_tcp", "SYN"},
            {0, kClientMac, kLanMac,
             lan_frame(ipv4(kClient, kVip, 17, udp_dgram(kClient, kVip, 41000, 53, kHello), {.ttl = ttl})), kVip,
             "rx_ipv4_udp", "UDP"},
            {0, kClientMac, kLanMac,
             tcp_frame(kLanMac, kClientMac, kClient, kVip, kEstPort, 80, 1001, 5001, kFin | kAck, {}, {.ttl = ttl}),
             kVip, "rx_ipv4_tcp", "FIN in"},
            {1, kSrv1Mac, kSrvMac,
             tcp_frame(kSrvMac, kSrv1Mac, kSrv1, kClient, 80, kEstPort, 5001, 1001, kRst, {}, {.ttl = ttl}), kSrvIp,
             "rx_ipv4_tcp", "RST out"},
        };
        for (const Case& c : cases) {
            const std::string what = "TTL " + std::to_string(ttl) + " " + c.what;
            const auto before = counters_now();
            rx(c.port, c.frame);
            const auto out = sent(c.port);
            EXPECT_TRUE(sent(c.port == 0 ? 1 : 0).empty()) << what;
            ASSERT_EQ(out.size(), 1U) << what;
            const std::uint32_t sender = load_be32(c.frame.data() + 14 + 12);
            const Bytes quoted(c.frame.begin() + 14, c.frame.begin() + 14 + 28);  // IP header + 8 bytes
            EXPECT_EQ(out[0], eth(c.sender_mac, c.own_mac, 0x0800,
                                  ipv4(c.answer_from, sender, 1, icmp_msg(11, 0, 0, quoted),
                                       {.ttl = 64, .id = 0, .df = false, .tos = 0xc0})))
                << what;
            expect_checksums_valid(out[0]);
            EXPECT_EQ(changes_since(before),
                      (Changes{{"rx_packets", 1},
                               {c.rx_kind, 1},
                               {"ttl_exceeded_icmp", 1},
                               {"tx_packets", 1},
                               {"tx_bytes", out[0].size()}}))
                << what;
        }
    }
    rx(0, lan_frame(ipv4(kClient, kVip, 1, icmp_msg(8, 0, 0x00070001, kHello), {.ttl = 1})));
    const auto out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], eth(kClientMac, kLanMac, 0x0800, ipv4(kVip, kClient, 1, icmp_msg(0, 0, 0x00070001, kHello))));
    EXPECT_EQ(count(Counter::conn_new), 1U);
    expect_connection_intact();
}

// No time exceeded about a fragment (Linux sends none about the later ones;
// kadp cannot tell the first apart where TTL is checked). Sources no reply
// may go to never get this far: they are martians (MartianAndOwnSources...).
TEST_F(HostileTest, TtlOneFragmentsAreDroppedUnanswered)
{
    Bytes frag = lan_frame(ipv4(kClient, kVip, 17, udp_dgram(kClient, kVip, 41000, 53, kHello), {.ttl = 1}));
    frag[14 + 6] |= 0x20;  // more fragments
    frag[14 + 10] = 0;
    frag[14 + 11] = 0;
    const std::uint16_t sum = ipv4_header_checksum(frag.data() + 14, 20);
    std::memcpy(frag.data() + 14 + 10, &sum, 2);
    expect_dropped(0, frag, {{"rx_packets", 1}, {"rx_ipv4_udp", 1}, {"drop_ttl_exceeded", 1}}, "first fragment");
    expect_connection_intact();
}

// Every ICMP error kadp sends (port unreachable, time exceeded) comes out of
// one bucket per worker, as Linux's icmp_global_allow(): kIcmpErrorBurst at
// once, then one a millisecond; the rest are dropped and counted.
TEST_F(HostileTest, IcmpErrorsAreRateLimitedPerWorker)
{
    const auto before = counters_now();
    for (std::uint16_t i = 0; i < kIcmpErrorBurst + 10; ++i) {
        rx(0, lan_frame(i % 2 == 0 ? tcp_ip(static_cast<std::uint16_t>(41000 + i), kSyn, {.ttl = 1})
                                   : ipv4(kClient, kVip, 17, udp_dgram(kClient, kVip, 41000, 5353, kHello))));
    }
    EXPECT_EQ(sent(0).size(), kIcmpErrorBurst);
    const Changes moved = changes_since(before);
    EXPECT_EQ(moved.at("ttl_exceeded_icmp") + moved.at("no_service_icmp_unreach"), kIcmpErrorBurst);
    EXPECT_EQ(moved.at("icmp_error_rate_limited"), 10U);
    g_now += 3;  // three more
    for (std::uint16_t i = 0; i < 5; ++i) rx(0, lan_frame(tcp_ip(static_cast<std::uint16_t>(42000 + i), kSyn, {.ttl = 1})));
    EXPECT_EQ(sent(0).size(), 3U);
    EXPECT_EQ(changes_since(before).at("icmp_error_rate_limited"), 12U);
    g_now += 1000;  // a full bucket again, not more
    for (std::uint16_t i = 0; i < kIcmpErrorBurst + 1; ++i) {
        rx(0, lan_frame(tcp_ip(static_cast<std::uint16_t>(43000 + i), kSyn, {.ttl = 1})));
    }
    EXPECT_EQ(sent(0).size(), kIcmpErrorBurst);
    EXPECT_EQ(changes_since(before).at("icmp_error_rate_limited"), 13U);
    expect_connection_intact();
}

// --- sources -----------------------------------------------------------------------

// Linux drops these as martians before IPVS sees them; kadp opens no
// connection and sends no RST / port unreachable for them.
TEST_F(HostileTest, MartianAndOwnSourcesOpenNothingAndGetNoAnswer)
{
    const std::uint32_t sources[] = {
        0x00000000,  // 0.0.0.0
        0x00010203,  // 0.1.2.3
        0x7f000001,  // 127.0.0.1
        0xe0000005,  // 224.0.0.5
        0xefffffff,  // 239.255.255.255
        0xf0000001,  // 240.0.0.1 (class E)
        0xffffffff,  // 255.255.255.255
        kVip,        // the VIP itself
        kLanIp,      // a port address
        kSrvIp,
    };
    for (std::uint32_t s : sources) {
        const std::string what = "source " + std::to_string(s);
        expect_dropped(0, eth(kLanMac, kClientMac, 0x0800, ipv4(s, kVip, 6, tcp_seg(s, kVip, 41000, 80, 1, 0, kSyn, 8192))),
                       {{"rx_packets", 1}, {"rx_ipv4_tcp", 1}, {"drop_martian_source", 1}}, what + " SYN to 80");
        expect_dropped(0, eth(kLanMac, kClientMac, 0x0800, ipv4(s, kVip, 6, tcp_seg(s, kVip, 41000, 81, 1, 0, kSyn, 8192))),
                       {{"rx_packets", 1}, {"rx_ipv4_tcp", 1}, {"drop_martian_source", 1}}, what + " SYN to 81");
        expect_dropped(0, eth(kLanMac, kClientMac, 0x0800, ipv4(s, kVip, 17, udp_dgram(s, kVip, 41000, 53, kHello))),
                       {{"rx_packets", 1}, {"rx_ipv4_udp", 1}, {"drop_martian_source", 1}}, what + " UDP to 53");
        expect_dropped(0, eth(kLanMac, kClientMac, 0x0800, ipv4(s, kVip, 17, udp_dgram(s, kVip, 41000, 54, kHello))),
                       {{"rx_packets", 1}, {"rx_ipv4_udp", 1}, {"drop_martian_source", 1}}, what + " UDP to 54");
    }
    EXPECT_EQ(count(Counter::conn_new), 1U);
    expect_connection_intact();
}

// --- options, padding, lengths -------------------------------------------------------

// IP options are carried through unchanged (IPVS does not strip them
// either); the rewrite finds the TCP header after them.
TEST_F(HostileTest, IpOptionsAreForwardedUnchangedBehindTheRewrite)
{
    auto with_options = [](std::uint32_t s, std::uint32_t d, std::uint8_t ttl) {
        Bytes ip = ipv4(s, d, 6, tcp_seg(s, d, 41000, 80, 7, 0, kSyn, 8192), {.ttl = ttl});
        const Bytes opts = {0x01, 0x01, 0x01, 0x00};  // NOP NOP NOP EOL
        ip.insert(ip.begin() + 20, opts.begin(), opts.end());
        ip[0] = 0x46;
        put16(ip, 2, static_cast<std::uint16_t>(ip.size()));
        put16(ip, 10, 0);
        put16(ip, 10, ref_csum(cut(ip, 24)));
        return ip;
    };
    rx(0, eth(kLanMac, kClientMac, 0x0800, with_options(kClient, kVip, 64)));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], eth(kSrv2Mac, kSrvMac, 0x0800, with_options(kClient, kSrv2, 63)));
    expect_checksums_valid(out[0]);
    expect_connection_intact();
}

// Bytes past the IPv4 total length are the link's padding: the packet is
// forwarded without them (zero-padded to 60 again), its checksums intact.
TEST_F(HostileTest, TrailingPaddingIsNotForwarded)
{
    auto padded = [](Bytes f, std::size_t extra) {
        f.insert(f.end(), extra, 0xee);
        return f;
    };
    // A new connection's SYN (54 bytes of packet) with 6 + 100 bytes of junk.
    rx(0, padded(lan_frame(tcp_ip(41000, kSyn), false), 106));
    auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], tcp_frame(kSrv2Mac, kSrvMac, kClient, kSrv2, 41000, 80, 1, 0, kSyn, {}, {.ttl = 63}));
    // The established connection's data both ways, 300 junk bytes each.
    rx(0, padded(tcp_frame(kLanMac, kClientMac, kClient, kVip, kEstPort, 80, 1001, 5001, kAck | kPsh, kHello), 300));
    out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, kEstPort, 80, 1001, 5001, kAck | kPsh, kHello,
                                {.ttl = 63}));
    rx(1, padded(tcp_frame(kSrvMac, kSrv1Mac, kSrv1, kClient, 80, kEstPort, 5001, 1006, kAck | kPsh, kHello), 300));
    out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], tcp_frame(kClientMac, kLanMac, kVip, kClient, 80, kEstPort, 5001, 1006, kAck | kPsh, kHello,
                                {.ttl = 63}));
    // A 1000-byte payload padded: its length stays the packet's.
    const Bytes big(1000, 0x5a);
    rx(0, padded(tcp_frame(kLanMac, kClientMac, kClient, kVip, kEstPort, 80, 1001, 5001, kAck, big), 40));
    out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, kEstPort, 80, 1001, 5001, kAck, big, {.ttl = 63}));
    EXPECT_EQ(rte_mempool_avail_count(g_pool), pool_before_);
}

// A UDP length beyond the payload or under 8 is malformed; a shorter one
// than the payload is legal (the rest is not UDP's) and forwarded as is.
TEST_F(HostileTest, UdpLengthMismatch)
{
    auto with_ulen = [](std::uint32_t s, std::uint32_t d, std::uint16_t sport, std::uint16_t dport, std::uint16_t ulen) {
        Bytes u = udp_dgram(s, d, sport, dport, kHello);
        put16(u, 4, ulen);
        put16(u, 6, 0);
        const std::uint16_t c = ref_csum(cut(u, ulen < u.size() ? ulen : u.size()), pseudo(s, d, 17, ulen));
        put16(u, 6, c == 0 ? 0xffff : c);
        return u;
    };
    for (std::uint16_t ulen : {std::uint16_t{14}, std::uint16_t{100}, std::uint16_t{7}, std::uint16_t{0}}) {
        expect_dropped(0, lan_frame(ipv4(kClient, kVip, 17, with_ulen(kClient, kVip, 41000, 53, ulen))),
                       {{"rx_packets", 1}, {"drop_bad_udp_length", 1}}, "UDP length " + std::to_string(ulen));
    }
    rx(0, lan_frame(ipv4(kClient, kVip, 17, with_ulen(kClient, kVip, 41000, 53, 11))));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], eth(kSrv1Mac, kSrvMac, 0x0800,
                          ipv4(kClient, kSrv1, 17, with_ulen(kClient, kSrv1, 41000, 5353, 11), {.ttl = 63})));
    expect_connection_intact();
}

// --- TCP flags ------------------------------------------------------------------------

// Only a SYN without ACK, RST and FIN opens a connection (as IPVS's
// tcp_conn_schedule wants th->syn and not th->rst; kadp also refuses FIN).
TEST_F(HostileTest, SynFinSynRstAndFlaglessSegmentsOpenNothing)
{
    for (std::uint8_t flags : {static_cast<std::uint8_t>(kSyn | kFin), static_cast<std::uint8_t>(kSyn | kRst),
                               std::uint8_t{0}, static_cast<std::uint8_t>(kSyn | kAck), kFin, std::uint8_t{0xff}}) {
        expect_dropped(0, lan_frame(tcp_ip(41000, flags)), {{"rx_packets", 1}, {"rx_ipv4_tcp", 1}, {"conn_not_syn", 1}},
                       "flags " + std::to_string(flags));
    }
    EXPECT_EQ(count(Counter::conn_new), 1U);
    expect_connection_intact();
}

// --- ICMP -------------------------------------------------------------------------

// The errors about the established connection that nat_icmp_frag_test.cpp
// does not send: a quote of the header alone, and one naming its ports
// with another client address. Neither reaches anyone nor moves the entry.
TEST_F(HostileTest, IcmpErrorsAboutTheConnectionThatQuoteTooLittleOrTheWrongPeer)
{
    const Bytes reply = ipv4(kVip, kClient, 6, tcp_seg(kVip, kClient, 80, kEstPort, 5001, 1001, kAck, 8192), {.ttl = 63});
    auto err = [](const Bytes& quote) {
        return eth(kLanMac, kClientMac, 0x0800, ipv4(kClient, kVip, 1, icmp_msg(3, 3, 0, quote), {.df = false}));
    };
    expect_dropped(0, err(cut(reply, 20)), {{"rx_packets", 1}, {"rx_ipv4_icmp", 1}, {"icmp_error_bad_quote", 1}}, "20");
    const Bytes other =
        ipv4(kVip, 0xc6120002, 6, tcp_seg(kVip, 0xc6120002, 80, kEstPort, 5001, 1001, kAck, 8192), {.ttl = 63});
    expect_dropped(0, err(cut(other, 28)), {{"rx_packets", 1}, {"rx_ipv4_icmp", 1}, {"icmp_error_no_conn", 1}},
                   "another client");
    expect_connection_intact();
}

// --- L2 ---------------------------------------------------------------------------------

// VID 0 is an 802.1p priority tag, not a VLAN: Linux takes such frames on an
// untagged interface as untagged, and so does kadp -- forwarded untagged,
// answered with the tag the sender used, its connection the same as any.
TEST_F(HostileTest, APriorityTaggedFrameOnAnUntaggedPortIsHandledAsUntagged)
{
    const auto before = counters_now();
    const Bytes syn = lan_frame(tcp_ip(41000, kSyn), false);
    rx(0, tagged(syn, 0xa000));  // priority 5, VID 0
    auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    ConnDir dir;
    ASSERT_NE(find(kClient, kVip, 41000, 80, 6, dir), nullptr);
    // rr: server 1 has the fixture's connection, server 2 is next.
    EXPECT_EQ(out[0], eth(kSrv2Mac, kSrvMac, 0x0800,
                          ipv4(kClient, kSrv2, 6, tcp_seg(kClient, kSrv2, 41000, 80, 1, 0, kSyn, 8192), {.ttl = 63})))
        << "forwarded untagged (zero-padded back to 60 bytes), the priority tag gone";
    EXPECT_TRUE(sent(0).empty());
    const Changes moved = changes_since(before);
    EXPECT_EQ(moved.at("vlan_priority_tagged"), 1U);
    EXPECT_EQ(moved.count("drop_vlan_unknown"), 0U);
    EXPECT_EQ(moved.at("conn_new"), 1U);
    // An echo to the VIP: answered, with the sender's tag.
    rx(0, tagged(lan_frame(icmp_ip(), false), 0xa000));
    out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], tagged(eth(kClientMac, kLanMac, 0x0800, ipv4(kVip, kClient, 1, icmp_msg(0, 0, 0x00070001, kHello)),
                                 false),
                             0xa000));
    expect_connection_intact();
}

TEST_F(HostileTest, TagsOnAnUntaggedPortAndUnknownEthertypesAreDropped)
{
    const Bytes syn = lan_frame(tcp_ip(41000, kSyn));
    expect_dropped(0, tagged(syn, 100), {{"rx_packets", 1}, {"rx_ipv4_tcp", 1}, {"drop_vlan_unknown", 1}}, "VID 100");
    const Bytes est = tcp_frame(kLanMac, kClientMac, kClient, kVip, kEstPort, 80, 1001, 5001, kRst);
    expect_dropped(0, tagged(est, 7), {{"rx_packets", 1}, {"rx_ipv4_tcp", 1}, {"drop_vlan_unknown", 1}}, "RST tagged");
    Bytes qinq = tagged(tagged(syn, 100), 200);
    expect_dropped(0, qinq, {{"rx_packets", 1}, {"drop_vlan_qinq", 1}}, "QinQ");
    qinq[12] = 0x88;
    qinq[13] = 0xa8;
    expect_dropped(0, qinq, {{"rx_packets", 1}, {"drop_vlan_qinq", 1}}, "802.1ad");
    for (std::uint16_t type : {std::uint16_t{0x88cc}, std::uint16_t{0x0842}, std::uint16_t{0x0040}, std::uint16_t{0xffff},
                               std::uint16_t{0x0000}}) {
        expect_dropped(0, eth(kLanMac, kClientMac, type, ip_of(syn)), {{"rx_packets", 1}, {"rx_not_ip", 1}, {"drop_not_ip", 1}},
                       "ethertype " + std::to_string(type));
    }
    // ARP that is not Ethernet/IPv4 (hardware type 6), and a RARP opcode.
    Bytes a = arp(1, kClientMac, kClient, MacAddr{}, kVip);
    a[1] = 6;
    expect_dropped(0, eth(kBroadcastMac, kClientMac, 0x0806, a), {{"rx_packets", 1}, {"drop_bad_arp", 1}}, "htype 6");
    expect_dropped(0, eth(kBroadcastMac, kClientMac, 0x0806, arp(3, kClientMac, kClient, MacAddr{}, kVip)),
                   {{"rx_packets", 1}, {"drop_bad_arp", 1}}, "RARP");
    expect_connection_intact();
}

// A burst mixing every kind above with the connection's own segments: the
// good ones go through in order, the rest are counted.
TEST_F(HostileTest, AMixedBurstForwardsTheGoodFramesOnly)
{
    Bytes bad_csum = lan_frame(tcp_ip(41001, kSyn));
    bad_csum[14 + 10] ^= 0x10;
    const std::vector<Bytes> burst = {
        cut(lan_frame(tcp_ip(41000, kSyn)), 20),
        tcp_frame(kLanMac, kClientMac, kClient, kVip, kEstPort, 80, 1001, 5001, kAck | kPsh, kHello),
        bad_csum,
        lan_frame(tcp_ip(41002, kSyn, {.ttl = 1})),  // answered: time exceeded
        eth(kLanMac, kClientMac, 0x0800, ipv4(0x7f000001, kVip, 6, tcp_seg(0x7f000001, kVip, 1, 80, 1, 0, kSyn, 8192))),
        tagged(lan_frame(tcp_ip(41003, kSyn)), 5),
        tcp_frame(kLanMac, kClientMac, kClient, kVip, kEstPort, 80, 1006, 5001, kAck | kPsh, kHello),
    };
    rx_burst(0, burst);
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[0], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, kEstPort, 80, 1001, 5001, kAck | kPsh, kHello,
                                {.ttl = 63}));
    EXPECT_EQ(out[1], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, kEstPort, 80, 1006, 5001, kAck | kPsh, kHello,
                                {.ttl = 63}));
    const auto back = sent(0);
    ASSERT_EQ(back.size(), 1U);
    const Bytes ttl1 = lan_frame(tcp_ip(41002, kSyn, {.ttl = 1}));
    EXPECT_EQ(back[0], eth(kClientMac, kLanMac, 0x0800,
                           ipv4(kVip, kClient, 1, icmp_msg(11, 0, 0, Bytes(ttl1.begin() + 14, ttl1.begin() + 42)),
                                {.ttl = 64, .id = 0, .df = false, .tos = 0xc0})));
    EXPECT_EQ(count(Counter::drop_truncated_l3), 1U);
    EXPECT_EQ(count(Counter::drop_bad_ip_checksum), 1U);
    EXPECT_EQ(count(Counter::ttl_exceeded_icmp), 1U);
    EXPECT_EQ(count(Counter::drop_martian_source), 1U);
    EXPECT_EQ(count(Counter::drop_vlan_unknown), 1U);
    EXPECT_EQ(count(Counter::conn_new), 1U);
    EXPECT_EQ(rte_mempool_avail_count(g_pool), pool_before_);
}

}  // namespace
}  // namespace kadp::dp
