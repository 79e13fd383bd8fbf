// Runs on: any (unit test; its own binary, since it initialises EAL once in
// main). NatPipeline's DR and TUN forwarding on real mbufs, transmitted
// through a TxStage onto two net_ring ports whose TX rings the test reads
// back (EAL main and shared helpers: pipeline_test_main.cpp,
// pipeline_fixture.h). Expected frames are built from scratch
// (frame_builders.h, checksums by a plain RFC 1071 loop) and compared byte
// for byte: every MAC, every IP
// header field and every checksum at once; the inner packet of a TUN frame
// must be the client's packet with only its TTL (and checksum) changed.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "conf/model.h"
#include "dataplane/checksum.h"
#include "dataplane/conn_state.h"
#include "dataplane/nat_pipeline.h"
#include "dataplane/worker.h"
#include "dataplane/xmit_dr_tun.h"
#include "frame_builders.h"
#include "pipeline_fixture.h"

namespace kadp::dp {
namespace {

using namespace pipetest;

// Beyond pipeline_fixture.h's addresses: a routed network and an unrouted one.
constexpr std::uint32_t kGateway = 0xc61300fa;  // 198.19.0.250: route 198.20.0.0/16 via it
constexpr std::uint32_t kFar = 0xc6140005;      // 198.20.0.5: behind the gateway
constexpr std::uint32_t kNoRoute = 0xc6150005;  // 198.21.0.5: no route
const Mac kGatewayMac = {0x02, 0, 0, 0, 1, 0xfa};
const Mac kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// The services: port -> real servers (address, port, method).
struct RealSpec {
    std::uint32_t addr;
    std::uint16_t port;
    FwdMethod fwd;
};
struct ServiceSpec {
    std::uint16_t vport;
    std::uint8_t proto;
    FwdMethod fwd;
    std::vector<RealSpec> reals;
};
const std::vector<ServiceSpec> kServices = {
    {80, 6, FwdMethod::dr, {{kSrv1, 80, FwdMethod::dr}}},
    {81, 6, FwdMethod::tun, {{kSrv2, 81, FwdMethod::tun}}},
    // keepalived: lb_kind per virtual server, lvs_method per real server.
    {82, 6, FwdMethod::dr,
     {{kSrv1, 82, FwdMethod::dr}, {kSrv2, 82, FwdMethod::tun}, {kSrv3, 8080, FwdMethod::nat}}},
    {83, 6, FwdMethod::dr, {{kFar, 83, FwdMethod::dr}}},
    {84, 6, FwdMethod::tun, {{kNoRoute, 84, FwdMethod::tun}}},
    {85, 6, FwdMethod::tun, {{kFar, 85, FwdMethod::tun}}},
    {53, 17, FwdMethod::tun, {{kSrv2, 53, FwdMethod::tun}}},
};

class DrTunTest : public ::testing::Test {
protected:
    DrTunTest()
    {
        conns_ = ConnTable4::create(1024, 1);
        conns_->register_worker(0);
        neigh_ = NeighTable4::create(NeighConfig{});
        publish();
        make_pipeline();
        tx_ = std::make_unique<TxStage>(
            std::vector<TxStage::Target>{{g_ports[0].port_id, 0, nullptr}, {g_ports[1].port_id, 0, nullptr}}, loop_);
        drain();
    }
    ~DrTunTest() override
    {
        drain();
        rte_mbuf* held[64];
        for (std::uint32_t n; (n = neigh_->drain(held, 64)) != 0;) rte_pktmbuf_free_bulk(held, n);
        conns_->unregister_worker(0);
    }
    // srv port: VLAN `srv_vlan` (0: untagged), MTU `srv_mtu`, address `srv_ip` (0: none).
    void make_pipeline(std::uint16_t srv_vlan = 0, std::uint16_t srv_mtu = 1500, std::uint32_t srv_ip = kSrvIp)
    {
        NatPipelineConfig c;
        c.ports = {NatPort{kLanMac, wire(kLanIp), 0, 1500}, NatPort{kSrvMac, srv_ip == 0 ? 0 : wire(srv_ip), srv_vlan, srv_mtu}};
        c.conns = conns_.get();
        c.neigh = neigh_.get();
        c.publisher = &publisher_;
        c.registry = &registry_;
        c.pool = g_pool;
        c.clock_ms = &test_clock;
        pipeline_ = std::make_unique<NatPipeline>(WorkerInfo{}, c);
    }
    void publish()
    {
        StatsLease lease(registry_);
        std::vector<std::unique_ptr<Service>> services;
        for (const ServiceSpec& s : kServices) {
            const ServiceKey key = ServiceKey::v4(wire(kVip), wire16(s.vport), s.proto);
            std::vector<Dest> dests;
            for (const RealSpec& r : s.reals) {
                Dest d;
                d.addr = {wire(r.addr), 0, 0, 0};
                d.port = wire16(r.port);
                d.family = kFamilyInet;
                d.fwd = r.fwd;
                d.weight = 1;
                DestCounters& c = lease.dest(DestKey{key, d.addr, d.port, kFamilyInet});
                d.id = c.id;
                d.counters = &c;
                dests.push_back(d);
            }
            services.push_back(std::make_unique<Service>(key, s.fwd, 0, std::move(dests), SchedAlgo::rr,
                                                         &lease.service(key), nullptr));
        }
        conf::Dataplane dpc = ring_interfaces({"lan 198.18.0.254/24", "srv 198.19.0.254/24"});
        conf::DataplaneRoute r;
        r.prefix = *conf::IpPrefix::parse("198.20.0.0/16");
        r.via = *conf::IpAddr::parse("198.19.0.250");
        dpc.routes.push_back(r);
        RouteBuild rb = RouteTable4::build(dpc);
        ASSERT_TRUE(rb.errors.empty());
        ASSERT_EQ(publisher_.publish(std::make_unique<Snapshot>(1, std::move(lease), ServiceTable(std::move(services)),
                                                                std::move(rb.table))),
                  0);
    }
    void neighbour(std::uint16_t port, std::uint32_t ip, const Mac& mac) { learn_neighbour(*neigh_, port, ip, mac); }
    void all_neighbours()
    {
        neighbour(0, kClient, kClientMac);
        neighbour(1, kSrv1, kSrv1Mac);
        neighbour(1, kSrv2, kSrv2Mac);
        neighbour(1, kSrv3, kSrv3Mac);
        neighbour(1, kGateway, kGatewayMac);
    }
    void rx(std::uint16_t port, const Bytes& frame)
    {
        rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
        ASSERT_NE(m, nullptr);
        std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size())), frame.data(), frame.size());
        RxQueueRef ref{port, g_ports[port].port_id, 0};
        pipeline_->process(ref, &m, 1, *tx_);
        tx_->flush();
    }
    std::vector<Bytes> sent(std::uint16_t port) { return read_ring(g_ports[port].tx); }
    void drain()
    {
        sent(0);
        sent(1);
    }
    std::uint64_t count(Counter c) const { return pipeline_->counters().get(c); }
    Conn4* find(std::uint32_t s, std::uint32_t d, std::uint16_t sport, std::uint16_t dport, std::uint8_t proto = 6)
    {
        ConnDir dir;
        return conns_->lookup(FlowKey4{wire(s), wire(d), wire16(sport), wire16(dport), proto}, dir);
    }
    static ConnState state_of(const Conn4* c) { return static_cast<ConnState>(c->state.load()); }
    DestCounters* dest_counters(const Conn4* c) const { return registry_.dest(c->dest_id); }

    StatsRegistry registry_{1};
    SnapshotPublisher publisher_{1, 4};
    std::unique_ptr<ConnTable4> conns_;
    std::unique_ptr<NeighTable4> neigh_;
    std::unique_ptr<NatPipeline> pipeline_;
    WorkerLoopStats loop_;
    std::unique_ptr<TxStage> tx_;
};

