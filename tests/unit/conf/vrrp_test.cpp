// Runs on: any (unit test). vrrp_script, vrrp_sync_group, vrrp_instance:
// values, defaults resolved as keepalived 2.2.7 does, ranges, list rules,
// keepalived's corrections and every cross-reference check.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conf/load.h"
#include "tests/unit/conf/load_fixture.h"

namespace kadp::conf {
namespace {

using ::testing::HasSubstr;
using namespace kadp::conf::testing;

// An instance with `extra` lines inserted at line 5 (after virtual_router_id).
std::string instance(const std::string& name, int vrid, const std::string& extra = "",
                     const std::string& vip = "198.18.0.1/24")
{
    return "vrrp_instance " + name + " {\n    interface eth0\n    virtual_router_id " + std::to_string(vrid) +
           "\n    virtual_ipaddress {\n" + "        " + vip + "\n    }\n" + extra + "}\n";
}

const VrrpInstance& only(const Loaded& l)
{
    EXPECT_EQ(l.config.vrrp_instances.size(), 1u) << all_diags(l);
    return l.config.vrrp_instances.at(0);
}

TEST(VrrpInstance, Defaults)
{
    auto l = load(instance("VI_1", 51));
    expect_clean(l);
    const VrrpInstance& v = only(l);
    EXPECT_EQ(v.name, "VI_1");
    EXPECT_EQ(v.interface, "eth0");
    EXPECT_EQ(v.virtual_router_id, 51);
    EXPECT_EQ(v.state, VrrpState::backup);
    EXPECT_EQ(v.priority, 100);
    EXPECT_EQ(v.version, 2);
    EXPECT_EQ(v.advert_int, 1);
    EXPECT_FALSE(v.nopreempt);
    EXPECT_EQ(v.auth_type, AuthType::none);
    EXPECT_EQ(v.garp_master_delay, 5);
    EXPECT_EQ(v.garp_master_repeat, 5);
    EXPECT_EQ(v.garp_master_refresh, 0);
    EXPECT_EQ(v.garp_master_refresh_repeat, 1);
    ASSERT_EQ(v.accept.has_value(), true);
    EXPECT_TRUE(*v.accept);
    ASSERT_EQ(v.virtual_ipaddress.size(), 1u);
    EXPECT_EQ(v.virtual_ipaddress[0].address.to_string(), "198.18.0.1/24");
    EXPECT_EQ(v.virtual_ipaddress[0].loc.line, 5);
}

TEST(VrrpInstance, StateMasterWithoutPriorityMeans255)
{
    EXPECT_EQ(only(load(instance("V", 1, "    state MASTER\n"))).priority, 255);
    EXPECT_EQ(only(load(instance("V", 1, "    state MASTER\n    priority 150\n"))).priority, 150);
    EXPECT_EQ(only(load(instance("V", 1, "    priority 150\n    state MASTER\n"))).priority, 150);
    EXPECT_EQ(only(load(instance("V", 1, "    state BACKUP\n"))).priority, 100);
}

TEST(VrrpInstance, InheritsGlobalsWhereverGlobalDefsIs)
{
    // global_defs after the instance still applies, as in keepalived.
    auto l = load(instance("V", 1) + R"(global_defs {
    vrrp_version 3
    vrrp_garp_master_delay 10
    vrrp_garp_master_repeat 2
    vrrp_garp_master_refresh 60
    vrrp_garp_master_refresh_repeat 4
    vrrp_strict
}
)");
    expect_clean(l);
    const VrrpInstance& v = only(l);
    EXPECT_EQ(v.version, 3);
    EXPECT_EQ(v.garp_master_delay, 10);
    EXPECT_EQ(v.garp_master_repeat, 2);
    EXPECT_EQ(v.garp_master_refresh, 60);
    EXPECT_EQ(v.garp_master_refresh_repeat, 4);
    EXPECT_FALSE(*v.accept);  // strict mode: no_accept
}

TEST(VrrpInstance, OwnValuesOverrideGlobals)
{
    auto l = load("global_defs {\n vrrp_version 3\n vrrp_garp_master_delay 10\n}\n" +
                  instance("V", 1, "    version 2\n    garp_master_delay 0\n    garp_master_repeat 3\n"
                                   "    garp_master_refresh 30\n    garp_master_refresh_repeat 2\n    accept\n"));
    expect_clean(l);
    const VrrpInstance& v = only(l);
    EXPECT_EQ(v.version, 2);
    EXPECT_EQ(v.garp_master_delay, 0);
    EXPECT_EQ(v.garp_master_repeat, 3);
    EXPECT_EQ(v.garp_master_refresh, 30);
    EXPECT_EQ(v.garp_master_refresh_repeat, 2);
}

TEST(VrrpInstance, Ipv6InstanceIsVersion3)
{
    auto l = load(instance("V", 1, "", "2001:db8::1/64"));
    expect_clean(l);
    EXPECT_EQ(only(l).version, 3);
}

TEST(VrrpInstance, TypedValues)
{
    auto l = load(instance("V", 7, R"(    priority 150
    advert_int 3
    nopreempt
    preempt_delay 4.5
    unicast_src_ip 198.18.0.10
    unicast_peer {
        198.18.0.11
        198.18.0.12 min_ttl 1 max_ttl 255
    }
    mcast_src_ip 198.18.0.10
    notify_master "/bin/echo master" root
    notify "/bin/notify.sh"
    smtp_alert
    use_vmac vrrp.7
    dont_track_primary
    no_accept
    virtual_ipaddress_excluded {
        2001:db8::5/64 dev eth1
    }
    virtual_routes {
        198.18.110.0/24 via 198.18.0.254 dev eth1
    }
    track_interface {
        eth1
        eth2 weight -10 reverse
    }
)"));
    expect_clean(l);
    const VrrpInstance& v = only(l);
    EXPECT_EQ(v.priority, 150);
    EXPECT_EQ(v.advert_int, 3);
    EXPECT_TRUE(v.nopreempt);
    EXPECT_EQ(v.preempt_delay, 4.5);
    EXPECT_EQ(v.unicast_src_ip.to_string(), "198.18.0.10");
    ASSERT_EQ(v.unicast_peer.size(), 2u);
    EXPECT_EQ(v.unicast_peer[1].to_string(), "198.18.0.12");
    EXPECT_EQ(v.mcast_src_ip.to_string(), "198.18.0.10");
    EXPECT_EQ(v.notify_master.argv, (std::vector<std::string>{"/bin/echo", "master"}));
    EXPECT_EQ(v.notify_master.user, "root");
    EXPECT_EQ(v.notify.command, "/bin/notify.sh");
    EXPECT_TRUE(v.smtp_alert);
    EXPECT_TRUE(v.use_vmac);
    EXPECT_TRUE(v.dont_track_primary);
    EXPECT_FALSE(*v.accept);
    ASSERT_EQ(v.virtual_ipaddress_excluded.size(), 1u);
    EXPECT_EQ(v.virtual_ipaddress_excluded[0].dev, "eth1");
    ASSERT_EQ(v.virtual_routes.size(), 1u);
    EXPECT_EQ(v.virtual_routes[0].via.to_string(), "198.18.0.254");
    ASSERT_EQ(v.track_interface.size(), 2u);
    EXPECT_EQ(v.track_interface[0].weight, 0);
    EXPECT_EQ(v.track_interface[1].weight, -10);
    EXPECT_TRUE(v.track_interface[1].reverse);
}

TEST(VrrpInstance, OtherKeywordsAreKept)
{
    auto l = load(instance("V", 1, "    strict_mode off\n    garp_extra_if 100\n    track_file {\n        f\n    }\n"
                                   "    track_bfd {\n        b1\n    }\n"));
    expect_clean(l);
    const auto& o = only(l).other;
    ASSERT_EQ(o.size(), 4u);
    EXPECT_EQ(o[0].keyword, "strict_mode");
    EXPECT_EQ(o[0].value, "off");
    EXPECT_EQ(o[3].keyword, "track_bfd");
}

TEST(VrrpInstance, VirtualRulesAreParsed)
{
    auto l = load(instance("V", 1, "    virtual_rules {\n        from 198.18.2.0/24 table 7 preference 100\n"
                                   "        to 198.18.3./24 table 1 preference 101\n"
                                   "        from 198.18.4.0/24 table 2\n    }\n"));
    const auto& rules = only(l).virtual_rules;
    ASSERT_EQ(rules.size(), 2u);
    ASSERT_TRUE(rules[0].from.has_value());
    EXPECT_EQ(rules[0].from->to_string(), "198.18.2.0/24");
    EXPECT_FALSE(rules[0].to.has_value());
    EXPECT_EQ(rules[0].table, "7");
    EXPECT_EQ(rules[0].preference, 100);
    EXPECT_EQ(rules[1].preference, -1);
    expect_diag(l, Severity::warning, 9, "Invalid rule to address 198.18.3./24");
    expect_diag(l, Severity::warning, 10, "Rule has no preference specified");
}

TEST(VrrpInstance, UnknownKeywordWarns)
{
    auto l = load(instance("V", 1, "    bogus 1\n"));
    expect_diag(l, Severity::warning, 7, "Unknown keyword 'bogus'");
    EXPECT_FALSE(l.diags.has_errors());
}

TEST(VrrpInstance, OutOfRangeValuesAreErrorsNamingKeywordAndLine)
{
    auto l = load(R"(vrrp_instance V {
    interface eth0
    virtual_router_id 1
    priority 300
    priority 0
    advert_int 0
    advert_int 300
    version 4
    preempt_delay 2000
    garp_master_repeat 0
    garp_master_refresh_repeat 0
    state WHATEVER
    virtual_ipaddress {
        198.18.0.1
    }
}
)");
    expect_diag(l, Severity::error, 4, "priority");
    expect_diag(l, Severity::error, 5, "priority");
    expect_diag(l, Severity::error, 6, "advert_int");
    expect_diag(l, Severity::error, 7, "advert_int");
    expect_diag(l, Severity::error, 8, "version");
    expect_diag(l, Severity::error, 9, "preempt_delay");
    expect_diag(l, Severity::error, 10, "garp_master_repeat");
    expect_diag(l, Severity::error, 11, "garp_master_refresh_repeat");
    expect_diag(l, Severity::error, 12, "unknown state 'WHATEVER'");
    const VrrpInstance& v = only(l);
    EXPECT_EQ(v.priority, 100);
    EXPECT_EQ(v.advert_int, 1);
}

TEST(VrrpInstance, VirtualRouterIdRangeAndMissing)
{
    auto bad = load(instance("V", 256));
    expect_diag(bad, Severity::error, 3, "virtual_router_id");
    EXPECT_TRUE(bad.config.vrrp_instances.empty());
    EXPECT_EQ(bad.diags.error_count(), 1u);

    auto missing = load("vrrp_instance V {\n interface eth0\n}\n");
    expect_diag(missing, Severity::error, 1, "(V) the virtual router id must be set");
    EXPECT_TRUE(missing.config.vrrp_instances.empty());
}

TEST(VrrpInstance, NameRequiredAndUnique)
{
    auto l = load("vrrp_instance {\n}\n" + instance("V", 1) + instance("V", 2));
    expect_diag(l, Severity::error, 1, "must have a name");
    expect_diag(l, Severity::error, 10, "vrrp instance V already defined at line 3");
    EXPECT_EQ(only(l).virtual_router_id, 1);
}

TEST(VrrpInstance, MissingInterfaceWithoutUnicastIsAnError)
{
    auto l = load("vrrp_instance V {\n virtual_router_id 1\n virtual_ipaddress {\n  198.18.0.1\n }\n}\n");
    expect_diag(l, Severity::error, 1, "(V) Unknown interface");
    auto u = load("vrrp_instance V {\n virtual_router_id 1\n unicast_peer {\n  198.18.0.2\n }\n"
                  " virtual_ipaddress {\n  198.18.0.1\n }\n}\n");
    expect_clean(u);
}

TEST(VrrpInstance, NoVipWarns)
{
    auto l = load("vrrp_instance V {\n interface eth0\n virtual_router_id 1\n}\n");
    expect_diag(l, Severity::warning, 1, "No VIP specified");
    EXPECT_FALSE(l.diags.has_errors());
}

TEST(VrrpInstance, AuthenticationPass)
{
    auto l = load(instance("V", 1, "    authentication {\n        auth_type PASS\n        auth_pass 123456789\n    }\n"));
    expect_diag(l, Severity::warning, 9, "Truncating auth_pass to 8 characters");
    const VrrpInstance& v = only(l);
    EXPECT_EQ(v.auth_type, AuthType::pass);
    EXPECT_EQ(v.auth_pass, "12345678");
}

TEST(VrrpInstance, AuthenticationFixups)
{
    auto l = load(instance("V3", 1, "    version 3\n    authentication {\n        auth_type PASS\n        auth_pass x\n    }\n") +
                  instance("NOPASS", 2, "    authentication {\n        auth_type PASS\n    }\n") +
                  instance("AH", 3, "    state MASTER\n    authentication {\n        auth_type AH\n        auth_pass x\n    }\n") +
                  instance("BAD", 4, "    authentication {\n        auth_type MD5\n    }\n"));
    expect_diag(l, Severity::warning, 1, "(V3) VRRP version 3 does not support authentication");
    expect_diag(l, Severity::warning, 13, "(NOPASS) Authentication specified but no password given");
    expect_diag(l, Severity::warning, 23, "(AH) Initial state master is incompatible with AH authentication");
    expect_diag(l, Severity::error, 42, "unknown authentication type 'MD5'");
    const auto& v = l.config.vrrp_instances;
    ASSERT_EQ(v.size(), 4u);
    EXPECT_EQ(v[0].auth_type, AuthType::none);
    EXPECT_EQ(v[1].auth_type, AuthType::none);
    EXPECT_EQ(v[2].auth_type, AuthType::ah);
    EXPECT_EQ(v[2].state, VrrpState::backup);
    EXPECT_EQ(v[2].priority, 255);  // resolved from the configured MASTER state
}

TEST(VrrpInstance, StrictModeFixups)
{
    auto l = load("global_defs {\n vrrp_strict\n}\n" +
                  instance("V", 1, "    state MASTER\n    priority 100\n    authentication {\n        auth_type PASS\n"
                                   "        auth_pass x\n    }\n"));
    expect_diag(l, Severity::warning, 4, "State MASTER must match being address owner");
    expect_diag(l, Severity::warning, 4, "Strict mode does not support authentication");
    EXPECT_EQ(only(l).state, VrrpState::backup);
    EXPECT_EQ(only(l).auth_type, AuthType::none);
}

TEST(VrrpInstance, AdvertIntRounding)
{
    auto v2 = load(instance("V", 1, "    advert_int 1.5\n"));
    expect_diag(v2, Severity::warning, 1, "VRRPv2 advertisement interval 1.5s must be an integer");
    EXPECT_EQ(only(v2).advert_int, 2);
    auto v3 = load(instance("V", 1, "    version 3\n    advert_int 1.234\n"));
    expect_diag(v3, Severity::warning, 1, "VRRPv3 advertisement interval 1.234s must be in units of 10ms");
    EXPECT_DOUBLE_EQ(only(v3).advert_int, 1.23);
    auto big = load(instance("V", 1, "    version 3\n    advert_int 50\n"));
    expect_diag(big, Severity::warning, 1, "Setting to 40.95s");
    EXPECT_DOUBLE_EQ(only(big).advert_int, 40.95);
    auto ok = load(instance("V", 1, "    version 3\n    advert_int 0.05\n"));
    expect_clean(ok);
    EXPECT_DOUBLE_EQ(only(ok).advert_int, 0.05);
}

TEST(VrrpInstance, PreemptFixups)
{
    auto l = load(instance("A", 1, "    state MASTER\n    nopreempt\n    preempt_delay 5\n"));
    expect_diag(l, Severity::warning, 1, "nopreempt is incompatible with priority 255");
    expect_diag(l, Severity::warning, 1, "preempt delay will not work with initial state MASTER");
    EXPECT_FALSE(only(l).nopreempt);
    EXPECT_EQ(only(l).preempt_delay, 0);
    auto p = load(instance("B", 1, "    nopreempt\n    preempt\n"));
    EXPECT_FALSE(only(p).nopreempt);
}

TEST(VrrpInstance, AddressFamilyRules)
{
    auto l = load(R"(vrrp_instance V {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        198.18.0.1/24
        fe80::1
    }
    virtual_ipaddress_excluded {
        2001:db8::1
    }
    unicast_peer {
        2001:db8::2
        198.18.0.2
    }
    unicast_src_ip 2001:db8::3
}
)");
    expect_diag(l, Severity::warning, 6, "address family must match VRRP instance [fe80::1]");
    expect_diag(l, Severity::warning, 12, "unicast peer address [2001:db8::2]");
    expect_diag(l, Severity::error, 15, "unicast_src_ip");
    const VrrpInstance& v = only(l);
    EXPECT_EQ(v.virtual_ipaddress.size(), 1u);
    EXPECT_EQ(v.virtual_ipaddress_excluded.size(), 1u);  // excluded addresses may mix families
    ASSERT_EQ(v.unicast_peer.size(), 1u);
    EXPECT_EQ(v.unicast_peer[0].to_string(), "198.18.0.2");
    EXPECT_EQ(v.version, 2);
}

