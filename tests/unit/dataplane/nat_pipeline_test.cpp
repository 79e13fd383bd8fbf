// Runs on: any (unit test; its own binary, since it initialises EAL once in
// main). NatPipeline::process on real mbufs, transmitting through a TxStage
// onto two net_ring ports (rte_eth_from_rings) whose TX rings the test reads
// back (the fixture and EAL main: pipeline_fixture.h, pipeline_test_main.cpp).
// Every expected frame is built from scratch by frame_builders.h with
// checksums computed by a plain RFC 1071 loop, and compared byte for byte
// with what came out: every header field and checksum is checked at once.
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

TEST_F(NatPipelineTest, NatInRewritesDestinationOnly)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1000, 0, kSyn, {}, {.ttl = 64, .id = 0x4242}));
    EXPECT_TRUE(sent(0).empty());
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    // dst MAC = server 1, src MAC = the servers' port; TTL - 1; daddr = 198.19.0.1; the rest as received.
    const Bytes want =
        tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, 40000, 80, 1000, 0, kSyn, {}, {.ttl = 63, .id = 0x4242});
    EXPECT_EQ(out[0], want);
    expect_checksums_valid(out[0]);
    EXPECT_EQ(count(Counter::conn_new), 1U);
    EXPECT_EQ(count(Counter::nat_in), 1U);
    EXPECT_EQ(count(Counter::tx_packets), 1U);
    // syn_recv counts as active (conn_state.h: as current kernels count it).
    EXPECT_EQ(dest_[0]->conns.active.load(), 1U);
    EXPECT_EQ(dest_[0]->conns.inactive.load(), 0U);
    EXPECT_EQ(dest_[0]->traffic.sum().conns, 1U);
    EXPECT_EQ(dest_[0]->traffic.sum().in_packets, 1U);
}

TEST_F(NatPipelineTest, HandshakeEstablishesAndNatOutRewritesSource)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1000, 0, kSyn));
    ConnDir dir;
    Conn4* c = find(kClient, kVip, 40000, 80, 6, dir);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(dir, ConnDir::in);
    EXPECT_EQ(state_of(c), ConnState::syn_recv);
    EXPECT_EQ(dest_[0]->conns.active.load() + dest_[0]->conns.inactive.load(), 1U);
    sent(1);

    // SYN-ACK from the real server: source back to VIP:80, to the client's MAC on the lan port.
    rx(1, tcp_frame(kSrvMac, kSrv1Mac, kSrv1, kClient, 80, 40000, 5000, 1001, kSyn | kAck, {}, {.ttl = 64, .id = 7}));
    const auto out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], tcp_frame(kClientMac, kLanMac, kVip, kClient, 80, 40000, 5000, 1001, kSyn | kAck, {},
                                {.ttl = 63, .id = 7}));
    expect_checksums_valid(out[0]);
    EXPECT_EQ(count(Counter::nat_out), 1U);
    EXPECT_EQ(count(Counter::conn_hit_out), 1U);
    EXPECT_NE(c->flags.load() & kConnSeenReply, 0);

    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1001, 5001, kAck));
    EXPECT_EQ(state_of(c), ConnState::established);
    EXPECT_EQ(dest_[0]->conns.active.load(), 1U);
    EXPECT_EQ(dest_[0]->conns.inactive.load(), 0U);
    EXPECT_EQ(count(Counter::conn_hit_in), 1U);

    // Data with a payload keeps its payload and both checksums right.
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1001, 5001, kAck | kPsh, kHello));
    const auto data = sent(1);
    ASSERT_EQ(data.size(), 2U);
    EXPECT_EQ(data[1], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, 40000, 80, 1001, 5001, kAck | kPsh, kHello,
                                 {.ttl = 63}));
    expect_checksums_valid(data[1]);

    // FIN from the client: close_wait, no longer active.
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1006, 5001, kFin | kAck));
    EXPECT_EQ(state_of(c), ConnState::close_wait);
    EXPECT_EQ(dest_[0]->conns.active.load(), 0U);
    EXPECT_EQ(dest_[0]->conns.inactive.load(), 1U);
}

TEST_F(NatPipelineTest, SynAndAckInOneBurstBothReachTheServer)
{
    all_neighbours();
    // The bulk lookup runs before the SYN creates the connection: the ACK
    // behind it in the same burst must still find it.
    rx_burst(0, {tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1000, 0, kSyn),
                 tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1001, 1, kAck, kHello)});
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[0], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, 40000, 80, 1000, 0, kSyn, {}, {.ttl = 63}));
    EXPECT_EQ(out[1], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, 40000, 80, 1001, 1, kAck, kHello, {.ttl = 63}));
    EXPECT_EQ(count(Counter::conn_new), 1U);
    EXPECT_EQ(count(Counter::conn_hit_in), 1U);
    EXPECT_EQ(count(Counter::conn_not_syn), 0U);
}

TEST_F(NatPipelineTest, SecondFlowGoesToTheNextServerWithItsPort)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn));
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40001, 80, 1, 0, kSyn));
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40002, 80, 1, 0, kSyn));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 3U);
    EXPECT_EQ(out[0], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, 40000, 80, 1, 0, kSyn, {}, {.ttl = 63}));
    EXPECT_EQ(out[1], tcp_frame(kSrv2Mac, kSrvMac, kClient, kSrv2, 40001, 80, 1, 0, kSyn, {}, {.ttl = 63}));
    // The third real server listens on 8080: the destination port is rewritten too.
    EXPECT_EQ(out[2], tcp_frame(kSrv3Mac, kSrvMac, kClient, kSrv3, 40002, 8080, 1, 0, kSyn, {}, {.ttl = 63}));
    for (const auto& f : out) expect_checksums_valid(f);
    // Its reply comes back from VIP:80.
    rx(1, tcp_frame(kSrvMac, kSrv3Mac, kSrv3, kClient, 8080, 40002, 9, 2, kSyn | kAck));
    const auto back = sent(0);
    ASSERT_EQ(back.size(), 1U);
    EXPECT_EQ(back[0], tcp_frame(kClientMac, kLanMac, kVip, kClient, 80, 40002, 9, 2, kSyn | kAck, {}, {.ttl = 63}));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(dest_[i]->traffic.sum().conns, 1U) << i;
}

// IPVS schedules only what may open a connection: a SYN's ACK in the same
// burst and a stray ACK without connection take no rr pick, and a SYN sent
// twice in one burst takes one; so the next flows go to the next servers.
TEST_F(NatPipelineTest, OnlyPacketsThatOpenAConnectionTakeAPick)
{
    all_neighbours();
    rx_burst(0, {tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1000, 0, kSyn),
                 tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1001, 1, kAck, kHello),
                 tcp_frame(kLanMac, kClientMac, kClient, kVip, 40009, 80, 7, 7, kAck),
                 tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1000, 0, kSyn)});
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40001, 80, 1, 0, kSyn));
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40002, 80, 1, 0, kSyn));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 5U);
    EXPECT_EQ(out[0], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, 40000, 80, 1000, 0, kSyn, {}, {.ttl = 63}));
    EXPECT_EQ(out[1], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, 40000, 80, 1001, 1, kAck, kHello, {.ttl = 63}));
    EXPECT_EQ(out[2], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, 40000, 80, 1000, 0, kSyn, {}, {.ttl = 63}));
    EXPECT_EQ(out[3], tcp_frame(kSrv2Mac, kSrvMac, kClient, kSrv2, 40001, 80, 1, 0, kSyn, {}, {.ttl = 63}));
    EXPECT_EQ(out[4], tcp_frame(kSrv3Mac, kSrvMac, kClient, kSrv3, 40002, 8080, 1, 0, kSyn, {}, {.ttl = 63}));
    EXPECT_EQ(count(Counter::conn_not_syn), 1U);
    EXPECT_EQ(count(Counter::conn_new), 3U);
}

