// Runs on: any (unit test). kadpctl checks / vrrp / stats: the requests, the
// replies' JSON both ways (served by a handler, read back as kadpctl does),
// the exact text kadpctl prints, --json, and the conversion of the checkers'
// and VRRP instances' reports into replies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control/ctl_protocol.h"
#include "control/kadpctl.h"
#include "control/observe_reports.h"

namespace kadp::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::int64_t kT0 = 1795624405;  // 2026-11-25 16:33:25 UTC

ChecksReply sample_checks() {
    ChecksReply r;
    CheckerStatus up;
    up.virtual_server = "[198.18.0.100]:tcp:80";
    up.real_server = "[198.19.0.1]:tcp:80";
    up.checked = "[198.19.0.1]:tcp:80";
    up.type = "HTTP_GET";
    up.state = "up";
    up.in_service = true;
    up.weight = 3;
    up.last_result = "ok";
    up.latency_ms = 2;
    up.last_check = kT0 + 10;
    up.last_transition = 0;
    up.retry = 1;
    CheckerStatus down;
    down.virtual_server = "[198.18.0.100]:tcp:80";
    down.real_server = "[198.19.0.2]:tcp:80";
    down.checked = "[198.19.0.2]:tcp:8080";
    down.type = "TCP_CHECK";
    down.state = "down";
    down.in_service = false;
    down.weight = 0;
    down.last_result = "failed";
    down.reason = "TCP connection to [198.19.0.2]:tcp:8080 failed (Connection refused).";
    down.latency_ms = 18446744073709551615ULL;  // 64 bits survive JSON
    down.last_check = kT0 + 9;
    down.last_transition = kT0;
    down.consecutive_failures = 4;
    down.retry = 2;
    CheckerStatus pending;
    pending.virtual_server = "FWM 5";
    pending.real_server = "[198.19.0.3]:tcp:0";
    pending.checked = "[198.19.0.3]:tcp:0";
    pending.type = "MISC_CHECK";
    pending.state = "pending";
    pending.in_service = true;
    pending.weight = 1;
    r.checkers = {up, down, pending};
    return r;
}

VrrpReply sample_vrrp() {
    VrrpReply r;
    r.instances = {
        VrrpInstanceDetail{"VI_1", "lan", 51, "MASTER", 150, 100, "198.18.0.2", true, kT0,
                           "master down timer expired (the master stopped advertising)", {{"bad_ttl", 2}}},
        VrrpInstanceDetail{"VI_2", "lan", 52, "BACKUP", 90, 90, "198.18.0.3", false, kT0 + 1, "startup", {}},
        VrrpInstanceDetail{"VI_3", "srv", 53, "FAULT", 100, 100, "", false, kT0 + 2,
                           "fault (a tracked script or interface failed)", {}},
        VrrpInstanceDetail{"VI_4", "srv", 54, "INIT", 100, 100, "", false, 0, "", {}},
    };
    r.dropped = {{"bad_ttl", 2}, {"vrid_mismatch", 31}};
    return r;
}

StatsReply sample_dpdk_stats() {
    StatsReply s;
    s.backend = "dpdk";
    s.workers = {WorkerStats{1, {{"rx_packets", 7}, {"conn_new", 0}, {"nat_in", 5}}},
                 WorkerStats{2, {{"rx_packets", 0}, {"conn_new", 0}, {"nat_in", 0}}}};
    s.totals = {{"rx_packets", 7}, {"conn_new", 0}, {"nat_in", 5}};
    PortStatus p;
    p.name = "lan";
    p.device = "net_af_packet0,iface=lan";
    p.mac = "8a:52:2a:91:47:3c";
    p.rx_packets = 9;
    p.rx_bytes = 900;
    p.link = "up";
    s.ports = {p};
    s.conn_capacity = 65536;
    s.conn_in_use = 3;
    s.mempools = {MempoolStatus{"kadp_exc", 8191, 7679, 512}};
    return s;
}

