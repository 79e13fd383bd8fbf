// Runs on: any (unit test; the main thread plays the control thread). The
// checkers on a real event loop against loopback listeners: a TCP_CHECK
// takes a server down when its port closes and back up when it reopens,
// with keepalived's log lines; alpha starts a server down; a reload with
// the same checkers keeps them (and takes a changed weight, for the report
// and the quorum); an HTTP_GET judges a response that arrives
// in pieces (digest match and mismatch); an HTTP_GET on a server that accepts and
// never answers fails on its read timeout, one that resets mid-response on
// the reset, an SSL_GET on one that never
// answers the ClientHello on its handshake timeout; SMTP_CHECK conversations
// (good, bad greeting, bad HELO answer) with a scripted server.
#include "checks/health_checkers.h"
#include "checks/checker_fixture.h"
#include "checks/loop_helpers.h"

#include "checks/checks_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace kadp::chk {
namespace {

using std::chrono::milliseconds;

using testing::Listener;

struct Recorder final : HealthSink {
    std::vector<std::string> events;
    void server_down(const ctl::RsIdentity& rs, bool inhibit) override
    {
        events.push_back(std::string(inhibit ? "inhibit " : "down ") + rs.address.to_string() + ":" + std::to_string(rs.port));
    }
    void server_up(const ctl::RsIdentity& rs) override
    {
        events.push_back("up " + rs.address.to_string() + ":" + std::to_string(rs.port));
    }
    void server_weight(const ctl::RsIdentity& rs, int weight) override
    {
        events.push_back("weight " + std::to_string(weight) + " " + rs.address.to_string() + ":" + std::to_string(rs.port));
    }
    void quorum(const ctl::VsIdentity& vs, bool up) override
    {
        quorums.push_back(std::string(up ? "quorum up " : "quorum lost ") + vs.address.to_string());
    }
    std::vector<std::string> quorums;
};

using testing::checker;
using testing::config_with;
using testing::logged;
using testing::run_until;

TEST(HealthCheckers, TcpCheckTakesAServerDownAndBackUp)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    auto listener = std::make_unique<Listener>();
    const std::uint16_t port = listener->port;
    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    checkers.configure(config_with(port, checker(conf::CheckerType::tcp_check, port, 1)));
    EXPECT_EQ(checkers.checkers(), 1u);
    const std::string chk = "[127.0.0.1]:tcp:" + std::to_string(port);
    ASSERT_TRUE(run_until(loop, [&] { return logged(log, "TCP connection to " + chk + " success."); }));
    EXPECT_TRUE(sink.events.empty());  // up from the start: nothing to change

    listener.reset();  // refused from now on
    ASSERT_TRUE(run_until(loop, [&] { return !sink.events.empty(); }));
    EXPECT_EQ(sink.events, std::vector<std::string>{"down 127.0.0.1:" + std::to_string(port)});
    EXPECT_TRUE(logged(log, "TCP_CHECK on service " + chk + " failed after 1 retries."));
    EXPECT_TRUE(logged(log, "Removing service " + chk + " from VS [198.18.0.100]:tcp:80"));
    const ctl::RsIdentity id{ctl::vs_identity(config_with(port, {}).virtual_servers[0]), *conf::IpAddr::parse("127.0.0.1"), port};
    EXPECT_EQ(checkers.alive(id), false);

    listener = std::make_unique<Listener>(port);
    ASSERT_TRUE(run_until(loop, [&] { return sink.events.size() == 2; }));
    EXPECT_EQ(sink.events[1], "up 127.0.0.1:" + std::to_string(port));
    EXPECT_TRUE(logged(log, "Adding service " + chk + " to VS [198.18.0.100]:tcp:80"));
    EXPECT_EQ(checkers.alive(id), true);
}

TEST(HealthCheckers, AlphaStartsDownAndInhibitIsLoggedAsDisabling)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    Listener listener;
    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    checkers.configure(config_with(listener.port, checker(conf::CheckerType::tcp_check, listener.port, 1, true), true));
    const std::string port = std::to_string(listener.port);
    ASSERT_EQ(sink.events, std::vector<std::string>{"inhibit 127.0.0.1:" + port});  // before any check ran
    ASSERT_TRUE(run_until(loop, [&] { return sink.events.size() == 2; }));
    EXPECT_EQ(sink.events[1], "up 127.0.0.1:" + port);
    EXPECT_TRUE(logged(log, "Enabling service [127.0.0.1]:tcp:" + port + " of VS [198.18.0.100]:tcp:80"));
}