// IPVS's conn_reuse_mode 1: a SYN on the ports of a connection an RST
// closed (CLOSE) or in TIME_WAIT opens a new connection, scheduled afresh;
// any other state keeps the packet on its connection.
TEST_F(NatPipelineTest, ASynReusingAFinishedConnectionsPortsIsScheduledAnew)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1000, 0, kSyn));
    rx(1, tcp_frame(kSrvMac, kSrv1Mac, kSrv1, kClient, 80, 40000, 5000, 1001, kSyn | kAck));
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1001, 5001, kAck));
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1001, 5001, kRst));
    ConnDir dir;
    Conn4* old = find(kClient, kVip, 40000, 80, 6, dir);
    ASSERT_NE(old, nullptr);
    EXPECT_EQ(state_of(old), ConnState::close);
    EXPECT_EQ(dest_[0]->conns.inactive.load(), 1U);
    (void)sent(1);
    (void)sent(0);
    // The same ports again: rr's next server, the old entry gone from its counts.
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 9000, 0, kSyn));
    auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], tcp_frame(kSrv2Mac, kSrvMac, kClient, kSrv2, 40000, 80, 9000, 0, kSyn, {}, {.ttl = 63}));
    EXPECT_EQ(count(Counter::conn_reused), 1U);
    EXPECT_EQ(count(Counter::conn_new), 2U);
    EXPECT_EQ(dest_[0]->conns.inactive.load() + dest_[0]->conns.active.load(), 0U);
    EXPECT_EQ(dest_[1]->conns.active.load(), 1U);  // SYN_RECV counts as active
    // TIME_WAIT is finished too; a SYN_RECV connection (its SYN sent again) is not.
    Conn4* now = find(kClient, kVip, 40000, 80, 6, dir);
    ASSERT_NE(now, nullptr);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 9000, 0, kSyn));
    out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], tcp_frame(kSrv2Mac, kSrvMac, kClient, kSrv2, 40000, 80, 9000, 0, kSyn, {}, {.ttl = 63}));
    ASSERT_TRUE(ConnTable4::set_state(*now, ConnState::time_wait));
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 12000, 0, kSyn));
    out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], tcp_frame(kSrv3Mac, kSrvMac, kClient, kSrv3, 40000, 8080, 12000, 0, kSyn, {}, {.ttl = 63}));
    EXPECT_EQ(count(Counter::conn_reused), 2U);
}

TEST_F(NatPipelineTest, UdpNatKeepsAZeroChecksumAndFixesARealOne)
{
    all_neighbours();
    const Bytes q = {1, 2, 3, 4, 5, 6, 7};
    rx(0, eth(kLanMac, kClientMac, 0x0800, ipv4(kClient, kVip, 17, udp_dgram(kClient, kVip, 5000, 53, q, true))));
    rx(0, eth(kLanMac, kClientMac, 0x0800, ipv4(kClient, kVip, 17, udp_dgram(kClient, kVip, 5000, 53, q))));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[0], eth(kSrv1Mac, kSrvMac, 0x0800,
                          ipv4(kClient, kSrv1, 17, udp_dgram(kClient, kSrv1, 5000, 5353, q, true), {.ttl = 63})));
    EXPECT_EQ(out[1], eth(kSrv1Mac, kSrvMac, 0x0800,
                          ipv4(kClient, kSrv1, 17, udp_dgram(kClient, kSrv1, 5000, 5353, q), {.ttl = 63})));
    expect_checksums_valid(out[1]);
    EXPECT_EQ(count(Counter::conn_new), 1U);  // the second datagram hit the first one's connection
    EXPECT_EQ(udp_dest_->conns.inactive.load(), 1U);
    rx(1, eth(kSrvMac, kSrv1Mac, 0x0800, ipv4(kSrv1, kClient, 17, udp_dgram(kSrv1, kClient, 5353, 5000, q))));
    const auto back = sent(0);
    ASSERT_EQ(back.size(), 1U);
    EXPECT_EQ(back[0], eth(kClientMac, kLanMac, 0x0800,
                           ipv4(kVip, kClient, 17, udp_dgram(kVip, kClient, 53, 5000, q), {.ttl = 63})));
}

TEST_F(NatPipelineTest, ReplyWithoutConnectionIsDropped)
{
    all_neighbours();
    rx(1, tcp_frame(kSrvMac, kSrv2Mac, kSrv2, kClient, 80, 40000, 5000, 1001, kSyn | kAck));
    EXPECT_TRUE(sent(0).empty());
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::nat_reply_no_conn), 1U);
    // Not a real server's service port: just not for us.
    rx(1, tcp_frame(kSrvMac, kSrv2Mac, kSrv2, kClient, 22, 40000, 5000, 1001, kAck));
    EXPECT_EQ(count(Counter::not_for_us), 1U);
}

TEST_F(NatPipelineTest, NonSynWithoutConnectionIsDropped)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 1, kAck));
    EXPECT_TRUE(sent(0).empty());
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::conn_not_syn), 1U);
    EXPECT_EQ(count(Counter::conn_new), 0U);
}

TEST_F(NatPipelineTest, ArpRequestForTheVipIsAnswered)
{
    rx(0, eth(kBroadcastMac, kClientMac, 0x0806, arp(1, kClientMac, kClient, MacAddr{}, kVip)));
    const auto out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], eth(kClientMac, kLanMac, 0x0806, arp(2, kLanMac, kVip, kClientMac, kClient)));
    EXPECT_EQ(count(Counter::arp_request_answered), 1U);
    EXPECT_EQ(count(Counter::arp_request_learned), 1U);
    // The port address too, but not on the other port, and nothing else.
    rx(0, eth(kBroadcastMac, kClientMac, 0x0806, arp(1, kClientMac, kClient, MacAddr{}, kLanIp)));
    EXPECT_EQ(sent(0).size(), 1U);
    rx(0, eth(kBroadcastMac, kClientMac, 0x0806, arp(1, kClientMac, kClient, MacAddr{}, kSrvIp)));
    rx(0, eth(kBroadcastMac, kClientMac, 0x0806, arp(1, kClientMac, kClient, MacAddr{}, 0xc6120063)));
    EXPECT_TRUE(sent(0).empty());
    EXPECT_EQ(count(Counter::arp_request_not_ours), 2U);
}

TEST_F(NatPipelineTest, AReleasedVipIsNeitherAnsweredNorGivenNewConnections)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1000, 0, kSyn));
    ASSERT_EQ(sent(1).size(), 1U);
    publish(true, /*vip_owned=*/false);  // this node became VRRP backup for the VIP
    rx(0, eth(kBroadcastMac, kClientMac, 0x0806, arp(1, kClientMac, kClient, MacAddr{}, kVip)));
    EXPECT_TRUE(sent(0).empty());
    EXPECT_EQ(count(Counter::arp_request_not_ours), 1U);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40001, 80, 1, 0, kSyn));
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::vip_not_owned), 1U);
    EXPECT_EQ(count(Counter::conn_new), 1U);
    // A connection it already has goes on (its packets only come while the
    // switch still sends them here).
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1001, 0, kAck));
    EXPECT_EQ(sent(1).size(), 1U);
    publish(true, /*vip_owned=*/true);  // master again
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40002, 80, 1, 0, kSyn));
    EXPECT_EQ(sent(1).size(), 1U);
    EXPECT_EQ(count(Counter::conn_new), 2U);
    rx(0, eth(kBroadcastMac, kClientMac, 0x0806, arp(1, kClientMac, kClient, MacAddr{}, kVip)));
    EXPECT_EQ(sent(0).size(), 1U);
}

