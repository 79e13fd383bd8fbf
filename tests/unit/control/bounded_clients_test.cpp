// Runs on: any (unit test; the main thread plays the control thread and the
// clients, on non-blocking Unix sockets). The client handling shared by the
// kadpctl socket and the metrics endpoint: Serve sees what came so far, a
// reply is written and the connection closed; a request that reaches the
// size limit must be answered or is dropped; the end of input reaches
// Serve; clients beyond the limit get the busy reply at once; idle and
// lifetime deadlines (driven through tick(now), no sleeping).
#include "control/bounded_clients.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

using namespace std::chrono_literals;
using Clock = BoundedClients::Clock;

class BoundedClientsTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        block_control_signals();
        char tmpl[] = "/tmp/kadp-bounded-test.XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/s.sock";
        listen_ = Fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        sockaddr_un a = address();
        ASSERT_EQ(bind(listen_.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
        ASSERT_EQ(listen(listen_.get(), 64), 0);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    sockaddr_un address() const
    {
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path_.c_str());
        return a;
    }
    // A connected client (the listener's backlog takes it before accept).
    Fd connect_client() const
    {
        Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const sockaddr_un a = address();
        EXPECT_EQ(connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
        return fd;
    }
    static void send_all(const Fd& fd, const std::string& s)
    {
        EXPECT_EQ(send(fd.get(), s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
    }
    // Everything the server sent, once it closed (recv returns 0), or
    // nullopt while it has not closed (non-blocking read).
    static std::optional<std::string> closed_with(const Fd& fd)
    {
        std::string got;
        char buf[4096];
        for (;;) {
            const ssize_t n = recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) {
                got.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0) return got;
            if (errno == ECONNRESET) return got;
            return std::nullopt;
        }
    }
    // Runs the loop until `done()` holds (checked every 5 ms), at most 5 s.
    bool run_until(const std::function<bool()>& done)
    {
        bool ok = false;
        const auto deadline = Clock::now() + 5s;
        Timer poll(loop_);
        std::function<void()> check = [&] {
            if (done()) ok = true;
            if (ok || Clock::now() > deadline) {
                kill(getpid(), SIGTERM);
                return;
            }
            poll.arm(5ms, check);
        };
        poll.arm(0ms, check);
        loop_.run({});
        return ok;
    }
    BoundedClients make(BoundedClients::Limits limits, BoundedClients::ServeFn serve, std::string busy = "")
    {
        return BoundedClients(loop_, listen_.get(), limits, std::move(serve), std::move(busy), "test",
                              [this](const std::string& l) { log_.push_back(l); });
    }

    EventLoop loop_;
    std::string dir_, path_;
    Fd listen_;
    std::vector<std::string> log_;
};

// Answers a line; records what Serve saw.
struct LineServer {
    std::vector<BoundedClients::Request> seen;
    std::vector<std::string> bytes;
    std::optional<std::string> operator()(const BoundedClients::Request& r)
    {
        seen.push_back(r);
        bytes.emplace_back(r.bytes);
        if (r.bytes.find('\n') != std::string_view::npos) return "got " + std::string(r.bytes);
        if (r.full) return std::string("too long\n");
        if (r.eof && !r.bytes.empty()) return "eof " + std::string(r.bytes) + "\n";
        return std::nullopt;
    }
};

TEST_F(BoundedClientsTest, ServeSeesThePiecesThenTheReplyIsWrittenAndClosed)
{
    LineServer line;
    auto clients = make({}, [&](const BoundedClients::Request& r) { return line(r); });
    const Fd c = connect_client();
    send_all(c, "ab");
    ASSERT_TRUE(run_until([&] { return !line.seen.empty(); }));
    EXPECT_EQ(clients.clients(), 1u);
    EXPECT_FALSE(closed_with(c)) << "an incomplete request waits";
    send_all(c, "c\n");
    std::optional<std::string> reply;
    ASSERT_TRUE(run_until([&] { return (reply = closed_with(c)).has_value(); }));
    EXPECT_EQ(*reply, "got abc\n");
    EXPECT_EQ(line.bytes, (std::vector<std::string>{"ab", "abc\n"}));
    EXPECT_FALSE(line.seen.back().eof);
    EXPECT_FALSE(line.seen.back().full);
    EXPECT_EQ(clients.clients(), 0u);
}

TEST_F(BoundedClientsTest, TheEndOfInputReachesServe)
{
    LineServer line;
    auto clients = make({}, [&](const BoundedClients::Request& r) { return line(r); });
    const Fd c = connect_client();
    send_all(c, "no newline");
    shutdown(c.get(), SHUT_WR);
    std::optional<std::string> reply;
    ASSERT_TRUE(run_until([&] { return (reply = closed_with(c)).has_value(); }));
    EXPECT_EQ(*reply, "eof no newline\n");
    ASSERT_FALSE(line.seen.empty());
    EXPECT_TRUE(line.seen.back().eof);
    // Gone without a word: Serve says nothing, the client is dropped.
    const Fd quiet = connect_client();
    shutdown(quiet.get(), SHUT_WR);
    ASSERT_TRUE(run_until([&] { return closed_with(quiet).has_value(); }));
    EXPECT_EQ(*closed_with(quiet), "");
    EXPECT_EQ(clients.clients(), 0u);
}

TEST_F(BoundedClientsTest, AFullRequestIsAnsweredOrDropped)
{
    BoundedClients::Limits limits;
    limits.max_request = 64;
    LineServer line;
    auto clients = make(limits, [&](const BoundedClients::Request& r) { return line(r); });
    const Fd c = connect_client();
    send_all(c, std::string(100, 'x'));
    std::optional<std::string> reply;
    ASSERT_TRUE(run_until([&] { return (reply = closed_with(c)).has_value(); }));
    EXPECT_EQ(*reply, "too long\n");
    ASSERT_FALSE(line.seen.empty());
    EXPECT_TRUE(line.seen.back().full);
    EXPECT_GE(line.bytes.back().size(), 64u);
    EXPECT_LE(line.bytes.back().size(), 64u + 1024u) << "read no further than one read past the limit";

}

// A protocol that does not answer a full request: the client is dropped
// unanswered, the buffer does not grow.
TEST_F(BoundedClientsTest, AFullRequestLeftUnansweredIsDropped)
{
    BoundedClients::Limits limits;
    limits.max_request = 64;
    std::size_t largest = 0;
    auto mute = make(limits, [&](const BoundedClients::Request& r) -> std::optional<std::string> {
        largest = std::max(largest, r.bytes.size());
        return std::nullopt;
    });
    const Fd d = connect_client();
    send_all(d, std::string(100, 'y'));
    ASSERT_TRUE(run_until([&] { return closed_with(d).has_value(); }));
    EXPECT_EQ(closed_with(d), std::optional<std::string>(""));
    EXPECT_EQ(mute.clients(), 0u);
    EXPECT_GE(largest, 64u);
    EXPECT_LE(largest, 64u + 1024u);
}

TEST_F(BoundedClientsTest, ClientsBeyondTheLimitGetTheBusyReplyAtOnce)
{
    BoundedClients::Limits limits;
    limits.max_clients = 2;
    LineServer line;
    auto clients = make(limits, [&](const BoundedClients::Request& r) { return line(r); }, "busy, retry\n");
    const Fd a = connect_client();
    const Fd b = connect_client();
    ASSERT_TRUE(run_until([&] { return clients.clients() == 2; }));
    const Fd refused = connect_client();
    std::optional<std::string> reply;
    ASSERT_TRUE(run_until([&] { return (reply = closed_with(refused)).has_value(); }));
    EXPECT_EQ(*reply, "busy, retry\n");
    EXPECT_EQ(clients.clients(), 2u) << "the silent two keep their slots";
    EXPECT_TRUE(line.seen.empty());
    // A slot freed is a slot taken.
    send_all(a, "one\n");
    ASSERT_TRUE(run_until([&] { return (reply = closed_with(a)).has_value(); }));
    EXPECT_EQ(*reply, "got one\n");
    const Fd next = connect_client();
    send_all(next, "two\n");
    ASSERT_TRUE(run_until([&] { return (reply = closed_with(next)).has_value(); }));
    EXPECT_EQ(*reply, "got two\n");
    EXPECT_EQ(clients.clients(), 1u);  // b, still silent
}

TEST_F(BoundedClientsTest, WithoutABusyReplyTheExtraClientIsJustClosed)
{
    BoundedClients::Limits limits;
    limits.max_clients = 1;
    LineServer line;
    auto clients = make(limits, [&](const BoundedClients::Request& r) { return line(r); });
    const Fd a = connect_client();
    ASSERT_TRUE(run_until([&] { return clients.clients() == 1; }));
    const Fd refused = connect_client();
    ASSERT_TRUE(run_until([&] { return closed_with(refused).has_value(); }));
    EXPECT_EQ(*closed_with(refused), "");
    EXPECT_EQ(clients.clients(), 1u);
}

TEST_F(BoundedClientsTest, ASilentClientIsDroppedAfterTheIdleTimeout)
{
    BoundedClients::Limits limits;
    limits.idle_timeout = 5s;
    limits.max_lifetime = 1h;
    LineServer line;
    auto clients = make(limits, [&](const BoundedClients::Request& r) { return line(r); });
    const auto before = Clock::now();
    const Fd c = connect_client();
    ASSERT_TRUE(run_until([&] { return clients.clients() == 1; }));
    const auto after = Clock::now();
    clients.tick(before + 5s - 1ms);
    EXPECT_EQ(clients.clients(), 1u);
    EXPECT_FALSE(closed_with(c));
    clients.tick(after + 5s);
    EXPECT_EQ(clients.clients(), 0u);
    EXPECT_EQ(closed_with(c), std::optional<std::string>(""));
}

TEST_F(BoundedClientsTest, AClientThatKeepsTricklingIsDroppedAtItsLifetime)
{
    BoundedClients::Limits limits;
    limits.idle_timeout = 1h;
    limits.max_lifetime = 10s;
    LineServer line;
    auto clients = make(limits, [&](const BoundedClients::Request& r) { return line(r); });
    const auto before = Clock::now();
    const Fd c = connect_client();
    send_all(c, "a");
    ASSERT_TRUE(run_until([&] { return !line.seen.empty(); }));
    const auto after = Clock::now();
    clients.tick(before + 10s - 1ms);
    EXPECT_EQ(clients.clients(), 1u);
    clients.tick(after + 10s);
    EXPECT_EQ(clients.clients(), 0u);
    EXPECT_EQ(closed_with(c), std::optional<std::string>(""));
}

// Out of descriptors (EMFILE, forced with RLIMIT_NOFILE): the failure is
// logged once and accepting pauses (a readable listener would spin the
// loop) until the next tick(), which resumes it; the waiting client is
// then served.
TEST_F(BoundedClientsTest, AcceptOutOfDescriptorsPausesUntilTheNextTick)
{
    LineServer line;
    auto clients = make({}, [&](const BoundedClients::Request& r) { return line(r); });
    const Fd c = connect_client();
    send_all(c, "hello\n");
    rlimit old{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
    const int lowest_free = dup(0);
    ASSERT_GE(lowest_free, 0);
    close(lowest_free);
    rlimit tight = old;
    tight.rlim_cur = static_cast<rlim_t>(lowest_free);  // no descriptor left below it
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
    const bool paused = run_until([&] { return clients.accept_paused(); });
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
    ASSERT_TRUE(paused);
    ASSERT_EQ(log_.size(), 1u);
    EXPECT_EQ(log_[0], "test: accept: Too many open files; not accepting until the next tick");
    EXPECT_EQ(clients.clients(), 0u);
    clients.tick();
    EXPECT_FALSE(clients.accept_paused());
    std::optional<std::string> reply;
    ASSERT_TRUE(run_until([&] { return (reply = closed_with(c)).has_value(); }));
    EXPECT_EQ(*reply, "got hello\n");
    EXPECT_EQ(log_.size(), 1u);
}

}  // namespace
}  // namespace kadp::ctl
