// Runs on: worker lcores (Worker::run) / control thread (the rest).
#include "dataplane/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/conn_table.h"
#include "dataplane/startup_error.h"

namespace kadp::dp {
namespace {

// Bursts taken off one ring per loop, so a busy ring cannot starve RX.
constexpr int kMaxDrainBursts = 4;

std::vector<TxStage::Target> tx_targets(const WorkerPlan& plan, std::span<const PortRuntime> ports)
{
    std::vector<TxStage::Target> t(ports.size());
    for (std::size_t p = 0; p < ports.size(); ++p) {
        t[p].port_id = ports[p].port_id;
        t[p].queue = plan.tx[p].queue;
        t[p].ring = plan.tx[p].direct ? nullptr : ports[p].tx_ring;
    }
    return t;
}

}  // namespace

Worker::Worker(const WorkerInfo& info, const WorkerPlan& plan, std::span<const PortRuntime> ports,
               ConnTable4* conns, std::unique_ptr<PacketPipeline> pipeline, const std::atomic<bool>& stop,
               std::span<QuiescentParticipant* const> participants)
    : info_(info), conns_(conns), participants_(participants.begin(), participants.end()),
      pipeline_(std::move(pipeline)), stop_(&stop), tx_(tx_targets(plan, ports), stats_)
{
    for (const RxAssignment& a : plan.rx) rx_.push_back({a.port, ports[a.port].port_id, a.queue});
    for (std::uint16_t p : plan.drains) drains_.push_back({ports[p].tx_ring, ports[p].port_id, plan.tx[p].queue});
}

void Worker::run()
{
    if (conns_ != nullptr) conns_->register_worker(info_.index);
    for (QuiescentParticipant* p : participants_) p->register_worker(info_.index);
    rte_mbuf* pkts[kRxBurst];
    // Acquire: pairs with the release store in WorkerGroup::stop_and_wait().
    while (!stop_->load(std::memory_order_acquire)) {
        ++stats_.loops;
        beat_.loops.store(stats_.loops, std::memory_order_relaxed);
        if (beat_.stall_ms.load(std::memory_order_relaxed) != 0) [[unlikely]] stall();
        for (const RxQueueRef& rx : rx_) {
            const std::uint16_t n = rte_eth_rx_burst(rx.port_id, rx.queue, pkts, kRxBurst);
            if (n == 0) continue;
            stats_.rx_packets += n;
            ++stats_.rx_bursts;
            pipeline_->process(rx, pkts, n, tx_);
            tx_.flush();
        }
        pipeline_->end_of_loop(tx_);
        tx_.flush();
        drain_rings();
        if (conns_ != nullptr) conns_->quiescent(info_.index);
        for (QuiescentParticipant* p : participants_) p->quiescent(info_.index);
    }
    // Offline, so the control thread's grace periods do not wait for us.
    if (conns_ != nullptr) conns_->unregister_worker(info_.index);
    for (QuiescentParticipant* p : participants_) p->unregister_worker(info_.index);
}

void Worker::stall()
{
    rte_delay_us_sleep(beat_.stall_ms.load(std::memory_order_relaxed) * 1000u);
    beat_.stall_ms.store(0, std::memory_order_relaxed);
}

void Worker::drain_rings()
{
    rte_mbuf* pkts[kRxBurst];
    for (const Drain& d : drains_) {
        for (int i = 0; i < kMaxDrainBursts; ++i) {
            const unsigned n = rte_ring_sc_dequeue_burst(d.ring, reinterpret_cast<void**>(pkts), kRxBurst, nullptr);
            if (n == 0) break;
            stats_.tx_ring_drained += n;
            const std::uint16_t sent = rte_eth_tx_burst(d.port_id, d.queue, pkts, static_cast<std::uint16_t>(n));
            stats_.tx_packets += sent;
            if (sent < n) {
                rte_pktmbuf_free_bulk(pkts + sent, n - sent);
                stats_.tx_dropped_full += n - sent;
            }
            if (n < kRxBurst) break;
        }
    }
}

WorkerGroup::WorkerGroup(const LcorePlan& plan, std::span<const unsigned> lcores, std::span<const PortRuntime> ports,
                         ConnTable4* conns, const PipelineFactory& factory,
                         std::span<QuiescentParticipant* const> participants)
{
    for (std::size_t i = 0; i < plan.workers.size(); ++i) {
        WorkerInfo info;
        info.index = static_cast<std::uint32_t>(i);
        info.lcore_id = lcores[i];
        info.socket_id = static_cast<int>(rte_lcore_to_socket_id(lcores[i]));
        workers_.push_back(std::make_unique<Worker>(info, plan.workers[i], ports, conns, factory(info), stop_,
                                                    participants));
    }
}

WorkerGroup::~WorkerGroup() { stop_and_wait(); }

int WorkerGroup::entry(void* worker)
{
    static_cast<Worker*>(worker)->run();
    return 0;
}

void WorkerGroup::launch()
{
    for (auto& w : workers_) {
        const int ret = rte_eal_remote_launch(&WorkerGroup::entry, w.get(), w->info().lcore_id);
        if (ret != 0) {
            stop_and_wait();
            throw StartupError("cannot launch the worker on lcore " + std::to_string(w->info().lcore_id) + ": " +
                               dpdk_error(ret));
        }
        launched_ = true;
    }
}

void WorkerGroup::stop_and_wait()
{
    // Release: pairs with the acquire load in Worker::run().
    stop_.store(true, std::memory_order_release);
    if (launched_) rte_eal_mp_wait_lcore();
    launched_ = false;
}

}  // namespace kadp::dp