TEST_F(NatPipelineTest, IcmpEchoToTheVipIsAnswered)
{
    const Bytes payload = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4};
    rx(0, eth(kLanMac, kClientMac, 0x0800,
              ipv4(kClient, kVip, 1, icmp_msg(8, 0, 0x00070001, payload), {.ttl = 5, .id = 99, .df = false})));
    const auto out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], eth(kClientMac, kLanMac, 0x0800,
                          ipv4(kVip, kClient, 1, icmp_msg(0, 0, 0x00070001, payload), {.ttl = 64, .id = 99, .df = false})));
    expect_checksums_valid(out[0]);
    EXPECT_EQ(count(Counter::icmp_echo_answered), 1U);
}

TEST_F(NatPipelineTest, TcpToAVipPortWithoutServiceGetsAnRst)
{
    // A SYN (no ACK): <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN counting one.
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 81, 1000, 0, kSyn, kHello));
    auto out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    Bytes want = eth(kClientMac, kLanMac, 0x0800,
                     ipv4(kVip, kClient, 6, tcp_seg(kVip, kClient, 81, 40000, 0, 1006, kRst | kAck, 0), {.ttl = 64, .id = 0}));
    EXPECT_EQ(out[0], want);
    expect_checksums_valid(out[0]);
    // An ACK segment: <SEQ=SEG.ACK><CTL=RST>.
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 81, 1000, 777, kAck));
    out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    want = eth(kClientMac, kLanMac, 0x0800,
               ipv4(kVip, kClient, 6, tcp_seg(kVip, kClient, 81, 40000, 777, 0, kRst, 0), {.ttl = 64, .id = 0}));
    EXPECT_EQ(out[0], want);
    EXPECT_EQ(count(Counter::no_service_rst), 2U);
    // Never an RST for an RST.
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 81, 1000, 0, kRst));
    EXPECT_TRUE(sent(0).empty());
    EXPECT_EQ(count(Counter::no_service_dropped), 1U);
}

TEST_F(NatPipelineTest, UdpToAVipPortWithoutServiceGetsPortUnreachable)
{
    const Bytes q = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 12};
    const Bytes in_ip = ipv4(kClient, kVip, 17, udp_dgram(kClient, kVip, 5000, 54, q), {.ttl = 30, .id = 0x55});
    rx(0, eth(kLanMac, kClientMac, 0x0800, in_ip));
    const auto out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    const Bytes quoted(in_ip.begin(), in_ip.begin() + 28);  // IP header + 8 bytes
    EXPECT_EQ(out[0], eth(kClientMac, kLanMac, 0x0800,
                          ipv4(kVip, kClient, 1, icmp_msg(3, 3, 0, quoted), {.ttl = 64, .id = 0, .df = false, .tos = 0xc0})));
    expect_checksums_valid(out[0]);
    EXPECT_EQ(count(Counter::no_service_icmp_unreach), 1U);
}

TEST_F(NatPipelineTest, TruncatedFrameIsCountedAndDropped)
{
    Bytes f = tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn);
    f.resize(14 + 20 + 10);  // IPv4 total length says 40 bytes: more than the frame holds
    rx(0, f);
    f.resize(20);            // not even a whole IPv4 header
    rx(0, f);
    EXPECT_TRUE(sent(0).empty());
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::drop_bad_total_length), 1U);
    EXPECT_EQ(count(Counter::drop_truncated_l3), 1U);
    EXPECT_EQ(count(Counter::conn_new), 0U);
    EXPECT_EQ(count(Counter::rx_packets), 2U);
}

// TTL: every field of the time exceeded in hostile_packets_test.cpp.
TEST_F(NatPipelineTest, VlanTaggedIsDroppedAndTtlExpiredIsAnsweredNotForwarded)
{
    all_neighbours();
    Bytes tagged = tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn);
    const Bytes tag = {0x81, 0x00, 0x00, 0x64};
    tagged.insert(tagged.begin() + 12, tag.begin(), tag.end());
    rx(0, tagged);
    EXPECT_EQ(count(Counter::drop_vlan_unknown), 1U);
    EXPECT_TRUE(sent(0).empty());
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn, {}, {.ttl = 1}));
    EXPECT_EQ(count(Counter::ttl_exceeded_icmp), 1U);
    EXPECT_EQ(sent(0).size(), 1U);
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::conn_new), 0U);
}

TEST_F(NatPipelineTest, VlanPortAnswersTaggedAndForwardsAcrossTheTagBoundary)
{
    make_pipeline(100);
    all_neighbours();
    // ARP and echo answered in place, the tag (PCP 5 here) kept.
    const Bytes req = eth(kBroadcastMac, kClientMac, 0x0806, arp(1, kClientMac, kClient, MacAddr{}, kVip));
    rx(0, tagged(req, 0xa064));
    auto out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], tagged(eth(kClientMac, kLanMac, 0x0806, arp(2, kLanMac, kVip, kClientMac, kClient)), 0xa064));
    // A tagged SYN leaves the untagged servers' port without the tag...
    rx(0, tagged(tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn), 0x0064));
    out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, 40000, 80, 1, 0, kSyn, {}, {.ttl = 63}));
    // ...and the untagged reply gets VLAN 100 on its way to the client.
    rx(1, tcp_frame(kSrvMac, kSrv1Mac, kSrv1, kClient, 80, 40000, 9, 2, kSyn | kAck));
    out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0],
              tagged(tcp_frame(kClientMac, kLanMac, kVip, kClient, 80, 40000, 9, 2, kSyn | kAck, {}, {.ttl = 63}), 100));
    EXPECT_EQ(count(Counter::vlan_passed), 2U);
    // Another VLAN is not ours.
    rx(0, tagged(req, 0x0065));
    EXPECT_TRUE(sent(0).empty());
    EXPECT_EQ(count(Counter::drop_vlan_unknown), 1U);
    // ARP requests kadp sends on the lan port are tagged too.
    g_now += 1000;
    neigh_.reset();
    neigh_ = NeighTable4::create(NeighConfig{});
    make_pipeline(100);
    neighbour(1, kSrv1, kSrv1Mac);
    rx(1, tcp_frame(kSrvMac, kSrv1Mac, kSrv1, kClient, 80, 40000, 10, 2, kAck));
    out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    // Padded to 60 bytes with the tag counted (build_arp_request).
    Bytes want = tagged(eth(kBroadcastMac, kLanMac, 0x0806, arp(1, kLanMac, kLanIp, MacAddr{}, kClient), false), 100);
    want.resize(60, 0);
    EXPECT_EQ(out[0], want);
}

TEST_F(NatPipelineTest, UnresolvedServerIsAskedForAndTheHeldPacketSent)
{
    neighbour(0, kClient, kClientMac);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1000, 0, kSyn));
    auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);  // the ARP request; the SYN is held
    EXPECT_EQ(out[0], eth(kBroadcastMac, kSrvMac, 0x0806, arp(1, kSrvMac, kSrvIp, MacAddr{}, kSrv1)));
    EXPECT_EQ(count(Counter::neigh_unresolved_held), 1U);
    EXPECT_EQ(count(Counter::arp_request_sent), 1U);
    rx(1, eth(kSrvMac, kSrv1Mac, 0x0806, arp(2, kSrv1Mac, kSrv1, kSrvMac, kSrvIp)));
    out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, 40000, 80, 1000, 0, kSyn, {}, {.ttl = 63}));
    EXPECT_EQ(count(Counter::neigh_held_sent), 1U);
    EXPECT_EQ(count(Counter::arp_reply_learned), 1U);
}