// The TUN frame kadp must send for a client frame: the srv port's MAC to
// the server's, an outer header built from scratch (TOS and DF from the
// inner, TTL = the inner's after its decrement, protocol 4, our srv address
// to the server), then the client's IP packet with TTL - 1.
Bytes tun_frame(const Mac& server_mac, std::uint32_t server, const Bytes& inner_after, std::uint16_t outer_id)
{
    const bool df = (get16(inner_after, 6) & 0x4000) != 0;
    Bytes outer = ipv4(kSrvIp, server, 4, inner_after, {.ttl = inner_after[8], .id = outer_id, .df = df, .tos = inner_after[1]});
    return eth(server_mac, kSrvMac, 0x0800, outer);
}

TEST_F(DrTunTest, DrChangesOnlyTheMacsAndTheTtl)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1000, 0, kSyn, {}, {.ttl = 64, .id = 0x4242, .tos = 0x2a}));
    EXPECT_TRUE(sent(0).empty());
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    // dst MAC: server 1; src MAC: the srv port; destination still the VIP,
    // ports, TOS, ID, DF kept; TTL - 1 with its checksum (IPVS decrements
    // the TTL for DR too).
    EXPECT_EQ(out[0], tcp_frame(kSrv1Mac, kSrvMac, kClient, kVip, 40000, 80, 1000, 0, kSyn, {},
                                {.ttl = 63, .id = 0x4242, .tos = 0x2a}));
    EXPECT_EQ(ref_csum(Bytes(out[0].begin() + 14, out[0].begin() + 34)), 0) << "IPv4 header checksum";
    const Bytes l4(out[0].begin() + 34, out[0].begin() + 54);
    EXPECT_EQ(ref_csum(l4, pseudo(kClient, kVip, 6, 20)), 0) << "TCP checksum";
    EXPECT_EQ(count(Counter::xmit_dr), 1U);
    EXPECT_EQ(count(Counter::nat_in), 0U);
    EXPECT_EQ(count(Counter::conn_new), 1U);
    Conn4* c = find(kClient, kVip, 40000, 80);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->fwd, static_cast<std::uint8_t>(FwdMethod::dr));
    EXPECT_EQ(c->two_way, 0);
    EXPECT_EQ(c->daddr, wire(kSrv1));
    // No reply-direction slot: the server answers the client directly.
    EXPECT_EQ(find(kSrv1, kClient, 80, 40000), nullptr);
    const DestCounters* dc = dest_counters(c);
    ASSERT_NE(dc, nullptr);
    EXPECT_EQ(dc->traffic.sum().in_packets, 1U);
}

