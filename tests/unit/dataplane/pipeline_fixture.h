// Runs on: any (unit tests). What the three NatPipeline test binaries
// (unit_nat_pipeline, unit_nat_icmp_frag, unit_dr_tun) share: the EAL-backed
// globals that pipeline_test_main.cpp sets up once per binary (an mbuf pool,
// two net_ring ports whose TX rings the tests read back, two net_ring
// exception TAPs and worker 0's to-kernel ring), the test addresses, ring
// helpers, and NatPipelineTest: a NAT pipeline over VIP:80/tcp and VIP:53/udp.
// Expected frames come from frame_builders.h.
#pragma once

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "conf/model.h"
#include "dataplane/arp.h"
#include "dataplane/checksum.h"
#include "dataplane/nat_pipeline.h"
#include "dataplane/worker.h"
#include "frame_builders.h"

namespace kadp::dp::pipetest {

using namespace testframes;

// --- set up by pipeline_test_main.cpp -----------------------------------------
struct TestPort {
    std::uint16_t port_id = 0;
    rte_ring* rx = nullptr;
    rte_ring* tx = nullptr;
};
extern rte_mempool* g_pool;
extern TestPort g_ports[2];
// The exception TAPs of ports 0 and 1, as net_ring ports (the service worker
// transmits to and receives from them like from net_tap), and worker 0's
// to-kernel ring (small, so a test can fill it).
extern TestPort g_taps[2];
extern rte_ring* g_to_kernel;
inline constexpr unsigned kToKernelRing = 8;  // 7 usable slots
extern std::uint32_t g_now;  // the pipelines' clock (ms); tests move it
std::uint32_t test_clock();

// --- addresses (host order in the test, wire order for the data plane) -------
inline constexpr std::uint32_t kClient = 0xc6120001;   // 198.18.0.1
inline constexpr std::uint32_t kLanIp = 0xc61200fe;    // 198.18.0.254
inline constexpr std::uint32_t kVip = 0xc6120064;      // 198.18.0.100
inline constexpr std::uint32_t kSrv1 = 0xc6130001;     // 198.19.0.1
inline constexpr std::uint32_t kSrv2 = 0xc6130002;     // 198.19.0.2
inline constexpr std::uint32_t kSrv3 = 0xc6130003;     // 198.19.0.3
inline constexpr std::uint32_t kSrvIp = 0xc61300fe;    // 198.19.0.254
inline const MacAddr kLanMac = {0x02, 0, 0, 0, 0, 0x0a};
inline const MacAddr kSrvMac = {0x02, 0, 0, 0, 0, 0x0b};
inline const MacAddr kClientMac = {0x02, 0, 0, 0, 0, 0x01};
inline const MacAddr kSrv1Mac = {0x02, 0, 0, 0, 1, 0x01};
inline const MacAddr kSrv2Mac = {0x02, 0, 0, 0, 1, 0x02};
inline const MacAddr kSrv3Mac = {0x02, 0, 0, 0, 1, 0x03};
inline constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

inline std::uint32_t wire(std::uint32_t host) { return be32_from_host(host); }
inline std::uint16_t wire16(std::uint16_t host) { return be16_from_host(host); }

// --- helpers ------------------------------------------------------------------
// Every frame queued on `r` (a port's TX ring, say), freed after copying.
inline std::vector<Bytes> read_ring(rte_ring* r)
{
    std::vector<Bytes> out;
    void* objs[64];
    unsigned n;
    while ((n = rte_ring_dequeue_burst(r, objs, 64, nullptr)) != 0) {
        for (unsigned i = 0; i < n; ++i) {
            auto* m = static_cast<rte_mbuf*>(objs[i]);
            const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
            out.emplace_back(p, p + rte_pktmbuf_data_len(m));
            rte_pktmbuf_free(m);
        }
    }
    return out;
}

// The interfaces of a data plane config, on net_ring devices, from specs
// like "lan 198.18.0.254/24" (a three-letter name, then the prefix).
inline conf::Dataplane ring_interfaces(std::initializer_list<const char*> specs)
{
    conf::Dataplane dpc;
    for (const char* spec : specs) {
        const std::string s(spec);
        conf::DataplaneInterface itf;
        itf.name = s.substr(0, 3);
        itf.device = "net_ring";
        itf.address.push_back(*conf::IpPrefix::parse(s.substr(4)));
        dpc.interfaces.push_back(itf);
    }
    return dpc;
}

// Makes (port, ip) a reachable neighbour in `neigh`, as after an answered request.
inline void learn_neighbour(NeighTable4& neigh, std::uint16_t port, std::uint32_t ip, const MacAddr& mac)
{
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    const NeighResolve r = neigh.resolve(port, wire(ip), m, g_now);
    ASSERT_TRUE(r.verdict == ResolveVerdict::held_request || r.verdict == ResolveVerdict::held);
    const NeighLearn l = neigh.learn(port, wire(ip), mac, ArpSource::reply, g_now);
    ASSERT_EQ(l.n_held, 1U);
    rte_pktmbuf_free(l.held[0]);
}

// --- fixture ----------------------------------------------------------------------------
class NatPipelineTest : public ::testing::Test {
protected:
    static constexpr std::uint16_t kDestPorts[3] = {80, 80, 8080};