TEST(VrrpInstance, ListsTakeOneItemPerLine)
{
    auto l = load(instance("V", 1, R"(    track_interface {
        eth1 eth2
    }
    unicast_peer {
        198.18.0.7 198.18.0.8
    }
    track_script {
        chk weight 5 extra
    }
)", "198.18.0.1/24 dev eth1 198.18.0.2") + "vrrp_script chk {\n    script /bin/true\n}\n");
    expect_diag(l, Severity::warning, 5, "Unknown configuration entry '198.18.0.2'");
    expect_diag(l, Severity::warning, 8, "unknown option 'eth2'");
    expect_diag(l, Severity::warning, 11, "unknown option '198.18.0.8'");
    expect_diag(l, Severity::warning, 14, "unknown option 'extra'");
    EXPECT_FALSE(l.diags.has_errors());
    const VrrpInstance& v = only(l);
    EXPECT_EQ(v.virtual_ipaddress.size(), 1u);
    ASSERT_EQ(v.track_interface.size(), 1u);
    EXPECT_EQ(v.track_interface[0].name, "eth1");
    ASSERT_EQ(v.unicast_peer.size(), 1u);
    ASSERT_EQ(v.track_script.size(), 1u);
    EXPECT_EQ(v.track_script[0].weight, 5);
}