TEST_F(DrTunTest, InputOnlyTcpStatesForDirectRouting)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1000, 0, kSyn));
    Conn4* c = find(kClient, kVip, 40000, 80);
    ASSERT_NE(c, nullptr);
    DestCounters* dc = dest_counters(c);
    ASSERT_NE(dc, nullptr);
    EXPECT_EQ(state_of(c), ConnState::syn_recv);
    EXPECT_EQ(c->expires_ms.load(), g_now + 60'000);
    EXPECT_EQ(dc->conns.active.load(), 1U);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1001, 5001, kAck));
    EXPECT_EQ(state_of(c), ConnState::established);
    EXPECT_EQ(c->expires_ms.load(), g_now + 900'000);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1001, 5001, kAck | kPsh, kHello));
    EXPECT_EQ(state_of(c), ConnState::established);
    // The client's FIN: INPUT-ONLY goes to FIN_WAIT (a NAT connection, which
    // sees both sides, would be in CLOSE_WAIT), no longer active.
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1006, 5001, kFin | kAck));
    EXPECT_EQ(state_of(c), ConnState::fin_wait);
    EXPECT_EQ(c->expires_ms.load(), g_now + 120'000);
    EXPECT_EQ(dc->conns.active.load(), 0U);
    EXPECT_EQ(dc->conns.inactive.load(), 1U);
    // Its last ACK (the server's FIN went straight to it): stays FIN_WAIT.
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1007, 5002, kAck));
    EXPECT_EQ(state_of(c), ConnState::fin_wait);
    EXPECT_EQ(count(Counter::xmit_dr), 5U);
    EXPECT_EQ(sent(1).size(), 5U);

    // RST on an established one: CLOSE (10 s), counted as a reset.
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40001, 80, 1, 0, kSyn));
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40001, 80, 2, 9, kAck));
    Conn4* r = find(kClient, kVip, 40001, 80);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(state_of(r), ConnState::established);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40001, 80, 2, 9, kRst));
    EXPECT_EQ(state_of(r), ConnState::close);
    EXPECT_EQ(r->expires_ms.load(), g_now + 10'000);
    EXPECT_EQ(count(Counter::conn_reset), 1U);
    // A SYN in SYN_RECV stays there; an RST in SYN_RECV keeps it too (IPVS's table).
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40002, 80, 1, 0, kSyn));
    Conn4* s = find(kClient, kVip, 40002, 80);
    ASSERT_NE(s, nullptr);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40002, 80, 1, 0, kRst));
    EXPECT_EQ(state_of(s), ConnState::syn_recv);
}

