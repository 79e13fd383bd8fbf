// Runs on: worker lcore (process, end_of_loop) / control thread (the
// factory, at start-up). The seam between the worker loop and packet
// processing: the loop owns RX, TX, rings and RCU; a PacketPipeline owns
// what happens to a burst. Each worker gets its own pipeline object from the
// factory, so per-worker state needs no sharing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "dataplane/tx_stage.h"

struct rte_mbuf;

namespace kadp::dp {

struct WorkerInfo {
    std::uint32_t index = 0;   // 0..workers-1: the ConnTable4 worker id too
    unsigned lcore_id = 0;
    int socket_id = 0;
};

// Where a burst came from. `port` is the port index (configuration order,
// the index TxStage::send takes); port_id is DPDK's.
struct RxQueueRef {
    std::uint16_t port = 0;
    std::uint16_t port_id = 0;
    std::uint16_t queue = 0;
};

class PacketPipeline {
public:
    virtual ~PacketPipeline() = default;

    // Takes ownership of pkts[0..n) (1 <= n <= kRxBurst): each packet must
    // be passed to out.send(port, m) or freed. The loop flushes `out` after
    // the call. Must not block, log, throw or allocate from the heap.
    virtual void process(const RxQueueRef& rx, rte_mbuf** pkts, std::uint16_t n, TxStage& out) = 0;

    // Once per loop after every RX queue was polled, also when nothing
    // arrived: timers, expiry steps, packets the pipeline generates itself.
    virtual void end_of_loop(TxStage& out) { static_cast<void>(out); }
};

// Called on the control thread once per worker before launch.
using PipelineFactory = std::function<std::unique_ptr<PacketPipeline>(const WorkerInfo&)>;

}  // namespace kadp::dp
