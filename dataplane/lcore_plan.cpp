// Runs on: control thread (start-up).
#include "dataplane/lcore_plan.h"

#include <algorithm>
#include <cassert>

namespace kadp::dp {

LcorePlan plan_lcores(std::uint32_t workers, std::span<const PortQueues> ports)
{
    assert(workers >= 1);
    LcorePlan plan;
    plan.workers.resize(workers);
    plan.ports.resize(ports.size());
    for (auto& w : plan.workers) w.tx.resize(ports.size());

    // RX: least-loaded worker first (lowest index on ties), counting queues
    // of earlier ports too, so several single-queue ports land on different
    // workers.
    std::vector<std::uint32_t> load(workers, 0);
    for (std::uint16_t p = 0; p < ports.size(); ++p) {
        for (std::uint16_t q = 0; q < ports[p].rx_queues; ++q) {
            const auto w = static_cast<std::uint32_t>(std::min_element(load.begin(), load.end()) - load.begin());
            plan.workers[w].rx.push_back({p, q});
            ++load[w];
        }
    }

    // TX: the workers polling the port come first (a single-queue port then
    // stays on one worker for RX and TX), then the others in index order.
    for (std::uint16_t p = 0; p < ports.size(); ++p) {
        std::vector<std::uint32_t> order;
        for (std::uint32_t w = 0; w < workers; ++w) {
            const auto& rx = plan.workers[w].rx;
            if (std::any_of(rx.begin(), rx.end(), [&](const RxAssignment& a) { return a.port == p; })) {
                order.push_back(w);
            }
        }
        for (std::uint32_t w = 0; w < workers; ++w) {
            if (std::find(order.begin(), order.end(), w) == order.end()) order.push_back(w);
        }
        const std::uint32_t direct = std::min<std::uint32_t>(ports[p].tx_queues, workers);
        for (std::uint32_t i = 0; i < workers; ++i) {
            TxRoute& r = plan.workers[order[i]].tx[p];
            r.direct = i < direct;
            r.queue = static_cast<std::uint16_t>(i < direct ? i : 0);
        }
        if (direct < workers) {
            plan.ports[p].tx_ring = true;
            plan.ports[p].ring_drainer = order[0];
            plan.workers[order[0]].drains.push_back(p);
        }
    }
    return plan;
}

std::optional<std::uint16_t> choose_queue_count(std::optional<int> configured, std::uint16_t pmd_max,
                                                std::uint32_t workers, const char* what, std::string& error)
{
    if (pmd_max == 0) {
        error = std::string("the driver offers no ") + what + " queue";
        return std::nullopt;
    }
    if (configured) {
        if (*configured < 1 || *configured > pmd_max) {
            error = std::string(what) + "_queues " + std::to_string(*configured) + " is outside 1.." +
                    std::to_string(pmd_max) + " (the driver's maximum)";
            return std::nullopt;
        }
        return static_cast<std::uint16_t>(*configured);
    }
    return static_cast<std::uint16_t>(std::min<std::uint32_t>(workers, pmd_max));
}

}  // namespace kadp::dp
