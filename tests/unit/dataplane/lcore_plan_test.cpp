// Runs on: any (unit test). Placement of RX queues and TX routes on workers.
#include "dataplane/lcore_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace kadp::dp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Every (port, queue) of `ports` is polled by exactly one worker.
void expect_each_queue_once(const LcorePlan& plan, const std::vector<PortQueues>& ports)
{
    std::multiset<std::pair<int, int>> seen;
    for (const auto& w : plan.workers) {
        for (const auto& a : w.rx) seen.insert({a.port, a.queue});
    }
    std::size_t total = 0;
    for (std::size_t p = 0; p < ports.size(); ++p) {
        for (int q = 0; q < ports[p].rx_queues; ++q) {
            EXPECT_EQ(seen.count({static_cast<int>(p), q}), 1u) << "port " << p << " queue " << q;
            ++total;
        }
    }
    EXPECT_EQ(seen.size(), total);
}

// No two workers transmit directly on the same TX queue of a port.
void expect_tx_queues_unshared(const LcorePlan& plan, const std::vector<PortQueues>& ports)
{
    for (std::size_t p = 0; p < ports.size(); ++p) {
        std::set<int> used;
        for (const auto& w : plan.workers) {
            if (!w.tx[p].direct) continue;
            EXPECT_LT(w.tx[p].queue, ports[p].tx_queues);
            EXPECT_TRUE(used.insert(w.tx[p].queue).second) << "port " << p << " queue " << w.tx[p].queue;
        }
    }
}

TEST(LcorePlan, SingleQueuePortIsPolledByExactlyOneWorker)
{
    const std::vector<PortQueues> ports{{1, 1}};
    const LcorePlan plan = plan_lcores(4, ports);
    ASSERT_EQ(plan.workers.size(), 4u);
    int pollers = 0;
    for (const auto& w : plan.workers) pollers += static_cast<int>(w.rx.size());
    EXPECT_EQ(pollers, 1);
    EXPECT_THAT(plan.workers[0].rx, ElementsAre(RxAssignment{0, 0}));
    // The poller also owns the single TX queue and drains the ring.
    EXPECT_TRUE(plan.workers[0].tx[0].direct);
    EXPECT_TRUE(plan.ports[0].tx_ring);
    EXPECT_EQ(plan.ports[0].ring_drainer, 0u);
    EXPECT_THAT(plan.workers[0].drains, ElementsAre(0));
    for (int w = 1; w < 4; ++w) {
        EXPECT_FALSE(plan.workers[w].tx[0].direct);
        EXPECT_TRUE(plan.workers[w].drains.empty());
    }
}

TEST(LcorePlan, SingleQueuePortsLandOnDifferentWorkers)
{
    const std::vector<PortQueues> ports{{1, 1}, {1, 1}};
    const LcorePlan plan = plan_lcores(2, ports);
    EXPECT_THAT(plan.workers[0].rx, ElementsAre(RxAssignment{0, 0}));
    EXPECT_THAT(plan.workers[1].rx, ElementsAre(RxAssignment{1, 0}));
    // Each port's TX queue belongs to its poller, who drains that port's ring.
    EXPECT_TRUE(plan.workers[0].tx[0].direct);
    EXPECT_TRUE(plan.workers[1].tx[1].direct);
    EXPECT_THAT(plan.workers[0].drains, ElementsAre(0));
    EXPECT_THAT(plan.workers[1].drains, ElementsAre(1));
    expect_tx_queues_unshared(plan, ports);
}

TEST(LcorePlan, MultiQueuePortSpreadsOverWorkers)
{
    const std::vector<PortQueues> ports{{4, 4}};
    const LcorePlan plan = plan_lcores(4, ports);
    for (std::size_t w = 0; w < 4; ++w) {
        ASSERT_EQ(plan.workers[w].rx.size(), 1u) << "worker " << w;
        EXPECT_TRUE(plan.workers[w].tx[0].direct);
    }
    expect_each_queue_once(plan, ports);
    expect_tx_queues_unshared(plan, ports);
    EXPECT_FALSE(plan.ports[0].tx_ring);
    for (const auto& w : plan.workers) EXPECT_TRUE(w.drains.empty());
}

TEST(LcorePlan, MoreQueuesThanWorkersAreSharedOutEvenly)
{
    const std::vector<PortQueues> ports{{6, 6}, {1, 1}};
    const LcorePlan plan = plan_lcores(3, ports);
    expect_each_queue_once(plan, ports);
    // 7 RX queues over 3 workers: 3, 2, 2 in some order.
    std::multiset<std::size_t> loads;
    for (const auto& w : plan.workers) loads.insert(w.rx.size());
    EXPECT_THAT(loads, ElementsAre(2u, 2u, 3u));
    EXPECT_FALSE(plan.ports[0].tx_ring);  // 6 TX queues >= 3 workers
    EXPECT_TRUE(plan.ports[1].tx_ring);
}

TEST(LcorePlan, TxRingNeededWhenFewerTxQueuesThanWorkers)
{
    const std::vector<PortQueues> ports{{2, 2}};
    const LcorePlan plan = plan_lcores(3, ports);
    expect_each_queue_once(plan, ports);
    expect_tx_queues_unshared(plan, ports);
    ASSERT_TRUE(plan.ports[0].tx_ring);
    int direct = 0;
    int drainers = 0;
    for (const auto& w : plan.workers) {
        direct += w.tx[0].direct ? 1 : 0;
        drainers += static_cast<int>(w.drains.size());
    }
    EXPECT_EQ(direct, 2);
    EXPECT_EQ(drainers, 1);
    // The drainer transmits the ring's packets on a queue of its own.
    const auto& drainer = plan.workers[plan.ports[0].ring_drainer];
    EXPECT_TRUE(drainer.tx[0].direct);
    EXPECT_THAT(drainer.drains, ElementsAre(0));
}

TEST(LcorePlan, NoRingWithOneWorker)
{
    const std::vector<PortQueues> ports{{1, 1}, {1, 1}};
    const LcorePlan plan = plan_lcores(1, ports);
    EXPECT_EQ(plan.workers[0].rx.size(), 2u);
    EXPECT_FALSE(plan.ports[0].tx_ring);
    EXPECT_FALSE(plan.ports[1].tx_ring);
    EXPECT_TRUE(plan.workers[0].drains.empty());
}

TEST(QueueCount, DefaultIsOnePerWorkerAsThePmdAllows)
{
    std::string error;
    EXPECT_EQ(choose_queue_count(std::nullopt, 1, 4, "rx", error), 1);    // af_packet, tap
    EXPECT_EQ(choose_queue_count(std::nullopt, 1024, 4, "rx", error), 4);  // net_null
    EXPECT_EQ(choose_queue_count(2, 16, 4, "tx", error), 2);
}

TEST(QueueCount, ConfiguredBeyondThePmdIsAnError)
{
    std::string error;
    EXPECT_FALSE(choose_queue_count(4, 1, 4, "rx", error));
    EXPECT_THAT(error, HasSubstr("rx_queues 4"));
    EXPECT_THAT(error, HasSubstr("1..1"));
    EXPECT_FALSE(choose_queue_count(std::nullopt, 0, 4, "tx", error));
}

}  // namespace
}  // namespace kadp::dp