TEST_F(NatPipelineTest, ANeighbourMacChangeIsUsedFromTheNextBurst)
{
    all_neighbours();
    const auto syn = [](std::uint16_t sport) {
        return tcp_frame(kLanMac, kClientMac, kClient, kVip, sport, 80, 1, 0, kSyn);
    };
    // rr over three servers: the 1st and 4th SYN go to server 1.
    rx_burst(0, {syn(41000), syn(41001), syn(41002), syn(41003)});
    auto out = sent(1);
    ASSERT_EQ(out.size(), 4U);
    EXPECT_TRUE(std::equal(kSrv1Mac.begin(), kSrv1Mac.end(), out[0].begin()));
    EXPECT_TRUE(std::equal(kSrv1Mac.begin(), kSrv1Mac.end(), out[3].begin()));
    EXPECT_EQ(count(Counter::neigh_memo_hit), 1U);  // the 4th: resolved once per burst
    const MacAddr moved = {0x02, 0, 0, 0, 1, 0x77};
    g_now += NeighConfig{}.reachable_ms + 1;  // stale: a new MAC is accepted (poisoning policy)
    ASSERT_EQ(neigh_->learn(1, wire(kSrv1), moved, ArpSource::reply, g_now).verdict, LearnVerdict::changed);
    rx_burst(0, {syn(41004), syn(41005), syn(41006), syn(41007)});
    out.clear();
    for (Bytes& f : sent(1)) {  // without the ARP probes the stale entries send
        if (f[12] == 0x08 && f[13] == 0x00) out.push_back(std::move(f));
    }
    ASSERT_EQ(out.size(), 4U);
    // 41006 -> server 1 (rr goes on: 41004 server 2, 41005 server 3).
    EXPECT_TRUE(std::equal(moved.begin(), moved.end(), out[2].begin()));
    for (const Bytes& f : out) expect_checksums_valid(f);
}

TEST_F(NatPipelineTest, ExpirySweepsASliceEachMillisecondAndTheWholeTableEachPeriod)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn));
    EXPECT_EQ(dest_[0]->conns.active.load(), 1U);
    ConnDir dir;
    const std::uint32_t idx = conns_->index_of(find(kClient, kVip, 40000, 80, 6, dir));
    g_now += 59999;  // one tick before syn_recv's 60 s: a whole sweep, nothing due
    pipeline_->end_of_loop(*tx_);
    ASSERT_EQ(count(Counter::conn_expired), 0U);
    // The whole sweep left the cursor at the start of the 1024-entry share.
    // 2 ms later one tick sweeps ceil(1024 * 2 / 1000) = 3 entries, and more
    // loops in the same millisecond sweep nothing more; then each 1 ms tick
    // sweeps 2 (expire_sweep_ms 1000): the connection goes exactly when the
    // cursor passes its entry.
    g_now += 2;
    for (int i = 0; i < 5; ++i) pipeline_->end_of_loop(*tx_);
    const std::uint32_t want_ticks = idx < 3 ? 1 : 1 + (idx + 1 - 3 + 1) / 2;
    std::uint32_t ticks = 1;
    while (count(Counter::conn_expired) == 0 && ticks <= 1001) {
        g_now += 1;
        pipeline_->end_of_loop(*tx_);
        ++ticks;
    }
    EXPECT_EQ(count(Counter::conn_expired), 1U);
    EXPECT_EQ(ticks, want_ticks) << "entry " << idx;
    EXPECT_EQ(dest_[0]->conns.active.load(), 0U);
    tx_->flush();
}

TEST_F(NatPipelineTest, ExpiryDropsTheConnectionFromItsDestCounts)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn));
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40001, 80, 1, 0, kSyn));
    rx(1, tcp_frame(kSrvMac, kSrv2Mac, kSrv2, kClient, 80, 40001, 9, 2, kSyn | kAck));
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40001, 80, 2, 10, kAck));
    EXPECT_EQ(dest_[0]->conns.active.load(), 1U);  // syn_recv
    EXPECT_EQ(dest_[1]->conns.active.load(), 1U);  // established
    g_now += 60001;  // past syn_recv's 60 s, not established's 900 s
    for (int i = 0; i < 8; ++i) pipeline_->end_of_loop(*tx_);
    EXPECT_EQ(count(Counter::conn_expired), 1U);
    EXPECT_EQ(dest_[0]->conns.active.load(), 0U);
    EXPECT_EQ(dest_[0]->conns.inactive.load(), 0U);
    EXPECT_EQ(dest_[1]->conns.active.load(), 1U);
    g_now += 900001;
    for (int i = 0; i < 8; ++i) pipeline_->end_of_loop(*tx_);
    EXPECT_EQ(count(Counter::conn_expired), 2U);
    EXPECT_EQ(dest_[1]->conns.active.load(), 0U);
    tx_->flush();
}

TEST_F(NatPipelineTest, SynToAFullTableIsCounted)
{
    all_neighbours();
    std::vector<Conn4*> taken;
    while (Conn4* c = conns_->alloc(0)) taken.push_back(c);
    ASSERT_GE(taken.size(), 1024U);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn));
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::conn_table_full), 1U);
    EXPECT_EQ(dest_[0]->conns.inactive.load(), 0U);
    // The control thread hears of it within a second, once, with the count.
    g_now += 1000;
    pipeline_->end_of_loop(*tx_);
    WorkerEvent ev;
    ASSERT_TRUE(channel_->events.pop(ev));
    EXPECT_EQ(ev.kind, WorkerEvent::Kind::counter_rose);
    EXPECT_EQ(ev.counter, Counter::conn_table_full);
    EXPECT_EQ(ev.delta, 1U);
    EXPECT_FALSE(channel_->events.pop(ev));
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40001, 80, 1, 0, kSyn));
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40002, 80, 1, 0, kSyn));
    g_now += 500;
    pipeline_->end_of_loop(*tx_);
    EXPECT_FALSE(channel_->events.pop(ev)) << "at most one report a second";
    g_now += 500;
    pipeline_->end_of_loop(*tx_);
    ASSERT_TRUE(channel_->events.pop(ev));
    EXPECT_EQ(ev.delta, 2U);
    tx_->flush();
}

TEST_F(NatPipelineTest, AGarpCommandSendsAGratuitousArpForTheVip)
{
    ASSERT_TRUE(channel_->commands.push(WorkerCommand{WorkerCommand::Kind::send_garp, 0, wire(kVip)}));
    g_now += 1;
    pipeline_->end_of_loop(*tx_);
    tx_->flush();
    const auto out = sent(0);
    ASSERT_EQ(out.size(), 1U);
    // Broadcast ARP request from the port's MAC: sender and target are the
    // VIP, target MAC broadcast (as keepalived sends it).
    EXPECT_EQ(out[0], eth(kBroadcastMac, kLanMac, 0x0806, arp(1, kLanMac, kVip, kBroadcastMac, kVip)));
    EXPECT_EQ(count(Counter::garp_sent), 1U);
    EXPECT_TRUE(sent(1).empty());
}

// --- exception path ---------------------------------------------------------------
class ExceptionPathTest : public NatPipelineTest {
protected:
    ExceptionPathTest() { make_pipeline(0, true); }
};

Bytes ipv6_frame(const MacAddr& dst, const MacAddr& src)
{
    Bytes ip6(40, 0);
    ip6[0] = 0x60;
    ip6[6] = 59;  // no next header
    ip6[7] = 64;
    ip6[8] = 0x20, ip6[9] = 0x01, ip6[10] = 0x0d, ip6[11] = 0xb8, ip6[23] = 1;
    ip6[24] = 0x20, ip6[25] = 0x01, ip6[26] = 0x0d, ip6[27] = 0xb8, ip6[39] = 0xfe;
    return eth(dst, src, 0x86dd, ip6);
}