class ObserveHandler : public ControlHandler {
public:
    ListReply list() override { return {}; }
    ConnsReply conns(std::size_t) override { return {}; }
    StatusReply status() override { return {}; }
    ReloadReply reload(const std::string&) override { return {}; }
    ChecksReply checks() override { return sample_checks(); }
    VrrpReply vrrp() override { return sample_vrrp(); }
    StatsReply stats() override { return stats_; }
    StatsReply stats_ = sample_dpdk_stats();
};

// Serves `line` and reads the result back as kadpctl does.
JsonValue served(ControlHandler& h, const std::string& line) {
    std::string error;
    const auto req = parse_request(line, error);
    EXPECT_TRUE(req) << error;
    const auto reply = parse_reply(serve_request(h, *req), error);
    EXPECT_TRUE(reply && reply->ok) << error;
    EXPECT_EQ(reply->command, line);
    return reply->result;
}

CtlOptions opts(std::vector<std::string> args) {
    auto a = parse_kadpctl_args(args);
    EXPECT_TRUE(a.options) << a.error;
    return *a.options;
}

TEST(KadpctlObserve, ParsesTheThreeCommands) {
    std::string error;
    EXPECT_EQ(parse_request("checks", error)->command, Request::Command::checks);
    EXPECT_EQ(parse_request("vrrp", error)->command, Request::Command::vrrp);
    EXPECT_EQ(parse_request("stats", error)->command, Request::Command::stats);
    EXPECT_FALSE(parse_request("stats 5", error));
    EXPECT_THAT(error, HasSubstr("unexpected argument"));
    EXPECT_EQ(opts({"stats", "--all"}).all, true);
    EXPECT_EQ(opts({"--json", "vrrp"}).request.command, Request::Command::vrrp);
    EXPECT_EQ(format_request(opts({"checks"}).request), "checks\n");
    EXPECT_THAT(parse_kadpctl_args({"checks", "--all"}).error, HasSubstr("--all goes with stats"));
    EXPECT_THAT(kadpctl_usage(), HasSubstr("stats [--all]"));
}

TEST(KadpctlObserve, ChecksRoundTripThroughJson) {
    ObserveHandler h;
    std::string error;
    const auto back = checks_from_json(served(h, "checks"), error);
    ASSERT_TRUE(back) << error;
    const ChecksReply want = sample_checks();
    ASSERT_EQ(back->checkers.size(), want.checkers.size());
    for (std::size_t i = 0; i < want.checkers.size(); ++i) {
        const CheckerStatus& a = back->checkers[i];
        const CheckerStatus& b = want.checkers[i];
        EXPECT_EQ(a.virtual_server, b.virtual_server);
        EXPECT_EQ(a.real_server, b.real_server);
        EXPECT_EQ(a.checked, b.checked);
        EXPECT_EQ(a.type, b.type);
        EXPECT_EQ(a.state, b.state);
        EXPECT_EQ(a.in_service, b.in_service);
        EXPECT_EQ(a.weight, b.weight);
        EXPECT_EQ(a.last_result, b.last_result);
        EXPECT_EQ(a.reason, b.reason);
        EXPECT_EQ(a.latency_ms, b.latency_ms);
        EXPECT_EQ(a.last_check, b.last_check);
        EXPECT_EQ(a.last_transition, b.last_transition);
        EXPECT_EQ(a.consecutive_failures, b.consecutive_failures);
        EXPECT_EQ(a.retry, b.retry);
    }
    EXPECT_FALSE(checks_from_json(JsonValue::parse("{}", error).value(), error));
}

