// Runs on: any (unit test; its own binary, since it initialises EAL once in
// main). ICMP errors about connections and IPv4 fragments through
// NatPipeline::process on real mbufs, over two net_ring ports whose TX rings
// the test reads back. The fixture (NatPipelineTest) and EAL main are
// shared with nat_pipeline_test.cpp (pipeline_fixture.h,
// pipeline_test_main.cpp); every expected frame is built from scratch by
// frame_builders.h with checksums from a plain RFC 1071 loop and compared
// byte for byte.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "conf/model.h"
#include "dataplane/arp.h"
#include "dataplane/checksum.h"
#include "dataplane/nat_pipeline.h"
#include "dataplane/worker.h"
#include "pipeline_fixture.h"

namespace kadp::dp {
namespace {

using namespace pipetest;

// --- ICMP errors and fragments ----------------------------------------------------
constexpr std::uint32_t kRouterLan = 0xc6120009;  // 198.18.0.9, a router beyond the client
constexpr std::uint32_t kRouterSrv = 0xc6130009;  // 198.19.0.9, a router before the servers
const MacAddr kRouterLanMac = {0x02, 0, 0, 0, 0, 0x09};
const MacAddr kRouterSrvMac = {0x02, 0, 0, 0, 1, 0x09};
const Bytes kPayload40 = [] {
    Bytes b(40);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(0x30 + i);
    return b;
}();

Bytes head(const Bytes& b, std::size_t n) { return Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n)); }
Bytes slice(const Bytes& b, std::size_t from, std::size_t n)
{
    return Bytes(b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(from + n));
}
// An IPv4 fragment carrying `part`, the datagram's payload bytes at `off`.
Bytes ipv4_frag(std::uint32_t s, std::uint32_t d, std::uint8_t proto, const Bytes& part, std::uint16_t off, bool mf,
                std::uint16_t id, std::uint8_t ttl = 64)
{
    Bytes b(20, 0);
    b[0] = 0x45;
    put16(b, 2, static_cast<std::uint16_t>(20 + part.size()));
    put16(b, 4, id);
    put16(b, 6, static_cast<std::uint16_t>((mf ? 0x2000 : 0) | (off / 8)));
    b[8] = ttl;
    b[9] = proto;
    put32(b, 12, s);
    put32(b, 16, d);
    put16(b, 10, ref_csum(b));
    b.insert(b.end(), part.begin(), part.end());
    return b;
}
Bytes frame(const MacAddr& dst, const MacAddr& src, const Bytes& ip) { return eth(dst, src, 0x0800, ip); }
// The three fragments [0,24) [24,40) [40,48) of a 48-byte UDP datagram.
constexpr std::uint16_t kFragOff[3] = {0, 24, 40};
constexpr std::uint16_t kFragLen[3] = {24, 16, 8};
std::vector<Bytes> udp_fragments(const MacAddr& dmac, const MacAddr& smac, std::uint32_t s, std::uint32_t d,
                                 std::uint16_t sport, std::uint16_t dport, std::uint16_t id, std::uint8_t ttl = 64)
{
    const Bytes dgram = udp_dgram(s, d, sport, dport, kPayload40);
    std::vector<Bytes> out;
    for (int i = 0; i < 3; ++i) {
        out.push_back(frame(dmac, smac, ipv4_frag(s, d, 17, slice(dgram, kFragOff[i], kFragLen[i]), kFragOff[i],
                                                  i < 2, id, ttl)));
    }
    return out;
}