TEST(HealthCheckers, ReloadKeepsUnchangedCheckersAndStopsRemovedOnes)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    // Nothing listens on this port: the server goes down...
    const std::uint16_t port = Listener().port;
    const conf::Config config = config_with(port, checker(conf::CheckerType::tcp_check, port, 0));
    checkers.configure(config);
    ASSERT_TRUE(run_until(loop, [&] { return sink.events.size() == 1; }));
    // ...and a reload of the same configuration keeps that verdict, without
    // telling the sink again or restarting the checker.
    const std::size_t activations = std::count_if(log.begin(), log.end(), [](const std::string& l) { return l.starts_with("Activating"); });
    checkers.configure(config);
    EXPECT_EQ(sink.events.size(), 1u);
    EXPECT_EQ(std::count_if(log.begin(), log.end(), [](const std::string& l) { return l.starts_with("Activating"); }),
              static_cast<long>(activations));
    // Other checker settings: a fresh checker, starting up again.
    conf::Checker slower = checker(conf::CheckerType::tcp_check, port, 3);
    checkers.configure(config_with(port, slower));
    EXPECT_EQ(sink.events.back(), "up 127.0.0.1:" + std::to_string(port));
    checkers.configure(conf::Config{});
    EXPECT_EQ(checkers.servers(), 0u);
    EXPECT_EQ(checkers.checkers(), 0u);
}

// A reload that changes only a real server's weight keeps its checkers
// (the weight is no checker setting) but must count the new weight: in
// `kadpctl checks` (report()) and in its virtual server's quorum.
TEST(HealthCheckers, AReloadThatChangesOnlyTheWeightKeepsTheCheckersAndUsesTheNewWeight)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    Listener listener;
    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    const auto config = [&](int weight) {
        conf::Config c = config_with(listener.port, checker(conf::CheckerType::tcp_check, listener.port, 0));
        c.virtual_servers[0].quorum = 3;
        c.virtual_servers[0].real_servers[0].weight = weight;
        return c;
    };
    checkers.configure(config(1));
    const std::string chk = "[127.0.0.1]:tcp:" + std::to_string(listener.port);
    ASSERT_TRUE(run_until(loop, [&] { return logged(log, "TCP connection to " + chk + " success."); }));
    ASSERT_EQ(checkers.report().size(), 1u);
    EXPECT_EQ(checkers.report()[0].weight, 1);
    EXPECT_EQ(checkers.quorum_up(ctl::vs_identity(config(1).virtual_servers[0])), false);  // 1 < quorum 3
    const auto activations = std::count_if(log.begin(), log.end(), [](const std::string& l) { return l.starts_with("Activating"); });

    checkers.configure(config(3));
    EXPECT_EQ(std::count_if(log.begin(), log.end(), [](const std::string& l) { return l.starts_with("Activating"); }),
              activations);  // the same checker goes on
    ASSERT_EQ(checkers.report().size(), 1u);
    EXPECT_EQ(checkers.report()[0].weight, 3);
    EXPECT_EQ(checkers.quorum_up(ctl::vs_identity(config(3).virtual_servers[0])), true);  // 3 >= quorum 3
    EXPECT_TRUE(logged(log, "Gained quorum 3+0=3 <= 3 for VS [198.18.0.100]:tcp:80"));
    ASSERT_FALSE(sink.quorums.empty());
    EXPECT_EQ(sink.quorums.back(), "quorum up 198.18.0.100");
}

