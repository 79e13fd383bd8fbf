// Runs on: any (unit test). keepalived.conf text -> the IPVS services
// keepalived would program: expansion, settings, real servers, checker
// overrides, quorum and the sorry server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "conf/load.h"
#include "control/desired_services.h"

namespace kadp::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

conf::IpAddr ip(const char* text) {
    const auto a = conf::IpAddr::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(conf::IpAddr{});
}

conf::Config load(const std::string& text) {
    conf::LoadOptions options;
    options.check_host = false;
    conf::Diagnostics diags;
    conf::Config c = conf::load_text(text, "t.conf", options, diags);
    for (const auto& d : diags.all()) {
        EXPECT_NE(d.severity, conf::Severity::error) << conf::Diagnostics::format(d);
    }
    return c;
}

std::vector<IpvsService> desired(const conf::Config& c, const CheckerVerdicts& o = {}) {
    conf::Diagnostics diags;
    auto out = desired_services(c, o, diags);
    for (const auto& d : diags.all()) ADD_FAILURE() << conf::Diagnostics::format(d);
    return out;
}

// "ADDR:PORT/weight" per dest, in order: compact expectations.
std::vector<std::string> dests(const IpvsService& s) {
    std::vector<std::string> out;
    for (const auto& d : s.dests) out.push_back(describe_endpoint(d.address, d.port) + "/" + std::to_string(d.weight));
    return out;
}

TEST(DesiredServices, AddressServiceWithEverySetting) {
    const auto c = load(
        "virtual_server 198.18.0.10 80 {\n"
        "    lb_algo sh\n"
        "    sh-port\n"
        "    sh-fallback\n"
        "    lb_kind DR\n"
        "    protocol TCP\n"
        "    persistence_timeout 600\n"
        "    persistence_granularity 255.255.255.0\n"
        "    real_server 198.18.1.1 80 {\n        weight 3\n        uthreshold 100\n        lthreshold 10\n    }\n"
        "    real_server 198.18.1.2 80 {\n        lvs_method NAT\n    }\n"
        "}\n");
    const auto s = desired(c);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(describe_service(s[0]), "TCP 198.18.0.10:80");
    EXPECT_EQ(s[0].family, conf::IpAddr::Family::v4);
    EXPECT_EQ(s[0].scheduler, "sh");
    EXPECT_EQ(s[0].persistence_timeout, 600u);
    EXPECT_EQ(s[0].persistence_netmask_v4, 0xffffff00u);
    // Bit order (SCHED1 = fallback, SCHED2 = port), whatever the config order.
    EXPECT_THAT(s[0].scheduler_flags, ElementsAre("sh-fallback", "sh-port"));
    EXPECT_FALSE(s[0].one_packet);
    EXPECT_EQ(s[0].loc.line, 1);
    EXPECT_THAT(dests(s[0]), ElementsAre("198.18.1.1:80/3", "198.18.1.2:80/1"));
    EXPECT_EQ(s[0].dests[0].forward, conf::LbKind::dr);
    EXPECT_EQ(s[0].dests[0].upper_threshold, 100u);
    EXPECT_EQ(s[0].dests[0].lower_threshold, 10u);
    EXPECT_EQ(s[0].dests[1].forward, conf::LbKind::nat);
}

TEST(DesiredServices, DefaultsAreKeepalivedsWlcNatNotPersistent) {
    const auto c = load(
        "virtual_server 198.18.0.10 53 {\n    protocol UDP\n    ops\n"
        "    real_server 198.18.1.1 5353 {\n    }\n}\n");
    const auto s = desired(c);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(describe_service(s[0]), "UDP 198.18.0.10:53");
    EXPECT_EQ(s[0].scheduler, "wlc");
    EXPECT_EQ(s[0].persistence_timeout, 0u);
    EXPECT_EQ(s[0].persistence_netmask_v4, 0xffffffffu);
    EXPECT_TRUE(s[0].one_packet);
    EXPECT_TRUE(s[0].scheduler_flags.empty());
    EXPECT_THAT(dests(s[0]), ElementsAre("198.18.1.1:5353/1"));
    EXPECT_EQ(s[0].dests[0].forward, conf::LbKind::nat);
}