TEST(KadpctlObserve, VrrpRoundTripsThroughJson) {
    ObserveHandler h;
    std::string error;
    const auto back = vrrp_from_json(served(h, "vrrp"), error);
    ASSERT_TRUE(back) << error;
    const VrrpReply want = sample_vrrp();
    ASSERT_EQ(back->instances.size(), want.instances.size());
    for (std::size_t i = 0; i < want.instances.size(); ++i) {
        const auto& a = back->instances[i];
        const auto& b = want.instances[i];
        EXPECT_EQ(a.name, b.name);
        EXPECT_EQ(a.interface, b.interface);
        EXPECT_EQ(a.vrid, b.vrid);
        EXPECT_EQ(a.state, b.state);
        EXPECT_EQ(a.priority, b.priority);
        EXPECT_EQ(a.base_priority, b.base_priority);
        EXPECT_EQ(a.master, b.master);
        EXPECT_EQ(a.master_is_self, b.master_is_self);
        EXPECT_EQ(a.last_transition, b.last_transition);
        EXPECT_EQ(a.reason, b.reason);
        EXPECT_EQ(a.dropped, b.dropped);
    }
    EXPECT_EQ(back->dropped, want.dropped);
}

TEST(KadpctlObserve, StatsRoundTripThroughJson) {
    ObserveHandler h;
    std::string error;
    auto back = stats_from_json(served(h, "stats"), error);
    ASSERT_TRUE(back) << error;
    const StatsReply want = sample_dpdk_stats();
    EXPECT_EQ(back->backend, "dpdk");
    ASSERT_EQ(back->workers.size(), 2u);
    EXPECT_EQ(back->workers[0].lcore, 1u);
    EXPECT_EQ(back->workers[0].counters, want.workers[0].counters);
    EXPECT_EQ(back->workers[1].counters, want.workers[1].counters);
    EXPECT_EQ(back->totals, want.totals);
    ASSERT_EQ(back->ports.size(), 1u);
    EXPECT_EQ(back->ports[0].device, "net_af_packet0,iface=lan");
    EXPECT_EQ(back->ports[0].rx_bytes, 900u);
    EXPECT_EQ(back->ports[0].link, "up");
    EXPECT_EQ(back->conn_capacity, 65536u);
    EXPECT_EQ(back->conn_in_use, 3u);
    ASSERT_EQ(back->mempools.size(), 1u);
    EXPECT_EQ(back->mempools[0].in_use, 512u);
    EXPECT_FALSE(back->ipvs);

    h.stats_ = StatsReply{};
    h.stats_.backend = "kernel";
    h.stats_.ipvs = IpvsStats{12, 80, 75, 5600, 90000, 1, 8, 7, 560, 9000};
    back = stats_from_json(served(h, "stats"), error);
    ASSERT_TRUE(back) << error;
    ASSERT_TRUE(back->ipvs);
    EXPECT_EQ(*back->ipvs, *h.stats_.ipvs);
    EXPECT_TRUE(back->workers.empty());
}

TEST(KadpctlObserve, ChecksText) {
    EXPECT_EQ(render_checks(sample_checks()),
              "[198.18.0.100]:tcp:80 -> [198.19.0.1]:tcp:80 HTTP_GET: up, in service, weight 3; "
              "last ok in 2 ms at 2026-11-25 16:33:35 UTC; no transition; failures 0, retry 1\n"
              "[198.18.0.100]:tcp:80 -> [198.19.0.2]:tcp:80 TCP_CHECK (checks [198.19.0.2]:tcp:8080): down, out of "
              "service, weight 0; last failed (TCP connection to [198.19.0.2]:tcp:8080 failed (Connection refused).) "
              "in 18446744073709551615 ms at 2026-11-25 16:33:34 UTC; down since 2026-11-25 16:33:25 UTC; failures 4, retry 2\n"
              "FWM 5 -> [198.19.0.3]:tcp:0 MISC_CHECK: pending, in service, weight 1; last none; no transition; "
              "failures 0, retry 0\n");
    EXPECT_EQ(render_checks(ChecksReply{}), "no health checkers\n");
}

