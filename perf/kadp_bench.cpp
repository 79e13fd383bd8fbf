// Runs on: the main lcore (set-up, population, sampling, report) and one
// worker lcore (the measured loops).
//
// kadp-bench: how fast kadp's worker code forwards, against the ceiling of
// the same ports. Two runs on the same worker lcore, same ports, same feed:
//   baseline  rx_burst(port p) -> tx_burst(port 1-p), testpmd's io forwarding;
//   kadp      dp::Worker::run, the data plane's own loop, with a NatPipeline
//             (parse, connection lookup, scheduling, NAT, route, neighbour)
//             and its TxStage.
// Both loops end with the same Feeder step (kadp_bench_traffic.h), which
// restores what was transmitted into the next pre-built frame and queues it
// again, so both pay the same generator cost. The main lcore samples the
// packet counters with rte_rdtsc around a window of --seconds after a
// warm-up; the ratio is kadp's rate over the baseline's.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "conf/model.h"
#include "dataplane/checksum.h"
#include "dataplane/conn_table.h"
#include "dataplane/counters.h"
#include "dataplane/dpdk_info.h"
#include "dataplane/nat_pipeline.h"
#include "dataplane/neigh_table.h"
#include "dataplane/packet_parse.h"
#include "dataplane/route_table.h"
#include "dataplane/snapshot.h"
#include "dataplane/worker.h"
#include "conf/json_writer.h"
#include "kadp_version.h"
#include "perf/kadp_bench_options.h"
#include "perf/kadp_bench_traffic.h"

namespace kadp::bench {
namespace {

constexpr unsigned kRingSize = 1024;
constexpr unsigned kFeedDepth = 512;       // packets queued on each fed RX ring
constexpr unsigned kPoolSize = 8191;
constexpr std::uint16_t kBurst = dp::kRxBurst;
constexpr std::uint32_t kNeighNeverStale = 3'600'000;  // ms: no ARP probe during a run

struct BenchError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::uint32_t wire(std::uint32_t host) { return dp::be32_from_host(host); }

std::string cpu_model()
{
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            return colon == std::string::npos ? line : line.substr(line.find_first_not_of(' ', colon + 1));
        }
    }
    return "unknown";
}

// --- EAL, pool and ports, taken down in reverse -------------------------------------
class Eal {
public:
    explicit Eal(std::vector<std::string> args) : args_(std::move(args))
    {
        for (std::size_t i = 0; i < args_.size(); ++i) {
            if (args_[i] == "--file-prefix" && i + 1 < args_.size()) prefix_ = args_[i + 1];
            if (args_[i].rfind("--file-prefix=", 0) == 0) prefix_ = args_[i].substr(14);
        }
        std::vector<std::string> argv_s = {"kadp-bench"};
        argv_s.insert(argv_s.end(), args_.begin(), args_.end());
        std::vector<char*> argv;
        for (auto& a : argv_s) argv.push_back(a.data());
        if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
            remove_runtime_dir();
            throw BenchError("rte_eal_init failed (EAL options: " + joined() + ")");
        }
    }
    ~Eal()
    {
        rte_eal_cleanup();
        remove_runtime_dir();
    }
    Eal(const Eal&) = delete;
    Eal& operator=(const Eal&) = delete;
    std::string joined() const
    {
        std::string s;
        for (const auto& a : args_) {
            if (!s.empty()) s += ' ';
            s += a;
        }
        return s;
    }

private:
    void remove_runtime_dir() const
    {
        if (prefix_.empty() || prefix_.find('/') != std::string::npos || prefix_ == "." || prefix_ == "..") return;
        std::error_code ec;
        std::filesystem::remove_all("/var/run/dpdk/" + prefix_, ec);
    }
    std::vector<std::string> args_;
    std::string prefix_;
};

struct PoolFree {
    void operator()(rte_mempool* p) const { rte_mempool_free(p); }
};
struct RingFree {
    void operator()(rte_ring* r) const { rte_ring_free(r); }
};