class IcmpFragTest : public NatPipelineTest {
protected:
    IcmpFragTest()
    {
        all_neighbours();
        pool_before_ = rte_mempool_avail_count(g_pool);
    }
    ~IcmpFragTest() override
    {
        drain_all();
        EXPECT_EQ(rte_mempool_avail_count(g_pool), pool_before_) << "mbufs leaked or still held";
    }
    // A UDP connection client:40000 -> VIP:53 -> server 1:5353, and its reply seen.
    void udp_conn()
    {
        rx(0, frame(kLanMac, kClientMac, ipv4(kClient, kVip, 17, udp_dgram(kClient, kVip, 40000, 53, kHello))));
        ASSERT_EQ(sent(1).size(), 1U);
        rx(1, frame(kSrvMac, kSrv1Mac, ipv4(kSrv1, kClient, 17, udp_dgram(kSrv1, kClient, 5353, 40000, kHello))));
        ASSERT_EQ(sent(0).size(), 1U);
    }
    // Runs end_of_loop until the fragment table has been swept whole.
    void sweep_after(std::uint32_t ms)
    {
        g_now += ms;
        pipeline_->end_of_loop(*tx_);
        g_now += 1000;
        pipeline_->end_of_loop(*tx_);
        tx_->flush();
    }
    unsigned pool_before_ = 0;
};

TEST_F(IcmpFragTest, FragNeededAboutAReplyGoesToTheRealServerRewritten)
{
    udp_conn();
    // A router beyond the client could not forward the reply VIP:53 -> client:40000.
    const Bytes reply = ipv4(kVip, kClient, 17, udp_dgram(kVip, kClient, 53, 40000, kHello), {.ttl = 63, .id = 0x0707});
    const Bytes err = ipv4(kRouterLan, kVip, 1, icmp_msg(3, 4, 1280, head(reply, 28)),
                           {.ttl = 64, .id = 0x0c0c, .df = false, .tos = 0xc0});
    rx(0, frame(kLanMac, kRouterLanMac, err));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    // To server 1: outer destination, quoted source address and port as
    // server 1 sent the reply; every checksum as if built that way.
    const Bytes as_sent =
        ipv4(kSrv1, kClient, 17, udp_dgram(kSrv1, kClient, 5353, 40000, kHello), {.ttl = 63, .id = 0x0707});
    const Bytes want = frame(kSrv1Mac, kSrvMac,
                             ipv4(kRouterLan, kSrv1, 1, icmp_msg(3, 4, 1280, head(as_sent, 28)),
                                  {.ttl = 63, .id = 0x0c0c, .df = false, .tos = 0xc0}));
    EXPECT_EQ(out[0], want);
    expect_checksums_valid(out[0]);
    // The quoted UDP checksum is the one of the datagram server 1 sent.
    EXPECT_EQ(get16(out[0], 14 + 20 + 8 + 20 + 6), get16(as_sent, 26));
    EXPECT_TRUE(sent(0).empty());
    EXPECT_EQ(count(Counter::icmp_error_nat), 1U);
    EXPECT_EQ(udp_dest_->traffic.sum().in_packets, 2U);
}

TEST_F(IcmpFragTest, AnErrorAboutAClientsPacketGoesToTheClientFromTheVip)
{
    udp_conn();
    // A router before the servers: time exceeded for client:40000 -> server 1:5353.
    const Bytes fwd =
        ipv4(kClient, kSrv1, 17, udp_dgram(kClient, kSrv1, 40000, 5353, kHello), {.ttl = 1, .id = 0x0909});
    rx(1, frame(kSrvMac, kRouterSrvMac,
                ipv4(kRouterSrv, kClient, 1, icmp_msg(11, 0, 0, head(fwd, 28)), {.ttl = 64, .id = 3, .df = false})));
    const auto out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    const Bytes as_sent =
        ipv4(kClient, kVip, 17, udp_dgram(kClient, kVip, 40000, 53, kHello), {.ttl = 1, .id = 0x0909});
    EXPECT_EQ(out[0], frame(kClientMac, kLanMac,
                            ipv4(kVip, kClient, 1, icmp_msg(11, 0, 0, head(as_sent, 28)), {.ttl = 63, .id = 3, .df = false})));
    expect_checksums_valid(out[0]);
    EXPECT_EQ(count(Counter::icmp_error_nat), 1U);
}