TEST_F(DrTunTest, TunEncapsulatesEveryFieldAsIpvs)
{
    all_neighbours();
    const Bytes syn = tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 81, 1000, 0, kSyn, {},
                                {.ttl = 64, .id = 0x4242, .df = true, .tos = 0xb9});
    rx(0, syn);
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    const Bytes inner = ipv4(kClient, kVip, 6, tcp_seg(kClient, kVip, 40000, 81, 1000, 0, kSyn, 8192),
                             {.ttl = 63, .id = 0x4242, .df = true, .tos = 0xb9});
    EXPECT_EQ(out[0], tun_frame(kSrv2Mac, kSrv2, inner, 0));
    // Field by field, for the failure message and as a second reading.
    ASSERT_EQ(out[0].size(), 14U + 20U + inner.size());
    EXPECT_EQ(get16(out[0], 12), 0x0800);
    EXPECT_EQ(out[0][14], 0x45);
    EXPECT_EQ(out[0][15], 0xb9) << "outer TOS = the inner's DSCP + ECN";
    EXPECT_EQ(get16(out[0], 16), 20U + inner.size()) << "outer total length";
    EXPECT_EQ(get16(out[0], 18), 0) << "outer ID 0 with DF";
    EXPECT_EQ(get16(out[0], 20), 0x4000) << "DF copied, offset 0";
    EXPECT_EQ(out[0][22], 63) << "outer TTL = inner TTL after the decrement";
    EXPECT_EQ(out[0][23], 4) << "IP-in-IP";
    EXPECT_EQ(get32(out[0], 26), kSrvIp);
    EXPECT_EQ(get32(out[0], 30), kSrv2);
    EXPECT_EQ(ref_csum(Bytes(out[0].begin() + 14, out[0].begin() + 34)), 0) << "outer checksum";
    const Bytes got_inner(out[0].begin() + 34, out[0].end());
    EXPECT_EQ(got_inner, inner) << "the inner packet is the client's, TTL - 1";
    EXPECT_EQ(ref_csum(Bytes(got_inner.begin(), got_inner.begin() + 20)), 0) << "inner checksum";
    EXPECT_EQ(ref_csum(Bytes(got_inner.begin() + 20, got_inner.end()), pseudo(kClient, kVip, 6, 20)), 0);
    EXPECT_EQ(count(Counter::xmit_tun), 1U);
    Conn4* c = find(kClient, kVip, 40000, 81);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->fwd, static_cast<std::uint8_t>(FwdMethod::tun));
    EXPECT_EQ(c->two_way, 0);

    // Data on the connection: the same, payload byte-identical.
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 81, 1001, 1, kAck | kPsh, kHello,
                    {.ttl = 50, .id = 0x4243, .df = true, .tos = 0}));
    const auto data = sent(1);
    ASSERT_EQ(data.size(), 1U);
    EXPECT_EQ(data[0], tun_frame(kSrv2Mac, kSrv2,
                                 ipv4(kClient, kVip, 6, tcp_seg(kClient, kVip, 40000, 81, 1001, 1, kAck | kPsh, 8192, kHello),
                                      {.ttl = 49, .id = 0x4243, .df = true, .tos = 0}),
                                 0));
    EXPECT_EQ(state_of(c), ConnState::established);
}