class RingPort {
public:
    RingPort(int index, rte_mempool* pool)
    {
        const std::string n = std::to_string(index);
        rx_.reset(rte_ring_create(("kb_rx" + n).c_str(), kRingSize, static_cast<int>(rte_socket_id()),
                                  RING_F_SP_ENQ | RING_F_SC_DEQ));
        tx_.reset(rte_ring_create(("kb_tx" + n).c_str(), kRingSize, static_cast<int>(rte_socket_id()),
                                  RING_F_SP_ENQ | RING_F_SC_DEQ));
        if (!rx_ || !tx_) throw BenchError("cannot create the rings of port " + n);
        rte_ring* rx = rx_.get();
        rte_ring* tx = tx_.get();
        const int id = rte_eth_from_rings(("kb_ring" + n).c_str(), &rx, 1, &tx, 1, rte_socket_id());
        if (id < 0) throw BenchError("rte_eth_from_rings failed for port " + n);
        port_id_ = static_cast<std::uint16_t>(id);
        created_ = true;
        rte_eth_conf conf{};
        if (rte_eth_dev_configure(port_id_, 1, 1, &conf) != 0 ||
            rte_eth_rx_queue_setup(port_id_, 0, kRingSize, rte_socket_id(), nullptr, pool) != 0 ||
            rte_eth_tx_queue_setup(port_id_, 0, kRingSize, rte_socket_id(), nullptr) != 0 ||
            rte_eth_dev_start(port_id_) != 0) {
            throw BenchError("net_ring port " + n + " setup failed");
        }
    }
    ~RingPort()
    {
        if (!created_) return;
        rte_eth_dev_stop(port_id_);
        rte_eth_dev_close(port_id_);
    }
    RingPort(const RingPort&) = delete;
    RingPort& operator=(const RingPort&) = delete;

    FeederPort feeder_port() const { return {port_id_, rx_.get(), tx_.get()}; }
    std::uint16_t port_id() const { return port_id_; }
    void free_tx() const
    {
        void* objs[64];
        for (unsigned n; (n = rte_ring_dequeue_burst(tx_.get(), objs, 64, nullptr)) != 0;) {
            rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs), n);
        }
    }

private:
    std::unique_ptr<rte_ring, RingFree> rx_;
    std::unique_ptr<rte_ring, RingFree> tx_;
    std::uint16_t port_id_ = 0;
    bool created_ = false;
};

struct AlignedFree {
    void operator()(std::uint8_t* p) const { std::free(p); }
};
using Templates = std::unique_ptr<std::uint8_t, AlignedFree>;

Templates alloc_templates(std::size_t count)
{
    auto* p = static_cast<std::uint8_t*>(std::aligned_alloc(64, count * kTemplateSize));
    if (p == nullptr) throw BenchError("cannot allocate " + std::to_string(count) + " frame templates");
    return Templates(p);
}

std::uint32_t tsc_now_ms()
{
    // The pipeline's own clock (NatPipeline::now_ms with no seam).
    const std::uint64_t hz = rte_get_tsc_hz();
    return static_cast<std::uint32_t>(rte_get_tsc_cycles() / (hz >= 1000 ? hz / 1000 : 1));
}

// --- the services: one TCP VIP, K real servers -------------------------------------
std::unique_ptr<dp::Snapshot> build_snapshot(dp::StatsRegistry& registry, const BenchOptions& o)
{
    conf::Dataplane dpc;
    for (const char* spec : {"lan 198.18.0.254/24", "srv 198.19.255.254/16"}) {
        const std::string s(spec);
        conf::DataplaneInterface itf;
        itf.name = s.substr(0, 3);
        itf.device = "net_ring";
        itf.address.push_back(*conf::IpPrefix::parse(s.substr(4)));
        dpc.interfaces.push_back(itf);
    }
    conf::DataplaneRoute clients;
    clients.prefix = *conf::IpPrefix::parse("198.18.128.0/17");
    clients.via = *conf::IpAddr::parse("198.18.0.1");
    dpc.routes.push_back(clients);
    dp::RouteBuild rb = dp::RouteTable4::build(dpc);
    if (!rb.errors.empty()) throw BenchError("route table: " + rb.errors.front());

    const auto algo = dp::sched_from_name(o.sched);
    const bool weighted = o.sched == "wrr" || o.sched == "wlc";
    dp::StatsLease lease(registry);
    const dp::ServiceKey key = dp::ServiceKey::v4(wire(kVip), dp::be16_from_host(kVport), dp::kIpProtoTcp);
    std::vector<dp::Dest> dests;
    for (std::uint32_t i = 0; i < o.servers; ++i) {
        dp::Dest d;
        d.addr = {wire(kServerBase + i), 0, 0, 0};
        d.port = dp::be16_from_host(kServerPort);
        d.family = dp::kFamilyInet;
        d.fwd = dp::FwdMethod::nat;
        d.weight = weighted ? static_cast<std::int32_t>(1 + i % 4) : 1;
        dp::DestCounters& c = lease.dest(dp::DestKey{key, d.addr, d.port, dp::kFamilyInet});
        d.id = c.id;
        d.counters = &c;
        dests.push_back(d);
    }
    std::vector<std::unique_ptr<dp::Service>> services;
    services.push_back(std::make_unique<dp::Service>(key, dp::FwdMethod::nat, 0, std::move(dests), *algo,
                                                     &lease.service(key), nullptr));
    return std::make_unique<dp::Snapshot>(1, std::move(lease), dp::ServiceTable(std::move(services)),
                                          std::move(rb.table));
}