TEST_F(IcmpFragTest, ATcpQuoteLongEnoughGetsItsTcpChecksumAndPortFixed)
{
    for (std::uint16_t p = 40000; p < 40003; ++p) rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, p, 80, 1, 0, kSyn));
    ASSERT_EQ(sent(1).size(), 3U);  // the third to server 3, port 8080
    // Server 3 itself answers with port unreachable, quoting the whole SYN.
    const Bytes syn = ipv4(kClient, kSrv3, 6, tcp_seg(kClient, kSrv3, 40002, 8080, 1, 0, kSyn, 8192), {.ttl = 63});
    rx(1, frame(kSrvMac, kSrv3Mac, ipv4(kSrv3, kClient, 1, icmp_msg(3, 3, 0, syn), {.df = false})));
    const auto out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    const Bytes as_sent = ipv4(kClient, kVip, 6, tcp_seg(kClient, kVip, 40002, 80, 1, 0, kSyn, 8192), {.ttl = 63});
    EXPECT_EQ(out[0], frame(kClientMac, kLanMac, ipv4(kVip, kClient, 1, icmp_msg(3, 3, 0, as_sent), {.ttl = 63, .df = false})));
    expect_checksums_valid(out[0]);
    // The quoted segment verifies with the client's pseudo-header.
    const Bytes quoted_tcp(out[0].begin() + 14 + 20 + 8 + 20, out[0].begin() + 14 + 20 + 8 + 40);
    EXPECT_EQ(ref_csum(quoted_tcp, pseudo(kClient, kVip, 6, 20)), 0);
}

TEST_F(IcmpFragTest, ErrorsQuotingNothingTruncatedForgedOrBrokenAreDroppedAndCounted)
{
    udp_conn();
    const Bytes reply = ipv4(kVip, kClient, 17, udp_dgram(kVip, kClient, 53, 40000, kHello), {.ttl = 63});
    auto to_vip = [&](std::uint8_t type, const Bytes& quote) {
        return frame(kLanMac, kRouterLanMac, ipv4(kRouterLan, kVip, 1, icmp_msg(type, 4, 1280, quote), {.df = false}));
    };
    rx(0, to_vip(3, {}));                    // quotes nothing
    rx(0, to_vip(3, head(reply, 24)));       // the IP header + 4 bytes
    rx(0, to_vip(3, head(reply, 19)));       // not even an IP header
    const Bytes forged = ipv4(kVip, kClient, 17, udp_dgram(kVip, kClient, 53, 40999, kHello), {.ttl = 63});
    rx(0, to_vip(3, head(forged, 28)));      // no such connection
    rx(0, to_vip(5, head(reply, 28)));       // a redirect: not related (IPVS)
    rx(0, to_vip(12, head(reply, 28)));      // parameter problem: not related either
    Bytes bad = to_vip(3, head(reply, 28));
    bad[14 + 20 + 2] ^= 0x01;                // ICMP checksum
    rx(0, bad);
    // Addressed to the client although it quotes the VIP's reply: forged.
    rx(0, frame(kLanMac, kRouterLanMac, ipv4(kRouterLan, kClient, 1, icmp_msg(3, 4, 1280, head(reply, 28)))));
    // An ICMP error about an ICMP error (an echo reply quoted): no connection.
    const Bytes echo = ipv4(kVip, kClient, 1, icmp_msg(0, 0, 0x12340001, kHello), {.ttl = 63});
    rx(0, to_vip(3, head(echo, 28)));
    // Fragmented ICMP error.
    Bytes frag = to_vip(3, head(reply, 28));
    frag[14 + 6] = 0x20;  // MF
    put16(frag, 14 + 10, 0);
    put16(frag, 14 + 10, ref_csum(Bytes(frag.begin() + 14, frag.begin() + 34)));
    rx(0, frag);
    EXPECT_TRUE(sent(0).empty());
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::icmp_error_bad_quote), 4U);
    EXPECT_EQ(count(Counter::icmp_error_no_conn), 3U);
    EXPECT_EQ(count(Counter::icmp_error_not_related), 2U);
    EXPECT_EQ(count(Counter::icmp_error_bad_checksum), 1U);
    EXPECT_EQ(count(Counter::icmp_error_nat), 0U);
}