TEST_F(ExceptionPathTest, TcpToAPortAddressGoesToTheKernelUnchanged)
{
    all_neighbours();
    const Bytes syn = tcp_frame(kLanMac, kClientMac, kClient, kLanIp, 40000, 22, 1, 0, kSyn);
    rx(0, syn);
    EXPECT_TRUE(sent(0).empty());
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::exception_to_kernel), 1U);
    EXPECT_TRUE(to_tap(0).empty()) << "written by the service worker at the end of its loop";
    loop_end();
    const auto out = to_tap(0);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], syn);
    EXPECT_TRUE(to_tap(1).empty());
    EXPECT_EQ(count(Counter::exception_tap_sent), 1U);
    EXPECT_EQ(count(Counter::not_for_us), 0U);
}

TEST_F(ExceptionPathTest, AHealthCheckSynAckFromARealServerGoesToTheKernel)
{
    all_neighbours();
    // The kernel opened 198.19.0.254:45000 -> 198.19.0.1:80; the real
    // server's answer is not a NAT reply.
    const Bytes synack = tcp_frame(kSrvMac, kSrv1Mac, kSrv1, kSrvIp, 80, 45000, 7, 2, kSyn | kAck);
    rx(1, synack);
    loop_end();
    const auto out = to_tap(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], synack);
    EXPECT_EQ(count(Counter::nat_reply_no_conn), 0U);
    EXPECT_TRUE(sent(0).empty());
    EXPECT_TRUE(sent(1).empty());
}

TEST_F(ExceptionPathTest, VipTrafficStaysInTheDataPlane)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn));  // a service
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40001, 81, 1, 0, kSyn));  // a VIP port without one
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, 0xc6120063, 40002, 80, 1, 0, kSyn));  // not ours
    loop_end();
    EXPECT_TRUE(to_tap(0).empty());
    EXPECT_TRUE(to_tap(1).empty());
    EXPECT_EQ(sent(1).size(), 1U);
    EXPECT_EQ(sent(0).size(), 1U);  // the RST
    EXPECT_EQ(count(Counter::nat_in), 1U);
    EXPECT_EQ(count(Counter::no_service_rst), 1U);
    EXPECT_EQ(count(Counter::not_for_us), 1U);
    EXPECT_EQ(count(Counter::exception_to_kernel), 0U);
}

TEST_F(ExceptionPathTest, EchoRequestsAreAnsweredHereOtherIcmpToAPortAddressGoesToTheKernel)
{
    all_neighbours();
    const Bytes echo = eth(kLanMac, kClientMac, 0x0800, ipv4(kClient, kLanIp, 1, icmp_msg(8, 0, 0x00010001, kHello)));
    const Bytes reply = eth(kSrvMac, kSrv1Mac, 0x0800, ipv4(kSrv1, kSrvIp, 1, icmp_msg(0, 0, 0x00070001, kHello)));
    const Bytes unreach = eth(kSrvMac, kSrv1Mac, 0x0800,
                              ipv4(kSrv1, kSrvIp, 1, icmp_msg(3, 3, 0, ipv4(kSrvIp, kSrv1, 17, udp_dgram(kSrvIp, kSrv1, 5000, 53, {})))));
    const Bytes elsewhere = eth(kLanMac, kClientMac, 0x0800, ipv4(kClient, 0xc6120063, 1, icmp_msg(0, 0, 1, kHello)));
    rx(0, echo);
    rx(1, reply);
    rx(1, unreach);
    rx(0, elsewhere);
    loop_end();
    EXPECT_EQ(sent(0).size(), 1U);
    EXPECT_EQ(count(Counter::icmp_echo_answered), 1U);
    EXPECT_TRUE(to_tap(0).empty());
    const auto out = to_tap(1);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[0], reply);
    EXPECT_EQ(out[1], unreach);
    EXPECT_EQ(count(Counter::icmp_error_no_conn), 0U);
    EXPECT_EQ(count(Counter::not_for_us), 1U);
}

TEST_F(ExceptionPathTest, ArpRequestsAreAnsweredHereRepliesToUsAreCopiedToTheKernel)
{
    const MacAddr other = {0x02, 0, 0, 0, 0, 0x77};
    rx(0, eth(kBroadcastMac, kClientMac, 0x0806, arp(1, kClientMac, kClient, MacAddr{}, kLanIp)));
    EXPECT_EQ(sent(0).size(), 1U);
    // The answer to the kernel's own request (it went out through the TAP).
    const Bytes reply = eth(kSrvMac, kSrv2Mac, 0x0806, arp(2, kSrv2Mac, kSrv2, kSrvMac, kSrvIp));
    rx(1, reply);
    // A gratuitous ARP, and a request for someone else.
    const Bytes garp = eth(kBroadcastMac, other, 0x0806, arp(1, other, kSrv3, kBroadcastMac, kSrv3));
    rx(1, garp);
    rx(1, eth(kBroadcastMac, kSrv1Mac, 0x0806, arp(1, kSrv1Mac, kSrv1, MacAddr{}, kSrv2)));
    loop_end();
    EXPECT_TRUE(to_tap(0).empty());
    const auto out = to_tap(1);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[0], reply);
    EXPECT_EQ(out[1], garp);
    EXPECT_EQ(count(Counter::exception_arp_to_kernel), 2U);
    EXPECT_EQ(count(Counter::arp_request_answered), 1U);
    // The data plane keeps its own learning policy: it asked about neither.
    EXPECT_EQ(count(Counter::arp_reply_unsolicited), 2U);
    EXPECT_TRUE(sent(1).empty());
}

TEST_F(ExceptionPathTest, VrrpOtherProtocolsIpv6AndOtherEthertypes)
{
    const MacAddr vrrp_mac = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x12};
    const Bytes vrrp = eth(vrrp_mac, kClientMac, 0x0800, ipv4(kClient, 0xe0000012, 112, Bytes(20, 0x21), {.ttl = 255}));
    const Bytes gre_local = eth(kLanMac, kClientMac, 0x0800, ipv4(kClient, kLanIp, 47, Bytes(8, 0)));
    const Bytes gre_other = eth(kLanMac, kClientMac, 0x0800, ipv4(kClient, 0xc6120063, 47, Bytes(8, 0)));
    const Bytes v6 = ipv6_frame(kLanMac, kClientMac);
    const Bytes lldp = eth({0x01, 0x80, 0xc2, 0, 0, 0x0e}, kClientMac, 0x88cc, Bytes(30, 0));
    rx_burst(0, {vrrp, gre_local, gre_other, v6, lldp});
    loop_end();
    const auto out = to_tap(0);
    ASSERT_EQ(out.size(), 4U);
    EXPECT_EQ(out[0], vrrp);
    EXPECT_EQ(out[1], gre_local);
    EXPECT_EQ(out[2], v6);
    EXPECT_EQ(out[3], lldp);
    EXPECT_EQ(count(Counter::exception_vrrp_to_kernel), 1U);
    EXPECT_EQ(count(Counter::exception_to_kernel), 4U);
    EXPECT_EQ(count(Counter::not_for_us), 1U);
    EXPECT_EQ(count(Counter::drop_ipv6), 0U);
    EXPECT_EQ(count(Counter::drop_not_ip), 0U);
}