TEST(KadpctlObserve, VrrpText) {
    EXPECT_EQ(render_vrrp(sample_vrrp()),
              "vrrp VI_1 on lan, VRID 51: MASTER, priority 150 (base 100), master 198.18.0.2 (us)\n"
              "  since 2026-11-25 16:33:25 UTC: master down timer expired (the master stopped advertising)\n"
              "  dropped adverts: bad_ttl 2\n"
              "vrrp VI_2 on lan, VRID 52: BACKUP, priority 90 (base 90), master 198.18.0.3\n"
              "  since 2026-11-25 16:33:26 UTC: startup\n"
              "  dropped adverts: none\n"
              "vrrp VI_3 on srv, VRID 53: FAULT, priority 100 (base 100), master unknown\n"
              "  since 2026-11-25 16:33:27 UTC: fault (a tracked script or interface failed)\n"
              "  dropped adverts: none\n"
              "vrrp VI_4 on srv, VRID 54: INIT, priority 100 (base 100), master unknown\n"
              "  since start: not started\n"
              "  dropped adverts: none\n"
              "vrrp dropped adverts in all: bad_ttl 2, vrid_mismatch 31\n");
    EXPECT_EQ(render_vrrp(VrrpReply{}), "no vrrp instances\nvrrp dropped adverts in all: none\n");
}

TEST(KadpctlObserve, StatsText) {
    const std::string port =
        "port lan (net_af_packet0,iface=lan) mac 8a:52:2a:91:47:3c: rx 9 packets 900 bytes, tx 0 packets 0 bytes, "
        "dropped: rx missed 0, rx errors 0, rx no mbuf 0, tx errors 0, link up\n";
    EXPECT_EQ(render_stats(sample_dpdk_stats(), false),
              "backend dpdk: workers 2\n"
              "worker lcore 1 counters, non-zero:\n  rx_packets 7\n  nat_in 5\n"
              "worker lcore 2 counters, non-zero:\n  none\n"
              "counters (all workers, non-zero):\n  rx_packets 7\n  nat_in 5\n" +
                  port +
                  "connections 3 of 65536\n"
                  "mempool kadp_exc: size 8191, in use 512, available 7679\n");
    EXPECT_EQ(render_stats(sample_dpdk_stats(), true),
              "backend dpdk: workers 2\n"
              "worker lcore 1 counters:\n  rx_packets 7\n  conn_new 0\n  nat_in 5\n"
              "worker lcore 2 counters:\n  rx_packets 0\n  conn_new 0\n  nat_in 0\n"
              "counters (all workers):\n  rx_packets 7\n  conn_new 0\n  nat_in 5\n" +
                  port +
                  "connections 3 of 65536\n"
                  "mempool kadp_exc: size 8191, in use 512, available 7679\n");
    StatsReply k;
    k.backend = "kernel";
    k.conn_capacity = 4096;
    k.conn_in_use = 11;
    k.ipvs = IpvsStats{12, 80, 75, 5600, 90000, 1, 8, 7, 560, 9000};
    EXPECT_EQ(render_stats(k, false),
              "backend kernel: no workers (Linux IPVS forwards)\n"
              "IPVS totals over every service: conns 12, inpkts 80, outpkts 75, inbytes 5600, outbytes 90000\n"
              "IPVS rates over every service: cps 1, inpps 8, outpps 7, inbps 560, outbps 9000\n"
              "connections 11 (IPVS connection table size 4096)\n");
}

TEST(KadpctlObserve, RenderReplyPrintsTextOrJsonAndExitsZero) {
    ObserveHandler h;
    for (const char* cmd : {"checks", "vrrp", "stats"}) {
        std::string error;
        const std::string line = serve_request(h, *parse_request(cmd, error));
        std::string out, err;
        EXPECT_EQ(render_reply(opts({cmd}), line, out, err), kCtlOk) << err;
        EXPECT_TRUE(err.empty()) << err;
        EXPECT_THAT(out, Not(HasSubstr("{")));
        out.clear();
        EXPECT_EQ(render_reply(opts({"--json", cmd}), line, out, err), kCtlOk);
        EXPECT_EQ(out, line);
    }
    std::string out, err;
    EXPECT_EQ(render_reply(opts({"checks"}), R"j({"ok":true,"command":"checks","result":{}})j", out, err),
              kCtlUnreachable);
    EXPECT_THAT(err, HasSubstr("'checkers'"));
}

