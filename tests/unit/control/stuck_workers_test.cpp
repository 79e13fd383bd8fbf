// Runs on: any (unit test). The stuck-worker watch on a hand-driven clock:
// a heartbeat that stops for the threshold is stuck (logged once), a moving
// one is not, and the episode ends (logged) when it moves again.
#include "control/stuck_workers.h"

#include "control/ctl_messages.h"

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

using std::chrono::milliseconds;

struct Fixture {
    std::uint64_t beats[2] = {0, 0};
    std::vector<std::string> log;
    StuckWorkerWatch watch{{{3, [this] { return beats[0]; }}, {5, [this] { return beats[1]; }}},
                           milliseconds(1000), [this](const std::string& l) { log.push_back(l); }};
};

TEST(StuckWorkerWatch, StoppedHeartbeatIsStuckOncePerEpisode)
{
    Fixture f;
    const auto t0 = StuckWorkerWatch::Clock::time_point{} + std::chrono::hours(1);
    f.watch.sample(t0);
    EXPECT_EQ(f.watch.stuck(), 0u);
    // Worker 1 keeps polling; worker 0 does not.
    f.beats[1] = 10;
    f.watch.sample(t0 + milliseconds(999));
    EXPECT_EQ(f.watch.stuck(), 0u);
    EXPECT_TRUE(f.log.empty());
    f.beats[1] = 20;
    f.watch.sample(t0 + milliseconds(1000));
    EXPECT_EQ(f.watch.stuck(), 1u);
    ASSERT_EQ(f.log.size(), 1u);
    EXPECT_EQ(f.log[0], "worker on lcore 3 stopped polling for 1000 ms");
    EXPECT_EQ(f.watch.degraded(),
              std::vector<std::string>{"worker on lcore 3 stopped polling (systemd watchdog pings withheld)"});
    EXPECT_EQ(f.watch.episodes(), 1u);
    // Still stuck: counted, not logged again.
    f.beats[1] = 30;
    f.watch.sample(t0 + milliseconds(2500));
    EXPECT_EQ(f.watch.stuck(), 1u);
    EXPECT_EQ(f.log.size(), 1u);
    // Both stuck.
    f.watch.sample(t0 + milliseconds(3600));
    EXPECT_EQ(f.watch.stuck(), 2u);
    ASSERT_EQ(f.log.size(), 2u);
    EXPECT_EQ(f.log[1], "worker on lcore 5 stopped polling for 1100 ms");
    // Worker 0 moves again: the episode ends.
    f.beats[0] = 1;
    f.watch.sample(t0 + milliseconds(4000));
    EXPECT_EQ(f.watch.stuck(), 1u);
    ASSERT_EQ(f.log.size(), 3u);
    EXPECT_EQ(f.log[2], "worker on lcore 3 polls again after 4000 ms");
    // And a new episode of the same worker is logged again.
    f.beats[1] = 31;
    f.watch.sample(t0 + milliseconds(5000));
    EXPECT_EQ(f.watch.stuck(), 1u);
    ASSERT_EQ(f.log.size(), 5u);
    EXPECT_EQ(f.log[3], "worker on lcore 3 stopped polling for 1000 ms");
    EXPECT_EQ(f.log[4], "worker on lcore 5 polls again after 2500 ms");
    EXPECT_EQ(f.watch.episodes(), 3u);
}

TEST(StuckWorkerWatch, StatusCarriesTheCount)
{
    StatusReply r;
    r.workers_stuck = 2;
    const std::string json = to_json(r);
    EXPECT_NE(json.find("\"workers_stuck\":2"), std::string::npos) << json;
    std::string error;
    const auto v = JsonValue::parse(json, error);
    ASSERT_TRUE(v) << error;
    const auto back = status_from_json(*v, error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(back->workers_stuck, 2u);
}

TEST(TestStall, ParsedOnlyWhenWellFormed)
{
    unsetenv("KADP_TEST_STALL_WORKER");
    EXPECT_FALSE(test_stall_from_environment());
    setenv("KADP_TEST_STALL_WORKER", "1500:4000", 1);
    const auto s = test_stall_from_environment();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->after, milliseconds(1500));
    EXPECT_EQ(s->for_ms, 4000u);
    for (const char* bad : {"", "4000", "1:", ":5", "1:0", "1:5x", "x:5"}) {
        setenv("KADP_TEST_STALL_WORKER", bad, 1);
        EXPECT_FALSE(test_stall_from_environment()) << bad;
    }
    unsetenv("KADP_TEST_STALL_WORKER");
}

// The dataplane block's stuck_worker_timeout: a 250 ms threshold finds a
// stop of 250 ms that the default would not; a reload's set_threshold()
// counts from the next sample.
TEST(StuckWorkerWatch, ConfiguredAndReloadedThreshold)
{
    std::uint64_t beat = 0;
    std::vector<std::string> log;
    StuckWorkerWatch watch({{7, [&] { return beat; }}}, milliseconds(250), [&](const std::string& l) { log.push_back(l); });
    EXPECT_EQ(watch.threshold(), milliseconds(250));
    const auto t0 = StuckWorkerWatch::Clock::time_point{} + std::chrono::hours(1);
    watch.sample(t0);
    watch.sample(t0 + milliseconds(249));
    EXPECT_EQ(watch.stuck(), 0u);
    watch.sample(t0 + milliseconds(250));
    EXPECT_EQ(watch.stuck(), 1u);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0], "worker on lcore 7 stopped polling for 250 ms");
    beat = 1;
    watch.sample(t0 + milliseconds(300));
    EXPECT_EQ(watch.stuck(), 0u);
    // Raised to 2 s: a stop of 1.5 s is no longer stuck; 2 s is.
    watch.set_threshold(milliseconds(2000));
    EXPECT_EQ(watch.threshold(), milliseconds(2000));
    watch.sample(t0 + milliseconds(1800));
    EXPECT_EQ(watch.stuck(), 0u);
    watch.sample(t0 + milliseconds(2299));
    EXPECT_EQ(watch.stuck(), 0u);
    watch.sample(t0 + milliseconds(2300));
    EXPECT_EQ(watch.stuck(), 1u);
    EXPECT_EQ(watch.episodes(), 2u);
}

}  // namespace
}  // namespace kadp::ctl