TEST(VrrpInstance, TrackWeightRange)
{
    auto l = load(instance("V", 1, "    track_interface {\n        eth1 weight 300\n    }\n"
                                   "    track_script {\n        chk weight -254\n    }\n") +
                  "vrrp_script chk {\n    script /bin/true\n}\n");
    expect_diag(l, Severity::error, 8, "weight '300' for eth1");
    expect_diag(l, Severity::error, 11, "weight '-254' for chk");
    EXPECT_TRUE(only(l).track_interface.empty());
}

TEST(VrrpInstance, NotifyScriptTwiceKeepsFirst)
{
    auto l = load(instance("V", 1, "    notify_master /bin/a\n    notify_master /bin/b\n"));
    expect_diag(l, Severity::warning, 8, "notify_master script already specified");
    EXPECT_EQ(only(l).notify_master.command, "/bin/a");
}

TEST(VrrpScript, DefaultsAndValues)
{
    auto l = load(R"(vrrp_script a {
    script "/bin/check arg"
}
vrrp_script b {
    user nobody nogroup
    script /bin/true
    interval 3
    timeout 2
    weight -20 reverse
    rise 4
    fall 5
    init_fail
}
)");
    expect_clean(l);
    const auto& s = l.config.vrrp_scripts;
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].name, "a");
    EXPECT_EQ(s[0].script.argv, (std::vector<std::string>{"/bin/check", "arg"}));
    EXPECT_EQ(s[0].interval, 1);
    EXPECT_EQ(s[0].timeout, 1);  // unset: the interval
    EXPECT_EQ(s[0].weight, 0);
    EXPECT_EQ(s[0].rise, 1);
    EXPECT_EQ(s[0].fall, 1);
    EXPECT_FALSE(s[0].init_fail);
    EXPECT_EQ(s[1].interval, 3);
    EXPECT_EQ(s[1].timeout, 2);
    EXPECT_EQ(s[1].weight, -20);
    EXPECT_TRUE(s[1].weight_reverse);
    EXPECT_EQ(s[1].rise, 4);
    EXPECT_EQ(s[1].fall, 5);
    EXPECT_TRUE(s[1].init_fail);
    EXPECT_EQ(s[1].script.user, "nobody");  // `user` before `script` still applies
    EXPECT_EQ(s[1].script.group, "nogroup");
}

