// Runs on: any (unit test). lblc and lblcr: the remembered dest(s) per
// destination address, expiry, carry-over across rebuilds, and picks from
// several threads at once (plain threads stand in for worker lcores).
// Expected choices are worked out by hand from ip_vs_lblc.c / ip_vs_lblcr.c.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "dataplane/sched/locality_table.h"
#include "dataplane/sched/sched.h"
#include "tests/unit/dataplane/sched_fixture.h"

namespace kadp::dp {
namespace {

using test::flow4;
using test::ip4;
using test::SchedDests;
using test::test_clock;

const std::uint32_t kClient = ip4(198, 18, 9, 1);
SchedFlow to(std::uint8_t host) { return flow4(kClient, 5000, ip4(198, 18, 0, host)); }

class SchedLocality : public ::testing::Test {
protected:
    void SetUp() override { test::g_test_now = 1000; }
};

// --- lblc --------------------------------------------------------------------

TEST_F(SchedLocality, LblcRemembersAndReschedulesWhenOverloaded) {
    SchedDests d({1, 1, 1});
    SchedState s(SchedAlgo::lblc, d.refs(), nullptr, 0, &test_clock);
    // A: no entry -> wlc over (0, 0, 0) -> d0, remembered.
    EXPECT_EQ(s.pick(to(1)), 0U);
    d.set_conns(0, 1);
    // B: no entry -> wlc: d0 256, d1 0 -> d1.
    EXPECT_EQ(s.pick(to(2)), 1U);
    d.set_conns(1, 1);
    // A: remembered d0, active 1 not above weight 1 -> d0 (though d2 is idle).
    EXPECT_EQ(s.pick(to(1)), 0U);
    d.set_conns(0, 2);
    // A: d0 has 2 active > weight 1 while d2 has 0 * 2 < 1: lblc-overloaded
    // -> wlc: d0 512, d1 256, d2 0 -> d2, and A now remembers d2.
    EXPECT_EQ(s.pick(to(1)), 2U);
    d.set_conns(2, 1);
    EXPECT_EQ(s.pick(to(1)), 2U);
    // The u_threshold flag is not consulted for a remembered dest (as IPVS).
    d.set_thresholds(2, 1, 0);
    SchedState s2(SchedAlgo::lblc, d.refs(), &s, 0, &test_clock);
    EXPECT_EQ(s2.pick(to(1)), 2U);
}

TEST_F(SchedLocality, LblcForgetsAfterExpiration) {
    SchedDests d({1, 1});
    SchedState s(SchedAlgo::lblc, d.refs(), nullptr, 0, &test_clock);
    EXPECT_EQ(s.pick(to(1)), 0U);
    d.set_conns(0, 1);  // wlc would now choose d1
    test::g_test_now += kLocalityExpiration - 1;
    EXPECT_EQ(s.pick(to(1)), 0U);  // still remembered, and touched
    test::g_test_now += kLocalityExpiration - 1;
    EXPECT_EQ(s.pick(to(1)), 0U);  // idle for less than 24 h each time
    test::g_test_now += kLocalityExpiration;
    EXPECT_EQ(s.pick(to(1)), 1U);  // idle 24 h: forgotten, rescheduled
}

TEST_F(SchedLocality, LblcWeightZeroReschedules) {
    SchedDests d({1, 1, 1});
    SchedState s(SchedAlgo::lblc, d.refs(), nullptr, 0, &test_clock);
    EXPECT_EQ(s.pick(to(1)), 0U);
    d.set_weight(0, 0);
    d.set_conns(1, 3);
    SchedState s2(SchedAlgo::lblc, d.refs(), &s, 0, &test_clock);
    EXPECT_EQ(s2.pick(to(1)), 2U);  // wlc among d1 (768), d2 (0)
    d.set_conns(2, 5);
    EXPECT_EQ(s2.pick(to(1)), 2U);  // A remembers d2 now
}

TEST_F(SchedLocality, LblcStateCarriesOverRebuildByIdentity) {
    SchedDests d({1, 1, 1});
    SchedState s(SchedAlgo::lblc, d.refs(), nullptr, 0, &test_clock);
    d.set_conns(0, 1);
    d.set_conns(1, 1);
    EXPECT_EQ(s.pick(to(1)), 2U);  // A -> d2
    d.set_conns(0, 0);
    d.set_conns(1, 0);
    d.set_conns(2, 1);
    EXPECT_EQ(s.pick(to(2)), 0U);  // B -> d0
    // Remove d0: d2 becomes index 1. A keeps d2; B's dest left, so B is
    // scheduled afresh (wlc: d1 0, d2 256 -> d1 = index 0).
    d.erase(0);
    SchedState s2(SchedAlgo::lblc, d.refs(), &s, 0, &test_clock);
    EXPECT_EQ(s2.pick(to(1)), 1U);
    EXPECT_EQ(s2.pick(to(2)), 0U);
    // Another algorithm's state carries nothing: A is scheduled afresh.
    SchedState other(SchedAlgo::wlc, d.refs());
    SchedState s3(SchedAlgo::lblc, d.refs(), &other, 0, &test_clock);
    EXPECT_EQ(s3.pick(to(1)), 0U);
}

TEST_F(SchedLocality, LblcFullBucketEvictsLeastRecentlyUsed) {
    // Addresses that share a bucket: hash_32(addr, 10) equal. 198.18.0.1
    // (0xc6120001) is in bucket 755; adding 2^22 keeps the top 10 bits of
    // addr * 0x61C88647 mod 2^32 unchanged only by chance, so search instead.
    std::vector<std::uint32_t> same;
    const std::uint32_t base = 0xc6120001U;
    const auto bucket = [](std::uint32_t a) { return (a * 0x61C88647U) >> 22; };
    for (std::uint32_t a = base; same.size() < kLocalityWays + 1; ++a) {
        if (bucket(a) == bucket(base)) same.push_back(a);
    }
    SchedDests d({1, 1});
    SchedState s(SchedAlgo::lblc, d.refs(), nullptr, 0, &test_clock);
    const auto flow_to = [](std::uint32_t host_order) { return flow4(kClient, 1, htonl(host_order)); };
    // Fill the 4 ways, alternating dests via the load; the first is used last.
    for (std::size_t k = 0; k < kLocalityWays; ++k) {
        test::g_test_now = 2000 + static_cast<std::uint32_t>(k);
        d.set_conns(0, k % 2 == 0 ? 0 : 1);
        d.set_conns(1, k % 2 == 0 ? 1 : 0);
        EXPECT_EQ(s.pick(flow_to(same[k])), k % 2 == 0 ? 0U : 1U);
    }
    test::g_test_now = 3000;
    d.set_conns(0, 1);
    d.set_conns(1, 0);
    EXPECT_EQ(s.pick(flow_to(same[0])), 0U);  // remembered (and now the most recent)
    EXPECT_EQ(s.pick(flow_to(same[4])), 1U);  // a fifth address evicts same[1], the LRU
    d.set_conns(0, 0);
    d.set_conns(1, 1);
    EXPECT_EQ(s.pick(flow_to(same[1])), 0U);  // forgotten: rescheduled by load
    EXPECT_EQ(s.pick(flow_to(same[4])), 1U);  // remembered
}

// --- lblcr -------------------------------------------------------------------

TEST_F(SchedLocality, LblcrGrowsAndShrinksItsSet) {
    SchedDests d({1, 1, 1});
    SchedState s(SchedAlgo::lblcr, d.refs(), nullptr, 0, &test_clock);
    // A: no entry -> wlc -> d0; set {d0}.
    EXPECT_EQ(s.pick(to(1)), 0U);
    d.set_conns(0, 1);
    // Set min d0, active 1 not above weight 1 -> d0.
    EXPECT_EQ(s.pick(to(1)), 0U);
    d.set_conns(0, 2);
    // d0 lblc-overloaded (2 > 1, d1 idle) -> wlc -> d1 joins: {d0, d1}.
    EXPECT_EQ(s.pick(to(1)), 1U);
    d.set_conns(1, 1);
    // Set min: d0 512, d1 256 -> d1.
    EXPECT_EQ(s.pick(to(1)), 1U);
    test::g_test_now += 43200;  // 12 h: a use, no change to the set
    EXPECT_EQ(s.pick(to(1)), 1U);
    test::g_test_now += 43201;  // set unchanged for 24 h + 1 s: drop its most loaded (d0)
    EXPECT_EQ(s.pick(to(1)), 1U);
    // Proof that d0 left the set: now the least loaded, yet not chosen.
    d.set_conns(0, 0);
    d.set_conns(2, 1);
    EXPECT_EQ(s.pick(to(1)), 1U);
    // d1 lblc-overloaded (2 > 1, d0 idle) -> wlc -> d0 joins again.
    d.set_conns(1, 2);
    EXPECT_EQ(s.pick(to(1)), 0U);
}

TEST_F(SchedLocality, LblcrSetSkipsUnavailableMembers) {
    SchedDests d({1, 1, 1});
    SchedState s(SchedAlgo::lblcr, d.refs(), nullptr, 0, &test_clock);
    EXPECT_EQ(s.pick(to(1)), 0U);  // {d0}
    d.set_conns(0, 2);
    EXPECT_EQ(s.pick(to(1)), 1U);  // {d0, d1}
    d.set_conns(0, 0);
    d.set_conns(1, 1);
    d.set_thresholds(0, 1, 0);  // d0 at u_threshold 1 ... with 0 connections: not yet
    d.set_conns(0, 0, 1);       // one inactive: overloaded
    SchedState s2(SchedAlgo::lblcr, d.refs(), &s, 0, &test_clock);
    EXPECT_EQ(s2.pick(to(1)), 1U);  // set min skips the overloaded d0 (carried-over set)
    d.set_weight(1, 0);
    SchedState s3(SchedAlgo::lblcr, d.refs(), &s2, 0, &test_clock);
    EXPECT_EQ(s3.pick(to(1)), 2U);  // no member available -> wlc -> d2 joins
}

// --- concurrency -------------------------------------------------------------

void hammer(SchedAlgo algo) {
    SchedDests d({1, 2, 3, 0, 5, 1, 1, 4});
    auto state = std::make_unique<SchedState>(algo, d.refs());
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> bad{0}, picks{0};
    std::vector<std::thread> workers;
    const SchedState* current = state.get();
    for (int t = 0; t < 4; ++t) {
        workers.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t));
            for (int k = 0; k < 200000; ++k) {
                // More addresses than the table holds: evictions under contention.
                const std::uint32_t daddr = htonl(0xc6120000U + rng() % 20000);
                const std::uint32_t i = current->pick(flow4(kClient, 1, daddr));
                if (i >= d.refs().size() || d.refs()[i].weight == 0) bad.fetch_add(1);
                if (i < d.refs().size()) {
                    // Connections open and close while others pick.
                    DestStats& st = *d.refs()[i].stats;
                    st.active.fetch_add(1, std::memory_order_relaxed);
                    if (rng() % 2 == 0) st.active.fetch_sub(1, std::memory_order_relaxed);
                }
                picks.fetch_add(1, std::memory_order_relaxed);
            }
        });
    }
    // Meanwhile the control thread builds successors from the live state,
    // copying entries workers are writing.
    std::vector<std::unique_ptr<SchedState>> built;
    for (int r = 0; r < 20; ++r) built.push_back(std::make_unique<SchedState>(algo, d.refs(), current));
    for (auto& w : workers) w.join();
    EXPECT_EQ(bad.load(), 0U) << sched_name(algo);
    EXPECT_EQ(picks.load(), 800000U);
    // A successor built under fire only names valid dests.
    for (int k = 0; k < 20000; ++k) {
        const std::uint32_t i = built.back()->pick(flow4(kClient, 1, htonl(0xc6120000U + k)));
        ASSERT_LT(i, d.refs().size());
        ASSERT_NE(d.refs()[i].weight, 0);
    }
}

TEST(SchedLocalityThreads, LblcConcurrentPicksGiveValidDests) { hammer(SchedAlgo::lblc); }
TEST(SchedLocalityThreads, LblcrConcurrentPicksGiveValidDests) { hammer(SchedAlgo::lblcr); }

}  // namespace
}  // namespace kadp::dp
