// Runs on: any (unit test). What the checker tests on a real event loop
// share (health_checkers_test.cpp, checker_record_test.cpp): a loopback
// listener to check, a quick checker against it, a configuration of one
// real server on 127.0.0.1, and a sink that ignores the verdicts.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <utility>

#include <gtest/gtest.h>

#include "checks/health_checkers.h"
#include "checks/loop_helpers.h"
#include "conf/model.h"
#include "control/event_loop.h"

namespace kadp::chk::testing {

// A listening socket on 127.0.0.1 nobody accepts from: the kernel still
// completes handshakes into its backlog, which is all TCP_CHECK needs.
// `want` 0: a free port (then `port` says which).
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

// A checker of `type` on 127.0.0.1:`port` that runs every 50 ms, retries
// after 20 ms and gives a connection 300 ms: tests see verdicts quickly.
inline conf::Checker checker(conf::CheckerType type, std::uint16_t port, int retry, bool alpha = false)
{
    conf::Checker c;
    c.type = type;
    c.connect_ip = *conf::IpAddr::parse("127.0.0.1");
    c.connect_port = port;
    c.connect_timeout.assign(0.3);
    c.retry.assign(retry);
    c.delay_before_retry.assign(0.02);
    c.delay_loop.assign(0.05);
    c.warmup.assign(0);
    c.alpha.assign(alpha);
    return c;
}

// one_service() with the real server 127.0.0.1:`port` checked by `c`.
inline conf::Config config_with(std::uint16_t port, conf::Checker c, bool inhibit = false, int weight = 1)
{
    conf::RealServer rs;
    rs.address = *conf::IpAddr::parse("127.0.0.1");
    rs.port = port;
    rs.weight = weight;
    rs.inhibit_on_failure.assign(inhibit);
    rs.checkers.push_back(std::move(c));
    return one_service(std::move(rs));
}

}  // namespace kadp::chk::testing