// Router and real servers as answered ARP requests would leave them.
void learn_neighbours(dp::NeighTable4& neigh, rte_mempool* pool, std::uint32_t servers)
{
    auto learn = [&](std::uint16_t port, std::uint32_t ip, const dp::MacAddr& mac) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        if (m == nullptr) throw BenchError("mbuf pool empty while learning neighbours");
        const std::uint32_t now = tsc_now_ms();
        const dp::NeighResolve r = neigh.resolve(port, wire(ip), m, now);
        if (r.verdict != dp::ResolveVerdict::held && r.verdict != dp::ResolveVerdict::held_request) {
            rte_pktmbuf_free(m);
            throw BenchError("neighbour table refused an entry");
        }
        const dp::NeighLearn l = neigh.learn(port, wire(ip), mac, dp::ArpSource::reply, now);
        for (std::uint32_t i = 0; i < l.n_held; ++i) rte_pktmbuf_free(l.held[i]);
    };
    learn(0, kRouter, kRouterMac);
    for (std::uint32_t i = 0; i < servers; ++i) learn(1, kServerBase + i, server_mac(i));
}

// --- population: every flow's handshake through a NatPipeline ------------------------
struct Population {
    Templates in;   // flow f's client -> VIP ACK at f
    Templates out;  // real server -> client ACK of flow (s + flows/2) % flows at s
    dp::CounterTotals counters{};
    double seconds = 0;
};

void process_frames(dp::NatPipeline& pipe, dp::TxStage& tx, rte_mempool* pool, std::uint16_t port,
                    std::uint16_t port_id, const std::uint8_t* frames, std::uint32_t n, const RingPort* ports)
{
    rte_mbuf* ms[kBurst];
    if (rte_pktmbuf_alloc_bulk(pool, ms, n) != 0) throw BenchError("mbuf pool empty during population");
    for (std::uint32_t i = 0; i < n; ++i) {
        std::memcpy(rte_pktmbuf_append(ms[i], kFrameLen), frames + i * kTemplateSize, kFrameLen);
    }
    pipe.process(dp::RxQueueRef{port, port_id, 0}, ms, static_cast<std::uint16_t>(n), tx);
    tx.flush();
    ports[0].free_tx();
    ports[1].free_tx();
}

Population populate(const BenchOptions& o, dp::NatPipelineConfig nat, dp::ConnTable4& conns,
                    dp::SnapshotPublisher& publisher, rte_mempool* pool, const RingPort* ports)
{
    Population pop;
    const std::uint32_t flows = o.flows;
    pop.in = alloc_templates(flows);
    pop.out = alloc_templates(flows);
    const std::uint64_t t0 = rte_rdtsc();
    conns.register_worker(0);
    publisher.register_worker(0);
    dp::WorkerLoopStats loop;
    {
        dp::NatPipeline pipe(dp::WorkerInfo{0, rte_lcore_id(), static_cast<int>(rte_socket_id())}, std::move(nat));
        dp::TxStage tx({{ports[0].port_id(), 0, nullptr}, {ports[1].port_id(), 0, nullptr}}, loop);
        alignas(64) std::uint8_t syn[kBurst * kTemplateSize];
        alignas(64) std::uint8_t synack[kBurst * kTemplateSize];
        const std::uint32_t half = flows / 2;
        for (std::uint32_t base = 0; base < flows; base += kBurst) {
            const std::uint32_t n = flows - base < kBurst ? flows - base : kBurst;
            for (std::uint32_t i = 0; i < n; ++i) build_in_frame(syn + i * kTemplateSize, base + i, kTcpSyn);
            process_frames(pipe, tx, pool, 0, ports[0].port_id(), syn, n, ports);
            for (std::uint32_t i = 0; i < n; ++i) {
                const std::uint64_t f = base + i;
                dp::ConnDir dir;
                const dp::FlowKey4 key{wire(client_addr(f)), wire(kVip), dp::be16_from_host(client_port(f)),
                                       dp::be16_from_host(kVport), dp::kIpProtoTcp};
                const dp::Conn4* c = conns.lookup(key, dir);
                if (c == nullptr) throw BenchError("population: flow " + std::to_string(f) + " got no connection");
                const std::uint32_t server = dp::host_from_be32(c->daddr) - kServerBase;
                build_out_frame(synack + i * kTemplateSize, f, c->daddr, c->dport, server, kTcpSyn | kTcpAck);
                const std::uint32_t slot = static_cast<std::uint32_t>((f + flows - half) % flows);
                build_out_frame(pop.out.get() + std::size_t{slot} * kTemplateSize, f, c->daddr, c->dport, server,
                                kTcpAck);
                build_in_frame(pop.in.get() + f * kTemplateSize, f, kTcpAck);
            }
            process_frames(pipe, tx, pool, 1, ports[1].port_id(), synack, n, ports);
            process_frames(pipe, tx, pool, 0, ports[0].port_id(), pop.in.get() + std::size_t{base} * kTemplateSize, n,
                           ports);
            conns.quiescent(0);
            publisher.quiescent(0);
        }
        for (std::size_t i = 0; i < dp::kCounterCount; ++i) pop.counters[i] = pipe.counters().get(i);
    }
    conns.unregister_worker(0);
    publisher.unregister_worker(0);
    pop.seconds = static_cast<double>(rte_rdtsc() - t0) / static_cast<double>(rte_get_tsc_hz());
    return pop;
}

