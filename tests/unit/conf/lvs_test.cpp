// Runs on: any (unit test). virtual_server_group, virtual_server, real_server
// and sorry_server: values, keepalived's defaults and fix-ups, diagnostics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "conf/load.h"
#include "tests/unit/conf/load_fixture.h"

namespace kadp::conf {
namespace {

using ::testing::HasSubstr;
using namespace kadp::conf::testing;

// A complete service, so tests see only the diagnostics they provoke.
const char* kClean = R"(virtual_server 198.18.0.1 80 {
    protocol TCP
    lb_algo rr
    lb_kind NAT
    real_server 198.18.1.1 8080 {
        TCP_CHECK {
        }
    }
}
)";

TEST(LvsVirtualServer, CleanServiceHasNoDiagnostics)
{
    auto l = load(kClean);
    EXPECT_TRUE(l.diags.all().empty()) << Diagnostics::format(l.diags.all().front());
    ASSERT_EQ(l.config.virtual_servers.size(), 1u);
    const auto& vs = l.config.virtual_servers[0];
    EXPECT_EQ(vs.address.to_string(), "198.18.0.1");
    EXPECT_EQ(vs.port, 80);
    EXPECT_EQ(vs.protocol, Protocol::tcp);
    EXPECT_EQ(vs.lb_algo, "rr");
    ASSERT_EQ(vs.real_servers.size(), 1u);
    EXPECT_EQ(vs.real_servers[0].port, 8080);  // NAT may change the port
    EXPECT_EQ(vs.real_servers[0].weight, 1);
}

TEST(LvsVirtualServer, DefaultsWarnLikeKeepalived)
{
    auto l = load("virtual_server 198.18.0.1 80 {\n"
                  "    real_server 198.18.1.1 80 {\n"
                  "    }\n"
                  "}\n");
    EXPECT_FALSE(l.diags.has_errors());
    expect_diag(l, Severity::warning, 1, "no protocol set - defaulting to UDP");
    expect_diag(l, Severity::warning, 1, "no scheduler set, setting default 'wlc'");
    expect_diag(l, Severity::warning, 1, "no forwarding method set, setting default NAT");
    const auto& vs = l.config.virtual_servers.at(0);
    EXPECT_EQ(vs.protocol, Protocol::udp);
    EXPECT_EQ(vs.lb_algo, "wlc");
    EXPECT_EQ(vs.lb_kind, LbKind::nat);
    EXPECT_EQ(vs.quorum, 1);
    EXPECT_EQ(vs.hysteresis, 0);
    EXPECT_DOUBLE_EQ(vs.delay_loop.value, 60);
    EXPECT_DOUBLE_EQ(vs.connect_timeout.value, 5);
    EXPECT_EQ(vs.real_servers.at(0).lvs_method, LbKind::nat);
    EXPECT_FALSE(vs.persistence_timeout.has_value());
}

TEST(LvsVirtualServer, FwmarkProtocolIgnoredWithWarning)
{
    auto l = load("virtual_server fwmark 5 {\n"
                  "    protocol TCP\n"
                  "    lb_algo rr\n"
                  "    lb_kind NAT\n"
                  "    ha_suspend\n"
                  "    real_server 198.18.1.1 80 {\n"
                  "    }\n"
                  "}\n");
    expect_diag(l, Severity::warning, 1, "protocol specified for fwmark - protocol will be ignored");
    expect_diag(l, Severity::warning, 1, "cannot use ha_suspend with fwmarks");
    EXPECT_EQ(find(l, 1, "no protocol set"), nullptr);
    const auto& vs = l.config.virtual_servers.at(0);
    EXPECT_EQ(vs.kind, VirtualServer::Kind::fwmark);
    EXPECT_EQ(vs.fwmark, 5u);
    EXPECT_FALSE(vs.ha_suspend);
}