TEST(KadpctlObserve, CheckerReportsBecomeTheReply) {
    chk::CheckerReport r;
    r.virtual_server = "[198.18.0.100]:tcp:80";
    r.real_server = "[198.19.0.1]:tcp:80";
    r.checked = r.real_server;
    r.type = "TCP_CHECK";
    r.up = false;
    r.in_service = false;
    r.retry = 3;
    r.record.ran = true;
    r.record.ok = false;
    r.record.reason = "TCP connection to [198.19.0.1]:tcp:80 timeout.";
    r.record.latency = chk::Millis(5000);
    r.record.finished = std::chrono::system_clock::time_point(std::chrono::seconds(kT0));
    r.record.transition = std::chrono::system_clock::time_point(std::chrono::seconds(kT0 - 4));
    r.record.consecutive_failures = 4;
    chk::CheckerReport pending = r;
    pending.pending = true;
    pending.record = chk::CheckRecord{};
    const ChecksReply c = checks_reply({r, pending});
    ASSERT_EQ(c.checkers.size(), 2u);
    EXPECT_EQ(c.checkers[0].state, "down");
    EXPECT_EQ(c.checkers[0].last_result, "failed");
    EXPECT_EQ(c.checkers[0].reason, "TCP connection to [198.19.0.1]:tcp:80 timeout.");
    EXPECT_EQ(c.checkers[0].latency_ms, 5000u);
    EXPECT_EQ(c.checkers[0].last_check, kT0);
    EXPECT_EQ(c.checkers[0].last_transition, kT0 - 4);
    EXPECT_EQ(c.checkers[0].consecutive_failures, 4u);
    EXPECT_EQ(c.checkers[0].retry, 3u);
    EXPECT_EQ(c.checkers[1].state, "pending");
    EXPECT_EQ(c.checkers[1].last_result, "");
    EXPECT_EQ(c.checkers[1].last_check, 0);
    EXPECT_EQ(c.checkers[1].last_transition, 0);
}

TEST(KadpctlObserve, VrrpStatusBecomesTheReply) {
    vrrp::VrrpService::InstanceStatus m;
    m.name = "VI_1";
    m.interface = "lan";
    m.vrid = 51;
    m.state = vrrp::State::master;
    m.priority = 150;
    m.base_priority = 100;
    m.master = conf::IpAddr::parse("198.18.0.2");
    m.reason = "higher priority advert";
    m.transition = std::chrono::system_clock::time_point(std::chrono::seconds(kT0));
    m.dropped = {{"bad_ttl", 2}, {"bad_password", 0}};
    vrrp::VrrpService::InstanceStatus b = m;
    b.state = vrrp::State::init;
    b.master.reset();
    b.transition.reset();
    b.reason.clear();
    const VrrpReply r = vrrp_reply({m, b}, {{"vrid_mismatch", 3}, {"bad_ttl", 0}});
    ASSERT_EQ(r.instances.size(), 2u);
    EXPECT_EQ(r.instances[0].state, "MASTER");
    EXPECT_EQ(r.instances[0].master, "198.18.0.2");
    EXPECT_TRUE(r.instances[0].master_is_self);
    EXPECT_EQ(r.instances[0].base_priority, 100u);
    EXPECT_EQ(r.instances[0].last_transition, kT0);
    EXPECT_EQ(r.instances[0].dropped, (NamedCounts{{"bad_ttl", 2}}));
    EXPECT_EQ(r.instances[1].master, "");
    EXPECT_FALSE(r.instances[1].master_is_self);
    EXPECT_EQ(r.instances[1].last_transition, 0);
    EXPECT_EQ(r.dropped, (NamedCounts{{"vrid_mismatch", 3}}));
}

}  // namespace
}  // namespace kadp::ctl
