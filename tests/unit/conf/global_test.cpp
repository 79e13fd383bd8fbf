// Runs on: any (unit test). global_defs: typed values, keepalived's defaults,
// ranges, the keywords kept as `other`, and diagnostics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conf/load.h"
#include "tests/unit/conf/load_fixture.h"

namespace kadp::conf {
namespace {

using ::testing::HasSubstr;
using namespace kadp::conf::testing;

TEST(GlobalDefs, DefaultsWithoutGlobalDefs)
{
    auto l = load("");
    expect_clean(l);
    const GlobalDefs& g = l.config.global_defs;
    EXPECT_FALSE(g.router_id.empty());
    EXPECT_EQ(g.smtp_connect_timeout, 30);
    EXPECT_EQ(g.vrrp_garp_master_delay, 5);
    EXPECT_EQ(g.vrrp_garp_master_repeat, 5);
    EXPECT_EQ(g.vrrp_garp_master_refresh, 0);
    EXPECT_EQ(g.vrrp_garp_master_refresh_repeat, 1);
    EXPECT_EQ(g.vrrp_version, 2);
    EXPECT_EQ(g.vrrp_mcast_group4.to_string(), "224.0.0.18");
    EXPECT_EQ(g.vrrp_mcast_group6.to_string(), "ff02::12");
    EXPECT_FALSE(g.smtp_server.has_value());
    EXPECT_FALSE(g.vrrp_strict);
}

TEST(GlobalDefs, TypedValues)
{
    auto l = load(R"(global_defs {
    router_id LVS_1
    notification_email {
        a@example.com
        b@example.com
    }
    notification_email_from lb@example.com
    smtp_server 198.18.0.3 2525
    smtp_helo_name lb1
    smtp_connect_timeout 12
    enable_script_security
    script_user nobody nogroup
    vrrp_garp_master_delay 10
    vrrp_garp_master_repeat 2
    vrrp_garp_master_refresh 60
    vrrp_garp_master_refresh_repeat 3
    vrrp_version 3
    vrrp_mcast_group4 224.0.0.19
    vrrp_mcast_group6 ff02::13
    vrrp_strict
}
)");
    expect_clean(l);
    const GlobalDefs& g = l.config.global_defs;
    EXPECT_EQ(g.router_id, "LVS_1");
    EXPECT_THAT(g.notification_email, ::testing::ElementsAre("a@example.com", "b@example.com"));
    EXPECT_EQ(g.notification_email_from, "lb@example.com");
    ASSERT_TRUE(g.smtp_server.has_value());
    EXPECT_EQ(g.smtp_server->address.to_string(), "198.18.0.3");
    EXPECT_EQ(g.smtp_server->port, 2525);
    EXPECT_EQ(g.smtp_helo_name, "lb1");
    EXPECT_EQ(g.smtp_connect_timeout, 12);
    EXPECT_TRUE(g.enable_script_security);
    EXPECT_EQ(g.script_user, "nobody");
    EXPECT_EQ(g.script_group, "nogroup");
    EXPECT_EQ(g.vrrp_garp_master_delay, 10);
    EXPECT_EQ(g.vrrp_garp_master_repeat, 2);
    EXPECT_EQ(g.vrrp_garp_master_refresh, 60);
    EXPECT_EQ(g.vrrp_garp_master_refresh_repeat, 3);
    EXPECT_EQ(g.vrrp_version, 3);
    EXPECT_EQ(g.vrrp_mcast_group4.to_string(), "224.0.0.19");
    EXPECT_EQ(g.vrrp_mcast_group6.to_string(), "ff02::13");
    EXPECT_TRUE(g.vrrp_strict);
}

TEST(GlobalDefs, SmtpServerDefaultPort)
{
    auto l = load("global_defs {\n smtp_server 198.18.0.3\n}\n");
    expect_clean(l);
    ASSERT_TRUE(l.config.global_defs.smtp_server.has_value());
    EXPECT_EQ(l.config.global_defs.smtp_server->port, 25);
}

// keepalived reads every word of the block as an address.
TEST(GlobalDefs, NotificationEmailTakesEveryWordOfTheBlock)
{
    auto l = load("global_defs {\n notification_email {\n  a@x b@y\n }\n}\n");
    expect_clean(l);
    EXPECT_THAT(l.config.global_defs.notification_email, ::testing::ElementsAre("a@x", "b@y"));
}

TEST(GlobalDefs, OutOfRangeValuesAreErrors)
{
    auto l = load(R"(global_defs {
    vrrp_version 4
    smtp_connect_timeout 0
    vrrp_garp_master_repeat 0
    vrrp_garp_master_refresh -1
    vrrp_garp_master_refresh_repeat 0
    smtp_server 198.18.0.3 70000
    vrrp_garp_master_delay 5000
}
)");
    expect_diag(l, Severity::error, 2, "vrrp_version");
    expect_diag(l, Severity::error, 3, "smtp_connect_timeout");
    expect_diag(l, Severity::error, 4, "vrrp_garp_master_repeat");
    expect_diag(l, Severity::error, 5, "vrrp_garp_master_refresh");
    expect_diag(l, Severity::error, 6, "vrrp_garp_master_refresh_repeat");
    expect_diag(l, Severity::error, 7, "70000");
    expect_diag(l, Severity::error, 8, "vrrp_garp_master_delay");
    // Defaults survive a rejected value.
    EXPECT_EQ(l.config.global_defs.vrrp_version, 2);
    EXPECT_EQ(l.config.global_defs.vrrp_garp_master_repeat, 5);
    EXPECT_FALSE(l.config.global_defs.smtp_server.has_value());
}