TEST(HealthCheckers, FailuresOfADownCheckerAreLoggedOnlyWithLogAllFailures)
{
    ctl::block_control_signals();
    const std::uint16_t port = Listener().port;  // closed again: refused
    for (const bool global : {false, true}) {
        ctl::EventLoop loop;
        Recorder sink;
        std::vector<std::string> log;
        HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
        conf::Config config = config_with(port, checker(conf::CheckerType::tcp_check, port, 0));
        if (global) config.global_defs.other.push_back(conf::OtherKeyword{{}, "checker_log_all_failures", ""});
        checkers.configure(config);
        // Down after the first failure; then three more attempts (delay_loop 50 ms).
        int attempts = 0;
        ASSERT_TRUE(run_until(loop, [&] {
            attempts = static_cast<int>(std::count_if(log.begin(), log.end(), [](const std::string& l) {
                return l.find("failed (Connection refused).") != std::string::npos;
            }));
            return !sink.events.empty() && loop.timers() > 0 && (!global || attempts >= 4);
        }));
        if (!global) {
            // Let three more attempts pass: still only the one logged while up.
            ctl::Timer wait(loop);
            wait.arm(milliseconds(200), [] { kill(getpid(), SIGTERM); });
            loop.run({});
            attempts = static_cast<int>(std::count_if(log.begin(), log.end(), [](const std::string& l) {
                return l.find("failed (Connection refused).") != std::string::npos;
            }));
            EXPECT_EQ(attempts, 1);
        } else {
            EXPECT_GE(attempts, 4);
        }
    }
}

// Each attempt is a debug line with its latency; with log_all_failures a
// down checker's failed attempts are info lines, at most 5 a minute
// (docs/logging.md): 20 attempts give 5.
TEST(HealthCheckers, AttemptsAreDebugLinesAndAllFailuresAreRateLimited)
{
    ctl::block_control_signals();
    const std::uint16_t port = Listener().port;  // closed again: refused
    ctl::EventLoop loop;
    Recorder sink;
    std::vector<std::pair<ctl::LogLevel, std::string>> log;
    HealthCheckers checkers(loop, sink,
                            [&log](ctl::LogLevel level, const std::string& l) { log.emplace_back(level, l); });
    conf::Config config = config_with(port, checker(conf::CheckerType::tcp_check, port, 0));
    config.global_defs.other.push_back(conf::OtherKeyword{{}, "checker_log_all_failures", ""});
    checkers.configure(config);
    const auto count = [&log](ctl::LogLevel level, const std::string& part) {
        return std::count_if(log.begin(), log.end(), [&](const auto& e) {
            return e.first == level && e.second.find(part) != std::string::npos;
        });
    };
    const std::string name = "[127.0.0.1]:tcp:" + std::to_string(port);
    ASSERT_TRUE(run_until(loop, [&] { return count(ctl::LogLevel::debug, "TCP_CHECK of " + name + ": attempt failed in ") >= 20; }));
    EXPECT_EQ(count(ctl::LogLevel::info, "TCP connection to " + name + " failed (Connection refused)."), 5);
    EXPECT_EQ(count(ctl::LogLevel::debug, "failed (Connection refused)."), count(ctl::LogLevel::debug, "attempt failed in "));
    EXPECT_EQ(count(ctl::LogLevel::info, "Removing service"), 1);
}

TEST(HealthCheckers, HttpGetOnAServerThatNeverAnswersTimesOut)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    Listener silent;  // accepts (backlog) and never answers
    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    conf::Checker c = checker(conf::CheckerType::http_get, silent.port, 0);
    c.url.push_back(conf::HttpUrl{{}, "/", {}, {{200, 299}}, {}});
    checkers.configure(config_with(silent.port, c));
    ASSERT_TRUE(run_until(loop, [&] { return !sink.events.empty(); }));
    const std::string chk = "[127.0.0.1]:tcp:" + std::to_string(silent.port);
    EXPECT_TRUE(logged(log, "Timeout HTTP read server " + chk + "."));
    EXPECT_TRUE(logged(log, "HTTP_CHECK on service " + chk + " failed."));
}

// Serves every connection it accepts with `serve(fd)` (which closes it),
// on a thread of its own, until destroyed.
struct ThreadServer {
    explicit ThreadServer(std::function<void(int)> serve_one) : serve(std::move(serve_one))
    {
        worker = std::thread([this] {
            for (;;) {
                const int c = accept(listener.fd.get(), nullptr, nullptr);
                if (c < 0) return;  // shut down
                serve(c);
            }
        });
    }
    ~ThreadServer()
    {
        shutdown(listener.fd.get(), SHUT_RDWR);
        worker.join();
    }
    Listener listener;
    std::function<void(int)> serve;
    std::thread worker;
};

