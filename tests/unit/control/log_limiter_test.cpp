// Runs on: any (unit test). The component log sink (levels, a plain line
// callable converting at info and above) and the rate limiter on simulated
// time: a flood of one key gives a bounded number of lines and one summary.
#include "control/log.h"
#include "control/log_limiter.h"
#include "control/log_sink.h"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

using std::chrono::seconds;

struct Lines {
    std::vector<std::pair<LogLevel, std::string>> got;
    LogSink sink()
    {
        return LogSink([this](LogLevel l, const std::string& s) { got.emplace_back(l, s); });
    }
};

TEST(LogSink, EachLevelReachesALevelAwareWriter)
{
    Lines lines;
    const LogSink log = lines.sink();
    log("plain");
    log.debug("d");
    log.warning("w");
    log.error("e");
    log.info("i");
    EXPECT_EQ(lines.got, (std::vector<std::pair<LogLevel, std::string>>{{LogLevel::info, "plain"},
                                                                        {LogLevel::debug, "d"},
                                                                        {LogLevel::warning, "w"},
                                                                        {LogLevel::error, "e"},
                                                                        {LogLevel::info, "i"}}));
    EXPECT_TRUE(log.enabled(LogLevel::debug));
}

TEST(LogSink, APlainLineCallableHearsEverythingButDebug)
{
    std::vector<std::string> got;
    const LogSink log = [&got](const std::string& s) { got.push_back(s); };
    log("i");
    log.debug("d");
    log.warning("w");
    EXPECT_EQ(got, (std::vector<std::string>{"i", "w"}));
    EXPECT_FALSE(log.enabled(LogLevel::debug));
    EXPECT_TRUE(log.enabled(LogLevel::info));
}

TEST(LogSink, EmptyMeansNoLog)
{
    const LogSink none;
    EXPECT_FALSE(none);
    none.error("nowhere");  // no crash
    EXPECT_FALSE(none.enabled(LogLevel::error));
    const LogSink from_empty = std::function<void(const std::string&)>{};
    EXPECT_FALSE(from_empty);
}

TEST(LogSink, EnabledAsksTheWrapper)
{
    Lines lines;
    const LogSink log(
        [&lines](LogLevel l, const std::string& s) { lines.got.emplace_back(l, s); },
        [](LogLevel l) { return l <= LogLevel::warning; });
    EXPECT_TRUE(log.enabled(LogLevel::error));
    EXPECT_FALSE(log.enabled(LogLevel::info));
}

TEST(LogSink, TheProcessSinkFollowsTheConfiguredLevel)
{
    LogOptions o;
    o.level = LogLevel::warning;
    configure_log(o);
    const LogSink log = process_log_sink();
    EXPECT_TRUE(log.enabled(LogLevel::warning));
    EXPECT_FALSE(log.enabled(LogLevel::info));
    EXPECT_FALSE(log.enabled(LogLevel::debug));
    o.level = LogLevel::debug;  // -D
    configure_log(o);
    EXPECT_TRUE(log.enabled(LogLevel::debug));
    configure_log(LogOptions{});
    EXPECT_FALSE(log.enabled(LogLevel::debug));
}

TEST(LogSink, AWriteFunctionConverts)
{
    Lines lines;
    const LogSink::Write write = [&lines](LogLevel l, const std::string& s) { lines.got.emplace_back(l, s); };
    const LogSink log = write;
    log.debug("d");
    ASSERT_EQ(lines.got.size(), 1u);
    EXPECT_EQ(lines.got[0].first, LogLevel::debug);
    EXPECT_FALSE(LogSink(LogSink::Write{}));
}

struct Clock {
    LogLimiter::Clock::time_point now{};
    LogLimiter::Now fn()
    {
        return [this] { return now; };
    }
};

