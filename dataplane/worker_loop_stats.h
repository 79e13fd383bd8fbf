// Runs on: worker lcore (writes its own) / control thread (reads, only
// after the workers have stopped: the fields are plain, not atomics).
// Per-worker loop counters; every outcome of the loop bumps one.
#pragma once

#include <cstdint>

namespace kadp::dp {

struct alignas(64) WorkerLoopStats {
    std::uint64_t loops = 0;
    std::uint64_t rx_packets = 0;
    std::uint64_t rx_bursts = 0;           // non-empty bursts handed to the pipeline
    std::uint64_t tx_packets = 0;          // accepted by rte_eth_tx_burst (own sends and ring drains)
    std::uint64_t tx_dropped_full = 0;     // TX queue full: freed
    std::uint64_t tx_ring_enqueued = 0;    // handed to another worker's TX queue through a port ring
    std::uint64_t tx_ring_dropped_full = 0;  // port ring full: freed
    std::uint64_t tx_ring_drained = 0;     // taken off rings this worker drains
};

}  // namespace kadp::dp