TEST_F(DrTunTest, TunWithoutDfNumbersItsOuterHeaders)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 81, 1, 0, kSyn, {}, {.ttl = 64, .id = 7, .df = false}));
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 81, 2, 1, kAck, {}, {.ttl = 64, .id = 8, .df = false}));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 2U);
    const std::uint16_t id0 = get16(out[0], 18);
    EXPECT_EQ(get16(out[1], 18), static_cast<std::uint16_t>(id0 + 1)) << "a per-worker counter";
    EXPECT_EQ(out[0], tun_frame(kSrv2Mac, kSrv2,
                                ipv4(kClient, kVip, 6, tcp_seg(kClient, kVip, 40000, 81, 1, 0, kSyn, 8192),
                                     {.ttl = 63, .id = 7, .df = false}),
                                id0));
    EXPECT_EQ(get16(out[1], 20), 0) << "no DF, no fragment";
}

TEST_F(DrTunTest, TunCarriesUdpWithAZeroChecksumUntouched)
{
    all_neighbours();
    const Bytes dgram = udp_dgram(kClient, kVip, 40000, 53, kHello, true);
    rx(0, eth(kLanMac, kClientMac, 0x0800, ipv4(kClient, kVip, 17, dgram, {.ttl = 9, .id = 3})));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], tun_frame(kSrv2Mac, kSrv2, ipv4(kClient, kVip, 17, dgram, {.ttl = 8, .id = 3}), 0));
    Conn4* c = find(kClient, kVip, 40000, 53, 17);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(state_of(c), ConnState::udp);
    EXPECT_EQ(c->expires_ms.load(), g_now + 300'000);
    EXPECT_EQ(c->two_way, 0);
    EXPECT_EQ(find(kSrv2, kClient, 53, 40000, 17), nullptr);
    EXPECT_EQ(count(Counter::xmit_tun), 1U);
}

TEST_F(DrTunTest, OneServiceMixesMethodsEachConnectionTakesItsDests)
{
    all_neighbours();
    for (std::uint16_t p = 0; p < 3; ++p) {
        rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, static_cast<std::uint16_t>(40000 + p), 82, 1, 0, kSyn));
    }
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 3U);
    // rr: server 1 by DR, server 2 by TUN, server 3 by NAT to port 8080.
    EXPECT_EQ(out[0], tcp_frame(kSrv1Mac, kSrvMac, kClient, kVip, 40000, 82, 1, 0, kSyn, {}, {.ttl = 63}));
    EXPECT_EQ(out[1], tun_frame(kSrv2Mac, kSrv2,
                                ipv4(kClient, kVip, 6, tcp_seg(kClient, kVip, 40001, 82, 1, 0, kSyn, 8192), {.ttl = 63}),
                                0));
    EXPECT_EQ(out[2], tcp_frame(kSrv3Mac, kSrvMac, kClient, kSrv3, 40002, 8080, 1, 0, kSyn, {}, {.ttl = 63}));
    EXPECT_EQ(count(Counter::xmit_dr), 1U);
    EXPECT_EQ(count(Counter::xmit_tun), 1U);
    EXPECT_EQ(count(Counter::nat_in), 1U);
    EXPECT_EQ(find(kClient, kVip, 40000, 82)->two_way, 0);
    EXPECT_EQ(find(kClient, kVip, 40001, 82)->two_way, 0);
    EXPECT_EQ(find(kClient, kVip, 40002, 82)->two_way, 1);
    // Only the NAT one has a reply direction.
    EXPECT_NE(find(kSrv3, kClient, 8080, 40002), nullptr);
    EXPECT_EQ(find(kSrv1, kClient, 82, 40000), nullptr);
}