TEST(VrrpScript, TimeoutDefaultsToInterval)
{
    auto l = load("vrrp_script a {\n script /bin/true\n interval 7\n}\n");
    ASSERT_EQ(l.config.vrrp_scripts.size(), 1u);
    EXPECT_EQ(l.config.vrrp_scripts[0].timeout, 7);
}

TEST(VrrpScript, RangesAndErrors)
{
    auto l = load(R"(vrrp_script a {
    script /bin/true
    interval 0
    interval 0.5
    timeout 0
    weight 254
    rise 0
    fall 0
    bogus 1
}
vrrp_script nocmd {
    interval 2
}
vrrp_script a {
    script /bin/false
}
)");
    expect_diag(l, Severity::error, 3, "interval");
    expect_diag(l, Severity::error, 4, "interval");
    expect_diag(l, Severity::error, 5, "timeout");
    expect_diag(l, Severity::error, 6, "weight");
    expect_diag(l, Severity::error, 7, "rise");
    expect_diag(l, Severity::error, 8, "fall");
    expect_diag(l, Severity::warning, 9, "Unknown keyword 'bogus'");
    expect_diag(l, Severity::error, 11, "no script specified");
    expect_diag(l, Severity::warning, 14, "vrrp_script a already defined at line 1");
    ASSERT_EQ(l.config.vrrp_scripts.size(), 1u);
    EXPECT_EQ(l.config.vrrp_scripts[0].script.command, "/bin/true");
}