TEST(LogLimiter, AFloodOfOneKeyGivesItsBudgetThenOneSummaryWhenTheWindowEnds)
{
    Lines lines;
    Clock clock;
    LogLimiter limiter(lines.sink(), {3, seconds(60)}, clock.fn());
    for (int i = 0; i < 200; ++i) limiter.warning("accept", "accept failed " + std::to_string(i));
    ASSERT_EQ(lines.got.size(), 3u);
    EXPECT_EQ(lines.got[2].second, "accept failed 2");
    EXPECT_EQ(limiter.suppressed_total(), 197u);
    clock.now += seconds(59);
    limiter.flush();
    EXPECT_EQ(lines.got.size(), 3u);  // the window is not over yet
    clock.now += seconds(1);
    limiter.flush();
    ASSERT_EQ(lines.got.size(), 4u);
    EXPECT_EQ(lines.got[3], (std::pair<LogLevel, std::string>{LogLevel::warning, "accept: 197 similar lines suppressed"}));
    // A fresh window: the budget again.
    for (int i = 0; i < 5; ++i) limiter.warning("accept", "again");
    EXPECT_EQ(lines.got.size(), 7u);
}

TEST(LogLimiter, TheSummaryComesWithTheNextLineAndCarriesTheWorstLevelHidden)
{
    Lines lines;
    Clock clock;
    LogLimiter limiter(lines.sink(), {1, seconds(10)}, clock.fn());
    limiter.info("k", "first");
    limiter.info("k", "hidden info");
    limiter.error("k", "hidden error");
    clock.now += seconds(11);
    limiter.info("k", "next");
    ASSERT_EQ(lines.got.size(), 3u);
    EXPECT_EQ(lines.got[1], (std::pair<LogLevel, std::string>{LogLevel::error, "k: 2 similar lines suppressed"}));
    EXPECT_EQ(lines.got[2].second, "next");
}

TEST(LogLimiter, KeysHaveTheirOwnBudgets)
{
    Lines lines;
    Clock clock;
    LogLimiter limiter(lines.sink(), {2, seconds(60)}, clock.fn());
    for (int i = 0; i < 10; ++i) {
        limiter.info("a", "a");
        limiter.info("b", "b");
    }
    EXPECT_EQ(lines.got.size(), 4u);
    EXPECT_EQ(limiter.suppressed_total(), 16u);
}

TEST(LogLimiter, DebugLinesPassAndLinesNobodyReadsUseNoBudget)
{
    std::vector<std::string> got;
    Clock clock;
    // A plain collector: debug is not enabled, so debug lines go nowhere
    // and do not count.
    LogLimiter plain([&got](const std::string& s) { got.push_back(s); }, {1, seconds(60)}, clock.fn());
    for (int i = 0; i < 10; ++i) plain.debug("k", "d");
    plain.info("k", "i");
    EXPECT_EQ(got, (std::vector<std::string>{"i"}));
    EXPECT_EQ(plain.suppressed_total(), 0u);
    // A sink that reads debug: every debug line passes, unlimited.
    Lines lines;
    LogLimiter all(lines.sink(), {1, seconds(60)}, clock.fn());
    for (int i = 0; i < 10; ++i) all.debug("k", "d");
    EXPECT_EQ(lines.got.size(), 10u);
}

TEST(LogLimiter, ASinkCountsAgainstItsKey)
{
    Lines lines;
    Clock clock;
    LogLimiter limiter(lines.sink(), {2, seconds(60)}, clock.fn());
    const LogSink s = limiter.sink("script");
    for (int i = 0; i < 5; ++i) s.warning("failed");
    EXPECT_EQ(lines.got.size(), 2u);
    EXPECT_EQ(lines.got[0].first, LogLevel::warning);
    EXPECT_TRUE(s.enabled(LogLevel::debug));
}

TEST(LogLimiter, KeysAreBounded)
{
    Lines lines;
    Clock clock;
    LogLimiter limiter(lines.sink(), {1, seconds(60)}, clock.fn());
    for (std::size_t i = 0; i < LogLimiter::kMaxKeys + 500; ++i) limiter.info("key " + std::to_string(i), "x");
    // The first kMaxKeys keys one line each, then all others share one budget.
    EXPECT_EQ(lines.got.size(), LogLimiter::kMaxKeys + 1);
}

}  // namespace
}  // namespace kadp::ctl
