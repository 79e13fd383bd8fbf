// Runs on: any (unit test; the main thread plays the control thread).
// DNS_CHECK: the query keepalived sends and its reply verdict on byte
// strings (hand-made and recorded from dnsmasq), then the checker on a real
// event loop against a UDP responder on 127.0.0.1 that answers well, with
// another ID, with SERVFAIL or NXDOMAIN, or not at all, and against a
// closed port; HealthCheckers taking a server down and back up, and a
// reload with another name or type restarting the checker.
#include "checks/dns_message.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "checks/checker.h"
#include "checks/health_checkers.h"
#include "checks/loop_helpers.h"

namespace kadp::chk {
namespace {

using Bytes = std::vector<std::uint8_t>;
using testing::logged;
using testing::run_until;

Bytes hex(std::string_view s)
{
    Bytes out;
    for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
        while (i < s.size() && s[i] == ' ') ++i;
        out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

// ------------------------------------------------------------------ query

TEST(DnsQuery, RootSoaIsTheDefaultQuery)
{
    // ID, flags RD, QDCOUNT 1, AN/NS/AR 0; QNAME root; QTYPE SOA (6); QCLASS IN.
    EXPECT_EQ(dns_query(0x1234, ".", 6), hex("1234 0100 0001 0000 0000 0000 00 0006 0001"));
}

TEST(DnsQuery, LabelsAndTrailingDot)
{
    const Bytes want = hex("abcd 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001");
    EXPECT_EQ(dns_query(0xabcd, "example.com", 1), want);
    EXPECT_EQ(dns_query(0xabcd, "example.com.", 1), want);
    EXPECT_EQ(dns_query(0xabcd, "www.example.com", 28).size(), 12u + 17u + 4u);
    EXPECT_EQ(dns_query(0, "a", 48), hex("0000 0100 0001 0000 0000 0000 01 61 00 0030 0001"));
}

// ------------------------------------------------------------------ reply

struct ReplyCase {
    const char* description;
    Bytes reply;
    DnsReply::Kind kind;
    int rcode;
};

TEST(DnsReply, Verdicts)
{
    // Recorded from dnsmasq 2.90 (`--no-resolv`, `--addn-hosts` holding
    // "198.19.1.1 kadp-dns.test"), queries with ID 0x4b1d: the A answer for
    // kadp-dns.test, and the REFUSED it gives for names outside its data
    // (example.com A, the root SOA keepalived asks by default).
    const Bytes recorded_a = hex("4b1d85800001000100000000086b6164702d646e7304746573740000010001"
                                 "c00c00010001000000000004c6130101");
    const Bytes recorded_refused = hex("4b1d81850001000000000000076578616d706c6503636f6d0000010001");
    const Bytes recorded_root_soa = hex("4b1d818500010000000000000000060001");
    const ReplyCase cases[] = {
        {"recorded A answer", recorded_a, DnsReply::Kind::ok, 0},
        {"recorded REFUSED", recorded_refused, DnsReply::Kind::error, 5},
        {"recorded REFUSED for the root SOA", recorded_root_soa, DnsReply::Kind::error, 5},
        {"NOERROR without answers (NODATA) passes", hex("4b1d 8180 0001 0000 0000 0000 00 0006 0001"), DnsReply::Kind::ok, 0},
        {"SERVFAIL", hex("4b1d 8182 0001 0000 0000 0000 00 0006 0001"), DnsReply::Kind::error, 2},
        {"NXDOMAIN", hex("4b1d 8183 0001 0000 0000 0000 00 0006 0001"), DnsReply::Kind::error, 3},
        {"truncated (TC) still passes", hex("4b1d 8380 0001 0000 0000 0000"), DnsReply::Kind::ok, 0},
        {"another question is not looked at", hex("4b1d 8180 0001 0000 0000 0000 01 78 00 0010 0001"), DnsReply::Kind::ok, 0},
        {"another ID: ignored", hex("4b1e 8180 0001 0000 0000 0000 00 0006 0001"), DnsReply::Kind::ignore, 0},
        {"a query (QR 0): ignored", hex("4b1d 0100 0001 0000 0000 0000 00 0006 0001"), DnsReply::Kind::ignore, 0},
        {"7 bytes: ignored", hex("4b1d 8180 0001 00"), DnsReply::Kind::ignore, 0},
        {"8 bytes are enough for keepalived", hex("4b1d 8183 0001 0000"), DnsReply::Kind::error, 3},
        {"empty", Bytes{}, DnsReply::Kind::ignore, 0},
    };
    for (const ReplyCase& c : cases) {
        const DnsReply r = judge_dns_reply(0x4b1d, c.reply);
        EXPECT_EQ(r.kind, c.kind) << c.description;
        if (c.kind != DnsReply::Kind::ignore) {
            EXPECT_EQ(r.rcode, c.rcode) << c.description;
        }
    }
}

// ------------------------------------------------------------------ on a loop

// A UDP "server" on 127.0.0.1 served from the same loop: records each query
// and answers it as `mode` says.
struct Responder {
    enum class Mode { good, wrong_id, servfail, nxdomain, silent, query_back };

    Responder(ctl::EventLoop& loop, Mode m) : loop_(&loop), mode(m)
    {
        fd = ctl::Fd(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        socklen_t l = sizeof a;
        getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &l);
        port = ntohs(a.sin_port);
        watch = loop.watch(fd.get(), EPOLLIN, [this](std::uint32_t) { serve(); });
    }
    ~Responder() { loop_->unwatch(watch); }

    void serve()
    {
        std::uint8_t buf[1500];
        sockaddr_in from{};
        socklen_t fl = sizeof from;
        const ssize_t n = recvfrom(fd.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (n < 12) return;
        queries.emplace_back(buf, buf + n);
        Bytes reply(buf, buf + n);
        switch (mode) {
        case Mode::silent: return;
        case Mode::good: reply[2] = 0x81; reply[3] = 0x80; break;
        case Mode::wrong_id: reply[1] ^= 0x01; reply[2] = 0x81; reply[3] = 0x80; break;
        case Mode::servfail: reply[2] = 0x81; reply[3] = 0x82; break;
        case Mode::nxdomain: reply[2] = 0x81; reply[3] = 0x83; break;
        case Mode::query_back: break;  // QR 0: not an answer
        }
        sendto(fd.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
    }

    ctl::EventLoop* loop_;
    Mode mode;
    ctl::Fd fd;
    std::uint16_t port = 0;
    ctl::EventLoop::WatchId watch = 0;
    std::vector<Bytes> queries;
};

conf::Checker dns_checker(std::uint16_t port, int retry)
{
    conf::Checker c;
    c.type = conf::CheckerType::dns_check;
    c.connect_ip = *conf::IpAddr::parse("127.0.0.1");
    c.connect_port = port;
    c.connect_timeout.assign(0.2);
    c.retry.assign(retry);
    c.delay_before_retry.assign(0.02);
    c.delay_loop.assign(0.05);
    c.warmup.assign(0);
    c.alpha.assign(false);
    c.dns_type = 1;
    c.dns_name = "kadp-dns.test";
    return c;
}

struct CheckRun {
    std::vector<std::string> log;
    std::vector<bool> changes;
};

// Runs one checker until `until` holds; returns its log and changes.
CheckRun run_checker(ctl::EventLoop& loop, const conf::Checker& c, const std::function<bool(const CheckRun&)>& until)
{
    CheckRun run;
    auto checker = make_checker(loop, c, [&run](const std::string& l) { run.log.push_back(l); });
    EXPECT_NE(checker, nullptr);
    if (!checker) return run;
    checker->start(Millis(0), [&run](bool up) { run.changes.push_back(up); });
    EXPECT_TRUE(run_until(loop, [&] { return until(run); }));
    return run;
}

std::string chk(std::uint16_t port) { return "DNS_CHECK ([127.0.0.1]:tcp:" + std::to_string(port) + ") "; }

TEST(DnsCheck, GoodReplyKeepsItUpAndTheQueryIsKeepalivedsWithARandomId)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    Responder server(loop, Responder::Mode::good);
    const CheckRun run = run_checker(loop, dns_checker(server.port, 1), [&](const CheckRun&) { return server.queries.size() >= 3; });
    EXPECT_TRUE(run.changes.empty());
    EXPECT_TRUE(run.log.empty());  // keepalived logs nothing for a DNS success
    ASSERT_GE(server.queries.size(), 3u);
    const Bytes& q = server.queries[0];
    const Bytes want = dns_query(static_cast<std::uint16_t>((q[0] << 8) | q[1]), "kadp-dns.test", 1);
    EXPECT_EQ(q, want);
    // A new ID each attempt (three equal 16-bit IDs in a row: 2^-32).
    EXPECT_FALSE(server.queries[1][0] == q[0] && server.queries[1][1] == q[1] && server.queries[2][0] == q[0] &&
                 server.queries[2][1] == q[1]);
}

TEST(DnsCheck, ErrorRcodesFailWithKeepalivedsLine)
{
    ctl::block_control_signals();
    for (const auto& [mode, rcode] : {std::pair{Responder::Mode::servfail, 2}, std::pair{Responder::Mode::nxdomain, 3}}) {
        ctl::EventLoop loop;
        Responder server(loop, mode);
        const CheckRun run = run_checker(loop, dns_checker(server.port, 1), [](const CheckRun& r) { return !r.changes.empty(); });
        ASSERT_EQ(run.changes, std::vector<bool>{false});
        const std::string reason = "read error occurred. (rcode = " + std::to_string(rcode) + ")";
        // The first failure (a retry is due) logs the reason; the second fails the checker.
        EXPECT_EQ(run.log, (std::vector<std::string>{chk(server.port) + reason,
                                                     chk(server.port) + reason + " after 1 retries"}));
        EXPECT_EQ(server.queries.size(), 2u);
    }
}

TEST(DnsCheck, WrongIdQueryBackAndSilenceTimeOut)
{
    ctl::block_control_signals();
    for (const auto mode : {Responder::Mode::wrong_id, Responder::Mode::query_back, Responder::Mode::silent}) {
        ctl::EventLoop loop;
        Responder server(loop, mode);
        const CheckRun run = run_checker(loop, dns_checker(server.port, 0), [](const CheckRun& r) { return !r.changes.empty(); });
        ASSERT_EQ(run.changes, std::vector<bool>{false});
        // retry 0 on the first run: keepalived adds no " after N retries".
        EXPECT_EQ(run.log, std::vector<std::string>{chk(server.port) + "read timeout from socket"});
        EXPECT_EQ(server.queries.size(), 1u);
    }
}

TEST(DnsCheck, ClosedPortFailsAtOnceOnTheIcmpError)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    std::uint16_t port = 0;
    {
        Responder gone(loop, Responder::Mode::silent);
        port = gone.port;
    }
    conf::Checker c = dns_checker(port, 0);
    c.connect_timeout.assign(3);  // far longer than the test waits for the error
    const auto start = ctl::EventLoop::Clock::now();
    const CheckRun run = run_checker(loop, c, [](const CheckRun& r) { return !r.changes.empty(); });
    EXPECT_LT(ctl::EventLoop::Clock::now() - start, std::chrono::seconds(2));
    EXPECT_EQ(run.log, std::vector<std::string>{chk(port) + "failed to read socket; errno 111 (Connection refused)"});
}

TEST(DnsCheck, ABadReplyFirstThenTheRightOnePasses)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    // The server sends a stray datagram with another ID before its answer.
    Responder server(loop, Responder::Mode::silent);
    server.mode = Responder::Mode::good;
    ctl::EventLoop::WatchId w = server.watch;
    loop.unwatch(w);
    server.watch = loop.watch(server.fd.get(), EPOLLIN, [&server](std::uint32_t) {
        std::uint8_t buf[512];
        sockaddr_in from{};
        socklen_t fl = sizeof from;
        const ssize_t n = recvfrom(server.fd.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (n < 12) return;
        server.queries.emplace_back(buf, buf + n);
        Bytes stray(buf, buf + n);
        stray[0] ^= 0x80;
        stray[2] = 0x81;
        stray[3] = 0x83;  // NXDOMAIN, but not ours
        sendto(server.fd.get(), stray.data(), stray.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
        Bytes good(buf, buf + n);
        good[2] = 0x81;
        good[3] = 0x80;
        sendto(server.fd.get(), good.data(), good.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
    });
    const CheckRun run = run_checker(loop, dns_checker(server.port, 0), [&](const CheckRun&) { return server.queries.size() >= 2; });
    EXPECT_TRUE(run.changes.empty());
    EXPECT_TRUE(run.log.empty());
}

struct Recorder final : HealthSink {
    std::vector<std::string> events;
    void server_down(const ctl::RsIdentity& rs, bool) override { events.push_back("down " + std::to_string(rs.port)); }
    void server_up(const ctl::RsIdentity& rs) override { events.push_back("up " + std::to_string(rs.port)); }
    void server_weight(const ctl::RsIdentity&, int) override {}
    void quorum(const ctl::VsIdentity&, bool) override {}
};

TEST(DnsCheck, HealthCheckersRunItAndTakeTheServerDownAndBackUp)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    auto server = std::make_unique<Responder>(loop, Responder::Mode::good);
    const std::uint16_t port = server->port;
    conf::RealServer rs;
    rs.address = *conf::IpAddr::parse("127.0.0.1");
    rs.port = port;
    rs.inhibit_on_failure.assign(false);
    rs.checkers.push_back(dns_checker(port, 1));
    rs.checkers.back().service_protocol = conf::Protocol::udp;  // what resolve_lvs sets from the VS
    conf::VirtualServer vs;
    vs.address = *conf::IpAddr::parse("198.18.0.53");
    vs.port = 53;
    vs.protocol = conf::Protocol::udp;
    vs.real_servers.push_back(std::move(rs));
    conf::Config config;
    config.virtual_servers.push_back(std::move(vs));

    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    checkers.configure(config);
    EXPECT_EQ(checkers.checkers(), 1u);
    ASSERT_TRUE(run_until(loop, [&] { return server->queries.size() >= 2; }));
    EXPECT_TRUE(sink.events.empty());
    for (const std::string& l : log) EXPECT_EQ(l.find("not run by kadp yet"), std::string::npos) << l;

    const std::string rs_name = "[127.0.0.1]:udp:" + std::to_string(port);
    server->mode = Responder::Mode::servfail;
    ASSERT_TRUE(run_until(loop, [&] { return !sink.events.empty(); }));
    EXPECT_EQ(sink.events, std::vector<std::string>{"down " + std::to_string(port)});
    EXPECT_TRUE(logged(log, "DNS_CHECK (" + rs_name + ") read error occurred. (rcode = 2) after 1 retries"));
    EXPECT_TRUE(logged(log, "Removing service " + rs_name + " from VS [198.18.0.53]:udp:53"));

    server->mode = Responder::Mode::good;
    ASSERT_TRUE(run_until(loop, [&] { return sink.events.size() == 2; }));
    EXPECT_EQ(sink.events[1], "up " + std::to_string(port));
    EXPECT_TRUE(logged(log, "Adding service " + rs_name + " to VS [198.18.0.53]:udp:53"));
}

TEST(DnsCheck, AReloadWithAnotherNameOrTypeRestartsTheChecker)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    Responder server(loop, Responder::Mode::good);
    auto config_for = [&](std::string name, std::uint16_t type) {
        conf::RealServer rs;
        rs.address = *conf::IpAddr::parse("127.0.0.1");
        rs.port = server.port;
        rs.checkers.push_back(dns_checker(server.port, 1));
        rs.checkers.back().dns_name = std::move(name);
        rs.checkers.back().dns_type = type;
        conf::VirtualServer vs;
        vs.address = *conf::IpAddr::parse("198.18.0.53");
        vs.port = 53;
        vs.protocol = conf::Protocol::udp;
        vs.real_servers.push_back(std::move(rs));
        conf::Config config;
        config.virtual_servers.push_back(std::move(vs));
        return config;
    };
    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    auto activations = [&] {
        return std::count_if(log.begin(), log.end(), [](const std::string& l) { return l.starts_with("Activating"); });
    };
    checkers.configure(config_for("kadp-dns.test", 1));
    checkers.configure(config_for("kadp-dns.test", 1));
    EXPECT_EQ(activations(), 1);
    checkers.configure(config_for("other.test", 1));
    EXPECT_EQ(activations(), 2);
    checkers.configure(config_for("other.test", 28));
    EXPECT_EQ(activations(), 3);
    ASSERT_TRUE(run_until(loop, [&] { return !server.queries.empty(); }));
    const Bytes& q = server.queries.back();
    EXPECT_EQ(q, dns_query(static_cast<std::uint16_t>((q[0] << 8) | q[1]), "other.test", 28));
}

}  // namespace
}  // namespace kadp::chk