TEST(VrrpInstance, TrackScriptReferences)
{
    auto l = load(instance("V", 1, "    track_script {\n        chk\n        nosuch\n        chk weight 9\n    }\n") +
                  "vrrp_script chk {\n    script /bin/true\n    weight 10\n}\n");
    expect_diag(l, Severity::warning, 9, "(V) track script nosuch not found, ignoring");
    expect_diag(l, Severity::warning, 10, "duplicate track_script chk");
    const VrrpInstance& v = only(l);
    ASSERT_EQ(v.track_script.size(), 1u);
    EXPECT_EQ(v.track_script[0].name, "chk");
    EXPECT_FALSE(v.track_script[0].weight.has_value());
}

TEST(VrrpSyncGroup, MembersAndScripts)
{
    auto l = load(instance("V1", 1) + instance("V2", 2, "", "198.18.0.2/24") + R"(vrrp_sync_group G {
    group {
        V1 V2
    }
    notify_master "/bin/echo G"
    notify_backup /bin/b
    notify_fault /bin/f
    notify_stop /bin/s
    notify /bin/n
    smtp_alert
    notify_priority_changes true
}
)");
    expect_clean(l);
    ASSERT_EQ(l.config.vrrp_sync_groups.size(), 1u);
    const VrrpSyncGroup& g = l.config.vrrp_sync_groups[0];
    EXPECT_THAT(g.group, ::testing::ElementsAre("V1", "V2"));  // every word is a member, as keepalived reads it
    EXPECT_EQ(g.notify_master.argv.size(), 2u);
    EXPECT_EQ(g.notify_stop.command, "/bin/s");
    EXPECT_TRUE(g.smtp_alert);
    ASSERT_EQ(g.other.size(), 1u);
    EXPECT_EQ(l.config.vrrp_instances[0].sync_group, "G");
    EXPECT_EQ(l.config.vrrp_instances[1].sync_group, "G");
}