TEST(LvsVirtualServer, SchedulerAndMethodValues)
{
    auto l = load("virtual_server 198.18.0.1 80 {\n"
                  "    protocol tcp\n"
                  "    lb_algo foo\n"
                  "    lvs_sched mh\n"
                  "    mh-port\n"
                  "    sh-port\n"
                  "    lb_kind nat\n"
                  "    lvs_method TUN type gue port 6080 csum\n"
                  "    real_server 198.18.1.1 80 {\n"
                  "    }\n"
                  "}\n");
    expect_diag(l, Severity::error, 3,
                "virtual server [198.18.0.1]:80: invalid lvs_scheduler 'foo' (expects one of rr wrr lc wlc lblc "
                "lblcr dh sh mh sed nq fo ovf twos)");
    expect_diag(l, Severity::warning, 6, "sh-port only applies to sh scheduler");
    expect_diag(l, Severity::error, 7, "unknown [nat] routing method");
    const auto& vs = l.config.virtual_servers.at(0);
    EXPECT_EQ(vs.protocol, Protocol::tcp);  // protocol is case-insensitive
    EXPECT_EQ(vs.lb_algo, "mh");
    EXPECT_THAT(vs.lb_flags, ::testing::ElementsAre("mh-port"));
    EXPECT_EQ(vs.lb_kind, LbKind::tun);
    EXPECT_EQ(vs.tunnel.type, "gue");
    EXPECT_EQ(vs.tunnel.port, 6080);
    EXPECT_EQ(vs.tunnel.checksum, "csum");
    EXPECT_EQ(vs.real_servers.at(0).lvs_method, LbKind::tun);
    EXPECT_EQ(vs.real_servers.at(0).tunnel.type, "gue");
}

TEST(LvsVirtualServer, UnknownProtocolIsAnError)
{
    auto l = load("virtual_server 198.18.0.1 80 {\n    protocol ICMP\n    real_server 198.18.1.1 80 {\n    }\n}\n");
    expect_diag(l, Severity::error, 2, "Unknown protocol ICMP");
}

TEST(LvsVirtualServer, PersistenceAndQuorum)
{
    auto l = load("virtual_server 198.18.0.1 80 {\n"
                  "    protocol TCP\n"
                  "    lb_algo rr\n"
                  "    lb_kind DR\n"
                  "    persistence_timeout\n"
                  "    persistence_granularity 255.255.255.0\n"
                  "    quorum 0\n"
                  "    hysteresis 3\n"
                  "    real_server 198.18.1.1 80 {\n"
                  "        weight 2\n"
                  "    }\n"
                  "}\n"
                  "virtual_server 198.18.0.2 80 {\n"
                  "    protocol TCP\n"
                  "    lb_algo rr\n"
                  "    lb_kind DR\n"
                  "    persistence_timeout 0\n"
                  "    persistence_granularity 255.0.255.0\n"
                  "    quorum 5\n"
                  "    real_server 198.18.1.1 80 {\n"
                  "        weight 3\n"
                  "    }\n"
                  "}\n");
    expect_diag(l, Severity::warning, 7, "Quorum 0 must be at least 1");
    expect_diag(l, Severity::warning, 1, "hysteresis 3 >= quorum 1; setting hysteresis to 0");
    expect_diag(l, Severity::error, 17, "persistence_timeout");
    expect_diag(l, Severity::error, 18, "netmask is not solid");
    expect_diag(l, Severity::warning, 13, "quorum 5 for [198.18.0.2]:80 exceeds total weight of real servers 3");
    const auto& a = l.config.virtual_servers.at(0);
    EXPECT_EQ(a.persistence_timeout, 360);
    EXPECT_EQ(a.persistence_granularity.to_string(), "255.255.255.0");
    EXPECT_EQ(a.quorum, 1);
    EXPECT_EQ(a.hysteresis, 0);
    EXPECT_EQ(l.config.virtual_servers.at(1).quorum, 3);
}

TEST(LvsVirtualServer, ZeroPortNeedsPersistence)
{
    auto l = load("virtual_server 198.18.0.1 {\n    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n"
                  "    real_server 198.18.1.1 {\n    }\n}\n");
    expect_diag(l, Severity::warning, 1, "zero port only valid for persistent services");
    EXPECT_EQ(l.config.virtual_servers.at(0).persistence_timeout, 360);
}

TEST(LvsVirtualServer, PortOutOfRangeIsAnError)
{
    auto l = load("virtual_server 198.18.0.1 70000 {\n    protocol TCP\n}\n");
    expect_diag(l, Severity::error, 1, "'70000' is not a whole number from 1 to 65535");
    EXPECT_TRUE(l.config.virtual_servers.empty());
}