TEST_F(DrTunTest, VlanEgressPortTagsDrAndTunFrames)
{
    make_pipeline(7);
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn));
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 81, 1, 0, kSyn));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[0], tagged(tcp_frame(kSrv1Mac, kSrvMac, kClient, kVip, 40000, 80, 1, 0, kSyn, {}, {.ttl = 63}), 7));
    EXPECT_EQ(out[1], tagged(tun_frame(kSrv2Mac, kSrv2,
                                       ipv4(kClient, kVip, 6, tcp_seg(kClient, kVip, 40000, 81, 1, 0, kSyn, 8192),
                                            {.ttl = 63}),
                                       0),
                             7));
}

TEST_F(DrTunTest, TunToAnUnresolvedServerIsHeldEncapsulatedAndSentOnTheReply)
{
    neighbour(0, kClient, kClientMac);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 81, 1, 0, kSyn));
    auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(get16(out[0], 12), 0x0806) << "an ARP request for the real server";
    EXPECT_EQ(count(Counter::neigh_unresolved_held), 1U);
    rx(1, eth(kSrvMac, kSrv2Mac, 0x0806, arp(2, kSrv2Mac, kSrv2, kSrvMac, kSrvIp)));
    out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], tun_frame(kSrv2Mac, kSrv2,
                                ipv4(kClient, kVip, 6, tcp_seg(kClient, kVip, 40000, 81, 1, 0, kSyn, 8192), {.ttl = 63}),
                                0));
}

// ICMP fragmentation needed from the VIP to the client, quoting the
// client's IP header + 8 bytes as received.
Bytes frag_needed(const Bytes& client_frame, std::uint16_t mtu)
{
    const Bytes ip = ip_of(client_frame);
    const Bytes quote(ip.begin(), ip.begin() + 28);
    return eth(kClientMac, kLanMac, 0x0800,
               ipv4(kVip, kClient, 1, icmp_msg(3, 4, mtu, quote), {.ttl = 64, .id = 0, .df = false, .tos = 0xc0}));
}

TEST_F(DrTunTest, TunTooBigWithDfGetsFragmentationNeeded)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 81, 1, 0, kSyn));
    sent(1);
    // 1480 bytes of IP packet + 20 = the srv MTU: fits.
    const Bytes fits = tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 81, 2, 1, kAck, Bytes(1440, 0x5a));
    rx(0, fits);
    auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].size(), 14U + 1500U);
    // One byte more: ICMP back to the client, nothing to the server.
    const Bytes big = tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 81, 1442, 1, kAck, Bytes(1441, 0x5b),
                                {.ttl = 61, .id = 0x0bad, .df = true, .tos = 0x10});
    rx(0, big);
    EXPECT_TRUE(sent(1).empty());
    const auto back = sent(0);
    ASSERT_EQ(back.size(), 1U);
    EXPECT_EQ(back[0], frag_needed(big, 1480));
    EXPECT_EQ(back[0][14 + 20], 3);
    EXPECT_EQ(back[0][14 + 21], 4);
    EXPECT_EQ(get16(back[0], 14 + 26), 1480) << "next-hop MTU = egress MTU - 20";
    EXPECT_EQ(ref_csum(Bytes(back[0].begin() + 34, back[0].end())), 0) << "ICMP checksum";
    EXPECT_EQ(ref_csum(Bytes(back[0].begin() + 14, back[0].begin() + 34)), 0) << "IP checksum";
    EXPECT_EQ(count(Counter::frag_needed_sent), 1U);
    EXPECT_EQ(count(Counter::xmit_tun), 2U);  // the SYN and the packet that fit
}

TEST_F(DrTunTest, DrTooBigWithDfGetsFragmentationNeededWithTheEgressMtu)
{
    make_pipeline(0, 576);
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn));
    sent(1);
    const Bytes big = tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 2, 1, kAck, Bytes(537, 1));
    rx(0, big);
    EXPECT_TRUE(sent(1).empty());
    const auto back = sent(0);
    ASSERT_EQ(back.size(), 1U);
    EXPECT_EQ(back[0], frag_needed(big, 576));
    EXPECT_EQ(count(Counter::frag_needed_sent), 1U);
    EXPECT_EQ(count(Counter::xmit_dr), 1U);
}