TEST(VrrpSyncGroup, CrossReferences)
{
    auto l = load(instance("V1", 1) + R"(vrrp_sync_group G {
    group {
        V1
        NOPE
    }
}
vrrp_sync_group G2 {
    group {
        V1
    }
}
vrrp_sync_group G {
    group {
        V1
    }
}
)");
    expect_diag(l, Severity::warning, 8, "Virtual router NOPE specified in sync group G doesn't exist");
    expect_diag(l, Severity::warning, 8, "Sync group G has only 1 virtual router(s)");
    expect_diag(l, Severity::warning, 14, "Virtual router V1 cannot exist in more than one sync group");
    expect_diag(l, Severity::warning, 14, "Sync group G2, no matching virtual router found");
    expect_diag(l, Severity::error, 19, "vrrp sync group G already defined at line 8");
    ASSERT_EQ(l.config.vrrp_sync_groups.size(), 1u);
    EXPECT_THAT(l.config.vrrp_sync_groups[0].group, ::testing::ElementsAre("V1"));
    EXPECT_EQ(only(l).sync_group, "G");
}

// Said at load time; the model keeps the weights for vrrp::Tracker, which
// drops the weighted script and keeps the interface weight as 2.2.7 does.
TEST(VrrpSyncGroup, MemberTrackingWeightsAreWarnedAboutAndKept)
{
    auto l = load(instance("V1", 1, "    track_script {\n        chk\n    }\n    track_interface {\n        eth1 weight 5\n    }\n") +
                  instance("V2", 2, "", "198.18.0.2") +
                  "vrrp_script chk {\n    script /bin/true\n    weight 10\n}\n"
                  "vrrp_sync_group G {\n    group {\n        V1\n        V2\n    }\n"
                  "    track_script {\n        nosuch\n    }\n}\n");
    expect_diag(l, Severity::warning, 8, "ignoring weight of tracked script chk due to SYNC group G");
    expect_diag(l, Severity::warning, 11, "ignoring weight of tracked interface eth1");
    expect_diag(l, Severity::warning, 31, "(G) track script nosuch not found");
    const VrrpInstance& v = l.config.vrrp_instances.at(0);
    EXPECT_FALSE(v.track_script.at(0).weight.has_value());  // not turned into a weight-0 (FAULT) entry
    EXPECT_EQ(v.track_interface.at(0).weight, 5);
    EXPECT_TRUE(l.config.vrrp_sync_groups.at(0).track_script.empty());
}

