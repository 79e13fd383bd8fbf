// keepalived's quorum with hysteresis (update_quorum_state), as a pure state.
#include "checks/quorum.h"

#include <gtest/gtest.h>

namespace kadp::chk {
namespace {

using Change = Quorum::Change;

TEST(Quorum, StartsHeldOnlyAtQuorumPlusHysteresis)
{
    EXPECT_TRUE(Quorum(3, 1, false, 4).up());
    EXPECT_FALSE(Quorum(3, 1, false, 3).up());
    EXPECT_TRUE(Quorum(3, 0, false, 3).up());
}

TEST(Quorum, HysteresisKeepsAHoveringWeightFromFlapping)
{
    Quorum q(4, 1, true, 6);  // held; lost below 3, regained at 5
    EXPECT_EQ(q.update(4, false).change, Change::none);
    EXPECT_EQ(q.update(3, false).change, Change::none);
    const auto lost = q.update(2, false);
    EXPECT_EQ(lost.change, Change::lost);
    EXPECT_EQ(lost.threshold, 3);
    EXPECT_EQ(lost.weight, 2);
    EXPECT_FALSE(q.up());
    EXPECT_TRUE(q.sorry_serving());
    EXPECT_EQ(q.update(4, false).change, Change::none);  // 4 < 4 + 1
    const auto gained = q.update(5, false);
    EXPECT_EQ(gained.change, Change::gained);
    EXPECT_EQ(gained.threshold, 5);
    EXPECT_TRUE(q.up());
    EXPECT_FALSE(q.sorry_serving());
}

TEST(Quorum, NoLiveWeightLosesItEvenAtQuorumZero)
{
    Quorum q(0, 0, false, 0);
    EXPECT_TRUE(q.up());
    EXPECT_EQ(q.update(0, false).change, Change::lost);
    EXPECT_EQ(q.update(1, false).change, Change::gained);
}

TEST(Quorum, StartingDownBringsInTheSorryServerOnce)
{
    Quorum q(3, 0, true, 1);
    EXPECT_FALSE(q.sorry_serving());
    const auto r = q.update(1, true);
    EXPECT_EQ(r.change, Change::lost);
    EXPECT_TRUE(q.sorry_serving());
    EXPECT_EQ(q.update(1, true).change, Change::none);  // a reload: already serving
    EXPECT_EQ(q.update(2, false).change, Change::none);
}

TEST(Quorum, StartingDownWithoutSorryServerSaysNothing)
{
    Quorum q(3, 0, false, 1);
    EXPECT_EQ(q.update(1, true).change, Change::none);
    EXPECT_FALSE(q.up());
    EXPECT_EQ(q.update(3, false).change, Change::gained);
}

TEST(Quorum, ReloadKeepsTheStateAndJudgesTheNewSettings)
{
    Quorum q(2, 0, true, 2);
    EXPECT_TRUE(q.up());
    q.reconfigure(5, 0, true);
    EXPECT_TRUE(q.up());
    EXPECT_EQ(q.update(2, true).change, Change::lost);
    q.reconfigure(1, 0, false);
    EXPECT_FALSE(q.sorry_serving());  // its sorry server is gone from the configuration
    EXPECT_EQ(q.update(2, true).change, Change::gained);
}

}  // namespace
}  // namespace kadp::chk
