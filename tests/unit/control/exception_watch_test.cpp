// Runs on: any (unit test). ExceptionWatch: a TAP whose ifindex no longer
// names it is lost: logged once, counted, listed as degraded for good.
#include "control/exception_watch.h"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

using ::testing::HasSubstr;

TEST(ExceptionWatch, ALostTapIsLoggedOnceCountedAndStaysDegraded)
{
    std::map<int, std::string> kernel = {{7, "kadp-lan"}, {8, "kadp-srv"}};
    std::vector<std::string> logged;
    ExceptionWatch w({{"lan", "kadp-lan", 7}, {"srv", "kadp-srv", 8}}, [&](const std::string& l) { logged.push_back(l); },
                     [&](int ifindex, const std::string& tap) { return kernel.contains(ifindex) && kernel[ifindex] == tap; });
    w.check();
    EXPECT_TRUE(logged.empty());
    EXPECT_TRUE(w.degraded().empty());
    EXPECT_EQ(w.lost(), 0u);

    kernel.erase(7);
    w.check();
    w.check();
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_THAT(logged[0], HasSubstr("exception port kadp-lan of lan is gone"));
    EXPECT_EQ(w.lost(), 1u);
    ASSERT_EQ(w.degraded().size(), 1u);
    EXPECT_EQ(w.degraded()[0], logged[0]);

    // Another interface by that name (a new ifindex) is not our TAP back.
    kernel[9] = "kadp-lan";
    w.check();
    EXPECT_EQ(logged.size(), 1u);
    EXPECT_EQ(w.degraded().size(), 1u);

    // The same ifindex renamed: not ours either.
    kernel[8] = "renamed";
    w.check();
    EXPECT_EQ(w.lost(), 2u);
    EXPECT_EQ(w.degraded().size(), 2u);
}

TEST(ExceptionWatch, TheRealLookupSeesLoopbackAndNoIndexZero)
{
    std::vector<std::string> logged;
    ExceptionWatch w({{"lo", "lo", 1}, {"x", "x", 0}}, [&](const std::string& l) { logged.push_back(l); });
    w.check();
    EXPECT_TRUE(logged.empty());
}

}  // namespace
}  // namespace kadp::ctl