TEST(VrrpSyncGroup, GlobalTrackingKeepsWeightsAndIsDeprecated)
{
    auto l = load(instance("V1", 1, "    track_script {\n        chk\n    }\n") + instance("V2", 2, "", "198.18.0.2") +
                  "vrrp_script chk {\n    script /bin/true\n    weight 10\n}\n"
                  "vrrp_sync_group G {\n    group {\n        V1\n        V2\n    }\n    global_tracking\n}\n");
    expect_diag(l, Severity::warning, 27, "global_tracking is deprecated");
    EXPECT_FALSE(l.config.vrrp_instances.at(0).track_script.at(0).weight.has_value());
}

TEST(VrrpInstance, DuplicateVridOnOneInterfaceAndFamily)
{
    auto l = load(instance("A", 51) + instance("B", 51, "", "198.18.0.2") +
                  instance("C", 51, "", "2001:db8::1") +  // other family: fine
                  "vrrp_instance D {\n    interface eth1\n    virtual_router_id 51\n    virtual_ipaddress {\n"
                  "        198.18.0.3\n    }\n}\n");
    expect_diag(l, Severity::error, 8, "A and B both use VRID 51 with IPv4 on interface eth0");
    EXPECT_EQ(l.diags.error_count(), 1u) << all_diags(l);
}