// A connection client:40000 -> VIP:80 -> server 2:80 forwarded by `fwd`
// (DR or TUN), linked by hand.
void link_by_hand(ConnTable4& conns, FwdMethod fwd, std::uint32_t dest_id)
{
    Conn4* c = conns.alloc(0);
    ASSERT_NE(c, nullptr);
    c->caddr = wire(kClient);
    c->vaddr = wire(kVip);
    c->daddr = wire(kSrv2);
    c->cport = wire16(40000);
    c->vport = wire16(80);
    c->dport = wire16(80);
    c->proto = 6;
    c->fwd = static_cast<std::uint8_t>(fwd);
    c->svc_id = 0;
    c->dest_id = dest_id;
    c->two_way = 0;
    std::memset(c->pad_, 0, sizeof c->pad_);
    c->flags.store(0);
    c->expires_ms.store(g_now + 60000);
    ASSERT_TRUE(conns.link(0, c, ConnState::established));
}

TEST_F(IcmpFragTest, AnErrorAboutADrConnectionGoesUnchangedToItsRealServer)
{
    link_by_hand(*conns_, FwdMethod::dr, dest_[1]->id);
    const Bytes reply = ipv4(kVip, kClient, 6, tcp_seg(kVip, kClient, 80, 40000, 9, 2, kAck, 8192), {.ttl = 63});
    const Bytes err = ipv4(kRouterLan, kVip, 1, icmp_msg(3, 4, 1280, head(reply, 28)), {.df = false});
    rx(0, frame(kLanMac, kRouterLanMac, err));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], frame(kSrv2Mac, kSrvMac, ipv4(kRouterLan, kVip, 1, icmp_msg(3, 4, 1280, head(reply, 28)),
                                                    {.ttl = 63, .df = false})));
    EXPECT_EQ(count(Counter::icmp_error_forwarded), 1U);
    EXPECT_EQ(count(Counter::xmit_dr), 1U);
}

TEST_F(IcmpFragTest, AnErrorAboutATunConnectionGoesIpInIpToItsRealServer)
{
    link_by_hand(*conns_, FwdMethod::tun, dest_[1]->id);
    const Bytes reply = ipv4(kVip, kClient, 6, tcp_seg(kVip, kClient, 80, 40000, 9, 2, kAck, 8192), {.ttl = 63});
    const Bytes err = ipv4(kRouterLan, kVip, 1, icmp_msg(3, 4, 1280, head(reply, 28)), {.df = false, .tos = 0xc0});
    rx(0, frame(kLanMac, kRouterLanMac, err));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    // The error itself, TTL - 1, inside an outer header from the srv port
    // to the server: protocol 4, TOS and DF copied, TTL the inner's, an IP
    // id from the worker's counter (DF clear; it starts anywhere).
    const Bytes inner = ipv4(kRouterLan, kVip, 1, icmp_msg(3, 4, 1280, head(reply, 28)),
                             {.ttl = 63, .df = false, .tos = 0xc0});
    const auto id = static_cast<std::uint16_t>(out[0][18] << 8 | out[0][19]);
    EXPECT_EQ(out[0], frame(kSrv2Mac, kSrvMac, ipv4(kSrvIp, kSrv2, 4, inner, {.ttl = 63, .id = id, .df = false,
                                                                             .tos = 0xc0})));
    EXPECT_EQ(count(Counter::icmp_error_forwarded), 1U);
    EXPECT_EQ(count(Counter::xmit_tun), 1U);
}

