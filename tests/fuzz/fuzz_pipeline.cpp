// Runs on: the fuzzer. The whole worker pipeline (NatPipeline::process, as a
// worker lcore runs it) on frames from the input, over real mbufs and two
// net_ring ports, with the unit tests' small fixed config
// (tests/unit/dataplane/pipeline_fixture.h): lan 198.18.0.254/24, srv
// 198.19.0.254/24, VIP 198.18.0.100:80/tcp rr over three real servers
// (NAT) and VIP:53/udp, every neighbour known.
//
// Input: records [control byte][length, 2 bytes big endian][frame]; the
// control byte's bit 0 picks the port (lan/srv), bits 1-3 advance the clock
// by that many 500 ms steps first (timeouts, fragment expiry), bit 4 keeps
// the IPv4 header checksum as given: by default it is recomputed, so mutated
// headers reach the code past the checksum check (which drops the rest with
// drop_bad_ip_checksum). A record cut
// short takes what is left. At most 8 records, each its own burst, then a
// worker loop's end.
//
// Each input starts from fresh connection, neighbour and fragment tables (so
// a crash reproduces from its input alone) and must leave no mbuf behind:
// after the clock moves past every timeout and everything transmitted is
// drained, the pool must be full again.
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "conf/model.h"
#include "dataplane/checksum.h"
#include "dataplane/nat_pipeline.h"
#include "dataplane/neigh_table.h"
#include "dataplane/snapshot.h"
#include "dataplane/worker.h"

