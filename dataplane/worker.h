// Runs on: worker lcores (the loop) / control thread (construction, launch,
// stop, reading stats after stop).
//
// The worker loop: poll its RX queues (kRxBurst at a time), hand each burst
// to its PacketPipeline, transmit what the pipeline sent, drain the TX rings
// it owns, report an RCU quiescent state to the connection table and to
// every QuiescentParticipant (the snapshot publisher), and stop when the
// control thread raises the stop flag.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dataplane/lcore_plan.h"
#include "dataplane/pipeline.h"
#include "dataplane/publisher.h"
#include "dataplane/tx_stage.h"
#include "dataplane/worker_loop_stats.h"

namespace kadp::dp {

class ConnTable4;

inline constexpr std::uint16_t kRxBurst = 64;

// What a worker needs of a port; fixed after PortSet::start().
struct PortRuntime {
    std::uint16_t port_id = 0;
    rte_ring* tx_ring = nullptr;  // non-null when some worker has no TX queue of its own
};

class Worker {
public:
    // `participants` (not owned, outlive the worker) are registered before
    // the loop, told quiescent() once per loop and unregistered after it.
    Worker(const WorkerInfo& info, const WorkerPlan& plan, std::span<const PortRuntime> ports, ConnTable4* conns,
           std::unique_ptr<PacketPipeline> pipeline, const std::atomic<bool>& stop,
           std::span<QuiescentParticipant* const> participants = {});

    // The loop; returns when the stop flag is set. Worker lcore.
    void run();

    const WorkerInfo& info() const { return info_; }
    const std::vector<RxQueueRef>& rx() const { return rx_; }
    // Read only after the loop returned.
    const WorkerLoopStats& stats() const { return stats_; }
    const PacketPipeline& pipeline() const { return *pipeline_; }
    // Loops run so far, stored once per loop (relaxed: a liveness sign, not
    // a synchronisation): the control thread samples it to find a worker
    // that stopped polling (control/stuck_workers.h). Any thread.
    std::uint64_t heartbeat() const { return beat_.loops.load(std::memory_order_relaxed); }
    // Test seam: the worker sleeps `ms` once, at the start of its next loop
    // (tests of the stuck-worker detection). Any thread.
    void stall_once(std::uint32_t ms) { beat_.stall_ms.store(ms, std::memory_order_relaxed); }

private:
    struct Drain {
        rte_ring* ring;
        std::uint16_t port_id;
        std::uint16_t queue;  // this worker's own TX queue on that port
    };

    void drain_rings();
    void stall();

    WorkerInfo info_;
    std::vector<RxQueueRef> rx_;
    std::vector<Drain> drains_;
    ConnTable4* conns_;
    std::vector<QuiescentParticipant*> participants_;
    std::unique_ptr<PacketPipeline> pipeline_;
    const std::atomic<bool>* stop_;
    WorkerLoopStats stats_;
    TxStage tx_;
    // Written by this worker (loops) / by the control thread (stall_ms); on
    // their own line so the control thread's reads do not touch stats_.
    struct alignas(64) Beat {
        std::atomic<std::uint64_t> loops{0};
        std::atomic<std::uint32_t> stall_ms{0};
    } beat_;
};

// Every worker of the process, one per worker lcore. The destructor stops
// and waits for them if they are still running.
class WorkerGroup {
public:
    // lcores[i] runs plan.workers[i]. conns may be null (no connection
    // table). Every worker reports to each of `participants` (see Worker).
    WorkerGroup(const LcorePlan& plan, std::span<const unsigned> lcores, std::span<const PortRuntime> ports,
                ConnTable4* conns, const PipelineFactory& factory,
                std::span<QuiescentParticipant* const> participants = {});
    ~WorkerGroup();
    WorkerGroup(const WorkerGroup&) = delete;
    WorkerGroup& operator=(const WorkerGroup&) = delete;

    // rte_eal_remote_launch on every worker lcore. Throws StartupError
    // (after stopping those already launched).
    void launch();
    // Raises the stop flag and waits for every worker (rte_eal_mp_wait_lcore).
    void stop_and_wait();

    const std::vector<std::unique_ptr<Worker>>& workers() const { return workers_; }

private:
    static int entry(void* worker);

    // Written by the control thread (release), read by every worker (acquire).
    std::atomic<bool> stop_{false};
    std::vector<std::unique_ptr<Worker>> workers_;
    bool launched_ = false;
};

}  // namespace kadp::dp
