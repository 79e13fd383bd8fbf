// Runs on: any (unit test; the main thread plays the control thread). What
// a checker records of its last attempt for `kadpctl checks`
// (HealthCheckers::report): a TCP_CHECK on a real loopback listener goes
// pending -> up (ok, in service at its weight) -> down (the refusal in the
// log's words, out of service at weight 0, consecutive failures, the time
// of the transition) -> up again; a MISC_CHECK's latency covers its
// script's run and its reason is the exit status.
#include "checks/health_checkers.h"
#include "checks/loop_helpers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kadp::chk {
namespace {

struct Listener {
    explicit Listener(std::uint16_t want = 0)
    {
        fd = ctl::Fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const int one = 1;
        setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(want);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        EXPECT_EQ(listen(fd.get(), 64), 0);
        socklen_t l = sizeof a;
        getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &l);
        port = ntohs(a.sin_port);
    }
    ctl::Fd fd;
    std::uint16_t port = 0;
};

struct NullSink final : HealthSink {
    void server_down(const ctl::RsIdentity&, bool) override {}
    void server_up(const ctl::RsIdentity&) override {}
    void server_weight(const ctl::RsIdentity&, int) override {}
    void quorum(const ctl::VsIdentity&, bool) override {}
};

conf::Config one_checker(std::uint16_t port, conf::Checker c)
{
    c.retry.assign(c.type == conf::CheckerType::misc_check ? 0 : 1);
    c.delay_before_retry.assign(0.02);
    c.delay_loop.assign(0.05);
    c.warmup.assign(0);
    c.alpha.assign(false);
    conf::RealServer rs;
    rs.address = *conf::IpAddr::parse("127.0.0.1");
    rs.port = port;
    rs.weight = 3;
    rs.checkers.push_back(std::move(c));
    return testing::one_service(std::move(rs));
}

using testing::run_until;

TEST(CheckerRecord, TcpCheckRecordsResultsReasonsAndTransitions)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    auto listener = std::make_unique<Listener>();
    const std::uint16_t port = listener->port;
    conf::Checker c;
    c.type = conf::CheckerType::tcp_check;
    c.connect_ip = *conf::IpAddr::parse("127.0.0.1");
    c.connect_port = port;
    c.connect_timeout.assign(0.3);
    NullSink sink;
    HealthCheckers checkers(loop, sink, [](const std::string&) {});
    const auto before = std::chrono::system_clock::now();
    checkers.configure(one_checker(port, c));
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
    EXPECT_EQ(r[0].weight, 3);
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
    EXPECT_EQ(r[0].weight, 3);
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
    conf::Checker c;
    c.type = conf::CheckerType::misc_check;
    c.misc_path.argv = {path};
    c.misc_path.command = path;
    c.misc_timeout = 5;
    NullSink sink;
    HealthCheckers checkers(loop, sink, [](const std::string&) {});
    checkers.configure(one_checker(8080, c));
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