TEST(DesiredServices, GroupExpandsRangesAndFwmarksIntoServicesWithTheSameRealServers) {
    const auto c = load(
        "virtual_server_group G {\n"
        "    198.18.0.1-3 80\n"
        "    2001:db8::a-b 80\n"
        "    fwmark 7 inet\n"
        "}\n"
        "virtual_server group G {\n    lb_algo rr\n    protocol TCP\n    lb_kind DR\n"
        "    real_server 198.18.1.1 80 {\n        weight 2\n    }\n}\n");
    const auto s = desired(c);
    std::vector<std::string> names;
    for (const auto& v : s) names.push_back(describe_service(v));
    EXPECT_THAT(names, ElementsAre("TCP 198.18.0.1:80", "TCP 198.18.0.2:80", "TCP 198.18.0.3:80",
                                   "TCP [2001:db8::a]:80", "TCP [2001:db8::b]:80", "FWM 7"));
    for (const auto& v : s) {
        EXPECT_EQ(v.scheduler, "rr");
        EXPECT_THAT(dests(v), ElementsAre("198.18.1.1:80/2")) << describe_service(v);
    }
    EXPECT_EQ(s[3].family, conf::IpAddr::Family::v6);
    EXPECT_EQ(s[5].family, conf::IpAddr::Family::v4);  // fwmark 7 inet
}

TEST(DesiredServices, FwmarkServiceTakesItsFamilyAndIpv6Granularity) {
    const auto c = load(
        "virtual_server fwmark 5 {\n    lb_algo wrr\n    lb_kind DR\n    ip_family inet6\n"
        "    persistence_timeout 60\n    persistence_granularity 64\n"
        "    real_server 2001:db8::10 {\n    }\n}\n");
    const auto s = desired(c);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].fwmark, 5u);
    EXPECT_EQ(s[0].family, conf::IpAddr::Family::v6);
    EXPECT_EQ(s[0].persistence_timeout, 60u);
    EXPECT_EQ(s[0].persistence_prefix_v6, 64);
    EXPECT_EQ(describe_service(s[0]), "FWM 5 IPv6");
    ASSERT_EQ(s[0].dests.size(), 1u);
    EXPECT_EQ(s[0].dests[0].address, ip("2001:db8::10"));
    EXPECT_EQ(s[0].dests[0].port, 0);  // a mark service's DR server keeps port 0
}

TEST(DesiredServices, TunnelOptionsCarryToTheDest) {
    const auto c = load(
        "virtual_server 198.18.0.10 80 {\n    protocol TCP\n    lb_kind TUN\n"
        "    real_server 198.18.1.1 80 {\n        lvs_method TUN type gue port 6080 csum\n    }\n"
        "    real_server 198.18.1.2 80 {\n    }\n}\n");
    const auto s = desired(c);
    ASSERT_EQ(s.size(), 1u);
    ASSERT_EQ(s[0].dests.size(), 2u);
    EXPECT_EQ(s[0].dests[0].forward, conf::LbKind::tun);
    EXPECT_EQ(s[0].dests[0].tunnel.type, "gue");
    EXPECT_EQ(s[0].dests[0].tunnel.port, 6080);
    EXPECT_EQ(s[0].dests[0].tunnel.checksum, "csum");
    EXPECT_EQ(s[0].dests[1].tunnel.type, "ipip");
    EXPECT_FALSE(s[0].dests[0].same_settings(s[0].dests[1]));
}

constexpr const char* kThree =
    "virtual_server 198.18.0.10 80 {\n    protocol TCP\n    quorum 3\n    sorry_server 198.18.9.9 8080\n"
    "    real_server 198.18.1.1 80 {\n        weight 2\n    }\n"
    "    real_server 198.18.1.2 80 {\n        weight 2\n        inhibit_on_failure\n    }\n"
    "    real_server 198.18.1.3 80 {\n        weight 1\n    }\n}\n";

RsIdentity rs(const conf::Config& c, const char* addr) {
    return RsIdentity{vs_identity(c.virtual_servers.at(0)), ip(addr), 80};
}

TEST(DesiredServices, CheckerOverridesRemoveInhibitOrReweight) {
    const auto c = load(kThree);
    EXPECT_THAT(dests(desired(c).at(0)), ElementsAre("198.18.1.1:80/2", "198.18.1.2:80/2", "198.18.1.3:80/1"));
    // .1 down: removed; .2 down with inhibit_on_failure: weight 0; .3 weight 5 (misc_dynamic).
    const WeightOverrides o = {{rs(c, "198.18.1.1"), 0}, {rs(c, "198.18.1.2"), 0}, {rs(c, "198.18.1.3"), 5}};
    EXPECT_THAT(dests(desired(c, o).at(0)), ElementsAre("198.18.1.3:80/5", "198.18.1.2:80/0"));
}