TEST(VrrpInstance, DuplicateVridAllowedWithDisjointUnicastPeers)
{
    auto l = load(instance("A", 51, "    unicast_peer {\n        198.18.0.10\n    }\n") +
                  instance("B", 51, "    unicast_peer {\n        198.18.0.11\n    }\n", "198.18.0.2") +
                  instance("C", 51, "    unicast_peer {\n        198.18.0.11\n    }\n", "198.18.0.3"));
    EXPECT_EQ(find(l, 11, "both use VRID"), nullptr);
    expect_diag(l, Severity::error, 21, "B and C both use VRID 51");
}

TEST(VrrpInstance, VipUsedByTwoInstances)
{
    auto l = load(instance("A", 1) + instance("B", 2, "", "198.18.0.1/32"));
    expect_diag(l, Severity::warning, 12, "(B) virtual address 198.18.0.1 is also used by vrrp_instance A");
}

TEST(VrrpInstance, KernelInterfaceChecks)
{
    std::string text = "vrrp_instance V {\n    interface kadp-nosuch0\n    virtual_router_id 1\n"
                       "    virtual_ipaddress {\n        198.18.0.1 dev kadp-nosuch1\n        198.18.0.2 dev lo\n    }\n"
                       "    track_interface {\n        kadp-nosuch2\n    }\n"
                       "    virtual_routes {\n        198.18.9.0/24 dev kadp-nosuch3\n    }\n}\n";
    expect_clean(load(text, false));
    auto l = load(text, true);
    expect_diag(l, Severity::warning, 2, "interface kadp-nosuch0 for vrrp_instance V doesn't exist");
    expect_diag(l, Severity::warning, 5, "interface kadp-nosuch1 for ip address 198.18.0.1/32 doesn't exist");
    expect_diag(l, Severity::warning, 9, "interface kadp-nosuch2 for track_interface of V doesn't exist");
    expect_diag(l, Severity::warning, 12, "interface kadp-nosuch3 for route 198.18.9.0/24 doesn't exist");
    EXPECT_EQ(find(l, 6, "lo"), nullptr);
    EXPECT_FALSE(l.diags.has_errors());
    auto lo = load("vrrp_instance V {\n    interface lo\n    virtual_router_id 1\n    virtual_ipaddress {\n"
                   "        198.18.0.1\n    }\n}\n", true);
    expect_clean(lo);
}

TEST(VrrpInstance, DataplaneInterfaceMustExist)
{
    const std::string dp = "dataplane {\n    interface eth0 {\n        device 0000:03:00.0\n"
                           "        address 198.18.0.254/24\n    }\n}\n";
    auto good = load(dp + instance("A", 1), true);
    EXPECT_EQ(find(good, 7, "interface"), nullptr) << all_diags(good);
    auto bad = load(dp + "vrrp_instance B {\n    interface eth9\n    virtual_router_id 1\n    virtual_ipaddress {\n"
                         "        198.18.0.1\n    }\n}\n", true);
    expect_diag(bad, Severity::error, 8, "interface eth9 for vrrp_instance B is not a dataplane interface");
}

}  // namespace
}  // namespace kadp::conf
