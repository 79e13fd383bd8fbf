// Runs on: worker lcore.
#include "dataplane/tx_stage.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

namespace kadp::dp {

TxStage::TxStage(std::vector<Target> targets, WorkerLoopStats& stats) : stats_(&stats)
{
    ports_.resize(targets.size());
    for (std::size_t i = 0; i < targets.size(); ++i) ports_[i].target = targets[i];
}

std::uint16_t TxStage::send_now(std::uint16_t port, rte_mbuf** pkts, std::uint16_t n)
{
    assert(port < ports_.size());
    const Target& t = ports_[port].target;
    if (t.ring == nullptr) {
        const std::uint16_t sent = rte_eth_tx_burst(t.port_id, t.queue, pkts, n);
        stats_->tx_packets += sent;
        return sent;
    }
    const unsigned queued = rte_ring_mp_enqueue_burst(t.ring, reinterpret_cast<void* const*>(pkts), n, nullptr);
    stats_->tx_ring_enqueued += queued;
    return static_cast<std::uint16_t>(queued);
}

void TxStage::flush_port(PortOut& out)
{
    const std::uint16_t n = out.count;
    out.count = 0;
    if (out.target.ring == nullptr) {
        const std::uint16_t sent = rte_eth_tx_burst(out.target.port_id, out.target.queue, out.pkts, n);
        stats_->tx_packets += sent;
        if (sent < n) {
            rte_pktmbuf_free_bulk(out.pkts + sent, n - sent);
            stats_->tx_dropped_full += n - sent;
        }
    } else {
        const unsigned queued =
            rte_ring_mp_enqueue_burst(out.target.ring, reinterpret_cast<void* const*>(out.pkts), n, nullptr);
        stats_->tx_ring_enqueued += queued;
        if (queued < n) {
            rte_pktmbuf_free_bulk(out.pkts + queued, n - queued);
            stats_->tx_ring_dropped_full += n - queued;
        }
    }
}

}  // namespace kadp::dp
