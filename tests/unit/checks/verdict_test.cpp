// Runs on: any (unit test). keepalived's retry rules on recorded outcomes:
// down after retry+1 consecutive failures, retries spaced by
// delay_before_retry, up after one success, alpha starts down, and a real
// server is alive only while none of its checkers failed.
#include "checks/verdict.h"

#include <gtest/gtest.h>

namespace kadp::chk {
namespace {

using E = Step::Event;

RetryPolicy policy(int retry, bool alpha = false)
{
    RetryPolicy p;
    p.retry = retry;
    p.delay_loop = Millis(6000);
    p.delay_before_retry = Millis(1000);
    p.alpha = alpha;
    return p;
}

TEST(CheckerState, FirstSuccessIsReportedThenQuiet)
{
    CheckerState s(policy(1));
    EXPECT_TRUE(s.up());
    Step st = s.on_success();
    EXPECT_EQ(st.event, E::success);
    EXPECT_EQ(st.next, Millis(6000));
    EXPECT_EQ(s.on_success().event, E::none);
}

TEST(CheckerState, DownAfterRetryPlusOneFailuresSpacedByDelayBeforeRetry)
{
    CheckerState s(policy(2));
    s.on_success();
    Step a = s.on_failure();
    EXPECT_EQ(a.event, E::none);
    EXPECT_EQ(a.next, Millis(1000));
    Step b = s.on_failure();
    EXPECT_EQ(b.event, E::none);
    EXPECT_EQ(b.next, Millis(1000));
    EXPECT_TRUE(s.up());
    Step c = s.on_failure();
    EXPECT_EQ(c.event, E::failure);
    EXPECT_EQ(c.retries, 2);
    EXPECT_EQ(c.next, Millis(6000));
    EXPECT_FALSE(s.up());
    // Down: tried every delay_loop, no retries, nothing more to report.
    Step d = s.on_failure();
    EXPECT_EQ(d.event, E::none);
    EXPECT_EQ(d.next, Millis(6000));
    // One success brings it back.
    EXPECT_EQ(s.on_success().event, E::success);
    EXPECT_TRUE(s.up());
}

TEST(CheckerState, ASuccessBetweenFailuresResetsTheCount)
{
    CheckerState s(policy(1));
    s.on_success();
    EXPECT_EQ(s.on_failure().event, E::none);
    EXPECT_EQ(s.on_success().event, E::none);
    EXPECT_EQ(s.on_failure().event, E::none);  // counting from zero again
    EXPECT_EQ(s.on_failure().event, E::failure);
}

TEST(CheckerState, RetryZeroFailsAtOnceWithoutRetries)
{
    CheckerState s(policy(0));
    Step st = s.on_failure();
    EXPECT_EQ(st.event, E::failure);
    EXPECT_EQ(st.retries, 0);  // "failed." rather than "failed after N retries."
    EXPECT_FALSE(s.up());
}

TEST(CheckerState, NeverRunCheckerRetriesBeforeFailing)
{
    CheckerState s(policy(1));
    EXPECT_EQ(s.on_failure().event, E::none);
    Step st = s.on_failure();
    EXPECT_EQ(st.event, E::failure);
    EXPECT_EQ(st.retries, 1);
}

TEST(CheckerState, AlphaStartsDownUntilTheFirstSuccess)
{
    CheckerState s(policy(1, true));
    EXPECT_FALSE(s.up());
    Step f = s.on_failure();
    EXPECT_EQ(f.event, E::none);  // down already: nothing to report, no retry
    EXPECT_EQ(f.next, Millis(6000));
    EXPECT_FALSE(s.up());
    EXPECT_EQ(s.on_success().event, E::success);
    EXPECT_TRUE(s.up());
}

TEST(ServerHealth, DownOnTheFirstFailedCheckerUpWhenAllPass)
{
    ServerHealth h(2, 0);
    EXPECT_TRUE(h.alive());
    EXPECT_TRUE(h.checker_failed());   // alive -> down
    EXPECT_FALSE(h.checker_failed());  // the second failing changes nothing
    EXPECT_FALSE(h.checker_recovered());
    EXPECT_FALSE(h.alive());
    EXPECT_TRUE(h.checker_recovered());
    EXPECT_TRUE(h.alive());
}

TEST(ServerHealth, AlphaCheckersStartItDown)
{
    ServerHealth h(1, 1);
    EXPECT_FALSE(h.alive());
    EXPECT_TRUE(h.checker_recovered());
    EXPECT_TRUE(h.alive());
    ServerHealth none(0, 0);  // no checkers: always alive
    EXPECT_TRUE(none.alive());
}

}  // namespace
}  // namespace kadp::chk