TEST_F(DrTunTest, DrTooBigWithoutDfIsFragmentedUnlessItHasOptions)
{
    make_pipeline(0, 576);
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn, {}, {.df = false}));
    sent(1);
    const Bytes payload(600, 0x33);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 2, 1, kAck, payload, {.ttl = 30, .id = 5, .df = false}));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 2U);  // 640 bytes of IP: 20 + 552, 20 + 68
    EXPECT_EQ(get16(out[0], 16), 572);
    EXPECT_EQ(get16(out[0], 20), 0x2000);
    EXPECT_EQ(get16(out[1], 16), 88);
    EXPECT_EQ(get16(out[1], 20), 552 / 8);
    for (const Bytes& f : out) {
        EXPECT_EQ(get16(f, 18), 5) << "DR keeps the client's ID";
        EXPECT_EQ(f[22], 29);
        EXPECT_EQ(get32(f, 30), kVip);
        EXPECT_EQ(ref_csum(Bytes(f.begin() + 14, f.begin() + 34)), 0);
    }
    EXPECT_EQ(count(Counter::fragmented), 1U);
    EXPECT_EQ(count(Counter::xmit_dr), 2U);

    // The same with an IP option (4 bytes, NOPs + EOL): not fragmented here.
    Bytes ip = ip_of(tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 602, 1, kAck, payload, {.df = false}));
    ip.insert(ip.begin() + 20, {1, 1, 1, 0});
    ip[0] = 0x46;
    put16(ip, 2, static_cast<std::uint16_t>(ip.size()));
    put16(ip, 10, 0);
    put16(ip, 10, ref_csum(Bytes(ip.begin(), ip.begin() + 24)));
    rx(0, eth(kLanMac, kClientMac, 0x0800, ip));
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::frag_failed), 1U);
    EXPECT_EQ(count(Counter::xmit_dr), 2U);
}

TEST_F(DrTunTest, TunTooBigWithoutDfIsSentAsOuterFragments)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 81, 1, 0, kSyn, {}, {.df = false}));
    sent(1);
    Bytes payload(1441);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 7);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 81, 2, 1, kAck, payload, {.ttl = 64, .id = 99, .df = false}));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 2U);
    const Bytes inner = ipv4(kClient, kVip, 6, tcp_seg(kClient, kVip, 40000, 81, 2, 1, kAck, 8192, payload),
                             {.ttl = 63, .id = 99, .df = false});
    ASSERT_EQ(inner.size(), 1481U);
    // The outer packet (1501 bytes) in two: 1480 bytes of payload with MF,
    // then 1 byte at offset 1480 (185 units of 8); one ID, other fields as
    // the unfragmented outer header.
    const std::uint16_t id = get16(out[0], 18);
    const std::size_t sizes[2] = {1480, 1};
    Bytes rebuilt;
    for (int f = 0; f < 2; ++f) {
        const Bytes& o = out[f];
        ASSERT_GE(o.size(), 34U + sizes[f]);
        EXPECT_EQ(Bytes(o.begin(), o.begin() + 12), Bytes({0x02, 0, 0, 0, 1, 0x02, 0x02, 0, 0, 0, 0, 0x0b}));
        EXPECT_EQ(get16(o, 12), 0x0800);
        EXPECT_EQ(o[14], 0x45);
        EXPECT_EQ(o[15], 0);
        EXPECT_EQ(get16(o, 16), 20U + sizes[f]);
        EXPECT_EQ(get16(o, 18), id);
        EXPECT_EQ(get16(o, 20), f == 0 ? 0x2000 : 185) << "MF on the first, offset 185 on the second";
        EXPECT_EQ(o[22], 63);
        EXPECT_EQ(o[23], 4);
        EXPECT_EQ(get32(o, 26), kSrvIp);
        EXPECT_EQ(get32(o, 30), kSrv2);
        EXPECT_EQ(ref_csum(Bytes(o.begin() + 14, o.begin() + 34)), 0) << "fragment " << f << " checksum";
        rebuilt.insert(rebuilt.end(), o.begin() + 34, o.begin() + 34 + static_cast<std::ptrdiff_t>(sizes[f]));
    }
    EXPECT_EQ(out[1].size(), 60U) << "the short last fragment padded to the Ethernet minimum";
    EXPECT_EQ(rebuilt, inner) << "reassembled, the inner packet";
    EXPECT_EQ(count(Counter::fragmented), 1U);
    EXPECT_EQ(count(Counter::xmit_tun), 2U);
}