TEST(LvsVirtualServer, TimersInheritToRealServersAndCheckers)
{
    auto l = load("virtual_server 198.18.0.1 80 {\n"
                  "    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n"
                  "    delay_loop 10\n"
                  "    connect_timeout 3\n"
                  "    retry 4\n"
                  "    inhibit_on_failure\n"
                  "    alpha\n"
                  "    real_server 198.18.1.1 80 {\n"
                  "        connect_timeout 2\n"
                  "        delay_before_retry 7\n"
                  "        TCP_CHECK {\n"
                  "            retry 9\n"
                  "        }\n"
                  "    }\n"
                  "    real_server 198.18.1.2 80 {\n"
                  "        inhibit_on_failure false\n"
                  "        HTTP_GET {\n"
                  "            url {\n"
                  "                path /\n"
                  "            }\n"
                  "        }\n"
                  "    }\n"
                  "}\n");
    EXPECT_FALSE(l.diags.has_errors());
    const auto& vs = l.config.virtual_servers.at(0);
    const auto& r1 = vs.real_servers.at(0);
    EXPECT_DOUBLE_EQ(r1.delay_loop.value, 10);
    EXPECT_FALSE(r1.delay_loop.set);
    EXPECT_DOUBLE_EQ(r1.connect_timeout.value, 2);
    EXPECT_TRUE(r1.inhibit_on_failure.value);
    EXPECT_TRUE(r1.alpha.value);
    const auto& c1 = r1.checkers.at(0);
    EXPECT_DOUBLE_EQ(c1.delay_loop.value, 10);        // from the virtual server
    EXPECT_DOUBLE_EQ(c1.connect_timeout.value, 2);    // from the real server
    EXPECT_DOUBLE_EQ(c1.delay_before_retry.value, 7); // from the real server
    EXPECT_EQ(c1.retry.value, 9);                     // its own
    EXPECT_DOUBLE_EQ(c1.warmup.value, 10);            // unset: delay_loop
    EXPECT_TRUE(c1.alpha.value);
    const auto& r2 = vs.real_servers.at(1);
    EXPECT_FALSE(r2.inhibit_on_failure.value);
    const auto& c2 = r2.checkers.at(0);
    EXPECT_EQ(c2.retry.value, 4);                     // the VS's retry beats the type default
    EXPECT_DOUBLE_EQ(c2.delay_before_retry.value, 3); // HTTP_GET default
    EXPECT_DOUBLE_EQ(c2.connect_timeout.value, 3);
}

TEST(LvsRealServer, DirectRoutingResetsPortsAndFwmarkClearsThem)
{
    auto l = load("virtual_server 198.18.0.1 25 {\n"
                  "    protocol TCP\n    lb_algo rr\n    lb_kind DR\n"
                  "    real_server 198.18.1.2 26 {\n"
                  "    }\n"
                  "    real_server 198.18.1.3 {\n"
                  "    }\n"
                  "    sorry_server 198.18.1.9 27\n"
                  "}\n"
                  "virtual_server fwmark 7 {\n"
                  "    lb_algo rr\n    lb_kind DR\n"
                  "    real_server 198.18.1.2 26 {\n"
                  "        lvs_method TUN\n"
                  "    }\n"
                  "    real_server 198.18.1.3 26 {\n"
                  "        lvs_method NAT\n"
                  "    }\n"
                  "}\n");
    expect_diag(l, Severity::warning, 5, "ports don't match - resetting");
    expect_diag(l, Severity::warning, 1, "sorry server ports don't match");
    expect_diag(l, Severity::warning, 14, "has port specified - clearing");
    const auto& a = l.config.virtual_servers.at(0);
    EXPECT_EQ(a.real_servers.at(0).port, 25);
    EXPECT_EQ(a.real_servers.at(1).port, 25);
    EXPECT_EQ(a.sorry_server->port, 25);
    EXPECT_EQ(a.sorry_server->lvs_method, LbKind::dr);
    const auto& b = l.config.virtual_servers.at(1);
    EXPECT_EQ(b.real_servers.at(0).port, 0);
    EXPECT_EQ(b.real_servers.at(0).lvs_method, LbKind::tun);
    EXPECT_EQ(b.real_servers.at(1).port, 26);  // NAT keeps its port
    EXPECT_EQ(find(l, 17, "clearing"), nullptr);
}