TEST(DesiredServices, QuorumLostPutsTheSorryServerInPlace) {
    const auto c = load(kThree);
    const VsIdentity vs = vs_identity(c.virtual_servers.at(0));
    // The checkers judged the quorum lost: live servers go (the inhibited one stays at 0), sorry server in.
    const WeightOverrides o = {{rs(c, "198.18.1.2"), 0}, {rs(c, "198.18.1.3"), 0}};
    const auto s = desired(c, CheckerVerdicts(o, {vs}));
    EXPECT_THAT(dests(s.at(0)), ElementsAre("198.18.1.2:80/0", "198.18.9.9:8080/1"));
    EXPECT_EQ(s[0].dests[1].forward, conf::LbKind::nat);
    // The same weights with the quorum held (hysteresis keeps it): no sorry server.
    EXPECT_THAT(dests(desired(c, o).at(0)), ElementsAre("198.18.1.1:80/2", "198.18.1.2:80/0"));
    // Everything up but the quorum lost (a misc_dynamic weight fell, say): only the sorry server takes connections.
    EXPECT_THAT(dests(desired(c, CheckerVerdicts({}, {vs})).at(0)), ElementsAre("198.18.1.2:80/0", "198.18.9.9:8080/1"));
}

TEST(DesiredServices, SorryServerInhibitKeepsItAtWeightZeroWhileNotNeeded) {
    auto c = load(kThree);
    c.virtual_servers[0].sorry_server_inhibit = true;
    const VsIdentity vs = vs_identity(c.virtual_servers.at(0));
    EXPECT_THAT(dests(desired(c).at(0)),
                ElementsAre("198.18.1.1:80/2", "198.18.1.2:80/2", "198.18.1.3:80/1", "198.18.9.9:8080/0"));
    EXPECT_THAT(dests(desired(c, CheckerVerdicts({}, {vs})).at(0)), ElementsAre("198.18.1.2:80/0", "198.18.9.9:8080/1"));
}

TEST(DesiredServices, QuorumLostWithoutSorryServerKeepsWhatIsUp) {
    auto c = load(kThree);
    c.virtual_servers[0].sorry_server.reset();
    const VsIdentity vs = vs_identity(c.virtual_servers.at(0));
    const WeightOverrides o = {{rs(c, "198.18.1.1"), 0}, {rs(c, "198.18.1.3"), 0}};
    EXPECT_THAT(dests(desired(c, CheckerVerdicts(o, {vs})).at(0)), ElementsAre("198.18.1.2:80/2"));
}

TEST(DesiredServices, AnEndpointClaimedTwiceIsAnErrorNamingBoth) {
    const auto c = load(
        "virtual_server_group G {\n    198.18.0.9-10 80\n}\n"
        "virtual_server group G {\n    protocol TCP\n    real_server 198.18.1.1 80 {\n    }\n}\n"
        "virtual_server 198.18.0.10 80 {\n    protocol TCP\n    real_server 198.18.1.2 80 {\n    }\n}\n");
    conf::Diagnostics diags;
    const auto s = desired_services(c, {}, diags);
    EXPECT_EQ(s.size(), 2u);
    ASSERT_EQ(diags.error_count(), 1u);
    EXPECT_THAT(conf::Diagnostics::format(diags.all()[0]),
                AllOf(HasSubstr("t.conf:9:"), HasSubstr("TCP 198.18.0.10:80"), HasSubstr("group G/TCP (t.conf:4)")));
}

TEST(DesiredServices, GroupExpansionIsCapped) {
    const auto c = load(
        "virtual_server_group BIG {\n    198.18.0.0/23 80\n}\n"
        "virtual_server group BIG {\n    protocol TCP\n    real_server 198.18.2.1 80 {\n    }\n}\n");
    conf::Diagnostics diags;
    DesiredOptions options;
    options.max_group_expansion = 511;
    EXPECT_TRUE(desired_services(c, {}, diags, options).empty());
    ASSERT_EQ(diags.error_count(), 1u);
    EXPECT_THAT(conf::Diagnostics::format(diags.all()[0]), AllOf(HasSubstr("t.conf:2:"), HasSubstr("512 addresses")));
    options.max_group_expansion = 512;
    conf::Diagnostics fits;
    EXPECT_EQ(desired_services(c, {}, fits, options).size(), 512u);
}

TEST(DesiredServices, SchedulerFlagNamesFollowTheScheduler) {
    EXPECT_THAT(scheduler_flag_names("mh", scheduler_flag_bits({"mh-port"})), ElementsAre("mh-port"));
    EXPECT_THAT(scheduler_flag_names("rr", scheduler_flag_bits({"flag-3", "flag-1"})), ElementsAre("flag-1", "flag-3"));
    EXPECT_EQ(scheduler_flag_bits({"ops", "sh-port"}), scheduler_flag_bits({"flag-2"}));
}

}  // namespace
}  // namespace kadp::ctl
