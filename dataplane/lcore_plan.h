// Runs on: control thread (start-up). Which worker polls which (port, RX
// queue) and how each worker transmits on each port. Pure logic, no DPDK
// calls, so the placement rules are unit-tested without EAL.
//
// Rules:
// * Every RX queue is polled by exactly one worker: a single-queue port
//   (af_packet, tap) by one worker only; the queues of a multi-queue port go
//   to the least-loaded workers, so they spread.
// * Each worker transmits on a port through its own TX queue when the port
//   has one per worker. Otherwise the port gets a multi-producer ring: the
//   workers holding a TX queue use it directly, every other worker enqueues
//   to the ring, and the worker holding TX queue 0 drains the ring every
//   loop. No worker ever shares a TX queue, so no lock on the fast path.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kadp::dp {

// Queue counts a port was configured with (index = position in the list).
struct PortQueues {
    std::uint16_t rx_queues = 1;
    std::uint16_t tx_queues = 1;
};

struct RxAssignment {
    std::uint16_t port = 0;   // port index
    std::uint16_t queue = 0;  // RX queue
    friend bool operator==(const RxAssignment&, const RxAssignment&) = default;
};

// How one worker transmits on one port.
struct TxRoute {
    bool direct = false;      // true: its own TX queue `queue`; false: the port's ring
    std::uint16_t queue = 0;
};

struct WorkerPlan {
    std::vector<RxAssignment> rx;
    std::vector<TxRoute> tx;           // one per port, by port index
    std::vector<std::uint16_t> drains; // port indices whose TX ring this worker drains
};

struct PortPlan {
    bool tx_ring = false;          // some worker has no TX queue of its own
    std::uint32_t ring_drainer = 0;  // worker index; meaningful when tx_ring
};

struct LcorePlan {
    std::vector<WorkerPlan> workers;
    std::vector<PortPlan> ports;
};

// workers >= 1; every port has at least one RX and one TX queue.
LcorePlan plan_lcores(std::uint32_t workers, std::span<const PortQueues> ports);

// The queue count a port gets: the configured one when set (it must be
// within 1..pmd_max, else nullopt and `error` says why), otherwise one per
// worker as far as the PMD allows.
std::optional<std::uint16_t> choose_queue_count(std::optional<int> configured, std::uint16_t pmd_max,
                                                std::uint32_t workers, const char* what, std::string& error);

}  // namespace kadp::dp