TEST_F(ExceptionPathTest, KernelFramesGoOutOnTheirPortPadded)
{
    // The kernel's ARP request (42 bytes: it does not pad) and a TCP segment.
    const Bytes req = eth(kBroadcastMac, kSrvMac, 0x0806, arp(1, kSrvMac, kSrvIp, MacAddr{}, kSrv1), false);
    ASSERT_EQ(req.size(), 42U);
    const Bytes seg = tcp_frame(kClientMac, kLanMac, kLanIp, kClient, 22, 40000, 9, 2, kSyn | kAck);
    from_kernel(1, req);
    from_kernel(0, seg);
    loop_end();
    const auto wire1 = sent(1);
    ASSERT_EQ(wire1.size(), 1U);
    Bytes padded = req;
    padded.resize(60, 0);
    EXPECT_EQ(wire1[0], padded);
    const auto wire0 = sent(0);
    ASSERT_EQ(wire0.size(), 1U);
    EXPECT_EQ(wire0[0], seg);
    EXPECT_EQ(count(Counter::exception_from_kernel), 2U);
    EXPECT_EQ(count(Counter::arp_request_sent), 0U);
}

TEST_F(ExceptionPathTest, KernelFramesUseThePortsRingWhenTheWorkerHasNoQueueThere)
{
    // The service worker has no TX queue of its own on port 1: the kernel's
    // frames for it go through the port's multi-producer ring.
    rte_ring* ring = rte_ring_create("exc_tx_ring", 64, 0, RING_F_SC_DEQ);
    ASSERT_NE(ring, nullptr);
    tx_ = std::make_unique<TxStage>(
        std::vector<TxStage::Target>{{g_ports[0].port_id, 0, nullptr}, {g_ports[1].port_id, 0, ring}}, loop_);
    const Bytes seg = tcp_frame(kSrv1Mac, kSrvMac, kSrvIp, kSrv1, 45000, 80, 1, 0, kSyn);
    from_kernel(1, seg);
    loop_end();
    EXPECT_TRUE(sent(1).empty());
    const auto queued = read_ring(ring);
    ASSERT_EQ(queued.size(), 1U);
    EXPECT_EQ(queued[0], seg);
    EXPECT_EQ(count(Counter::exception_from_kernel), 1U);
    EXPECT_EQ(loop_.tx_ring_enqueued, 1U);
    rte_ring_free(ring);
}

TEST_F(ExceptionPathTest, VlanTagRemovedTowardsTheKernelAddedTowardsTheWire)
{
    make_pipeline(100, true);
    const Bytes syn = tcp_frame(kLanMac, kClientMac, kClient, kLanIp, 40000, 22, 1, 0, kSyn);
    rx(0, tagged(syn, 0x2064));
    loop_end();
    const auto out = to_tap(0);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], syn);
    const Bytes synack = tcp_frame(kClientMac, kLanMac, kLanIp, kClient, 22, 40000, 9, 2, kSyn | kAck);
    from_kernel(0, synack);
    loop_end();
    const auto wire = sent(0);
    ASSERT_EQ(wire.size(), 1U);
    EXPECT_EQ(wire[0], tagged(synack, 100));
}

TEST_F(ExceptionPathTest, AFullRingDropsAndCounts)
{
    std::vector<Bytes> burst;
    for (std::uint16_t i = 0; i < 10; ++i) {
        burst.push_back(tcp_frame(kLanMac, kClientMac, kClient, kLanIp, static_cast<std::uint16_t>(40000 + i), 22, 1, 0, kSyn));
    }
    rx_burst(0, burst);
    EXPECT_EQ(count(Counter::exception_to_kernel), kToKernelRing - 1);
    EXPECT_EQ(count(Counter::exception_ring_full), 10 - (kToKernelRing - 1));
    loop_end();
    EXPECT_EQ(to_tap(0).size(), kToKernelRing - 1);
}

TEST_F(NatPipelineTest, WithoutAnExceptionPortTheNodesOwnTrafficIsDropped)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kLanIp, 40000, 22, 1, 0, kSyn));
    rx(1, tcp_frame(kSrvMac, kSrv1Mac, kSrv1, kSrvIp, 80, 45000, 7, 2, kSyn | kAck));
    rx(0, ipv6_frame(kLanMac, kClientMac));
    pipeline_->end_of_loop(*tx_);
    tx_->flush();
    EXPECT_TRUE(sent(0).empty());
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::not_for_us), 1U);
    EXPECT_EQ(count(Counter::nat_reply_no_conn), 1U);
    EXPECT_EQ(count(Counter::drop_ipv6), 1U);
    EXPECT_EQ(count(Counter::exception_to_kernel), 0U);
    EXPECT_EQ(rte_ring_count(g_to_kernel), 0U);
}


// --- persistence (persistence.h) ------------------------------------------------------------
// One TCP service on the VIP, rr over the three servers of the base
// fixture (which would rotate), made persistent.
class PersistPipelineTest : public NatPipelineTest {
protected:
    static constexpr std::uint32_t kTimeoutMs = 360000;
    static constexpr std::uint32_t kClient2 = 0xc6120002;  // 198.18.0.2, kClient's /24
    static constexpr std::uint32_t kOther = 0xc6120101;    // 198.18.1.1, another /24

    struct DestSpec {
        int server;               // 0..2: kSrv1..kSrv3
        std::uint16_t port;       // host order
        int weight = 1;
        bool available = true;
    };

    // VIP:`vport`/tcp rr over `dests`; persistent with `mask` (host order)
    // unless `persistent` is false.
    void publish_persistent(std::uint16_t vport, std::vector<DestSpec> dests, std::uint32_t mask = 0xffffffffU,
                            bool persistent = true, std::uint8_t proto = 6)
    {
        const std::uint32_t addrs[3] = {kSrv1, kSrv2, kSrv3};
        const ServiceKey key = ServiceKey::v4(wire(kVip), wire16(vport), proto);
        StatsLease lease(registry_);
        std::vector<Dest> ds;
        for (const DestSpec& s : dests) {
            Dest d;
            d.addr = {wire(addrs[s.server]), 0, 0, 0};
            d.port = wire16(s.port);
            d.family = kFamilyInet;
            d.weight = s.weight;
            d.available = s.available;
            DestCounters& c = lease.dest(DestKey{key, d.addr, d.port, kFamilyInet});
            d.id = c.id;
            d.counters = &c;
            ids_[s.server] = c.id;
            ds.push_back(d);
        }
        auto svc = std::make_unique<Service>(key, FwdMethod::nat, 0, std::move(ds), SchedAlgo::rr,
                                             &lease.service(key), sched_before(key));
        if (persistent) svc->set_persistence(kTimeoutMs, wire(mask));
        std::vector<std::unique_ptr<Service>> services;
        services.push_back(std::move(svc));
        conf::Dataplane dpc = ring_interfaces({"lan 198.18.0.254/23", "srv 198.19.0.254/24"});
        RouteBuild rb = RouteTable4::build(dpc);
        ASSERT_TRUE(rb.errors.empty());
        ASSERT_EQ(publisher_.publish(std::make_unique<Snapshot>(2, std::move(lease), ServiceTable(std::move(services)),
                                                                std::move(rb.table), std::vector<ServiceKey>{})),
                  0);
    }
    // The rr position carries over a republish, as in the snapshot builder.
    const SchedState* sched_before(const ServiceKey& key) const
    {
        const Snapshot* cur = publisher_.current();
        const Service* s = cur != nullptr ? cur->services().find_exact(key) : nullptr;
        return s != nullptr ? &s->sched() : nullptr;
    }
    void syn(std::uint32_t client, std::uint16_t sport, std::uint16_t dport = 80)
    {
        rx(0, tcp_frame(kLanMac, kClientMac, client, kVip, sport, dport, 1, 0, kSyn));
    }
    // The SYN as server `server` receives it on `port`.
    static Bytes syn_at(int server, std::uint32_t client, std::uint16_t sport, std::uint16_t port)
    {
        const std::uint32_t addrs[3] = {kSrv1, kSrv2, kSrv3};
        const MacAddr macs[3] = {kSrv1Mac, kSrv2Mac, kSrv3Mac};
        return tcp_frame(macs[server], kSrvMac, client, addrs[server], sport, port, 1, 0, kSyn, {}, {.ttl = 63});
    }
    // The template of (client & mask, VIP:vport/tcp), or nullptr.
    Conn4* tpl(std::uint32_t client_net, std::uint16_t vport = 80)
    {
        ConnDir dir;
        return conns_->lookup(FlowKey4{wire(client_net), wire(kVip), 0, wire16(vport), 6, kConnKindTemplate}, dir);
    }
    // A sweep of the whole table at g_now (one end of loop, long after the last).
    void sweep()
    {
        pipeline_->end_of_loop(*tx_);
        tx_->flush();
    }