namespace {

using namespace kadp;
using namespace kadp::dp;

void require(bool ok)
{
    if (!ok) __builtin_trap();
}

struct RingPort {
    std::uint16_t port_id = 0;
    rte_ring* rx = nullptr;
    rte_ring* tx = nullptr;
};

constexpr std::uint32_t kClient = 0xc6120001;  // 198.18.0.1
constexpr std::uint32_t kLanIp = 0xc61200fe;   // 198.18.0.254
constexpr std::uint32_t kVip = 0xc6120064;     // 198.18.0.100
constexpr std::uint32_t kSrv[3] = {0xc6130001, 0xc6130002, 0xc6130003};
constexpr std::uint32_t kSrvIp = 0xc61300fe;   // 198.19.0.254
constexpr MacAddr kLanMac = {0x02, 0, 0, 0, 0, 0x0a};
constexpr MacAddr kSrvMac = {0x02, 0, 0, 0, 0, 0x0b};
constexpr MacAddr kClientMac = {0x02, 0, 0, 0, 0, 0x01};
constexpr MacAddr kSrvMacs[3] = {{0x02, 0, 0, 0, 1, 0x01}, {0x02, 0, 0, 0, 1, 0x02}, {0x02, 0, 0, 0, 1, 0x03}};

std::uint32_t wire(std::uint32_t host) { return be32_from_host(host); }
std::uint16_t wire16(std::uint16_t host) { return be16_from_host(host); }

// Set up once (LLVMFuzzerInitialize).
std::string g_prefix;
rte_mempool* g_pool = nullptr;
RingPort g_ports[2];
std::uint32_t g_now = 1000000;
std::uint32_t fuzz_clock() { return g_now; }
StatsRegistry* g_registry = nullptr;
SnapshotPublisher* g_publisher = nullptr;
std::unique_ptr<WorkerChannel> g_channel;

bool make_ring_port(RingPort& p, const std::string& name)
{
    p.rx = rte_ring_create((name + "_rx").c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    p.tx = rte_ring_create((name + "_tx").c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (p.rx == nullptr || p.tx == nullptr) return false;
    const int id = rte_eth_from_rings((name + "_ring").c_str(), &p.rx, 1, &p.tx, 1, 0);
    if (id < 0) return false;
    p.port_id = static_cast<std::uint16_t>(id);
    rte_eth_conf conf{};
    return rte_eth_dev_configure(p.port_id, 1, 1, &conf) == 0 &&
           rte_eth_rx_queue_setup(p.port_id, 0, 64, 0, nullptr, g_pool) == 0 &&
           rte_eth_tx_queue_setup(p.port_id, 0, 64, 0, nullptr) == 0 && rte_eth_dev_start(p.port_id) == 0;
}

// Frees whatever the pipeline transmitted on `r`.
void drain_ring(rte_ring* r)
{
    void* objs[64];
    unsigned n;
    while ((n = rte_ring_dequeue_burst(r, objs, 64, nullptr)) != 0) {
        for (unsigned i = 0; i < n; ++i) {
            auto* m = static_cast<rte_mbuf*>(objs[i]);
            // Every frame that leaves is one Ethernet frame of sane length.
            require(rte_pktmbuf_data_len(m) >= 14 && rte_pktmbuf_pkt_len(m) == rte_pktmbuf_data_len(m));
            rte_pktmbuf_free(m);
        }
    }
}

// VIP:80/tcp rr over .1:80, .2:80, .3:8080; VIP:53/udp -> .1:5353; routes
// for both subnets.
void publish()
{
    StatsLease lease(*g_registry);
    std::vector<std::unique_ptr<Service>> services;
    const ServiceKey tcp = ServiceKey::v4(wire(kVip), wire16(80), 6);
    std::vector<Dest> dests;
    const std::uint16_t ports[3] = {80, 80, 8080};
    for (int i = 0; i < 3; ++i) {
        Dest d;
        d.addr = {wire(kSrv[i]), 0, 0, 0};
        d.port = wire16(ports[i]);
        d.family = kFamilyInet;
        d.weight = 1;
        DestCounters& c = lease.dest(DestKey{tcp, d.addr, d.port, kFamilyInet});
        d.id = c.id;
        d.counters = &c;
        dests.push_back(d);
    }
    services.push_back(std::make_unique<Service>(tcp, FwdMethod::nat, 0, std::move(dests), SchedAlgo::rr,
                                                 &lease.service(tcp), nullptr));
    const ServiceKey udp = ServiceKey::v4(wire(kVip), wire16(53), 17);
    Dest d;
    d.addr = {wire(kSrv[0]), 0, 0, 0};
    d.port = wire16(5353);
    d.family = kFamilyInet;
    d.weight = 1;
    DestCounters& c = lease.dest(DestKey{udp, d.addr, d.port, kFamilyInet});
    d.id = c.id;
    d.counters = &c;
    services.push_back(std::make_unique<Service>(udp, FwdMethod::nat, 0, std::vector<Dest>{d}, SchedAlgo::rr,
                                                 &lease.service(udp), nullptr));
    conf::Dataplane dpc;
    for (const char* spec : {"lan 198.18.0.254/24", "srv 198.19.0.254/24"}) {
        const std::string s(spec);
        conf::DataplaneInterface itf;
        itf.name = s.substr(0, 3);
        itf.device = "net_ring";
        itf.address.push_back(*conf::IpPrefix::parse(s.substr(4)));
        dpc.interfaces.push_back(itf);
    }
    RouteBuild rb = RouteTable4::build(dpc);
    require(rb.errors.empty());
    auto snap = std::make_unique<Snapshot>(1, std::move(lease), ServiceTable(std::move(services)),
                                           std::move(rb.table), std::vector<ServiceKey>{});
    require(g_publisher->publish(std::move(snap)) == 0);
}

void learn(NeighTable4& neigh, std::uint16_t port, std::uint32_t ip, const MacAddr& mac)
{
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    require(m != nullptr);
    const NeighResolve r = neigh.resolve(port, wire(ip), m, g_now);
    require(r.verdict == ResolveVerdict::held_request || r.verdict == ResolveVerdict::held);
    const NeighLearn l = neigh.learn(port, wire(ip), mac, ArpSource::reply, g_now);
    require(l.n_held == 1);
    rte_pktmbuf_free(l.held[0]);
}

// Recomputes the IPv4 header checksum of an (optionally 802.1Q-tagged)
// frame when its header lies within the frame; anything else is left as is.
void fix_ipv4_checksum(std::uint8_t* f, std::size_t len)
{
    std::size_t l3 = 14;
    if (len >= 18 && f[12] == 0x81 && f[13] == 0x00) l3 = 18;
    if (len < l3 + 20 || f[l3 - 2] != 0x08 || f[l3 - 1] != 0x00) return;
    std::uint8_t* ip = f + l3;
    const std::size_t hlen = std::size_t{ip[0] & 0x0fu} * 4;
    if (hlen < 20 || l3 + hlen > len) return;
    ip[10] = ip[11] = 0;
    const std::uint16_t c = ipv4_header_checksum(ip, hlen);
    std::memcpy(ip + 10, &c, 2);
}

void cleanup()
{
    for (const RingPort& p : g_ports) {
        rte_eth_dev_stop(p.port_id);
        rte_eth_dev_close(p.port_id);
    }
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all("/var/run/dpdk/" + g_prefix, ec);
}

}  // namespace

// EAL once per process: no hugepages, no PCI, a file prefix unique to this
// process whose runtime directory is removed at exit (a crash leaves it:
// tests/scripts/fuzz_targets.sh removes it by the fuzzer's PID).
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/)
{
    g_prefix = "kadp-fuzz-pipeline-" + std::to_string(getpid());
    std::vector<std::string> args = {"fuzz_pipeline", "--no-huge", "-m", "256", "--no-pci", "--no-telemetry",
                                     "--file-prefix", g_prefix, "-l", "0", "--log-level", "error"};
    std::vector<char*> argv_eal;
    for (auto& a : args) argv_eal.push_back(a.data());
    if (rte_eal_init(static_cast<int>(argv_eal.size()), argv_eal.data()) < 0) {
        std::fprintf(stderr, "fuzz_pipeline: rte_eal_init failed\n");
        std::exit(1);
    }
    g_pool = rte_pktmbuf_pool_create("fuzz_pipeline", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    if (g_pool == nullptr || !make_ring_port(g_ports[0], "fz0") || !make_ring_port(g_ports[1], "fz1")) {
        std::fprintf(stderr, "fuzz_pipeline: mbuf pool or net_ring port setup failed\n");
        std::exit(1);
    }
    g_registry = new StatsRegistry(1);
    g_publisher = new SnapshotPublisher(1, 4);
    g_channel = std::make_unique<WorkerChannel>();
    publish();
    std::atexit(cleanup);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // Fresh per-input state, as a worker has after start-up.
    auto conns = ConnTable4::create(1024, 1);
    conns->register_worker(0);
    NeighConfig nc;
    nc.capacity = 64;
    auto neigh = NeighTable4::create(nc);
    learn(*neigh, 0, kClient, kClientMac);
    for (int i = 0; i < 3; ++i) learn(*neigh, 1, kSrv[i], kSrvMacs[i]);
    WorkerLoopStats loop;
    {
        NatPipelineConfig c;
        c.ports = {NatPort{kLanMac, wire(kLanIp), 0}, NatPort{kSrvMac, wire(kSrvIp), 0}};
        c.conns = conns.get();
        c.neigh = neigh.get();
        c.publisher = g_publisher;
        c.registry = g_registry;
        c.pool = g_pool;
        c.clock_ms = &fuzz_clock;
        c.channels = g_channel.get();
        c.frag_table_size = 16;
        NatPipeline pipeline(WorkerInfo{}, c);
        TxStage tx({{g_ports[0].port_id, 0, nullptr}, {g_ports[1].port_id, 0, nullptr}}, loop);

        std::size_t at = 0;
        for (int records = 0; records < 8 && at < size; ++records) {
            const std::uint8_t control = data[at++];
            std::size_t len = size - at;
            if (len >= 2) {
                len = std::min<std::size_t>((std::size_t{data[at]} << 8) | data[at + 1], len - 2);
                at += 2;
            }
            const std::uint16_t port = control & 1;
            g_now += 500u * ((control >> 1) & 7u);
            len = std::min<std::size_t>(len, RTE_MBUF_DEFAULT_DATAROOM);
            rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
            require(m != nullptr);  // a leak would empty the pool
            char* p = rte_pktmbuf_append(m, static_cast<std::uint16_t>(len));
            require(p != nullptr || len == 0);
            if (len != 0) std::memcpy(p, data + at, len);
            if ((control & 0x10) == 0) fix_ipv4_checksum(reinterpret_cast<std::uint8_t*>(p), len);
            at += len;
            RxQueueRef ref{port, g_ports[port].port_id, 0};
            pipeline.process(ref, &m, 1, tx);
            tx.flush();
            pipeline.end_of_loop(tx);
            tx.flush();
            drain_ring(g_ports[0].tx);
            drain_ring(g_ports[1].tx);
        }
        // Past every timeout: held fragments and unresolved neighbours go.
        g_now += 10000;
        pipeline.end_of_loop(tx);
        tx.flush();
        drain_ring(g_ports[0].tx);
        drain_ring(g_ports[1].tx);
        rte_mbuf* held[64];
        for (std::uint32_t n; (n = neigh->drain(held, 64)) != 0;) rte_pktmbuf_free_bulk(held, n);
        // Every mbuf is back: nothing leaked in the pipeline.
        require(rte_mempool_in_use_count(g_pool) == 0);
    }
    conns->unregister_worker(0);
    return 0;
}