TEST_F(IcmpFragTest, LaterFragmentsOfATunConnectionGoIpInIpLikeTheirFirst)
{
    link_by_hand(*conns_, FwdMethod::tun, dest_[1]->id);
    // A 48-byte TCP segment's datagram in three fragments (no DF: fragmented).
    const Bytes seg = tcp_seg(kClient, kVip, 40000, 80, 1, 1, kAck, 8192, Bytes(28, 0x41));
    ASSERT_EQ(seg.size(), 48U);
    std::vector<Bytes> frags;
    for (int i = 0; i < 3; ++i) {
        frags.push_back(frame(kLanMac, kClientMac, ipv4_frag(kClient, kVip, 6, slice(seg, kFragOff[i], kFragLen[i]),
                                                             kFragOff[i], i < 2, 0x7171)));
    }
    rx_burst(0, frags);
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 3U);
    const auto id0 = static_cast<std::uint16_t>(out[0][18] << 8 | out[0][19]);  // the worker's counter, then +1 each
    for (int i = 0; i < 3; ++i) {
        const Bytes inner = ipv4_frag(kClient, kVip, 6, slice(seg, kFragOff[i], kFragLen[i]), kFragOff[i], i < 2,
                                      0x7171, 63);
        EXPECT_EQ(out[i], frame(kSrv2Mac, kSrvMac,
                                ipv4(kSrvIp, kSrv2, 4, inner, {.ttl = 63, .id = static_cast<std::uint16_t>(id0 + i),
                                                               .df = false})))
            << "fragment " << i;
    }
    EXPECT_EQ(count(Counter::xmit_tun), 3U);
    EXPECT_EQ(count(Counter::frag_forwarded), 2U);
}

TEST_F(IcmpFragTest, FragmentsOfOneDatagramFollowItsConnectionIn)
{
    rx_burst(0, udp_fragments(kLanMac, kClientMac, kClient, kVip, 40000, 53, 0x5151));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 3U);
    const auto want = udp_fragments(kSrv1Mac, kSrvMac, kClient, kSrv1, 40000, 5353, 0x5151, 63);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(out[i], want[i]) << "fragment " << i;
        const Bytes ip(out[i].begin() + 14, out[i].begin() + 34);
        EXPECT_EQ(ref_csum(ip), 0) << "IP checksum of fragment " << i;
    }
    // The reassembled datagram's UDP checksum verifies with the new destination.
    Bytes dgram;
    for (int i = 0; i < 3; ++i) {
        dgram.insert(dgram.end(), out[i].begin() + 34, out[i].begin() + 34 + kFragLen[i]);
    }
    EXPECT_EQ(ref_csum(dgram, pseudo(kClient, kSrv1, 17, dgram.size())), 0);
    EXPECT_EQ(count(Counter::frag_first_tracked), 1U);
    EXPECT_EQ(count(Counter::frag_forwarded), 2U);
    EXPECT_EQ(count(Counter::frag_datagram_done), 1U);
    EXPECT_EQ(count(Counter::nat_in), 3U);
    // The entry is gone: a fragment of that datagram now has nobody to follow.
    rx(0, udp_fragments(kLanMac, kClientMac, kClient, kVip, 40000, 53, 0x5151)[1]);
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::frag_held), 1U);
    sweep_after(2001);
    EXPECT_EQ(count(Counter::frag_held_dropped), 1U);
}

TEST_F(IcmpFragTest, FragmentsOfAReplyFollowItsConnectionOut)
{
    udp_conn();
    rx_burst(1, udp_fragments(kSrvMac, kSrv1Mac, kSrv1, kClient, 5353, 40000, 0x6161));
    const auto out = sent(0);
    ASSERT_EQ(out.size(), 3U);
    const auto want = udp_fragments(kClientMac, kLanMac, kVip, kClient, 53, 40000, 0x6161, 63);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(out[i], want[i]) << "fragment " << i;
    EXPECT_EQ(count(Counter::frag_forwarded), 2U);
    EXPECT_EQ(count(Counter::nat_out), 4U);
}

TEST_F(IcmpFragTest, LaterFragmentsBeforeTheirFirstAreHeldThenSentAfterIt)
{
    const auto frags = udp_fragments(kLanMac, kClientMac, kClient, kVip, 40000, 53, 0x7171);
    rx_burst(0, {frags[2], frags[1]});
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::frag_held), 2U);
    rx(0, frags[0]);
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 3U);
    const auto want = udp_fragments(kSrv1Mac, kSrvMac, kClient, kSrv1, 40000, 5353, 0x7171, 63);
    EXPECT_EQ(out[0], want[0]);  // the first fragment first, then the held ones in their order
    EXPECT_EQ(out[1], want[2]);
    EXPECT_EQ(out[2], want[1]);
    EXPECT_EQ(count(Counter::frag_held_sent), 2U);
    EXPECT_EQ(count(Counter::frag_datagram_done), 1U);
}