    std::uint32_t ids_[3] = {};
};

TEST_F(PersistPipelineTest, SameClientNewSourcePortsStayOnItsServer)
{
    all_neighbours();
    publish_persistent(80, {{0, 80}, {1, 80}, {2, 8080}});
    for (std::uint16_t p = 40000; p < 40004; ++p) syn(kClient, p);
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 4U);
    for (std::uint16_t i = 0; i < 4; ++i) {
        EXPECT_EQ(out[i], syn_at(0, kClient, static_cast<std::uint16_t>(40000 + i), 80)) << i;  // rr would rotate
        expect_checksums_valid(out[i]);
    }
    EXPECT_EQ(count(Counter::persist_template_new), 1U);
    EXPECT_EQ(count(Counter::persist_template_hit), 3U);
    EXPECT_EQ(count(Counter::conn_new), 4U);
    // The template: NONE, client port 0, VIP port, the server; four flows on it.
    Conn4* t = tpl(kClient);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->kind, kConnKindTemplate);
    EXPECT_EQ(state_of(t), ConnState::none);
    EXPECT_EQ(t->cport, 0);
    EXPECT_EQ(t->daddr, wire(kSrv1));
    EXPECT_EQ(t->dport, wire16(80));
    EXPECT_EQ(t->tpl_dest.load(), ids_[0]);
    EXPECT_EQ(t->n_control.load(), 4U);
    EXPECT_EQ(t->expires_ms.load(), g_now + kTimeoutMs);
    ConnDir dir;
    Conn4* c = find(kClient, kVip, 40002, 80, 6, dir);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->control, conns_->index_of(t) + 1);
    // A packet whose key looks like the template's never finds it.
    EXPECT_EQ(find(kClient, kVip, 0, 80, 6, dir), nullptr);
    // Templates count in no server's connections.
    EXPECT_EQ(registry_.dest(ids_[0])->conns.active.load(), 4U);
}

TEST_F(PersistPipelineTest, WithoutPersistenceRrSpreadsTheSameClient)
{
    all_neighbours();
    publish_persistent(80, {{0, 80}, {1, 80}, {2, 8080}}, 0xffffffffU, /*persistent=*/false);
    for (std::uint16_t p = 40000; p < 40003; ++p) syn(kClient, p);
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 3U);
    EXPECT_EQ(out[0], syn_at(0, kClient, 40000, 80));
    EXPECT_EQ(out[1], syn_at(1, kClient, 40001, 80));
    EXPECT_EQ(out[2], syn_at(2, kClient, 40002, 8080));
    EXPECT_EQ(count(Counter::persist_template_new), 0U);
    EXPECT_EQ(tpl(kClient), nullptr);
}

TEST_F(PersistPipelineTest, GranularityPutsAClientNetworkOnOneServer)
{
    all_neighbours();
    neighbour(0, kClient2, kClientMac);
    publish_persistent(80, {{0, 80}, {1, 80}, {2, 8080}}, 0xffffff00U);
    syn(kClient, 40000);
    syn(kClient2, 50000);  // same /24: same server
    syn(kOther, 60000);    // another /24: the scheduler's next pick
    syn(kOther, 60001);
    syn(kClient2, 50001);
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 5U);
    EXPECT_EQ(out[0], syn_at(0, kClient, 40000, 80));
    EXPECT_EQ(out[1], syn_at(0, kClient2, 50000, 80));
    EXPECT_EQ(out[2], syn_at(1, kOther, 60000, 80));
    EXPECT_EQ(out[3], syn_at(1, kOther, 60001, 80));
    EXPECT_EQ(out[4], syn_at(0, kClient2, 50001, 80));
    EXPECT_EQ(count(Counter::persist_template_new), 2U);
    EXPECT_EQ(count(Counter::persist_template_hit), 3U);
    ASSERT_NE(tpl(0xc6120000), nullptr);  // keyed by the masked address
    EXPECT_EQ(tpl(0xc6120000)->n_control.load(), 3U);
    EXPECT_EQ(tpl(0xc6120100)->n_control.load(), 2U);
    EXPECT_EQ(tpl(kClient), nullptr);
}

TEST_F(PersistPipelineTest, TemplateOutlivesItsLastConnectionByTheTimeoutThenANewPick)
{
    all_neighbours();
    publish_persistent(80, {{0, 80}, {1, 80}, {2, 8080}});
    const std::uint32_t t0 = g_now;
    syn(kClient, 40000);  // syn_recv: the flow expires at t0 + 60 s
    sweep();
    Conn4* t = tpl(kClient);
    ASSERT_NE(t, nullptr);
    // Its own deadline passed, but it controls a flow: kept.
    g_now = t0 + kTimeoutMs + 10;
    ConnDir dir;
    Conn4* flow = find(kClient, kVip, 40000, 80, 6, dir);
    ASSERT_NE(flow, nullptr);
    flow->expires_ms.store(g_now + 1000);  // as if the flow had been busy until now
    sweep();
    EXPECT_EQ(tpl(kClient), t);
    EXPECT_EQ(count(Counter::persist_template_expired), 0U);
    // The flow ends: the template lives the timeout longer.
    g_now += 1000;
    sweep();
    EXPECT_EQ(find(kClient, kVip, 40000, 80, 6, dir), nullptr);
    ASSERT_EQ(tpl(kClient), t);
    EXPECT_EQ(t->n_control.load(), 0U);
    EXPECT_EQ(t->expires_ms.load(), g_now + kTimeoutMs);
    g_now += kTimeoutMs - 1;
    sweep();
    EXPECT_EQ(tpl(kClient), t);
    syn(kClient, 40001);  // still within: the same server, and the timer re-armed
    EXPECT_EQ(t->expires_ms.load(), g_now + kTimeoutMs);
    Conn4* flow2 = find(kClient, kVip, 40001, 80, 6, dir);
    ASSERT_NE(flow2, nullptr);
    // Let that flow go too, then the template.
    g_now += 61000;
    sweep();
    EXPECT_EQ(find(kClient, kVip, 40001, 80, 6, dir), nullptr);
    g_now += kTimeoutMs;
    sweep();
    EXPECT_EQ(tpl(kClient), nullptr);
    EXPECT_EQ(count(Counter::persist_template_expired), 1U);
    syn(kClient, 40002);  // a new pick: rr moves on
    std::vector<Bytes> out;  // the SYNs, without the neighbour probes of the idle minutes
    for (Bytes& f : sent(1)) {
        if (get16(f, 12) == 0x0800) out.push_back(std::move(f));
    }
    ASSERT_EQ(out.size(), 3U);
    EXPECT_EQ(out[0], syn_at(0, kClient, 40000, 80));
    EXPECT_EQ(out[1], syn_at(0, kClient, 40001, 80));
    EXPECT_EQ(out[2], syn_at(1, kClient, 40002, 80));
    EXPECT_EQ(count(Counter::persist_template_new), 2U);
}