    NatPipelineTest()
    {
        conns_ = ConnTable4::create(1024, 1);
        conns_->register_worker(0);
        neigh_ = NeighTable4::create(NeighConfig{});
        publish(true);
        make_pipeline(0);
        tx_ = std::make_unique<TxStage>(
            std::vector<TxStage::Target>{{g_ports[0].port_id, 0, nullptr}, {g_ports[1].port_id, 0, nullptr}}, loop_);
        drain_all();
    }
    // The pipeline, with the lan port on VLAN `lan_vlan` (0: untagged), the
    // ports' MTUs as given.
    void make_pipeline(std::uint16_t lan_vlan, bool exception = false, std::uint16_t lan_mtu = 1500,
                       std::uint16_t srv_mtu = 1500)
    {
        NatPipelineConfig c;
        c.ports = {NatPort{kLanMac, wire(kLanIp), lan_vlan, lan_mtu}, NatPort{kSrvMac, wire(kSrvIp), 0, srv_mtu}};
        c.conns = conns_.get();
        c.neigh = neigh_.get();
        c.publisher = &publisher_;
        c.registry = &registry_;
        c.pool = g_pool;
        c.clock_ms = &test_clock;
        c.channels = channel_.get();
        if (exception) {
            c.exception.to_kernel = {g_to_kernel};
            c.exception.tap_port_ids = {g_taps[0].port_id, g_taps[1].port_id};
            c.exception.service_worker = 0;
        }
        pipeline_ = std::make_unique<NatPipeline>(WorkerInfo{}, c);
    }
    ~NatPipelineTest() override
    {
        drain_all();
        rte_mbuf* held[64];
        for (std::uint32_t n; (n = neigh_->drain(held, 64)) != 0;) rte_pktmbuf_free_bulk(held, n);
        conns_->unregister_worker(0);
    }

    ServiceKey tcp_key() const { return ServiceKey::v4(wire(kVip), wire16(80), 6); }

    // VIP:80/tcp rr over 198.19.0.1:80, .2:80, .3:8080; VIP:53/udp -> .1:5353.
    // `vip_owned` false: the snapshot lists kVip as released (VRRP backup).
    void publish(bool with_routes, bool vip_owned = true, const ConnTimeouts& timeouts = {})
    {
        StatsLease lease(registry_);
        std::vector<std::unique_ptr<Service>> services;
        {
            std::vector<Dest> dests;
            const std::uint32_t addrs[3] = {kSrv1, kSrv2, kSrv3};
            for (int i = 0; i < 3; ++i) {
                Dest d;
                d.addr = {wire(addrs[i]), 0, 0, 0};
                d.port = wire16(kDestPorts[i]);
                d.family = kFamilyInet;
                d.weight = 1;
                DestCounters& c = lease.dest(DestKey{tcp_key(), d.addr, d.port, kFamilyInet});
                d.id = c.id;
                d.counters = &c;
                dest_[i] = &c;
                dests.push_back(d);
            }
            services.push_back(std::make_unique<Service>(tcp_key(), FwdMethod::nat, 0, std::move(dests), SchedAlgo::rr,
                                                         &lease.service(tcp_key()), nullptr));
        }
        {
            const ServiceKey k = ServiceKey::v4(wire(kVip), wire16(53), 17);
            Dest d;
            d.addr = {wire(kSrv1), 0, 0, 0};
            d.port = wire16(5353);
            d.family = kFamilyInet;
            d.weight = 1;
            DestCounters& c = lease.dest(DestKey{k, d.addr, d.port, kFamilyInet});
            d.id = c.id;
            d.counters = &c;
            udp_dest_ = &c;
            services.push_back(std::make_unique<Service>(k, FwdMethod::nat, 0, std::vector<Dest>{d}, SchedAlgo::rr,
                                                         &lease.service(k), nullptr));
        }
        std::unique_ptr<const RouteTable4> routes;
        if (with_routes) {
            conf::Dataplane dpc = ring_interfaces({"lan 198.18.0.254/24", "srv 198.19.0.254/24"});
            RouteBuild rb = RouteTable4::build(dpc);
            EXPECT_TRUE(rb.errors.empty());
            routes = std::move(rb.table);
        }
        std::vector<ServiceKey> released;
        if (!vip_owned) released.push_back(ServiceKey::v4(wire(kVip), 0, 0));
        auto snap = std::make_unique<Snapshot>(1, std::move(lease), ServiceTable(std::move(services)),
                                               std::move(routes), released);
        snap->set_timeouts(timeouts);
        ASSERT_EQ(publisher_.publish(std::move(snap)), 0);
    }