// --- per-stage cycles (only with --stages) ----------------------------------------
// Written by the bench lcore (single writer: load + store), sampled by main.
struct StageClock {
    std::atomic<std::uint64_t> process{0};
    std::atomic<std::uint64_t> end_of_loop{0};
    std::atomic<std::uint64_t> feeder{0};
    static void add(std::atomic<std::uint64_t>& v, std::uint64_t n)
    {
        v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    struct Sample {
        std::uint64_t process, end_of_loop, feeder;
    };
    Sample sample() const
    {
        return {process.load(std::memory_order_relaxed), end_of_loop.load(std::memory_order_relaxed),
                feeder.load(std::memory_order_relaxed)};
    }
};

// What the worker loop runs: the NatPipeline itself, then, at the end of
// every loop, the Feeder (the "NIC" putting the next frames on the wire).
class BenchPipeline final : public dp::PacketPipeline {
public:
    BenchPipeline(std::unique_ptr<dp::NatPipeline> nat, Feeder& feeder, StageClock* clock)
        : nat_(std::move(nat)), feeder_(&feeder), clock_(clock)
    {
    }
    void process(const dp::RxQueueRef& rx, rte_mbuf** pkts, std::uint16_t n, dp::TxStage& out) override
    {
        if (clock_ == nullptr) {
            nat_->process(rx, pkts, n, out);
            return;
        }
        const std::uint64_t t0 = rte_rdtsc();
        nat_->process(rx, pkts, n, out);
        StageClock::add(clock_->process, rte_rdtsc() - t0);
    }
    void end_of_loop(dp::TxStage& out) override
    {
        if (clock_ == nullptr) {
            nat_->end_of_loop(out);
            feeder_->refill();
            return;
        }
        const std::uint64_t t0 = rte_rdtsc();
        nat_->end_of_loop(out);
        const std::uint64_t t1 = rte_rdtsc();
        feeder_->refill();
        StageClock::add(clock_->end_of_loop, t1 - t0);
        StageClock::add(clock_->feeder, rte_rdtsc() - t1);
    }
    const dp::NatPipeline& nat() const { return *nat_; }

private:
    std::unique_ptr<dp::NatPipeline> nat_;
    Feeder* feeder_;
    StageClock* clock_;
};

// testpmd --forward-mode=io between the two ports, plus the same Feeder step.
struct BaselineLoop {
    std::uint16_t port_id[2] = {0, 0};
    Feeder* feeder = nullptr;
    StageClock* clock = nullptr;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> packets{0};