TEST_F(PersistPipelineTest, ARemovedServersTemplateIsReplaced)
{
    all_neighbours();
    publish_persistent(80, {{0, 80}, {1, 80}, {2, 8080}});
    syn(kClient, 40000);
    Conn4* t = tpl(kClient);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->tpl_dest.load(), ids_[0]);
    // Server 1 leaves the service; its flow goes on, the client's next one moves.
    publish_persistent(80, {{1, 80}, {2, 8080}});
    syn(kClient, 40001);
    syn(kClient, 40002);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 2, 1, kAck));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 4U);
    EXPECT_EQ(out[0], syn_at(0, kClient, 40000, 80));
    const int next = out[1] == syn_at(1, kClient, 40001, 80) ? 1 : 2;
    EXPECT_EQ(out[1], syn_at(next, kClient, 40001, next == 1 ? 80 : 8080));
    EXPECT_EQ(out[2], syn_at(next, kClient, 40002, next == 1 ? 80 : 8080));  // sticks to the new one
    EXPECT_EQ(out[3], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, 40000, 80, 2, 1, kAck, {}, {.ttl = 63}));
    EXPECT_EQ(tpl(kClient), t);  // replaced in place
    EXPECT_EQ(t->tpl_dest.load(), ids_[next]);
    EXPECT_EQ(t->n_control.load(), 3U);
    EXPECT_EQ(count(Counter::persist_template_replaced), 1U);
    EXPECT_EQ(count(Counter::persist_template_new), 1U);
}

TEST_F(PersistPipelineTest, AnUnavailableServerLosesItsTemplatesAQuiescentOneKeepsThem)
{
    all_neighbours();
    publish_persistent(80, {{0, 80}, {1, 80}, {2, 8080}});
    syn(kClient, 40000);
    // Weight 0 but still in the service (inhibit_on_failure): IPVS keeps the template.
    publish_persistent(80, {{0, 80, 0}, {1, 80}, {2, 8080}});
    syn(kClient, 40001);
    // Down without inhibit_on_failure (IPVS would have removed it): replaced.
    publish_persistent(80, {{0, 80, 0, false}, {1, 80}, {2, 8080}});
    syn(kClient, 40002);
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 3U);
    EXPECT_EQ(out[0], syn_at(0, kClient, 40000, 80));
    EXPECT_EQ(out[1], syn_at(0, kClient, 40001, 80));
    EXPECT_NE(out[2], syn_at(0, kClient, 40002, 80));
    EXPECT_EQ(count(Counter::persist_template_replaced), 1U);
    EXPECT_NE(tpl(kClient)->tpl_dest.load(), ids_[0]);
}

TEST_F(PersistPipelineTest, PortZeroServiceKeepsTheClientsDestinationPort)
{
    all_neighbours();
    publish_persistent(0, {{0, 0}, {1, 0}});
    syn(kClient, 40000, 443);
    syn(kClient, 40001, 22);  // any port of the VIP: the same template, the same server
    syn(kClient, 40002, 443);
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 3U);
    EXPECT_EQ(out[0], syn_at(0, kClient, 40000, 443));
    EXPECT_EQ(out[1], syn_at(0, kClient, 40001, 22));
    EXPECT_EQ(out[2], syn_at(0, kClient, 40002, 443));
    for (const auto& f : out) expect_checksums_valid(f);
    Conn4* t = tpl(kClient, 0);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->vport, 0);
    EXPECT_EQ(t->dport, 0);
    EXPECT_EQ(t->n_control.load(), 3U);
    // The reply comes back from VIP:22.
    rx(1, tcp_frame(kSrvMac, kSrv1Mac, kSrv1, kClient, 22, 40001, 9, 2, kSyn | kAck));
    const auto back = sent(0);
    ASSERT_EQ(back.size(), 1U);
    EXPECT_EQ(back[0], tcp_frame(kClientMac, kLanMac, kVip, kClient, 22, 40001, 9, 2, kSyn | kAck, {}, {.ttl = 63}));
}

TEST_F(PersistPipelineTest, UdpDatagramsFromNewPortsStayOnTheServer)
{
    all_neighbours();
    publish_persistent(53, {{0, 5353}, {1, 5353}}, 0xffffffffU, true, 17);
    auto dgram = [](std::uint32_t s, std::uint32_t d, std::uint16_t sport, std::uint16_t dport, const MacAddr& dmac,
                    const MacAddr& smac, std::uint8_t ttl) {
        return eth(dmac, smac, 0x0800, ipv4(s, d, 17, udp_dgram(s, d, sport, dport, kHello), {.ttl = ttl}));
    };
    for (std::uint16_t p = 5000; p < 5003; ++p) rx(0, dgram(kClient, kVip, p, 53, kLanMac, kClientMac, 64));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 3U);
    for (std::uint16_t i = 0; i < 3; ++i) {
        EXPECT_EQ(out[i], dgram(kClient, kSrv1, static_cast<std::uint16_t>(5000 + i), 5353, kSrv1Mac, kSrvMac, 63));
        expect_checksums_valid(out[i]);
    }
    ConnDir dir;
    Conn4* t = conns_->lookup(FlowKey4{wire(kClient), wire(kVip), 0, wire16(53), 17, kConnKindTemplate}, dir);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->n_control.load(), 3U);
    EXPECT_EQ(tpl(kClient), nullptr);  // a TCP template of the same client and port is another one
}

TEST_F(PersistPipelineTest, ATemplateTheSweepIsRemovingIsNotUsedANewOneIs)
{
    all_neighbours();
    publish_persistent(80, {{0, 80}, {1, 80}, {2, 8080}});
    syn(kClient, 40000);
    Conn4* old = tpl(kClient);
    ASSERT_NE(old, nullptr);
    ConnDir dir;
    ASSERT_TRUE(conns_->remove(0, find(kClient, kVip, 40000, 80, 6, dir)));  // its flow is gone
    // The sweep's first step on an expired template (another worker's, say).
    std::uint32_t zero = 0;
    ASSERT_TRUE(old->n_control.compare_exchange_strong(zero, kTemplateGone));
    syn(kClient, 40001);
    Conn4* flow = find(kClient, kVip, 40001, 80, 6, dir);
    ASSERT_NE(flow, nullptr);
    ASSERT_NE(flow->control, 0U);
    Conn4* fresh = conns_->lookup(FlowKey4{wire(kClient), wire(kVip), 0, wire16(80), 6, kConnKindTemplate}, dir);
    EXPECT_NE(flow->control, conns_->index_of(old) + 1);
    EXPECT_EQ(count(Counter::persist_template_new), 2U);
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[1], syn_at(1, kClient, 40001, 80));  // a fresh pick
    EXPECT_NE(fresh, nullptr);
}

TEST_F(PersistPipelineTest, ANonSynDoesNotTouchTheTemplate)
{
    all_neighbours();
    publish_persistent(80, {{0, 80}, {1, 80}});
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 2, 1, kAck));
    EXPECT_EQ(count(Counter::conn_not_syn), 1U);
    EXPECT_EQ(tpl(kClient), nullptr);
    syn(kClient, 40001);
    EXPECT_EQ(tpl(kClient)->n_control.load(), 1U);
}

}  // namespace
}  // namespace kadp::dp
