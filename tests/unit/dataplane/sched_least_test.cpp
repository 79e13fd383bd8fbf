// Runs on: any (unit test). sed, nq, fo, ovf and IPVS's overload thresholds
// (every scheduler skips an overloaded dest). Expected choices are worked out
// by hand from the kernel's loops (ip_vs_sed.c, ip_vs_nq.c, ip_vs_fo.c,
// ip_vs_ovf.c, ip_vs_conn.c), each pick followed by the connection it opens.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "dataplane/sched/overload.h"
#include "dataplane/sched/sched.h"
#include "tests/unit/dataplane/sched_fixture.h"

namespace kadp::dp {
namespace {

using test::SchedDests;
using Seq = std::vector<std::uint32_t>;

// Picks `n` times; each pick opens an active connection on its dest.
Seq run(const SchedState& s, SchedDests& d, int n) {
    Seq out;
    for (int k = 0; k < n; ++k) {
        const std::uint32_t i = s.pick(SchedFlow{});
        out.push_back(i);
        if (i != kNoDest) d.add_active(i);
    }
    return out;
}

// --- sed ---------------------------------------------------------------------

TEST(SchedSed, ShortestExpectedDelay) {
    // Weights 1, 2, 3; overhead = active + 1, least overhead / weight, first on ties:
    //   a=(0,0,0): 1/1 1/2 1/3 -> d2    a=(0,0,1): 1 .5 .67 -> d1
    //   a=(0,1,1): 1 1 .67 -> d2        a=(0,1,2): 1 1 1 -> d0 (tie: first)
    //   a=(1,1,2): 2 1 1 -> d1 (first)  a=(1,2,2): 2 1.5 1 -> d2
    SchedDests d({1, 2, 3});
    d.set_conns(2, 0, 1000);  // inactive connections do not count
    SchedState s(SchedAlgo::sed, d.refs());
    EXPECT_EQ(run(s, d, 6), (Seq{2, 1, 2, 0, 1, 2}));
}

TEST(SchedSed, SkipsWeightZeroAndOverloaded) {
    SchedDests d({0, 1, 5});
    d.set_thresholds(2, 3, 0);
    d.set_conns(2, 3);
    SchedState s(SchedAlgo::sed, d.refs());
    EXPECT_EQ(s.pick(SchedFlow{}), 1U);
    d.set_weight(1, 0);
    SchedState none(SchedAlgo::sed, d.refs());
    EXPECT_EQ(none.pick(SchedFlow{}), kNoDest);
}

// --- nq ----------------------------------------------------------------------

TEST(SchedNq, IdleFirstThenShortestExpectedDelay) {
    // Weights 1, 2, 3. An idle dest (no active connection) is taken at once,
    // first in list order; then sed's rule:
    //   a=(0,0,0) -> d0   a=(1,0,0) -> d1   a=(1,1,0) -> d2
    //   a=(1,1,1): 2/1 2/2 2/3 -> d2     a=(1,1,2): 2 1 1 -> d1 (first)
    //   a=(1,2,2): 2 1.5 1 -> d2
    SchedDests d({1, 2, 3});
    SchedState s(SchedAlgo::nq, d.refs());
    EXPECT_EQ(run(s, d, 6), (Seq{0, 1, 2, 2, 1, 2}));
}

TEST(SchedNq, IdleButUnavailableIsSkipped) {
    SchedDests d({0, 1, 1});
    d.set_thresholds(1, 1, 0);
    d.set_conns(1, 0, 1);  // idle (no active) but at u_threshold: overloaded
    d.set_conns(2, 4);
    SchedState s(SchedAlgo::nq, d.refs());
    EXPECT_EQ(s.pick(SchedFlow{}), 2U);
}

// --- fo ----------------------------------------------------------------------

TEST(SchedFo, HighestWeightFirstOnTies) {
    SchedDests d({2, 5, 5, 3});
    d.set_conns(1, 1000);  // load plays no part
    SchedState s(SchedAlgo::fo, d.refs());
    EXPECT_EQ(run(s, d, 3), (Seq{1, 1, 1}));
    d.set_thresholds(1, 1, 0);  // d1 overloaded: fail over to d2
    SchedState s2(SchedAlgo::fo, d.refs());
    EXPECT_EQ(s2.pick(SchedFlow{}), 2U);
    d.set_weight(2, 0);
    SchedState s3(SchedAlgo::fo, d.refs());
    EXPECT_EQ(s3.pick(SchedFlow{}), 3U);
    for (std::size_t i = 0; i < 4; ++i) d.set_weight(i, 0);
    SchedState none(SchedAlgo::fo, d.refs());
    EXPECT_EQ(none.pick(SchedFlow{}), kNoDest);
}

// --- ovf ---------------------------------------------------------------------

TEST(SchedOvf, FillsHeaviestUpToItsWeightThenOverflows) {
    // Weights 2, 5, 3: d1 takes connections while its active count <= 5
    // (6 picks: 0..5), then d2 (4 picks: 0..3), then d0 (3 picks), then none.
    SchedDests d({2, 5, 3});
    SchedState s(SchedAlgo::ovf, d.refs());
    EXPECT_EQ(run(s, d, 14), (Seq{1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, kNoDest}));
}

TEST(SchedOvf, SkipsOverloadedAndWeightZero) {
    SchedDests d({0, 5, 3});
    d.set_thresholds(1, 2, 0);
    d.set_conns(1, 2);
    SchedState s(SchedAlgo::ovf, d.refs());
    EXPECT_EQ(s.pick(SchedFlow{}), 2U);
}

// --- overload thresholds -----------------------------------------------------

TEST(SchedOverload, HysteresisWithLowerThreshold) {
    SchedDests d({1});
    d.set_thresholds(0, 4, 2);
    const DestRef& r = d.refs()[0];
    const std::pair<std::uint32_t, bool> steps[] = {
        {3, false}, {4, true},  // reaches u_threshold
        {3, true},  {2, true},  // stays until below l_threshold
        {1, false}, {3, false},  // cleared; below u again it stays clear
        {5, true},
    };
    for (const auto& [total, overloaded] : steps) {
        d.set_conns(0, total / 2, total - total / 2);  // active + inactive count alike
        EXPECT_EQ(dest_overloaded(r), overloaded) << total;
    }
}

TEST(SchedOverload, HysteresisWithoutLowerThreshold) {
    // Without l_threshold IPVS clears below 3/4 of u_threshold (total * 4 < u * 3).
    SchedDests d({1});
    d.set_thresholds(0, 4, 0);
    const DestRef& r = d.refs()[0];
    const std::pair<std::uint32_t, bool> steps[] = {{4, true}, {3, true}, {2, false}, {3, false}};
    for (const auto& [total, overloaded] : steps) {
        d.set_conns(0, total);
        EXPECT_EQ(dest_overloaded(r), overloaded) << total;
    }
}

TEST(SchedOverload, PickMarksTheDestItFills) {
    // rr over two dests, d0 with u_threshold 2. IPVS sets the flag when it
    // binds the connection that brings d0 to 2, so d0's next turn is skipped.
    SchedDests d({1, 1});
    d.set_thresholds(0, 2, 0);
    d.set_conns(0, 1);
    SchedState s(SchedAlgo::rr, d.refs());
    EXPECT_EQ(s.pick(SchedFlow{}), 0U);  // 1 + this one = 2: marked
    d.add_active(0);
    EXPECT_EQ(d.stats(0).overload_mark.load(), 2U);
    EXPECT_EQ(s.pick(SchedFlow{}), 1U);
    EXPECT_EQ(s.pick(SchedFlow{}), 1U);  // d0's turn skipped
    d.set_conns(0, 1);                   // 1 * 4 < 2 * 3: cleared at its next turn
    EXPECT_EQ(s.pick(SchedFlow{}), 0U);
}

TEST(SchedOverload, EditingThresholdsClearsAsIpvs) {
    SchedDests d({1, 1});
    d.set_thresholds(0, 4, 0);
    d.set_conns(0, 4);
    SchedState s1(SchedAlgo::lc, d.refs());
    EXPECT_EQ(s1.pick(SchedFlow{}), 1U);
    EXPECT_EQ(d.stats(0).overload_mark.load(), 4U);
    // Lowered: still overloaded (IPVS keeps the flag).
    d.set_thresholds(0, 3, 0);
    SchedState s2(SchedAlgo::lc, d.refs(), &s1);
    EXPECT_EQ(d.stats(0).overload_mark.load(), 4U);
    EXPECT_EQ(s2.pick(SchedFlow{}), 1U);
    // Raised above the mark: cleared by the edit.
    d.set_conns(0, 4);
    d.set_thresholds(0, 10, 0);
    SchedState s3(SchedAlgo::lc, d.refs(), &s2);
    EXPECT_EQ(d.stats(0).overload_mark.load(), 0U);
    d.set_conns(0, 0, 4);
    d.set_conns(1, 1);  // lc: 4 inactive (4) < 1 active (256)
    EXPECT_EQ(s3.pick(SchedFlow{}), 0U);
    // Removed: cleared.
    d.set_conns(0, 10);
    SchedState s4(SchedAlgo::lc, d.refs(), &s3);
    EXPECT_EQ(s4.pick(SchedFlow{}), 1U);  // 10 >= 10: overloaded
    d.set_thresholds(0, 0, 0);
    SchedState s5(SchedAlgo::lc, d.refs(), &s4);
    EXPECT_EQ(d.stats(0).overload_mark.load(), 0U);
}

TEST(SchedOverload, EverySchedulerSkipsAnOverloadedDest) {
    // d0 is the one each algorithm would pick; overloaded, it is skipped.
    for (SchedAlgo a : {SchedAlgo::rr, SchedAlgo::wrr, SchedAlgo::lc, SchedAlgo::wlc, SchedAlgo::sed, SchedAlgo::nq,
                        SchedAlgo::fo, SchedAlgo::ovf, SchedAlgo::lblc, SchedAlgo::lblcr}) {
        SchedDests d({5, 1});
        d.set_thresholds(0, 1, 0);
        d.set_conns(0, 0, 1);  // one inactive connection: at u_threshold
        d.set_conns(1, 0, 300);
        SchedState s(a, d.refs());
        for (int k = 0; k < 4; ++k) EXPECT_EQ(s.pick(SchedFlow{}), 1U) << sched_name(a);
        d.set_conns(1, 0, 0);
        d.set_weight(1, 0);
        SchedState none(a, d.refs());
        EXPECT_EQ(none.pick(SchedFlow{}), kNoDest) << sched_name(a);
    }
}

TEST(SchedOverload, WrrWalksOnToTheNextAvailable) {
    // Weights 4, 3, 2 give a | a b | a b c | a b c; with a overloaded IPVS's
    // walk yields b b c b c.
    SchedDests d({4, 3, 2});
    d.set_thresholds(0, 1, 0);
    d.set_conns(0, 1);
    SchedState s(SchedAlgo::wrr, d.refs());
    Seq got;
    for (int k = 0; k < 5; ++k) got.push_back(s.pick(SchedFlow{}));
    EXPECT_EQ(got, (Seq{1, 1, 2, 1, 2}));
}

}  // namespace
}  // namespace kadp::dp