TEST(LvsRealServer, DuplicatesAndFamilyMismatchAreRemoved)
{
    auto l = load("virtual_server 198.18.0.1 80 {\n"
                  "    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n"
                  "    real_server 198.18.1.1 80 {\n"
                  "    }\n"
                  "    real_server 198.18.1.1 80 {\n"
                  "    }\n"
                  "    real_server 2001:db8::1 80 {\n"
                  "    }\n"
                  "    real_server 2001:db8::2 80 {\n"
                  "        lvs_method TUN\n"
                  "    }\n"
                  "}\n");
    EXPECT_FALSE(l.diags.has_errors());
    expect_diag(l, Severity::warning, 7, "is duplicated - removing second rs");
    expect_diag(l, Severity::warning, 9, "Address family of virtual server [198.18.0.1]:80 and real server 2001:db8::1");
    const auto& rs = l.config.virtual_servers.at(0).real_servers;
    ASSERT_EQ(rs.size(), 2u);
    EXPECT_EQ(rs[1].address.to_string(), "2001:db8::2");  // tunnelled: any family
}

TEST(LvsRealServer, KeywordsAndRanges)
{
    auto l = load("virtual_server 198.18.0.1 80 {\n"
                  "    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n"
                  "    real_server 198.18.1.1 80 {\n"
                  "        weight -1\n"
                  "        weight 7\n"
                  "        uthreshold 100\n"
                  "        lthreshold 10\n"
                  "        notify_up \"/bin/up arg\"\n"
                  "        notify_down /bin/down\n"
                  "        smtp_alert off\n"
                  "        snmp_name web1\n"
                  "        virtualhost\n"
                  "        bogus 1\n"
                  "    }\n"
                  "}\n");
    expect_diag(l, Severity::error, 6, "weight");
    expect_diag(l, Severity::warning, 14, "real server virtualhost missing");
    expect_diag(l, Severity::warning, 15, "Unknown keyword 'bogus'");
    const auto& rs = l.config.virtual_servers.at(0).real_servers.at(0);
    EXPECT_EQ(rs.weight, 7);
    EXPECT_EQ(rs.uthreshold, 100);
    EXPECT_EQ(rs.lthreshold, 10);
    EXPECT_THAT(rs.notify_up.argv, ::testing::ElementsAre("/bin/up", "arg"));
    EXPECT_EQ(rs.notify_down.command, "/bin/down");
    EXPECT_EQ(rs.smtp_alert, false);
    EXPECT_EQ(rs.snmp_name, "web1");
}

TEST(LvsVirtualServer, ServicesWithoutRealServersAreIgnored)
{
    auto l = load("virtual_server 198.18.0.1 80 {\n"
                  "    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n"
                  "    sorry_server 198.18.1.9 80\n"
                  "    sorry_server_inhibit\n"
                  "}\n");
    expect_diag(l, Severity::warning, 1, "has no real servers - ignoring");
    EXPECT_TRUE(l.config.virtual_servers.empty());
}

TEST(LvsVirtualServer, SorryServerInhibitWithoutSorryServer)
{
    auto l = load("virtual_server 198.18.0.1 80 {\n"
                  "    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n"
                  "    sorry_server_inhibit\n"
                  "    sorry_server 198.18.1.9 8080\n"
                  "    sorry_server_lvs_method DR\n"
                  "    real_server 198.18.1.1 80 {\n    }\n"
                  "}\n");
    expect_diag(l, Severity::warning, 5, "sorry_server_inhibit used before or without sorry_server");
    const auto& vs = l.config.virtual_servers.at(0);
    EXPECT_FALSE(vs.sorry_server_inhibit);
    ASSERT_TRUE(vs.sorry_server.has_value());
    EXPECT_EQ(vs.sorry_server->lvs_method, LbKind::dr);
    EXPECT_EQ(vs.sorry_server->port, 80);  // DR: reset to the service port
}

TEST(LvsVirtualServer, DuplicateServicesAreErrors)
{
    std::string text = std::string(kClean) + kClean;
    auto l = load(text);
    expect_diag(l, Severity::error, 10, "duplicate virtual server [198.18.0.1]:80 TCP (first defined at line 1)");
}