    static int run(void* arg)
    {
        auto* self = static_cast<BaselineLoop*>(arg);
        rte_mbuf* pkts[kBurst];
        std::uint64_t count = 0;
        // Acquire: pairs with the release store of the sampler.
        while (!self->stop.load(std::memory_order_acquire)) {
            for (int p = 0; p < 2; ++p) {
                const std::uint16_t n = rte_eth_rx_burst(self->port_id[p], 0, pkts, kBurst);
                if (n == 0) continue;
                const std::uint16_t sent = rte_eth_tx_burst(self->port_id[1 - p], 0, pkts, n);
                if (sent < n) rte_pktmbuf_free_bulk(pkts + sent, n - sent);
                count += n;
            }
            self->packets.store(count, std::memory_order_relaxed);
            if (self->clock == nullptr) {
                self->feeder->refill();
            } else {
                const std::uint64_t t0 = rte_rdtsc();
                self->feeder->refill();
                StageClock::add(self->clock->feeder, rte_rdtsc() - t0);
            }
        }
        return 0;
    }
};

int worker_entry(void* arg)
{
    static_cast<dp::Worker*>(arg)->run();
    return 0;
}

// --- sampling on the main lcore --------------------------------------------------
struct Window {
    double seconds = 0;
    std::uint64_t packets = 0;
    std::uint64_t cycles = 0;
    bool cut = false;             // ended early (the connection table was about to fill)
    StageClock::Sample stages{};  // deltas over the window
    double pps() const { return seconds > 0 ? static_cast<double>(packets) / seconds : 0; }
};

template <class Count, class Cut>
Window measure(const BenchOptions& o, Count count, Cut should_cut, const StageClock* clock)
{
    const std::uint64_t hz = rte_get_tsc_hz();
    Window w;
    const std::uint64_t warm_end = rte_rdtsc() + static_cast<std::uint64_t>(o.warmup * static_cast<double>(hz));
    while (rte_rdtsc() < warm_end) {
        if (should_cut()) {
            w.cut = true;
            return w;
        }
        rte_delay_us_sleep(5000);
    }
    const StageClock::Sample s0 = clock != nullptr ? clock->sample() : StageClock::Sample{};
    const std::uint64_t c0 = count();
    const std::uint64_t t0 = rte_rdtsc();
    const std::uint64_t end = t0 + static_cast<std::uint64_t>(o.seconds * static_cast<double>(hz));
    for (std::uint64_t now = t0; now < end; now = rte_rdtsc()) {
        if (should_cut()) {
            w.cut = true;
            break;
        }
        const std::uint64_t left_us = (end - now) * 1000000 / hz;
        rte_delay_us_sleep(static_cast<unsigned>(left_us < 5000 ? (left_us == 0 ? 1 : left_us) : 5000));
    }
    const std::uint64_t c1 = count();
    const std::uint64_t t1 = rte_rdtsc();
    if (clock != nullptr) {
        const StageClock::Sample s1 = clock->sample();
        w.stages = {s1.process - s0.process, s1.end_of_loop - s0.end_of_loop, s1.feeder - s0.feeder};
    }
    w.cycles = t1 - t0;
    w.seconds = static_cast<double>(w.cycles) / static_cast<double>(hz);
    w.packets = c1 - c0;
    return w;
}

// Parse and bulk lookup alone, on the main lcore after the runs, over the
// same frames in the same order: splits the pipeline's time into parse /
// lookup / the rest. An estimate: the cache state is not the worker's.
struct IsolatedSplit {
    double parse = 0;   // cycles per packet
    double lookup = 0;
    std::uint64_t packets = 0;
};

IsolatedSplit isolated_split(const BenchOptions& o, const dp::ConnTable4& conns, const Population& pop,
                             std::uint64_t syn_first)
{
    IsolatedSplit r;
    const bool est = o.traffic == Traffic::established;
    const std::uint64_t total = std::min<std::uint64_t>(est ? 2ULL * o.flows : 1ULL << 20, 1ULL << 21);
    const std::uint64_t rounds = std::max<std::uint64_t>(1, (1ULL << 21) / std::max<std::uint64_t>(total, 1));
    TemplateSource templates(pop.in.get(), pop.out.get(), o.flows);
    SynSource syns(syn_first);
    alignas(64) std::uint8_t scratch[kBurst * kTemplateSize];
    dp::PacketMeta meta[kBurst];
    dp::FlowKey4 keys[kBurst];
    dp::Conn4* found[kBurst];
    dp::ConnDir dirs[kBurst];
    std::uint64_t parse = 0, lookup = 0;
    for (std::uint64_t rd = 0; rd < rounds; ++rd) {
        templates.rewind();
        for (std::uint64_t done = 0; done < total; done += kBurst) {
            const std::uint16_t port = est ? static_cast<std::uint16_t>((done / kBurst) & 1) : 0;
            for (unsigned i = 0; i < kBurst; ++i) {
                if (est) templates.next(port, scratch + i * kTemplateSize);
                else syns.next(0, scratch + i * kTemplateSize);
            }
            const std::uint64_t t0 = rte_rdtsc();
            std::uint32_t nkeys = 0;
            for (unsigned i = 0; i < kBurst; ++i) {
                const dp::ParseVerdict v = dp::parse_frame(scratch + i * kTemplateSize, kFrameLen, meta[i]);
                if (v == dp::ParseVerdict::ok_ipv4_tcp) {
                    keys[nkeys++] = dp::FlowKey4{meta[i].saddr, meta[i].daddr, meta[i].sport, meta[i].dport,
                                                 meta[i].l3_proto};
                }
            }
            const std::uint64_t t1 = rte_rdtsc();
            conns.lookup_bulk(keys, nkeys, found, dirs);
            const std::uint64_t t2 = rte_rdtsc();
            parse += t1 - t0;
            lookup += t2 - t1;
            r.packets += kBurst;
        }
    }
    r.parse = static_cast<double>(parse) / static_cast<double>(r.packets);
    r.lookup = static_cast<double>(lookup) / static_cast<double>(r.packets);
    return r;
}

bool is_drop_counter(std::size_t i)
{
    return dp::counter_name(i).rfind("drop_", 0) == 0 || dp::counter_help(i).find("dropped") != std::string_view::npos;
}

using conf::JsonWriter;

// A figure rounded to `decimals` places, as JSON number text (null when not
// finite); written with JsonWriter::raw() so reports keep their fixed precision.
std::string fixed(double v, int decimals = 3)
{
    if (!std::isfinite(v)) return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// The non-zero counters as one compact JSON object.
std::string moved_counters(const dp::CounterTotals& t)
{
    JsonWriter j(0);
    j.begin_object();
    for (std::size_t i = 0; i < dp::kCounterCount; ++i) {
        if (t[i] != 0) j.member(dp::counter_name(i), t[i]);
    }
    j.end_object();
    return j.take();
}

int run(const BenchOptions& o)
{
    std::vector<std::string> eal_args = o.eal_args.empty() ? default_eal_args(getpid()) : o.eal_args;
    Eal eal(eal_args);
    const unsigned lcore = rte_get_next_lcore(static_cast<unsigned>(-1), 1, 0);
    if (lcore >= RTE_MAX_LCORE) throw BenchError("needs a worker lcore besides the main one (EAL -l 0,1)");

    std::unique_ptr<rte_mempool, PoolFree> pool(
        rte_pktmbuf_pool_create("kb_pool", kPoolSize, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id())));
    if (!pool) throw BenchError("cannot create the mbuf pool");
    const RingPort ports[2] = {RingPort(0, pool.get()), RingPort(1, pool.get())};

    const auto conns = dp::ConnTable4::create(static_cast<std::uint32_t>(o.conn_table_size), 1);
    if (!conns) throw BenchError("cannot allocate the connection table (" + std::to_string(o.conn_table_size) + ")");
    dp::NeighConfig nc;
    nc.capacity = 4096;
    while (nc.capacity < 4 * (o.servers + 2)) nc.capacity *= 2;
    nc.reachable_ms = kNeighNeverStale;
    nc.gc_unused_ms = kNeighNeverStale;
    const auto neigh = dp::NeighTable4::create(nc);
    if (!neigh) throw BenchError("cannot allocate the neighbour table");
    dp::StatsRegistry registry(1);
    dp::SnapshotPublisher publisher(1, 4);
    if (publisher.publish(build_snapshot(registry, o)) != 0) throw BenchError("cannot publish the snapshot");
    learn_neighbours(*neigh, pool.get(), o.servers);

    dp::NatPipelineConfig nat;
    nat.ports = {dp::NatPort{kLanMac, wire(kLanIp), 0}, dp::NatPort{kSrvMac, wire(kSrvIp), 0}};
    nat.conns = conns.get();
    nat.neigh = neigh.get();
    nat.publisher = &publisher;
    nat.registry = &registry;
    nat.pool = pool.get();

    const Population pop = populate(o, nat, *conns, publisher, pool.get(), ports);
    const std::uint64_t populated = conns->stats().in_use;
    if (pop.counters[static_cast<std::size_t>(dp::Counter::conn_new)] != o.flows || populated != o.flows) {
        throw BenchError("population made " + std::to_string(populated) + " connections for " +
                         std::to_string(o.flows) + " flows");
    }

    const bool est = o.traffic == Traffic::established;
    TemplateSource templates(pop.in.get(), pop.out.get(), o.flows);
    SynSource syns(o.flows);
    FrameSource& source = est ? static_cast<FrameSource&>(templates) : static_cast<FrameSource&>(syns);
    const std::array<FeederPort, 2> fports = {ports[0].feeder_port(), ports[1].feeder_port()};
    const std::array<bool, 2> fed = {true, est};

    // Baseline.
    StageClock base_clock;
    Window base;
    {
        Feeder feeder(fports, fed, source, pool.get(), kFeedDepth);
        source.rewind();
        if (!feeder.prime()) throw BenchError("mbuf pool too small to prime the rings");
        BaselineLoop loop;
        loop.port_id[0] = ports[0].port_id();
        loop.port_id[1] = ports[1].port_id();
        loop.feeder = &feeder;
        loop.clock = o.stages ? &base_clock : nullptr;
        if (rte_eal_remote_launch(&BaselineLoop::run, &loop, lcore) != 0) throw BenchError("cannot launch lcore");
        base = measure(
            o, [&loop] { return loop.packets.load(std::memory_order_relaxed); }, [] { return false; },
            o.stages ? &base_clock : nullptr);
        loop.stop.store(true, std::memory_order_release);
        rte_eal_wait_lcore(lcore);
        feeder.drain();
    }

    // kadp: the data plane's worker loop over the NatPipeline.
    StageClock clock;
    Window kadp;
    dp::CounterTotals counters{};
    dp::WorkerLoopStats loop_stats;
    std::uint64_t topped_up = 0;
    {
        Feeder feeder(fports, fed, source, pool.get(), kFeedDepth);
        source.rewind();
        if (!feeder.prime()) throw BenchError("mbuf pool too small to prime the rings");
        const dp::WorkerInfo info{0, lcore, static_cast<int>(rte_lcore_to_socket_id(lcore))};
        auto bench_pipe = std::make_unique<BenchPipeline>(std::make_unique<dp::NatPipeline>(info, nat), feeder,
                                                          o.stages ? &clock : nullptr);
        const BenchPipeline* bp = bench_pipe.get();
        dp::WorkerPlan plan;
        plan.rx = {{0, 0}, {1, 0}};
        plan.tx.resize(2);
        for (auto& t : plan.tx) {
            t.direct = true;
            t.queue = 0;
        }
        const dp::PortRuntime runtime[2] = {{ports[0].port_id(), nullptr}, {ports[1].port_id(), nullptr}};
        std::atomic<bool> stop{false};
        dp::QuiescentParticipant* const participants[] = {&publisher};
        dp::Worker worker(info, plan, runtime, conns.get(), std::move(bench_pipe), stop, participants);
        if (rte_eal_remote_launch(&worker_entry, &worker, lcore) != 0) throw BenchError("cannot launch lcore");
        const std::uint64_t cut_at = conns->capacity() / 10 * 9;
        const dp::WorkerCounters& wc = bp->nat().counters();
        kadp = measure(
            o, [&wc] { return wc.get(dp::Counter::rx_packets); },
            [&] { return !est && populated + wc.get(dp::Counter::conn_new) >= cut_at; }, o.stages ? &clock : nullptr);
        // Release: pairs with the acquire load in Worker::run().
        stop.store(true, std::memory_order_release);
        rte_eal_wait_lcore(lcore);
        for (std::size_t i = 0; i < dp::kCounterCount; ++i) counters[i] = wc.get(i);
        loop_stats = worker.stats();
        topped_up = feeder.topped_up();
        feeder.drain();
        rte_mbuf* held[64];
        for (std::uint32_t k; (k = neigh->drain(held, 64)) != 0;) rte_pktmbuf_free_bulk(held, k);
    }

    const dp::ConnTableStats cts = conns->stats();
    const double hz = static_cast<double>(rte_get_tsc_hz());
    const double mpps = kadp.pps() / 1e6;
    const double base_mpps = base.pps() / 1e6;

    JsonWriter drops_json(0);
    drops_json.begin_object();
    std::uint64_t drops_total = 0;
    for (std::size_t i = 0; i < dp::kCounterCount; ++i) {
        if (counters[i] != 0 && is_drop_counter(i)) {
            drops_json.member(dp::counter_name(i), counters[i]);
            drops_total += counters[i];
        }
    }
    if (loop_stats.tx_dropped_full != 0) {
        drops_json.member("loop_tx_dropped_full", loop_stats.tx_dropped_full);
        drops_total += loop_stats.tx_dropped_full;
    }
    drops_json.end_object();
    const std::string drops = drops_json.take();

    JsonWriter j(0);
    j.begin_object()
        .member("mode", o.mode)
        .member("traffic", traffic_name(o.traffic))
        .member("flows", std::uint64_t{o.flows})
        .member("servers", std::uint64_t{o.servers})
        .member("sched", o.sched)
        .member("frame_bytes", std::uint64_t{kFrameLen})
        .key("seconds").raw(fixed(kadp.seconds))
        .key("warmup_seconds").raw(fixed(o.warmup))
        .member("packets", kadp.packets)
        .key("mpps").raw(fixed(mpps))
        .key("ns_per_packet").raw(fixed(mpps > 0 ? 1e3 / mpps : 0.0, 2))
        .key("cycles_per_packet")
        .raw(fixed(kadp.packets != 0 ? static_cast<double>(kadp.cycles) / static_cast<double>(kadp.packets) : 0.0, 1))
        .key("baseline_mpps").raw(fixed(base_mpps))
        .key("baseline_ns_per_packet").raw(fixed(base_mpps > 0 ? 1e3 / base_mpps : 0.0, 2))
        .key("baseline_seconds").raw(fixed(base.seconds))
        .member("baseline_packets", base.packets)
        .key("ratio").raw(fixed(base_mpps > 0 ? mpps / base_mpps : 0.0, 4))
        .member("window_cut_by_table", kadp.cut)
        .member("conn_table_capacity", std::uint64_t{conns->capacity()})
        .member("conn_table_bytes", cts.bytes)
        .key("conn_table_bytes_per_connection").raw(fixed(static_cast<double>(cts.bytes) / conns->capacity(), 1))
        .member("conn_table_in_use", cts.in_use)
        .key("populate_seconds").raw(fixed(pop.seconds))
        .key("drops").raw(drops)
        .member("drops_total", drops_total)
        .key("counters").raw(moved_counters(counters))
        .key("populate_counters").raw(moved_counters(pop.counters))
        .key("loop").begin_object()
        .member("loops", loop_stats.loops)
        .member("rx_packets", loop_stats.rx_packets)
        .member("rx_bursts", loop_stats.rx_bursts)
        .member("tx_packets", loop_stats.tx_packets)
        .member("tx_dropped_full", loop_stats.tx_dropped_full)
        .member("feeder_topped_up", topped_up)
        .end_object();
    if (o.stages && kadp.packets != 0) {
        const IsolatedSplit split = isolated_split(o, *conns, pop, o.flows + syns.issued());
        const auto per = [&kadp](std::uint64_t c) { return static_cast<double>(c) / static_cast<double>(kadp.packets); };
        const double process = per(kadp.stages.process);
        const double eol = per(kadp.stages.end_of_loop);
        const double feed = per(kadp.stages.feeder);
        const double total = per(kadp.cycles);
        j.key("stages_cycles_per_packet")
            .begin_object()
            .key("parse").raw(fixed(split.parse, 1))
            .key("lookup").raw(fixed(split.lookup, 1))
            .key("nat").raw(fixed(process - split.parse - split.lookup, 1))
            .key("rx_tx_loop").raw(fixed(total - process - eol - feed, 1))
            .key("end_of_loop").raw(fixed(eol, 1))
            .key("feeder").raw(fixed(feed, 1))
            .key("pipeline_process").raw(fixed(process, 1))
            .key("total").raw(fixed(total, 1))
            .key("baseline_feeder")
            .raw(fixed(base.packets != 0 ? static_cast<double>(base.stages.feeder) / static_cast<double>(base.packets) : 0.0, 1))
            .key("baseline_total")
            .raw(fixed(base.packets != 0 ? static_cast<double>(base.cycles) / static_cast<double>(base.packets) : 0.0, 1))
            .member("note",
                 "cycles per packet; pipeline_process, end_of_loop, feeder are rdtsc around the calls in the "
                 "measured loop; parse and lookup are measured alone afterwards over the same frames "
                 "(estimate); nat = pipeline_process - parse - lookup (scheduling, NAT rewrite, route, "
                 "neighbour, TxStage::send); rx_tx_loop = the rest (rx_burst, TX flush = tx_burst, quiescent)")
            .end_object();
    }
    j.member("dpdk_version", dp::dpdk_version())
        .member("kadp_version", KADP_VERSION)
        .member("cpu_model", cpu_model())
        .member("tsc_hz", static_cast<std::uint64_t>(hz))
        .member("worker_lcore", std::uint64_t{lcore})
        .member("eal_args", eal.joined())
        .member("command_line", o.command_line)
        .end_object();

    if (o.json) {
        std::printf("%s\n", j.str().c_str());
    } else {
        std::printf("kadp-bench %s, %s traffic, %u flows, %u real servers (%s), %u-byte frames\n", o.mode.c_str(),
                    traffic_name(o.traffic), o.flows, o.servers, o.sched.c_str(), kFrameLen);
        std::printf("  kadp      %8.3f Mpps  %7.2f ns/packet  (%.2f s, %llu packets)\n", mpps,
                    mpps > 0 ? 1e3 / mpps : 0.0, kadp.seconds, static_cast<unsigned long long>(kadp.packets));
        std::printf("  baseline  %8.3f Mpps  %7.2f ns/packet  (rx_burst -> tx_burst, same feeder)\n", base_mpps,
                    base_mpps > 0 ? 1e3 / base_mpps : 0.0);
        std::printf("  ratio     %8.4f\n", base_mpps > 0 ? mpps / base_mpps : 0.0);
        std::printf("  conn table: %u capacity, %.1f B/connection, %llu in use%s\n", conns->capacity(),
                    static_cast<double>(cts.bytes) / conns->capacity(), static_cast<unsigned long long>(cts.in_use),
                    kadp.cut ? " (window cut: table 90% full)" : "");
        std::printf("  drops: %llu %s\n", static_cast<unsigned long long>(drops_total), drops.c_str());
        std::printf("  counters: %s\n", moved_counters(counters).c_str());
        std::printf("  DPDK %s, %s\n", dp::dpdk_version().c_str(), cpu_model().c_str());
        std::printf("  command: %s\n", o.command_line.c_str());
        if (o.stages) std::printf("  (per-stage figures: use --json)\n");
    }
    return 0;
}

}  // namespace
}  // namespace kadp::bench

int main(int argc, char** argv)
{
    const kadp::bench::ParseResult parsed = kadp::bench::parse_options(argc, argv);
    if (parsed.exit_code >= 0) return parsed.exit_code;
    try {
        return kadp::bench::run(parsed.options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kadp-bench: %s\n", e.what());
        return 1;
    }
}
