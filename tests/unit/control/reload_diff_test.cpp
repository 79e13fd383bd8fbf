// Runs on: any (unit test). What a reload reports as changed, and which
// dataplane-block changes need a restart.
#include "control/reload_diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

IpvsService svc(std::uint16_t port, std::vector<std::pair<const char*, int>> dests, const char* sched = "rr") {
    IpvsService s;
    s.protocol = conf::Protocol::tcp;
    s.address = *conf::IpAddr::parse("198.18.0.100");
    s.port = port;
    s.scheduler = sched;
    for (const auto& [addr, weight] : dests) {
        IpvsDest d;
        d.address = *conf::IpAddr::parse(addr);
        d.port = 80;
        d.weight = weight;
        s.dests.push_back(d);
    }
    return s;
}

TEST(ReloadDiff, SameStateIsNoChange)
{
    const std::vector<IpvsService> a{svc(80, {{"198.19.0.1", 1}, {"198.19.0.2", 1}})};
    auto b = a;
    b[0].dests[0].active_conns = 99;  // counters are not settings
    const ServiceChanges c = diff_services(a, b);
    EXPECT_TRUE(c.empty());
    EXPECT_EQ(c.summary(), "no change");
}

TEST(ReloadDiff, NamesEveryKindOfChange)
{
    const std::vector<IpvsService> before{svc(80, {{"198.19.0.1", 1}, {"198.19.0.2", 1}, {"198.19.0.3", 1}}),
                                          svc(443, {{"198.19.0.1", 1}})};
    const std::vector<IpvsService> after{svc(80, {{"198.19.0.1", 3}, {"198.19.0.2", 1}, {"198.19.0.4", 2}}, "wrr"),
                                         svc(8080, {{"198.19.0.1", 1}})};
    const ServiceChanges c = diff_services(before, after);
    EXPECT_EQ(c.services_added, 1u);
    EXPECT_EQ(c.services_removed, 1u);
    EXPECT_EQ(c.services_changed, 1u);
    EXPECT_EQ(c.dests_added, 1u);
    EXPECT_EQ(c.dests_removed, 1u);
    EXPECT_EQ(c.dests_changed, 1u);
    EXPECT_THAT(c.lines, ElementsAre("service TCP 198.18.0.100:443 removed (1 real server)",
                                     "service TCP 198.18.0.100:80 changed: scheduler rr -> wrr",
                                     "real server 198.19.0.3:80 of TCP 198.18.0.100:80 removed",
                                     "real server 198.19.0.1:80 of TCP 198.18.0.100:80: weight 1 -> 3",
                                     "real server 198.19.0.4:80 of TCP 198.18.0.100:80 added (weight 2)",
                                     "service TCP 198.18.0.100:8080 added (rr, 1 real server)"));
    EXPECT_EQ(c.summary(), "1 service added, 1 service removed, 1 service changed, 1 real server added, "
                           "1 real server removed, 1 real server changed");
}

conf::Dataplane dataplane() {
    conf::Dataplane d;
    conf::DataplaneInterface lan;
    lan.loc = {"k.conf", 2};
    lan.name = "lan";
    lan.device = "net_af_packet0,iface=lan";
    lan.address = {*conf::IpPrefix::parse("198.18.0.254/24")};
    d.interfaces = {lan};
    d.conn_table_size = 65536;
    return d;
}

TEST(ReloadDiff, RoutesMayChangeWithoutARestart)
{
    const conf::Dataplane running = dataplane();
    auto next = running;
    conf::DataplaneRoute r;
    r.prefix = *conf::IpPrefix::parse("198.19.0.0/16");
    r.via = *conf::IpAddr::parse("198.18.0.1");
    next.routes.push_back(r);
    EXPECT_FALSE(dataplane_restart_reason(running, next));
    EXPECT_FALSE(dataplane_restart_reason(running, running));
}

// The stuck-worker threshold is applied by a reload and reported.
TEST(ReloadDiff, StuckWorkerTimeoutChangesLive)
{
    const conf::Dataplane running = dataplane();
    auto next = running;
    next.stuck_worker_timeout_ms = 250;
    EXPECT_FALSE(dataplane_restart_reason(running, next));
    EXPECT_EQ(dataplane_live_changes(running, next), std::vector<std::string>{"stuck_worker_timeout 1000 -> 250 ms"});
    EXPECT_TRUE(dataplane_live_changes(running, running).empty());
}

TEST(ReloadDiff, PortChangesNeedARestart)
{
    const conf::Dataplane running = dataplane();
    auto device = running;
    device.interfaces[0].device = "net_af_packet0,iface=other";
    const auto why = dataplane_restart_reason(running, device);
    ASSERT_TRUE(why);
    EXPECT_THAT(*why, HasSubstr("k.conf:2: interface lan: device"));
    EXPECT_THAT(*why, HasSubstr("needs a restart"));

    auto address = running;
    address.interfaces[0].address = {*conf::IpPrefix::parse("198.18.0.253/24")};
    EXPECT_THAT(dataplane_restart_reason(running, address).value_or(""), HasSubstr("addresses changed"));
    auto size = running;
    size.conn_table_size = 1024;
    EXPECT_THAT(dataplane_restart_reason(running, size).value_or(""), HasSubstr("conn_table_size 65536 -> 1024"));
    conf::Dataplane defense = running;
    defense.conn_defense_full_pct = 95;
    EXPECT_THAT(dataplane_restart_reason(running, defense).value_or(""), HasSubstr("conn_defense needs a restart"));
    auto more = running;
    more.interfaces.push_back(more.interfaces[0]);
    EXPECT_THAT(dataplane_restart_reason(running, more).value_or(""), HasSubstr("2 interfaces instead of 1"));
    EXPECT_THAT(dataplane_restart_reason(running, std::nullopt).value_or(""), HasSubstr("removed"));
}

TEST(ReloadDiff, MetricsListenChangesNeedARestart)
{
    const conf::Metrics a{{}, *conf::IpAddr::parse("127.0.0.1"), 9115};
    conf::Metrics b = a;
    EXPECT_EQ(metrics_restart_reason(std::nullopt, std::nullopt), std::nullopt);
    EXPECT_EQ(metrics_restart_reason(a, b), std::nullopt);
    b.loc.line = 7;  // moved in the file: the same listener
    EXPECT_EQ(metrics_restart_reason(a, b), std::nullopt);
    b.port = 9116;
    EXPECT_EQ(metrics_restart_reason(a, b),
              "metrics listen 127.0.0.1 9115 -> listen 127.0.0.1 9116 needs a restart of kadp (the running metrics listener stays)");
    EXPECT_EQ(metrics_restart_reason(std::nullopt, a),
              "metrics off -> listen 127.0.0.1 9115 needs a restart of kadp (the running metrics listener stays)");
    EXPECT_EQ(metrics_restart_reason(a, std::nullopt),
              "metrics listen 127.0.0.1 9115 -> off needs a restart of kadp (the running metrics listener stays)");
}

}  // namespace
}  // namespace kadp::ctl
