// Runs on: any (unit test). IPVS's estimator arithmetic: the first sample
// is a baseline, a steady rate converges to itself per second, and a stop
// decays to 0.
#include "control/rate_estimator.h"

#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

// Totals after `interval` 2-second intervals at a steady rate per second.
IpvsStats totals(std::uint64_t intervals, std::uint64_t cps, std::uint64_t pps, std::uint64_t bps) {
    IpvsStats s;
    s.conns = intervals * 2 * cps;
    s.in_packets = intervals * 2 * pps;
    s.out_packets = intervals * 2 * pps / 2;
    s.in_bytes = intervals * 2 * bps;
    s.out_bytes = intervals * 2 * bps * 3;
    return s;
}

TEST(RateEstimator, FirstSampleIsTheBaseline)
{
    RateEstimator e;
    e.sample(totals(1000, 50, 50, 50));  // a long history before we started
    IpvsStats s;
    e.fill(s);
    EXPECT_EQ(s.cps, 0u);
    EXPECT_EQ(s.in_bps, 0u);
}

TEST(RateEstimator, SteadyRateConvergesToItsPerSecondValue)
{
    RateEstimator e;
    for (std::uint64_t i = 0; i <= 80; ++i) e.sample(totals(i, 100, 2000, 1000000));
    IpvsStats s;
    e.fill(s);
    EXPECT_EQ(s.cps, 100u);
    EXPECT_EQ(s.in_pps, 2000u);
    EXPECT_EQ(s.out_pps, 1000u);
    EXPECT_EQ(s.in_bps, 1000000u);
    EXPECT_EQ(s.out_bps, 3000000u);
}

TEST(RateEstimator, MovesAQuarterOfTheWayEachInterval)
{
    RateEstimator e;
    e.sample(totals(0, 0, 0, 0));
    e.sample(totals(1, 400, 0, 0));  // 400/s for one interval: the average moves to 100/s
    IpvsStats s;
    e.fill(s);
    EXPECT_EQ(s.cps, 100u);
    e.sample(totals(2, 400, 0, 0));  // 100 + (400 - 100) / 4 = 175
    e.fill(s);
    EXPECT_EQ(s.cps, 175u);
}

TEST(RateEstimator, DecaysToZeroWhenTrafficStops)
{
    RateEstimator e;
    for (std::uint64_t i = 0; i <= 40; ++i) e.sample(totals(i, 100, 100, 100));
    const IpvsStats stop = totals(40, 100, 100, 100);
    for (int i = 0; i < 60; ++i) e.sample(stop);
    IpvsStats s;
    e.fill(s);
    EXPECT_EQ(s.cps, 0u);
    EXPECT_EQ(s.in_pps, 0u);
    EXPECT_EQ(s.in_bps, 0u);
}

}  // namespace
}  // namespace kadp::ctl