TEST_F(IcmpFragTest, OverlappingOversizedAndTinyFragmentsNeverCrashAndAreCounted)
{
    const Bytes dgram = udp_dgram(kClient, kVip, 40000, 53, kPayload40);
    rx(0, frame(kLanMac, kClientMac, ipv4_frag(kClient, kVip, 17, slice(dgram, 0, 24), 0, true, 9)));
    // Overlapping [16,32) then [24,40): both follow the datagram's rewrite
    // (the receiver's reassembly judges overlaps; kadp does not reassemble).
    rx(0, frame(kLanMac, kClientMac, ipv4_frag(kClient, kVip, 17, slice(dgram, 16, 16), 16, true, 9)));
    rx(0, frame(kLanMac, kClientMac, ipv4_frag(kClient, kVip, 17, slice(dgram, 24, 16), 24, true, 9)));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 3U);
    EXPECT_EQ(out[1], frame(kSrv1Mac, kSrvMac, ipv4_frag(kClient, kSrv1, 17, slice(dgram, 16, 16), 16, true, 9, 63)));
    // A last fragment whose end contradicts nothing yet sets the length; a
    // fragment beyond it is dropped.
    rx(0, frame(kLanMac, kClientMac, ipv4_frag(kClient, kVip, 17, slice(dgram, 40, 8), 40, false, 9)));
    EXPECT_EQ(sent(1).size(), 1U);
    EXPECT_EQ(count(Counter::frag_datagram_done), 1U);  // 24 + 16 + 16 + 8 bytes seen >= 48
    // Ending beyond 65535 (ping of death): dropped, whatever the datagram.
    const Bytes eight(8, 0xaa);
    rx(0, frame(kLanMac, kClientMac, ipv4_frag(kClient, kVip, 17, Bytes(16, 0xbb), 65520, false, 10)));
    // Not a multiple of 8 with MF, empty with MF, TCP at offset 8 (RFC 1858).
    rx(0, frame(kLanMac, kClientMac, ipv4_frag(kClient, kVip, 17, Bytes(12, 0xcc), 64, true, 11)));
    rx(0, frame(kLanMac, kClientMac, ipv4_frag(kClient, kVip, 17, Bytes{}, 64, true, 12)));
    rx(0, frame(kLanMac, kClientMac, ipv4_frag(kClient, kVip, 6, eight, 8, true, 13)));
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::frag_oversized), 1U);
    EXPECT_EQ(count(Counter::frag_malformed), 3U);
    // A resolved datagram refuses a fragment beyond its last one.
    rx(0, frame(kLanMac, kClientMac, ipv4_frag(kClient, kVip, 17, slice(dgram, 0, 24), 0, true, 14)));
    rx(0, frame(kLanMac, kClientMac, ipv4_frag(kClient, kVip, 17, eight, 40, false, 14)));
    rx(0, frame(kLanMac, kClientMac, ipv4_frag(kClient, kVip, 17, eight, 64, true, 14)));
    EXPECT_EQ(sent(1).size(), 2U);
    EXPECT_EQ(count(Counter::frag_oversized), 2U);
    sweep_after(2001);
    EXPECT_EQ(count(Counter::frag_expired), 1U);
}