TEST(GlobalDefs, McastGroupMustBeMulticastOfItsFamily)
{
    auto l = load("global_defs {\n vrrp_mcast_group4 198.18.0.1\n vrrp_mcast_group6 224.0.0.18\n}\n");
    expect_diag(l, Severity::error, 2, "not an IPv4 multicast");
    expect_diag(l, Severity::error, 3, "not an IPv6 multicast");
    EXPECT_EQ(l.config.global_defs.vrrp_mcast_group4.to_string(), "224.0.0.18");
}

TEST(GlobalDefs, MissingValueIsAnError)
{
    auto l = load("global_defs {\n router_id\n}\n");
    expect_diag(l, Severity::error, 2, "router_id");
}

TEST(GlobalDefs, OtherKeywordsAreRecognisedAndKept)
{
    auto l = load(R"(global_defs {
    vrrp_skip_check_adv_addr
    enable_snmp_vrrp
    nftables keepalived
    default_interface eth0
    vrrp_garp_interval 0.001
    max_auto_priority 10
    umask 0077
}
)");
    expect_clean(l);
    const auto& o = l.config.global_defs.other;
    ASSERT_EQ(o.size(), 7u);
    EXPECT_EQ(o[0].keyword, "vrrp_skip_check_adv_addr");
    EXPECT_EQ(o[2].keyword, "nftables");
    EXPECT_EQ(o[2].value, "keepalived");
    EXPECT_EQ(o[3].loc.line, 5);
}

TEST(GlobalDefs, UnknownKeywordWarns)
{
    auto l = load("global_defs {\n foo_bar 1\n net_namespace x\n}\n");
    expect_diag(l, Severity::warning, 2, "Unknown keyword 'foo_bar'");
    // A top-level keyword in 2.2.7, unknown inside global_defs.
    expect_diag(l, Severity::warning, 3, "Unknown keyword 'net_namespace'");
    EXPECT_FALSE(l.diags.has_errors());
}

TEST(GlobalDefs, LvsSyncDaemon)
{
    auto l = load(R"(global_defs {
    lvs_sync_daemon eth0 VI_1 id 5 maxlen 1400 port 8848 ttl 2 group 224.0.0.81
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        198.18.0.1
    }
}
)");
    expect_clean(l);
    const auto& d = l.config.global_defs.lvs_sync_daemon;
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->interface, "eth0");
    EXPECT_EQ(d->vrrp_instance, "VI_1");
    EXPECT_EQ(d->id, "5");
    EXPECT_EQ(d->maxlen, 1400);
    EXPECT_EQ(d->port, 8848);
    EXPECT_EQ(d->ttl, 2);
    EXPECT_EQ(d->group.to_string(), "224.0.0.81");
}

TEST(GlobalDefs, LvsSyncDaemonNamesMissingInstance)
{
    auto l = load("global_defs {\n lvs_sync_daemon eth0 inst VI_9\n}\n");
    expect_diag(l, Severity::warning, 1, "vrrp_instance VI_9 doesn't exist");
}

}  // namespace
}  // namespace kadp::conf