TEST(LvsGroup, EntriesRangesAndFwmarks)
{
    auto l = load("virtual_server_group G {\n"
                  "   198.18.0.10-20 80\n"
                  "   198.18.0.30-198.18.1.2 443\n"
                  "   198.18.2.8/29 80\n"
                  "   198.18.0.50\n"
                  "   fwmark 4\n"
                  "   198.18.0.10-10 80\n"
                  "   bogus 80\n"
                  "}\n"
                  "virtual_server group G {\n"
                  "    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n"
                  "    real_server 198.18.1.1 80 {\n    }\n"
                  "}\n");
    expect_diag(l, Severity::warning, 7, "address range end is not greater than address range start");
    expect_diag(l, Severity::error, 8, "'bogus' is not an IP address");
    ASSERT_EQ(l.config.virtual_server_groups.size(), 1u);
    const auto& e = l.config.virtual_server_groups[0].entries;
    ASSERT_EQ(e.size(), 5u);
    EXPECT_EQ(e[0].address.to_string(), "198.18.0.10");
    EXPECT_EQ(e[0].range_end.to_string(), "198.18.0.20");
    EXPECT_EQ(e[0].port, 80);
    EXPECT_EQ(e[1].range_end.to_string(), "198.18.1.2");
    EXPECT_EQ(e[2].address.to_string(), "198.18.2.8");
    EXPECT_EQ(e[2].range_end.to_string(), "198.18.2.15");
    EXPECT_EQ(e[3].port, 0);
    EXPECT_EQ(e[3].range_end, e[3].address);
    EXPECT_EQ(e[4].kind, VirtualServerGroupEntry::Kind::fwmark);
    EXPECT_EQ(e[4].fwmark, 4u);
    ASSERT_EQ(l.config.virtual_servers.size(), 1u);
    EXPECT_EQ(l.config.virtual_servers[0].group, "G");
}

TEST(LvsGroup, EmptyMixedAndMissingGroups)
{
    auto l = load("virtual_server_group E {\n"
                  "}\n"
                  "virtual_server_group M {\n"
                  "   198.18.0.1 80\n"
                  "   2001:db8::1 80\n"
                  "   fwmark 3\n"
                  "}\n"
                  "virtual_server group NOPE {\n"
                  "    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n"
                  "    real_server 198.18.1.1 80 {\n    }\n"
                  "}\n");
    expect_diag(l, Severity::warning, 1, "virtual server group E has no entries - removing");
    expect_diag(l, Severity::warning, 3, "cannot have IPv4, IPv6 and fwmark without family - removing");
    expect_diag(l, Severity::warning, 8, "Virtual server group NOPE specified but not configured");
    EXPECT_TRUE(l.config.virtual_server_groups.empty());
    EXPECT_TRUE(l.config.virtual_servers.empty());
}

TEST(LvsVirtualServer, RecognisedKeywordsDoNotWarn)
{
    auto l = load("virtual_server 198.18.0.1 80 {\n"
                  "    protocol UDP\n    lb_algo sh\n    lb_kind NAT\n"
                  "    sh-port\n    sh-fallback\n    ops\n    hashed\n    flag-1\n"
                  "    persistence_engine sip\n    smtp_alert\n    snmp_name svc\n    omega\n"
                  "    virtualhost www.example\n    warmup 2\n    delay_before_retry 4\n"
                  "    quorum_up \"/bin/qup 1\"\n    quorum_down /bin/qdown\n    weight 2\n"
                  "    real_server 198.18.1.1 80 {\n    }\n"
                  "}\n");
    EXPECT_TRUE(l.diags.all().empty()) << Diagnostics::format(l.diags.all().front());
    const auto& vs = l.config.virtual_servers.at(0);
    EXPECT_THAT(vs.lb_flags, ::testing::ElementsAre("sh-port", "sh-fallback", "ops", "hashed", "flag-1"));
    EXPECT_EQ(vs.persistence_engine, "sip");
    EXPECT_TRUE(vs.omega);
    EXPECT_EQ(vs.virtualhost, "www.example");
    EXPECT_THAT(vs.quorum_up.argv, ::testing::ElementsAre("/bin/qup", "1"));
    EXPECT_DOUBLE_EQ(vs.real_servers.at(0).warmup.value, 2);
}

TEST(LvsVirtualServer, OpsNeedsUdp)
{
    auto l = load("virtual_server 198.18.0.1 80 {\n    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n    ops\n"
                  "    real_server 198.18.1.1 80 {\n    }\n}\n");
    expect_diag(l, Severity::warning, 1, "one packet scheduling requires UDP - resetting");
    EXPECT_TRUE(l.config.virtual_servers.at(0).lb_flags.empty());
}

}  // namespace
}  // namespace kadp::conf
