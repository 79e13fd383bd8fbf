// Runs on: worker lcore (one TxStage per worker, never shared).
// Packets a worker is about to transmit, staged per port and sent in
// bursts: on its own TX queue of the port when it has one, otherwise on the
// port's multi-producer ring (drained by the worker owning TX queue 0).
#pragma once

#include <cassert>
#include <cstdint>
#include <vector>

#include "dataplane/worker_loop_stats.h"

struct rte_mbuf;
struct rte_ring;

namespace kadp::dp {

class TxStage {
public:
    static constexpr std::uint16_t kDepth = 64;

    // One per port, by port index. ring == nullptr: TX queue `queue` is this
    // worker's own.
    struct Target {
        std::uint16_t port_id = 0;
        std::uint16_t queue = 0;
        rte_ring* ring = nullptr;
    };

    TxStage(std::vector<Target> targets, WorkerLoopStats& stats);

    std::uint16_t port_count() const { return static_cast<std::uint16_t>(ports_.size()); }

    // Queues `m` on port index `port` (< port_count()); takes ownership and
    // never fails: a full stage is flushed first.
    void send(std::uint16_t port, rte_mbuf* m)
    {
        assert(port < ports_.size());
        PortOut& out = ports_[port];
        if (out.count == kDepth) flush_port(out);
        out.pkts[out.count++] = m;
    }

    // Transmits pkts[0..n) on port index `port` at once, ahead of what is
    // staged there: on the worker's own TX queue or the port's ring, as
    // send() would. Returns how many were taken; the caller still owns the
    // rest. For traffic with its own counters (the kernel's frames).
    std::uint16_t send_now(std::uint16_t port, rte_mbuf** pkts, std::uint16_t n);

    // Sends everything staged; what the queue or ring refuses is freed and counted.
    void flush()
    {
        for (PortOut& out : ports_) {
            if (out.count != 0) flush_port(out);
        }
    }

private:
    struct PortOut {
        Target target;
        std::uint16_t count = 0;
        rte_mbuf* pkts[kDepth];
    };

    void flush_port(PortOut& out);

    std::vector<PortOut> ports_;
    WorkerLoopStats* stats_;
};

}  // namespace kadp::dp