TEST_F(IcmpFragTest, EndlessFragmentStreamsStayBoundedAndExpire)
{
    // Later fragments of datagrams whose first never comes: at most the
    // hold limit (64) is kept, the rest dropped at once.
    for (std::uint16_t id = 0; id < 200; id += 20) {
        std::vector<Bytes> burst;
        for (std::uint16_t k = 0; k < 20; ++k) {
            burst.push_back(frame(kLanMac, kClientMac, ipv4_frag(kClient, kVip, 17, Bytes(16, 1), 64, true,
                                                                 static_cast<std::uint16_t>(1000 + id + k))));
        }
        rx_burst(0, burst);
    }
    EXPECT_EQ(count(Counter::frag_held), 64U);
    EXPECT_EQ(count(Counter::frag_hold_full), 136U);
    // One datagram whose fragments never end: forwarded until its entry expires.
    const Bytes dgram = udp_dgram(kClient, kVip, 40000, 53, kPayload40);
    rx(0, frame(kLanMac, kClientMac, ipv4_frag(kClient, kVip, 17, slice(dgram, 0, 24), 0, true, 77)));
    for (std::uint16_t k = 0; k < 50; ++k) {
        rx(0, frame(kLanMac, kClientMac,
                    ipv4_frag(kClient, kVip, 17, Bytes(16, 2), static_cast<std::uint16_t>(24 + 16 * k), true, 77)));
    }
    EXPECT_EQ(sent(1).size(), 51U);
    EXPECT_EQ(count(Counter::frag_forwarded), 50U);
    sweep_after(2001);
    EXPECT_EQ(count(Counter::frag_held_dropped), 64U);
    EXPECT_EQ(count(Counter::frag_expired), 65U);
    // Its entry gone, the stream's fragments are held, never forwarded.
    for (std::uint16_t k = 0; k < 6; ++k) {
        rx(0, frame(kLanMac, kClientMac,
                    ipv4_frag(kClient, kVip, 17, Bytes(16, 2), static_cast<std::uint16_t>(1000 + 16 * k), true, 77)));
    }
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::frag_held), 64U + 4U);
    EXPECT_EQ(count(Counter::frag_hold_full), 136U + 2U);
    sweep_after(2001);
    EXPECT_EQ(count(Counter::frag_held_dropped), 68U);
}

TEST_F(IcmpFragTest, UdpConnectionsLiveForIpvsUdpTimeout)
{
    udp_conn();
    ConnDir dir;
    Conn4* c = find(kClient, kVip, 40000, 53, 17, dir);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(state_of(c), ConnState::udp);
    EXPECT_EQ(c->expires_ms.load(), g_now + 300000);  // IPVS's udp timeout, 300 s
    g_now += 299000;
    for (int i = 0; i < 3; ++i) pipeline_->end_of_loop(*tx_);
    EXPECT_EQ(count(Counter::conn_expired), 0U);
    g_now += 2001;
    for (int i = 0; i < 3; ++i) pipeline_->end_of_loop(*tx_);
    EXPECT_EQ(count(Counter::conn_expired), 1U);
    tx_->flush();
}

TEST_F(IcmpFragTest, LvsTimeoutsFromTheSnapshotApplyToNewAndRefreshedConnections)
{
    ConnTimeouts t;
    t.udp_ms = 30000;   // lvs_timeouts udp 30
    t.tcp_ms = 7200000; // lvs_timeouts tcp 7200
    publish(true, true, t);
    udp_conn();
    ConnDir dir;
    Conn4* u = find(kClient, kVip, 40000, 53, 17, dir);
    ASSERT_NE(u, nullptr);
    EXPECT_EQ(u->expires_ms.load(), g_now + 30000);
    g_now += 10;
    rx(1, frame(kSrvMac, kSrv1Mac, ipv4(kSrv1, kClient, 17, udp_dgram(kSrv1, kClient, 5353, 40000, kHello))));
    EXPECT_EQ(u->expires_ms.load(), g_now + 30000);  // refreshed by the reply, with the same timeout
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn));
    rx(1, tcp_frame(kSrvMac, kSrv1Mac, kSrv1, kClient, 80, 40000, 9, 2, kSyn | kAck));
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 2, 10, kAck));
    Conn4* c = find(kClient, kVip, 40000, 80, 6, dir);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(state_of(c), ConnState::established);
    EXPECT_EQ(c->expires_ms.load(), g_now + 7200000);
}

}  // namespace
}  // namespace kadp::dp
