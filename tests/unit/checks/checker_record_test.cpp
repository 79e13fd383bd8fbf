// Runs on: any (unit test; the main thread plays the control thread). What
// a checker records of its last attempt for `kadpctl checks`
// (HealthCheckers::report): a TCP_CHECK on a real loopback listener goes
// pending -> up (ok, in service at its weight) -> down (the refusal in the
// log's words, out of service at weight 0, consecutive failures, the time
// of the transition) -> up again; a MISC_CHECK's latency covers its
// script's run and its reason is the exit status.
#include "checks/health_checkers.h"
#include "checks/checker_fixture.h"
#include "checks/loop_helpers.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kadp::chk {
namespace {

using testing::Listener;
using testing::NullSink;

// A real server of weight 3 (reported while in service).
constexpr int kWeight = 3;

using testing::run_until;

TEST(CheckerRecord, TcpCheckRecordsResultsReasonsAndTransitions)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    auto listener = std::make_unique<Listener>();
    const std::uint16_t port = listener->port;
    NullSink sink;
    HealthCheckers checkers(loop, sink, [](const std::string&) {});
    const auto before = std::chrono::system_clock::now();
    checkers.configure(testing::config_with(port, testing::checker(conf::CheckerType::tcp_check, port, 1), false, kWeight));
    const std::string name = "[127.0.0.1]:tcp:" + std::to_string(port);

    auto r = checkers.report();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].virtual_server, "[198.18.0.100]:tcp:80");
    EXPECT_EQ(r[0].real_server, name);
    EXPECT_EQ(r[0].checked, name);
    EXPECT_STREQ(r[0].type, "TCP_CHECK");
    EXPECT_TRUE(r[0].pending);
    EXPECT_FALSE(r[0].record.ran);
    EXPECT_EQ(r[0].retry, 1);
    EXPECT_EQ(r[0].id.address, *conf::IpAddr::parse("127.0.0.1"));
    EXPECT_EQ(r[0].id.port, port);
    EXPECT_EQ(r[0].id.vs.port, 80);

    ASSERT_TRUE(run_until(loop, [&] { return checkers.report()[0].record.ran; }));
    r = checkers.report();
    EXPECT_FALSE(r[0].pending);
    EXPECT_TRUE(r[0].up);
    EXPECT_TRUE(r[0].in_service);
    EXPECT_EQ(r[0].weight, kWeight);
    EXPECT_TRUE(r[0].record.ok);
    EXPECT_EQ(r[0].record.reason, "");
    EXPECT_EQ(r[0].record.consecutive_failures, 0);
    EXPECT_GE(r[0].record.finished, before);
    EXPECT_EQ(r[0].record.transition, std::chrono::system_clock::time_point{});  // started up: no change yet

    listener.reset();  // refused from now on
    ASSERT_TRUE(run_until(loop, [&] { return !checkers.report()[0].up; }));
    r = checkers.report();
    EXPECT_FALSE(r[0].in_service);
    EXPECT_EQ(r[0].weight, 0);
    EXPECT_FALSE(r[0].record.ok);
    EXPECT_EQ(r[0].record.reason, "TCP connection to " + name + " failed (Connection refused).");
    EXPECT_EQ(r[0].record.consecutive_failures, 2);  // the failure and its one retry
    EXPECT_EQ(r[0].record.failures, 2u);
    EXPECT_GE(r[0].record.transition, before);
    EXPECT_EQ(r[0].record.transition, r[0].record.finished);
    const auto went_down = r[0].record.transition;
    // A down checker keeps counting.
    ASSERT_TRUE(run_until(loop, [&] { return checkers.report()[0].record.consecutive_failures >= 4; }));
    EXPECT_EQ(checkers.report()[0].record.transition, went_down);
    const std::uint64_t failed = checkers.report()[0].record.failures;
    EXPECT_GE(failed, 4u);

    Listener again(port);
    ASSERT_TRUE(run_until(loop, [&] { return checkers.report()[0].up; }));
    r = checkers.report();
    EXPECT_TRUE(r[0].in_service);
    EXPECT_EQ(r[0].weight, kWeight);
    EXPECT_TRUE(r[0].record.ok);
    EXPECT_EQ(r[0].record.reason, "");
    EXPECT_EQ(r[0].record.consecutive_failures, 0);
    EXPECT_GE(r[0].record.failures, failed);  // monotonic: a success does not reset it (a metrics counter)
    EXPECT_GE(r[0].record.transition, went_down);
}

TEST(CheckerRecord, MiscCheckLatencyCoversTheScriptAndReasonIsItsStatus)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    testing::ScriptDir dir("kadp-record");
    const std::string path = dir.write("slow.sh", "sleep 0.2; exit 1");
    // retry 0: the first failure fails the checker. Named after its real
    // server, as keepalived's MISC_CHECK is (no connect_ip of its own).
    conf::Checker c = testing::checker(conf::CheckerType::misc_check, 0, 0);
    c.connect_ip = {};
    c.misc_path.argv = {path};
    c.misc_path.command = path;
    c.misc_timeout = 5;
    NullSink sink;
    HealthCheckers checkers(loop, sink, [](const std::string&) {});
    checkers.configure(testing::config_with(8080, c, false, kWeight));
    ASSERT_TRUE(run_until(loop, [&] { return checkers.report()[0].record.ran; }));
    const auto r = checkers.report();
    EXPECT_STREQ(r[0].type, "MISC_CHECK");
    EXPECT_FALSE(r[0].record.ok);
    EXPECT_EQ(r[0].record.reason, "Misc check for [" + path + "] exited with status 1.");
    // The script sleeps 200 ms before it answers: a lower bound, not a speed.
    EXPECT_GE(r[0].record.latency, Millis(200));
    EXPECT_FALSE(r[0].up);  // retry 0: failed at once
    EXPECT_EQ(r[0].record.consecutive_failures, 1);
}

}  // namespace
}  // namespace kadp::chk