// Answers every connection with `response`, written in pieces 20 ms apart
// (the checker sees partial reads), then closes.
std::unique_ptr<ThreadServer> slow_http_server(const std::string& response)
{
    return std::make_unique<ThreadServer>([response](int c) {
        char req[1024];
        (void)!recv(c, req, sizeof req, 0);
        for (std::size_t i = 0; i < response.size(); i += 7) {
            (void)!send(c, response.data() + i, std::min<std::size_t>(7, response.size() - i), MSG_NOSIGNAL);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        close(c);
    });
}

TEST(HealthCheckers, HttpGetJudgesAResponseArrivingInPieces)
{
    ctl::block_control_signals();
    const std::string ok = "HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n";
    for (const char* digest : {"b1946ac92492d2347c6235b4d2611184", "00000000000000000000000000000000"}) {
        ctl::EventLoop loop;
        const auto slow = slow_http_server(ok);
        ThreadServer& server = *slow;
        Recorder sink;
        std::vector<std::string> log;
        HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
        conf::Checker c = checker(conf::CheckerType::http_get, server.listener.port, 0);
        c.url.push_back(conf::HttpUrl{{}, "/", digest, {{200, 299}}, {}});
        checkers.configure(config_with(server.listener.port, c));
        const std::string chk = "[127.0.0.1]:tcp:" + std::to_string(server.listener.port);
        const bool good = digest[0] == 'b';
        ASSERT_TRUE(run_until(loop, [&] {
            return good ? logged(log, "Remote Web server " + chk + " succeed on service.") : !sink.events.empty();
        })) << digest;
        if (good) {
            EXPECT_TRUE(sink.events.empty());
        } else {
            EXPECT_TRUE(logged(log, "MD5 digest error to server " + chk + "."));
        }
    }
}

// Accepts, reads the request, sends the start of a response and resets the
// connection (SO_LINGER 0): the checker sees ECONNRESET mid-read.
void reset_midway(int c)
{
    char req[1024];
    (void)!recv(c, req, sizeof req, 0);
    (void)!send(c, "HTTP/1.0 200 OK\r\n", 17, MSG_NOSIGNAL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const linger hard{1, 0};
    setsockopt(c, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    close(c);
}

TEST(HealthCheckers, HttpGetOnAServerThatResetsFails)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    ThreadServer server(reset_midway);
    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    conf::Checker c = checker(conf::CheckerType::http_get, server.listener.port, 0);
    c.url.push_back(conf::HttpUrl{{}, "/", {}, {{200, 299}}, {}});
    checkers.configure(config_with(server.listener.port, c));
    ASSERT_TRUE(run_until(loop, [&] { return !sink.events.empty(); }));
    const std::string chk = "[127.0.0.1]:tcp:" + std::to_string(server.listener.port);
    EXPECT_EQ(sink.events, std::vector<std::string>{"down 127.0.0.1:" + std::to_string(server.listener.port)});
    EXPECT_TRUE(std::any_of(log.begin(), log.end(), [&](const std::string& l) {
        return l.find("Connection reset by peer") != std::string::npos && l.find(chk) != std::string::npos;
    })) << "no reset reason logged";
    EXPECT_TRUE(logged(log, "HTTP_CHECK on service " + chk + " failed."));
}

// Plays one scripted SMTP conversation per connection: sends `lines[0]`,
// then for each client line received sends the next one; records what the
// client said.
struct FakeSmtpServer {
    explicit FakeSmtpServer(std::vector<std::string> script) : lines(std::move(script))
    {
        worker = std::thread([this] {
            for (;;) {
                const int c = accept(listener.fd.get(), nullptr, nullptr);
                if (c < 0) return;
                for (std::size_t i = 0; i < lines.size(); ++i) {
                    (void)!send(c, lines[i].data(), lines[i].size(), MSG_NOSIGNAL);
                    if (i + 1 == lines.size()) break;
                    char buf[512];
                    const ssize_t n = recv(c, buf, sizeof buf, 0);
                    if (n <= 0) break;
                    const std::lock_guard<std::mutex> lock(mu);
                    heard.emplace_back(buf, static_cast<std::size_t>(n));
                }
                close(c);
            }
        });
    }
    ~FakeSmtpServer()
    {
        shutdown(listener.fd.get(), SHUT_RDWR);
        worker.join();
    }
    std::vector<std::string> said()
    {
        const std::lock_guard<std::mutex> lock(mu);
        return heard;
    }
    Listener listener;
    std::vector<std::string> lines;
    std::mutex mu;
    std::vector<std::string> heard;
    std::thread worker;
};

TEST(SmtpReplyCode, KeepalivedsRule)
{
    EXPECT_EQ(smtp_reply_code("220 mail.example ESMTP\r"), 220);
    EXPECT_EQ(smtp_reply_code("250"), 250);
    EXPECT_EQ(smtp_reply_code("250\r"), 250);
    EXPECT_EQ(smtp_reply_code("220-mail.example ESMTP"), -1);  // multi-line: keepalived fails it too
    EXPECT_EQ(smtp_reply_code("22 short"), -1);
    EXPECT_EQ(smtp_reply_code("HTTP/1.1 400 Bad Request"), -1);
    EXPECT_EQ(smtp_reply_code(""), -1);
}

TEST(HealthCheckers, SmtpCheckConversation)
{
    ctl::block_control_signals();
    struct Case {
        std::vector<std::string> script;
        bool up;
        const char* reason;
    };
    const Case cases[] = {
        {{"220 mail.kadp.test ESMTP\r\n", "250 mail.kadp.test\r\n", "221 Bye\r\n"}, true, nullptr},
        {{"554 go away\r\n"}, false, "Bad greeting banner from"},
        {{"220 ok\r\n", "502 no HELO here\r\n"}, false, "Bad HELO response from"},
    };
    for (const Case& k : cases) {
        ctl::EventLoop loop;
        FakeSmtpServer server(k.script);
        Recorder sink;
        std::vector<std::string> log;
        HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
        conf::Checker c = checker(conf::CheckerType::smtp_check, server.listener.port, 0);
        c.helo_name = "lb1.kadp.test";
        checkers.configure(config_with(server.listener.port, c));
        const std::string chk = "[127.0.0.1]:tcp:" + std::to_string(server.listener.port);
        ASSERT_TRUE(run_until(loop, [&] {
            return k.up ? logged(log, "Remote SMTP server " + chk + " succeed on service.") : !sink.events.empty();
        })) << k.script[0];
        if (k.up) {
            EXPECT_TRUE(sink.events.empty());
            const auto said = server.said();
            ASSERT_GE(said.size(), 2u);
            EXPECT_EQ(said[0], "HELO lb1.kadp.test\r\n");
            EXPECT_EQ(said[1], "QUIT\r\n");
        } else {
            EXPECT_TRUE(logged(log, std::string("SMTP_CHECK ") + k.reason + " server " + chk)) << k.reason;
            EXPECT_TRUE(logged(log, "SMTP_CHECK on service " + chk + " failed."));
        }
    }
}

TEST(HealthCheckers, SslGetHandshakeThatNeverCompletesTimesOut)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    Listener silent;  // takes the ClientHello, never answers it
    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    conf::Checker c = checker(conf::CheckerType::ssl_get, silent.port, 0);
    c.url.push_back(conf::HttpUrl{{}, "/", {}, {{200, 299}}, {}});
    c.enable_sni = true;
    c.virtualhost = "www.kadp.test";
    checkers.configure(config_with(silent.port, c));
    ASSERT_TRUE(run_until(loop, [&] { return !sink.events.empty(); }));
    const std::string chk = "[127.0.0.1]:tcp:" + std::to_string(silent.port);
    EXPECT_TRUE(logged(log, "Timeout connecting server " + chk + "."));
    EXPECT_TRUE(logged(log, "HTTP_CHECK on service " + chk + " failed."));
}

}  // namespace
}  // namespace kadp::chk