TEST_F(DrTunTest, DrToAServerBehindAGatewayAndTunWithoutRouteOrSourceAreDropped)
{
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 83, 1, 0, kSyn));
    EXPECT_EQ(count(Counter::dr_not_on_link), 1U);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 84, 1, 0, kSyn));
    EXPECT_EQ(count(Counter::route_miss), 1U);
    EXPECT_TRUE(sent(0).empty());
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::xmit_dr) + count(Counter::xmit_tun), 0U);
    // TUN may go through a gateway: the outer packet is routed like any other.
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 85, 1, 0, kSyn));
    const auto via = sent(1);
    ASSERT_EQ(via.size(), 1U);
    EXPECT_EQ(via[0], tun_frame(kGatewayMac, kFar,
                                ipv4(kClient, kVip, 6, tcp_seg(kClient, kVip, 40000, 85, 1, 0, kSyn, 8192), {.ttl = 63}),
                                0));
    // An egress port without an address has no outer source.
    make_pipeline(0, 1500, 0);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40001, 81, 1, 0, kSyn));
    EXPECT_EQ(count(Counter::tun_no_source), 1U);
    EXPECT_TRUE(sent(1).empty());
}

// The helpers on their own.
TEST(XmitDrTun, FragmentKeepsMfOfAFirstFragmentAndRefusesOptions)
{
    Bytes payload(100, 0x11);
    Bytes pkt = ipv4(kClient, kVip, 17, payload, {.df = false});
    put16(pkt, 6, 0x2000);  // a first fragment itself
    put16(pkt, 10, 0);
    put16(pkt, 10, ref_csum(Bytes(pkt.begin(), pkt.begin() + 20)));
    const Bytes frame = eth(kSrv1Mac, kSrvMac, 0x0800, pkt);
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size())), frame.data(), frame.size());
    rte_mbuf* out[kMaxFragments];
    ASSERT_EQ(ipv4_fragment(m, 14, 68, g_pool, out, kMaxFragments), 3U);  // 48 + 48 + 4
    for (int i = 0; i < 3; ++i) {
        const auto* p = rte_pktmbuf_mtod(out[i], const std::uint8_t*);
        const Bytes f(p, p + rte_pktmbuf_data_len(out[i]));
        EXPECT_EQ(get16(f, 20), static_cast<std::uint16_t>(0x2000 | (i * 6))) << "MF on every piece";
        EXPECT_EQ(get16(f, 16), i < 2 ? 68 : 24);
        EXPECT_EQ(ref_csum(Bytes(f.begin() + 14, f.begin() + 34)), 0);
        rte_pktmbuf_free(out[i]);
    }
    Bytes opt = pkt;
    opt[0] = 0x46;
    opt.insert(opt.begin() + 20, {1, 1, 1, 0});
    const Bytes oframe = eth(kSrv1Mac, kSrvMac, 0x0800, opt);
    rte_mbuf* o = rte_pktmbuf_alloc(g_pool);
    std::memcpy(rte_pktmbuf_append(o, static_cast<std::uint16_t>(oframe.size())), oframe.data(), oframe.size());
    EXPECT_EQ(ipv4_fragment(o, 14, 68, g_pool, out, kMaxFragments), 0U);
    rte_pktmbuf_free(o);
}

}  // namespace
}  // namespace kadp::dp
