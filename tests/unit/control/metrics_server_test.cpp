// Runs on: any (unit test; the test's main thread plays the control thread).
// The metrics HTTP server on a real EventLoop: request routing (pure), 200
// with the rendered text and its Content-Type, 503 before a source is set,
// 404/405/400/431, and a silent client that must not hold up a scrape.
#include "control/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(MetricsRoute, RequestLines)
{
    EXPECT_EQ(route_request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").status, 200);
    EXPECT_EQ(route_request("GET /metrics?x=1 HTTP/1.0\r\n\r\n").status, 200);
    EXPECT_TRUE(route_request("GET /metrics HTTP/1.1\r\n\r\n").body);
    EXPECT_EQ(route_request("HEAD /metrics HTTP/1.1\r\n\r\n").status, 200);
    EXPECT_FALSE(route_request("HEAD /metrics HTTP/1.1\r\n\r\n").body);
    EXPECT_EQ(route_request("GET / HTTP/1.1\r\n\r\n").status, 404);
    EXPECT_EQ(route_request("GET /metricsx HTTP/1.1\r\n\r\n").status, 404);
    EXPECT_EQ(route_request("POST /metrics HTTP/1.1\r\n\r\n").status, 405);
    EXPECT_EQ(route_request("GET /metrics\r\n\r\n").status, 400);
    EXPECT_EQ(route_request("GET /metrics HTTP/2\r\n\r\n").status, 400);
    EXPECT_EQ(route_request("get /metrics HTTP/1.1\r\n\r\n").status, 400);
    EXPECT_EQ(route_request("GET metrics HTTP/1.1\r\n\r\n").status, 400);
    EXPECT_EQ(route_request("\x01\x02garbage\n\n").status, 400);
}

int connect_local(std::uint16_t port)
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// Sends `request` and reads until the server closes.
std::string ask(std::uint16_t port, const std::string& request)
{
    const int fd = connect_local(port);
    if (fd < 0) return "connect failed";
    send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string reply;
    char buf[4096];
    for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) reply.append(buf, static_cast<std::size_t>(n));
    close(fd);
    return reply;
}

class MetricsServerTest : public ::testing::Test {
protected:
    void SetUp() override { block_control_signals(); }
    // Runs the loop until `client` (on its own thread) is done.
    template <typename F>
    void with_loop(F client)
    {
        std::thread t([&] {
            client();
            kill(getpid(), SIGTERM);
        });
        EXPECT_EQ(loop.run(LoopHandlers{}), SIGTERM);
        t.join();
    }
    EventLoop loop;
};

TEST_F(MetricsServerTest, ServesMetricsAndRefusesTheRest)
{
    MetricsServer server(loop, *conf::IpAddr::parse("127.0.0.1"), 0, nullptr);
    ASSERT_NE(server.port(), 0);
    const std::uint16_t port = server.port();
    std::string before, ok, head, nope, post, garbage, big;
    bool set = false;
    // The source is set from the loop's side: a timer, as start-up would.
    with_loop([&] {
        before = ask(port, "GET /metrics HTTP/1.1\r\n\r\n");
        loop.add_timer(std::chrono::milliseconds(0), [&] {
            server.set_render([] { return std::string("kadp_up 1\n"); });
            set = true;
        });
        while (ask(port, "GET /metrics HTTP/1.1\r\n\r\n").find("200 OK") == std::string::npos) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ok = ask(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        head = ask(port, "HEAD /metrics HTTP/1.1\r\n\r\n");
        nope = ask(port, "GET /nope HTTP/1.1\r\n\r\n");
        post = ask(port, "POST /metrics HTTP/1.1\r\n\r\n");
        garbage = ask(port, "\x16\x03\x01 not http at all\r\n\r\n");
        big = ask(port, "GET /metrics HTTP/1.1\r\nX: " + std::string(MetricsServer::kMaxRequest, 'a') + "\r\n\r\n");
    });
    EXPECT_TRUE(set);
    EXPECT_THAT(before, StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
    EXPECT_EQ(ok,
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
              "Content-Length: 10\r\nConnection: close\r\n\r\nkadp_up 1\n");
    EXPECT_EQ(head,
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
              "Content-Length: 10\r\nConnection: close\r\n\r\n");
    EXPECT_THAT(nope, StartsWith("HTTP/1.1 404 Not Found\r\n"));
    EXPECT_THAT(post, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
    EXPECT_THAT(post, HasSubstr("\r\nAllow: GET, HEAD\r\n"));
    EXPECT_THAT(garbage, StartsWith("HTTP/1.1 400 Bad Request\r\n"));
    EXPECT_THAT(big, StartsWith("HTTP/1.1 431 "));
    EXPECT_EQ(server.clients(), 0u);
}

TEST_F(MetricsServerTest, SilentClientsDoNotHoldUpAScrape)
{
    MetricsServer server(loop, *conf::IpAddr::parse("127.0.0.1"), 0, nullptr);
    server.set_render([] { return std::string("x 1\n"); });
    std::string ok;
    int silent[3];
    with_loop([&] {
        for (int& fd : silent) {
            fd = connect_local(server.port());
            send(fd, "GET /met", 8, MSG_NOSIGNAL);  // and never more
        }
        ok = ask(server.port(), "GET /metrics HTTP/1.1\r\n\r\n");
    });
    EXPECT_THAT(ok, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_EQ(server.clients(), 3u);  // still waiting; tick() drops them after kIdleTimeout
    for (int fd : silent) close(fd);
}

TEST_F(MetricsServerTest, PortInUseIsAnError)
{
    MetricsServer a(loop, *conf::IpAddr::parse("127.0.0.1"), 0, nullptr);
    try {
        MetricsServer b(loop, *conf::IpAddr::parse("127.0.0.1"), a.port(), nullptr);
        ADD_FAILURE() << "second bind succeeded";
    } catch (const MetricsServerError& e) {
        EXPECT_THAT(e.what(), HasSubstr("bind: Address already in use"));
    }
}

}  // namespace
}  // namespace kadp::ctl