    // Makes (port, ip) a reachable neighbour, as after an answered request.
    void neighbour(std::uint16_t port, std::uint32_t ip, const MacAddr& mac) { learn_neighbour(*neigh_, port, ip, mac); }
    void all_neighbours()
    {
        neighbour(0, kClient, kClientMac);
        neighbour(1, kSrv1, kSrv1Mac);
        neighbour(1, kSrv2, kSrv2Mac);
        neighbour(1, kSrv3, kSrv3Mac);
    }

    // Runs frames through one process() call, as one burst received on `port`.
    void rx_burst(std::uint16_t port, const std::vector<Bytes>& frames)
    {
        std::vector<rte_mbuf*> ms;
        for (const Bytes& frame : frames) {
            rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
            ASSERT_NE(m, nullptr);
            char* dst = rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size()));
            ASSERT_NE(dst, nullptr);
            if (!frame.empty()) std::memcpy(dst, frame.data(), frame.size());  // an empty frame has no data()
            ms.push_back(m);
        }
        RxQueueRef ref{port, g_ports[port].port_id, 0};
        pipeline_->process(ref, ms.data(), static_cast<std::uint16_t>(ms.size()), *tx_);
        tx_->flush();
    }
    void rx(std::uint16_t port, const Bytes& frame) { rx_burst(port, {frame}); }
    // What the pipeline transmitted on `port` since the last call.
    std::vector<Bytes> sent(std::uint16_t port) { return read_ring(g_ports[port].tx); }
    void drain_all()
    {
        sent(0);
        sent(1);
        to_tap(0);
        to_tap(1);
        rte_mbuf* m;
        while (rte_ring_dequeue(g_to_kernel, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    }
    // What the service worker wrote to TAP `i` since the last call.
    std::vector<Bytes> to_tap(int i) { return read_ring(g_taps[i].tx); }
    // The kernel sends `frame` on TAP `i`.
    void from_kernel(int i, const Bytes& frame)
    {
        rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
        ASSERT_NE(m, nullptr);
        std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size())), frame.data(), frame.size());
        ASSERT_EQ(rte_ring_enqueue(g_taps[i].rx, m), 0);
    }
    // One worker loop's end: the service worker moves the exception frames.
    void loop_end()
    {
        pipeline_->end_of_loop(*tx_);
        tx_->flush();
    }
    std::uint64_t count(Counter c) const { return pipeline_->counters().get(c); }
    Conn4* find(std::uint32_t s, std::uint32_t d, std::uint16_t sport, std::uint16_t dport, std::uint8_t proto,
                ConnDir& dir)
    {
        return conns_->lookup(FlowKey4{wire(s), wire(d), wire16(sport), wire16(dport), proto}, dir);
    }
    ConnState state_of(Conn4* c) { return static_cast<ConnState>(c->state.load()); }

    std::unique_ptr<WorkerChannel> channel_ = std::make_unique<WorkerChannel>();  // worker 0's
    StatsRegistry registry_{1};
    SnapshotPublisher publisher_{1, 4};
    std::unique_ptr<ConnTable4> conns_;
    std::unique_ptr<NeighTable4> neigh_;
    std::unique_ptr<NatPipeline> pipeline_;
    WorkerLoopStats loop_;
    std::unique_ptr<TxStage> tx_;
    DestCounters* dest_[3] = {};
    DestCounters* udp_dest_ = nullptr;
};
inline const Bytes kHello = {'h', 'e', 'l', 'l', 'o'};

}  // namespace kadp::dp::pipetest
