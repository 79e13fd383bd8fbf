// Runs on: any (unit test, no EAL). Snapshots built from keepalived.conf
// text: flattening, weights, rejected algorithms, carried-over state.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "conf/load.h"
#include "control/snapshot_builder.h"
#include "dataplane/publisher.h"

namespace kadp::ctl {
namespace {

using ::testing::HasSubstr;

std::uint32_t ip(const char* text) {
    in_addr a{};
    EXPECT_EQ(inet_pton(AF_INET, text, &a), 1) << text;
    return a.s_addr;
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

std::vector<std::string> messages(const conf::Diagnostics& diags) {
    std::vector<std::string> out;
    for (const auto& d : diags.all()) out.push_back(conf::Diagnostics::format(d));
    return out;
}

// A virtual_server block with real servers "ADDR PORT WEIGHT".
std::string vs(const std::string& head, const std::string& algo, const std::vector<std::string>& reals,
               const std::string& kind = "NAT") {
    std::string s = "virtual_server " + head + " {\n    lb_algo " + algo + "\n    lb_kind " + kind +
                    "\n    protocol TCP\n";
    for (const auto& r : reals) {
        const auto last = r.rfind(' ');
        s += "    real_server " + r.substr(0, last) + " {\n        weight " + r.substr(last + 1) + "\n    }\n";
    }
    return s + "}\n";
}

const dp::Dest* dest_named(const dp::Service& s, const char* addr) {
    for (const auto& d : s.dests()) {
        if (d.addr[0] == ip(addr)) return &d;
    }
    return nullptr;
}

// The dest with this address; throws (a test failure) when it is missing.
const dp::Dest& dest_at(const dp::Service* s, const char* addr) {
    const dp::Dest* d = s != nullptr ? dest_named(*s, addr) : nullptr;
    if (d == nullptr) throw std::runtime_error(std::string("no real server ") + addr);
    return *d;
}

TEST(SnapshotBuilder, NatServicesWithTheirRealServersAndWeights) {
    const auto config = load(vs("10.0.0.1 80", "wrr", {"192.168.1.1 8080 3", "192.168.1.2 8081 1"}) +
                             vs("10.0.0.2 53", "rr", {"192.168.2.1 53 1"}));
    dp::StatsRegistry reg(2);
    SnapshotBuilder b(reg);
    conf::Diagnostics diags;
    const auto snap = b.build(config, nullptr, {}, diags);
    ASSERT_NE(snap, nullptr) << testing::PrintToString(messages(diags));
    EXPECT_EQ(snap->services().size(), 2u);
    const dp::Service* web = snap->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP);
    ASSERT_NE(web, nullptr);
    EXPECT_EQ(snap->find4(ip("10.0.0.1"), htons(80), IPPROTO_UDP), nullptr);
    EXPECT_EQ(snap->find4(ip("10.0.0.1"), htons(53), IPPROTO_TCP), nullptr);
    EXPECT_EQ(web->fwd(), dp::FwdMethod::nat);
    EXPECT_EQ(web->sched().algo(), dp::SchedAlgo::wrr);
    ASSERT_EQ(web->dests().size(), 2u);
    EXPECT_EQ(web->dests()[0].addr[0], ip("192.168.1.1"));
    EXPECT_EQ(web->dests()[0].port, htons(8080));
    EXPECT_EQ(web->dests()[0].weight, 3);
    EXPECT_EQ(web->dests()[1].port, htons(8081));
    EXPECT_EQ(web->dests()[1].weight, 1);
    EXPECT_EQ(web->dests()[0].counters, reg.dest(web->dests()[0].id));
    EXPECT_EQ(&web->counters(), reg.service(web->id()));
    const dp::Service* dns = snap->find4(ip("10.0.0.2"), htons(53), IPPROTO_TCP);
    ASSERT_NE(dns, nullptr);
    EXPECT_EQ(dns->sched().algo(), dp::SchedAlgo::rr);
    EXPECT_NE(dns->id(), web->id());
    EXPECT_TRUE(snap->serves_vip4(ip("10.0.0.1")));
    EXPECT_TRUE(snap->serves_vip4(ip("10.0.0.2")));
    EXPECT_FALSE(snap->serves_vip4(ip("192.168.1.1")));
    // wrr 3:1 over one cycle.
    int first = 0;
    for (int i = 0; i < 4; ++i) first += web->pick(dp::SchedFlow{}) == &web->dests()[0];
    EXPECT_EQ(first, 3);
}

// More services than the registry has ids: the build fails with one error
// for the group's virtual_server, not one per address past the limit.
TEST(SnapshotBuilder, TooManyServicesIsOneErrorPerVirtualServer) {
    const auto config = load(
        "virtual_server_group G {\n"
        "    10.0.0.1-20 80\n"
        "}\n" +
        vs("group G", "rr", {"192.168.1.1 80 1"}));
    dp::StatsRegistry reg(1, 8, 64);
    SnapshotBuilder b(reg);
    conf::Diagnostics diags;
    EXPECT_EQ(b.build(config, nullptr, {}, diags), nullptr);
    ASSERT_EQ(diags.error_count(), 1u) << testing::PrintToString(messages(diags));
    EXPECT_THAT(messages(diags)[0], testing::HasSubstr("more than 8 virtual services in use"));
    EXPECT_THAT(messages(diags)[0], testing::HasSubstr("t.conf:4: error: virtual server group G"));
}

TEST(SnapshotBuilder, GroupBecomesOneServicePerAddressAndFwmarksAreSkipped) {
    const auto config = load(
        "virtual_server_group G {\n"
        "    10.0.0.1-3 80\n"
        "    10.0.1.1 443\n"
        "    fwmark 7\n"
        "}\n" +
        vs("group G", "rr", {"192.168.1.1 8080 1"}) +
        "virtual_server fwmark 9 {\n    lb_algo rr\n    lb_kind NAT\n"
        "    real_server 192.168.1.1 8080 {\n        weight 1\n    }\n}\n");
    dp::StatsRegistry reg(1);
    SnapshotBuilder b(reg);
    conf::Diagnostics diags;
    const auto snap = b.build(config, nullptr, {}, diags);
    ASSERT_NE(snap, nullptr) << testing::PrintToString(messages(diags));
    EXPECT_EQ(snap->services().size(), 4u);
    for (const char* a : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) {
        const dp::Service* s = snap->find4(ip(a), htons(80), IPPROTO_TCP);
        ASSERT_NE(s, nullptr) << a;
        EXPECT_EQ(s->dests().size(), 1u);
        EXPECT_TRUE(snap->serves_vip4(ip(a)));
    }
    EXPECT_EQ(snap->find4(ip("10.0.0.4"), htons(80), IPPROTO_TCP), nullptr);
    EXPECT_EQ(snap->find4(ip("10.0.0.1"), htons(443), IPPROTO_TCP), nullptr);
    EXPECT_NE(snap->find4(ip("10.0.1.1"), htons(443), IPPROTO_TCP), nullptr);
    EXPECT_FALSE(snap->serves_vip4(ip("10.0.0.4")));
    // Every expanded service has its own counters (its own identity).
    EXPECT_NE(snap->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP)->dests()[0].counters,
              snap->find4(ip("10.0.0.2"), htons(80), IPPROTO_TCP)->dests()[0].counters);
    const auto m = messages(diags);
    EXPECT_THAT(m, testing::Contains(HasSubstr("t.conf:4: warning: virtual_server_group G: fwmark 7")));
    EXPECT_THAT(m, testing::Contains(AllOf(HasSubstr("FWM 9"), HasSubstr("not supported by the data plane"))));
    EXPECT_FALSE(diags.has_errors());
}

TEST(SnapshotBuilder, GroupExpansionIsCapped) {
    const auto config = load(
        "virtual_server_group BIG {\n"
        "    10.0.0.0/24 80\n"
        "}\n" +
        vs("group BIG", "rr", {"192.168.1.1 8080 1"}));
    dp::StatsRegistry reg(1);
    BuildOptions options;
    options.max_group_expansion = 255;
    SnapshotBuilder b(reg, options);
    conf::Diagnostics diags;
    EXPECT_EQ(b.build(config, nullptr, {}, diags), nullptr);
    EXPECT_THAT(messages(diags), testing::Contains(AllOf(HasSubstr("t.conf:2: error:"), HasSubstr("BIG"),
                                                         HasSubstr("256 addresses"))));
    EXPECT_EQ(reg.dest_count() + reg.service_count(), 0u);  // nothing leaked into the registry

    options.max_group_expansion = 256;
    SnapshotBuilder fits(reg, options);
    conf::Diagnostics ok;
    const auto snap = fits.build(config, nullptr, {}, ok);
    ASSERT_NE(snap, nullptr);
    EXPECT_EQ(snap->services().size(), 256u);
    EXPECT_NE(snap->find4(ip("10.0.0.255"), htons(80), IPPROTO_TCP), nullptr);
}

TEST(SnapshotBuilder, SchedulerFlagsAndThresholdsReachTheScheduler) {
    const auto config = load(
        "virtual_server 10.0.0.1 80 {\n    lb_algo mh\n    mh-port\n    mh-fallback\n    lb_kind NAT\n"
        "    protocol TCP\n    real_server 192.168.1.1 8080 {\n        uthreshold 100\n        lthreshold 20\n"
        "    }\n    real_server 192.168.1.2 8080 {\n    }\n}\n" +
        vs("10.0.0.2 80", "sh", {"192.168.1.1 8080 1"}));
    dp::StatsRegistry reg(1);
    SnapshotBuilder b(reg);
    conf::Diagnostics diags;
    const auto snap = b.build(config, nullptr, {}, diags);
    ASSERT_NE(snap, nullptr) << testing::PrintToString(messages(diags));
    const dp::Service* mh = snap->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP);
    ASSERT_NE(mh, nullptr);
    EXPECT_EQ(mh->sched().algo(), dp::SchedAlgo::mh);
    EXPECT_EQ(mh->sched().flags(), dp::kSchedPort | dp::kSchedFallback);
    ASSERT_EQ(mh->sched().dests().size(), 2u);
    EXPECT_EQ(mh->sched().dests()[0].u_threshold, 100u);
    EXPECT_EQ(mh->sched().dests()[0].l_threshold, 20u);
    EXPECT_EQ(mh->sched().dests()[0].addr_fold, ntohl(ip("192.168.1.1")));
    EXPECT_EQ(mh->sched().dests()[0].port, 8080);
    EXPECT_EQ(mh->sched().dests()[1].u_threshold, 0u);
    const dp::Service* sh = snap->find4(ip("10.0.0.2"), htons(80), IPPROTO_TCP);
    ASSERT_NE(sh, nullptr);
    EXPECT_EQ(sh->sched().algo(), dp::SchedAlgo::sh);
    EXPECT_EQ(sh->sched().flags(), 0u);
}

TEST(SnapshotBuilder, UnsupportedAlgorithmIsRejectedWithFileAndLine) {
    const auto config = load(vs("10.0.0.1 80", "rr", {"192.168.1.1 8080 1"}) +
                             vs("10.0.0.2 80", "twos", {"192.168.1.1 8080 1"}));
    dp::StatsRegistry reg(1);
    SnapshotBuilder b(reg);
    conf::Diagnostics diags;
    EXPECT_EQ(b.build(config, nullptr, {}, diags), nullptr);
    ASSERT_EQ(diags.error_count(), 1u);
    const std::string line = std::to_string(config.virtual_servers[1].loc.line);
    EXPECT_EQ(line, "9");
    EXPECT_THAT(messages(diags), testing::Contains(AllOf(HasSubstr("t.conf:9: error:"), HasSubstr("[10.0.0.2]:80"),
                                                         HasSubstr("lb_algo twos"), HasSubstr("(t.conf:9)"),
                                                         HasSubstr("(supported: rr, wrr, lc, wlc, sh, dh, mh, sed, nq, lblc, lblcr, fo, ovf)"))));
    // What the failed build took is unreferenced: collect frees the real
    // server, then its service (no worker registered: the grace period is
    // immediate).
    dp::SnapshotPublisher pub(1, 1);
    EXPECT_EQ(reg.collect(pub), 1u);
    EXPECT_EQ(reg.collect(pub), 1u);
    EXPECT_EQ(reg.service_count() + reg.dest_count(), 0u);
}

TEST(SnapshotBuilder, DataplaneRoutesRideInTheSnapshot) {
    const std::string dataplane =
        "dataplane {\n    interface lan {\n        device \"net_null0\"\n        address 198.18.0.254/24\n    }\n"
        "    route 198.20.0.0/16 via 198.18.0.1\n}\n";
    const auto config = load(dataplane + vs("198.18.0.100 80", "rr", {"198.18.0.2 80 1"}));
    dp::StatsRegistry reg(1);
    SnapshotBuilder b(reg);
    conf::Diagnostics diags;
    const auto snap = b.build(config, nullptr, {}, diags);
    ASSERT_NE(snap, nullptr);
    ASSERT_NE(snap->routes(), nullptr);
    EXPECT_EQ(snap->routes()->lookup(ip("198.20.1.1")).kind, dp::RouteKind::via);
    EXPECT_EQ(snap->routes()->lookup(ip("198.20.1.1")).next_hop, ip("198.18.0.1"));
    EXPECT_TRUE(snap->routes()->is_local(ip("198.18.0.254")));
    // The real servers are known by address, port and protocol.
    EXPECT_TRUE(snap->from_real_server4(ip("198.18.0.2"), htons(80), IPPROTO_TCP));
    EXPECT_FALSE(snap->from_real_server4(ip("198.18.0.2"), htons(81), IPPROTO_TCP));
    EXPECT_FALSE(snap->from_real_server4(ip("198.18.0.2"), htons(80), IPPROTO_UDP));
    // Without a dataplane block there is no table.
    conf::Diagnostics d2;
    const auto plain = b.build(load(vs("198.18.0.100 80", "rr", {"198.18.0.2 80 1"})), nullptr, {}, d2);
    ASSERT_NE(plain, nullptr);
    EXPECT_EQ(plain->routes(), nullptr);
}

TEST(SnapshotBuilder, LvsTimeoutsRideInTheSnapshotAndTheRestKeepIpvsDefaults) {
    dp::StatsRegistry reg(1);
    SnapshotBuilder b(reg);
    conf::Diagnostics diags;
    const auto plain = b.build(load(vs("198.18.0.100 80", "rr", {"198.18.0.2 80 1"})), nullptr, {}, diags);
    ASSERT_NE(plain, nullptr);
    EXPECT_EQ(plain->timeouts().of(dp::ConnState::established), 900000U);
    EXPECT_EQ(plain->timeouts().of(dp::ConnState::fin_wait), 120000U);
    EXPECT_EQ(plain->timeouts().of(dp::ConnState::udp), 300000U);
    const auto set = b.build(load("global_defs {\n    lvs_timeouts tcp 7200 udp 30\n}\n" +
                                  vs("198.18.0.100 80", "rr", {"198.18.0.2 80 1"})),
                             nullptr, {}, diags);
    ASSERT_NE(set, nullptr);
    EXPECT_EQ(set->timeouts().of(dp::ConnState::established), 7200000U);
    EXPECT_EQ(set->timeouts().of(dp::ConnState::fin_wait), 120000U);  // not given: IPVS's default
    EXPECT_EQ(set->timeouts().of(dp::ConnState::udp), 30000U);
    EXPECT_EQ(set->timeouts().of(dp::ConnState::syn_recv), 60000U);  // not settable
    EXPECT_EQ(diags.warning_count(), 0U);
}

TEST(SnapshotBuilder, BadDataplaneRouteIsAnErrorWithFileAndLine) {
    const std::string dataplane =
        "dataplane {\n    interface lan {\n        device \"net_null0\"\n        address 198.18.0.254/24\n    }\n"
        "    route 198.20.0.0/16 via 198.19.0.1\n}\n";
    // The loader reports it too; the builder must not trust that it ran.
    conf::LoadOptions options;
    options.check_host = false;
    conf::Diagnostics load_diags;
    const auto config =
        conf::load_text(dataplane + vs("198.18.0.100 80", "rr", {"198.18.0.2 80 1"}), "t.conf", options, load_diags);
    dp::StatsRegistry reg(1);
    SnapshotBuilder b(reg);
    conf::Diagnostics diags;
    EXPECT_EQ(b.build(config, nullptr, {}, diags), nullptr);
    ASSERT_EQ(diags.error_count(), 1u);
    EXPECT_THAT(messages(diags), testing::Contains(AllOf(HasSubstr("t.conf:6: error: route 198.20.0.0/16"),
                                                         HasSubstr("198.19.0.1"))));
}

TEST(SnapshotBuilder, DirectRoutingSkippedUntilTheDataPlaneRunsIt) {
    const auto config = load(vs("10.0.0.1 80", "rr", {"192.168.1.1 80 1"}, "DR") +
                             vs("10.0.0.2 80", "rr", {"192.168.1.1 8080 1"}));
    dp::StatsRegistry reg(1);
    conf::Diagnostics diags;
    const auto snap = SnapshotBuilder(reg).build(config, nullptr, {}, diags);
    ASSERT_NE(snap, nullptr);
    EXPECT_EQ(snap->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP), nullptr);
    EXPECT_NE(snap->find4(ip("10.0.0.2"), htons(80), IPPROTO_TCP), nullptr);
    EXPECT_THAT(messages(diags), testing::Contains(HasSubstr("lb_kind DR is not supported")));

    BuildOptions with_dr;
    with_dr.dr = true;
    conf::Diagnostics diags2;
    const auto snap2 = SnapshotBuilder(reg, with_dr).build(config, nullptr, {}, diags2);
    ASSERT_NE(snap2, nullptr);
    const dp::Service* dr = snap2->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP);
    ASSERT_NE(dr, nullptr);
    EXPECT_EQ(dr->fwd(), dp::FwdMethod::dr);
    EXPECT_EQ(dr->dests()[0].fwd, dp::FwdMethod::dr);
}

// keepalived: lb_kind per virtual server, lvs_method per real server; the
// data plane tunnels ipip only, other tunnel types are skipped by name.
TEST(SnapshotBuilder, RealServersKeepTheirOwnMethodAndOnlyIpipTunnels) {
    const auto config = load(
        "virtual_server 10.0.0.1 80 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n"
        "    real_server 192.168.1.1 80 {\n        weight 1\n    }\n"
        "    real_server 192.168.1.2 80 {\n        lvs_method TUN\n    }\n"
        "    real_server 192.168.1.3 8080 {\n        lvs_method NAT\n    }\n"
        "    real_server 192.168.1.4 80 {\n        lvs_method TUN type gre\n    }\n"
        "    real_server 192.168.1.5 80 {\n        lvs_method TUN type gue port 6080\n    }\n"
        "}\n");
    dp::StatsRegistry reg(1);
    BuildOptions all;
    all.dr = true;
    all.tun = true;
    conf::Diagnostics diags;
    const auto snap = SnapshotBuilder(reg, all).build(config, nullptr, {}, diags);
    ASSERT_NE(snap, nullptr);
    const dp::Service* s = snap->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->fwd(), dp::FwdMethod::dr);
    ASSERT_EQ(s->dests().size(), 3u);
    EXPECT_EQ(dest_at(s, "192.168.1.1").fwd, dp::FwdMethod::dr);
    EXPECT_EQ(dest_at(s, "192.168.1.2").fwd, dp::FwdMethod::tun);
    EXPECT_EQ(dest_at(s, "192.168.1.3").fwd, dp::FwdMethod::nat);
    EXPECT_EQ(dest_named(*s, "192.168.1.4"), nullptr);
    EXPECT_EQ(dest_named(*s, "192.168.1.5"), nullptr);
    const auto m = messages(diags);
    EXPECT_THAT(m, testing::Contains(AllOf(HasSubstr("192.168.1.4"), HasSubstr("lvs_method TUN type gre"),
                                           HasSubstr("only ipip"))));
    EXPECT_THAT(m, testing::Contains(AllOf(HasSubstr("192.168.1.5"), HasSubstr("lvs_method TUN type gue"),
                                           HasSubstr("only ipip"))));
    EXPECT_FALSE(diags.has_errors());
}

TEST(SnapshotBuilder, WeightOverrideToZeroIsNeverPicked) {
    const auto config = load(vs("10.0.0.1 80", "rr", {"192.168.1.1 8080 1", "192.168.1.2 8080 1",
                                                      "192.168.1.3 8080 1"}));
    dp::StatsRegistry reg(1);
    SnapshotBuilder b(reg);
    WeightOverrides down;
    down[RsIdentity{vs_identity(config.virtual_servers[0]), *conf::IpAddr::parse("192.168.1.2"), 8080}] = 0;
    conf::Diagnostics diags;
    const auto snap = b.build(config, nullptr, down, diags);
    ASSERT_NE(snap, nullptr);
    const dp::Service* s = snap->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP);
    ASSERT_NE(s, nullptr);
    const dp::Dest* off = dest_named(*s, "192.168.1.2");
    ASSERT_NE(off, nullptr);
    EXPECT_EQ(off->weight, 0);
    int others = 0;
    for (int i = 0; i < 300; ++i) {
        const dp::Dest* d = s->pick(dp::SchedFlow{});
        ASSERT_NE(d, nullptr);
        EXPECT_NE(d, off);
        others += d != off;
    }
    EXPECT_EQ(others, 300);

    // Every weight 0: no dest at all.
    for (const char* a : {"192.168.1.1", "192.168.1.3"}) {
        down[RsIdentity{vs_identity(config.virtual_servers[0]), *conf::IpAddr::parse(a), 8080}] = 0;
    }
    conf::Diagnostics diags2;
    const auto none = b.build(config, snap.get(), down, diags2);
    ASSERT_NE(none, nullptr);
    EXPECT_EQ(none->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP)->pick(dp::SchedFlow{}), nullptr);
}

// keepalived's sorry_server: while the checkers hold the quorum lost, it
// alone is picked (live servers at weight 0); otherwise it is not a dest,
// or a weight-0 one with sorry_server_inhibit.
TEST(SnapshotBuilder, SorryServerAloneTakesNewConnectionsWhileQuorumIsLost) {
    std::string text = vs("198.18.0.100 80", "rr", {"198.19.0.1 80 2", "198.19.0.2 80 1"});
    text.insert(text.rfind('}'), "    quorum 2\n    sorry_server 198.19.9.9 8080\n");
    const auto config = load(text);
    const VsIdentity id = vs_identity(config.virtual_servers[0]);
    dp::StatsRegistry reg(1);
    SnapshotBuilder b(reg);
    conf::Diagnostics diags;
    const auto held = b.build(config, nullptr, {}, diags);
    ASSERT_NE(held, nullptr);
    const dp::Service* s = held->find4(ip("198.18.0.100"), htons(80), IPPROTO_TCP);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->dests().size(), 2u);
    EXPECT_EQ(dest_named(*s, "198.19.9.9"), nullptr);

    const auto lost = b.build(config, held.get(), CheckerVerdicts({}, {id}), diags);
    ASSERT_NE(lost, nullptr);
    s = lost->find4(ip("198.18.0.100"), htons(80), IPPROTO_TCP);
    ASSERT_EQ(s->dests().size(), 3u);
    const dp::Dest* sorry = dest_named(*s, "198.19.9.9");
    ASSERT_NE(sorry, nullptr);
    EXPECT_EQ(sorry->weight, 1);
    EXPECT_EQ(sorry->port, htons(8080));
    EXPECT_EQ(sorry->fwd, dp::FwdMethod::nat);
    EXPECT_EQ(dest_named(*s, "198.19.0.1")->weight, 0);
    EXPECT_EQ(dest_named(*s, "198.19.0.2")->weight, 0);
    // Out of the service for keepalived: persistence templates leave them.
    EXPECT_FALSE(dest_named(*s, "198.19.0.1")->available);
    EXPECT_FALSE(dest_named(*s, "198.19.0.2")->available);
    EXPECT_TRUE(sorry->available);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(s->pick(dp::SchedFlow{}), sorry);

    auto inhibit = config;
    inhibit.virtual_servers[0].sorry_server_inhibit = true;
    const auto kept = b.build(inhibit, lost.get(), {}, diags);
    s = kept->find4(ip("198.18.0.100"), htons(80), IPPROTO_TCP);
    ASSERT_EQ(s->dests().size(), 3u);
    EXPECT_EQ(dest_named(*s, "198.19.9.9")->weight, 0);
    EXPECT_EQ(dest_named(*s, "198.19.0.1")->weight, 2);
    EXPECT_TRUE(messages(diags).empty());
}

// A vrrp_instance's addresses are answered like VIPs while owned, with or
// without a service of their own (the real servers' gateway, say).
TEST(SnapshotBuilder, VrrpAddressesAreVipsWhileOwned) {
    const auto config = load(vs("198.18.0.100 80", "rr", {"198.19.0.1 80 1"}) +
                             "vrrp_instance VI {\n    interface lan\n    virtual_router_id 7\n"
                             "    virtual_ipaddress {\n        198.18.0.100/24\n        198.19.0.254/24\n    }\n}\n");
    dp::StatsRegistry reg(1);
    SnapshotBuilder b(reg);
    conf::Diagnostics diags;
    const auto owned = b.build(config, nullptr, {}, diags);
    ASSERT_NE(owned, nullptr);
    EXPECT_TRUE(owned->serves_vip4(ip("198.18.0.100")));
    EXPECT_TRUE(owned->serves_vip4(ip("198.19.0.254")));  // no service: answered all the same
    EXPECT_FALSE(owned->serves_vip4(ip("198.19.0.1")));
    const auto released = b.build(config, owned.get(), {}, diags,
                                  {*conf::IpAddr::parse("198.18.0.100"), *conf::IpAddr::parse("198.19.0.254")});
    ASSERT_NE(released, nullptr);
    EXPECT_FALSE(released->serves_vip4(ip("198.18.0.100")));
    EXPECT_FALSE(released->serves_vip4(ip("198.19.0.254")));
    EXPECT_NE(released->find4(ip("198.18.0.100"), htons(80), IPPROTO_TCP), nullptr);  // still listed
}

TEST(SnapshotBuilder, RoundRobinPositionAndCountersCarryOverARebuild) {
    const std::string text = vs("10.0.0.1 80", "rr", {"192.168.1.1 8080 1", "192.168.1.2 8080 1",
                                                      "192.168.1.3 8080 1"});
    const auto config = load(text);
    dp::StatsRegistry reg(1);
    SnapshotBuilder b(reg);
    conf::Diagnostics diags;
    const auto first = b.build(config, nullptr, {}, diags);
    ASSERT_NE(first, nullptr);
    const dp::Service* s1 = first->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP);
    EXPECT_EQ(s1->pick(dp::SchedFlow{}), dest_named(*s1, "192.168.1.1"));

    const auto second = b.build(config, first.get(), {}, diags);
    ASSERT_NE(second, nullptr);
    EXPECT_GT(second->generation(), first->generation());
    const dp::Service* s2 = second->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP);
    EXPECT_NE(s2, s1);
    EXPECT_EQ(s2->id(), s1->id());
    EXPECT_EQ(&s2->counters(), &s1->counters());
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(s2->dests()[i].counters, s1->dests()[i].counters);
    // The walk goes on after .1 instead of starting over.
    EXPECT_EQ(s2->pick(dp::SchedFlow{}), dest_named(*s2, "192.168.1.2"));

    // Without the previous snapshot it would start at the top.
    const auto fresh = b.build(config, nullptr, {}, diags);
    const dp::Service* s3 = fresh->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP);
    EXPECT_EQ(s3->pick(dp::SchedFlow{}), dest_named(*s3, "192.168.1.1"));
}

// End to end with the publisher: a real server removed by a reload keeps its
// counters while a worker may still use the old snapshot, and loses them only
// after the grace period.
TEST(SnapshotBuilder, RemovedRealServerCountersFreedAfterTheGracePeriod) {
    const auto before = load(vs("10.0.0.1 80", "rr", {"192.168.1.1 8080 1", "192.168.1.2 8080 1"}));
    const auto after = load(vs("10.0.0.1 80", "rr", {"192.168.1.1 8080 1"}));
    dp::StatsRegistry reg(1);  // declared before the publisher: outlives its snapshots
    dp::SnapshotPublisher pub(1, 4);
    SnapshotBuilder b(reg);
    pub.register_worker(0);
    conf::Diagnostics diags;
    ASSERT_EQ(pub.publish(b.build(before, pub.current(), {}, diags)), 0);
    const dp::Snapshot* held = pub.acquire();  // worker 0's burst
    const dp::Service* s = held->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP);
    dp::DestCounters* removed = dest_at(s, "192.168.1.2").counters;
    dp::DestCounters* kept = dest_at(s, "192.168.1.1").counters;
    const std::uint32_t removed_id = removed->id;

    ASSERT_EQ(pub.publish(b.build(after, pub.current(), {}, diags)), 0);
    EXPECT_EQ(dest_at(pub.current()->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP), "192.168.1.1").counters,
              kept);
    pub.reclaim();
    reg.collect(pub);
    removed->traffic.slot(0).add_in(1, 100);  // the worker still counts on it
    EXPECT_EQ(reg.dest(removed_id), removed);
    EXPECT_EQ(reg.dest_count(), 2u);

    pub.quiescent(0);                    // burst over: the old snapshot goes
    EXPECT_EQ(pub.reclaim(), 1u);
    EXPECT_EQ(reg.collect(pub), 0u);     // unpublished now, freed after the next grace period
    EXPECT_EQ(reg.dest(removed_id), nullptr);
    EXPECT_EQ(reg.dest_count(), 2u);
    pub.quiescent(0);
    EXPECT_EQ(reg.collect(pub), 1u);
    EXPECT_EQ(reg.dest_count(), 1u);
    EXPECT_NE(reg.find_dest(dp::DestKey{dp::ServiceKey::v4(ip("10.0.0.1"), htons(80), IPPROTO_TCP),
                                        {ip("192.168.1.1"), 0, 0, 0}, htons(8080), dp::kFamilyInet}),
              nullptr);
    pub.unregister_worker(0);
}

// persistence_timeout and persistence_granularity reach the data plane's
// service (milliseconds, netmask in network order); none: not persistent.
TEST(SnapshotBuilder, PersistenceTimeoutAndGranularityReachTheService) {
    std::string text = vs("10.0.0.1 80", "rr", {"192.168.1.1 80 1"}) + vs("10.0.0.2 80", "rr", {"192.168.1.1 80 1"}) +
                       vs("10.0.0.3 80", "rr", {"192.168.1.1 80 1"});
    text.insert(text.find("    protocol TCP\n") + 17, "    persistence_timeout 300\n    persistence_granularity 255.255.255.0\n");
    const auto second = text.find("virtual_server 10.0.0.2");
    text.insert(text.find("    protocol TCP\n", second) + 17, "    persistence_timeout 50\n");
    const auto config = load(text);
    dp::StatsRegistry reg(1);
    SnapshotBuilder b(reg);
    conf::Diagnostics diags;
    const auto snap = b.build(config, nullptr, {}, diags);
    ASSERT_NE(snap, nullptr) << testing::PrintToString(messages(diags));
    const dp::Service* s1 = snap->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP);
    const dp::Service* s2 = snap->find4(ip("10.0.0.2"), htons(80), IPPROTO_TCP);
    const dp::Service* s3 = snap->find4(ip("10.0.0.3"), htons(80), IPPROTO_TCP);
    ASSERT_TRUE(s1 != nullptr && s2 != nullptr && s3 != nullptr);
    EXPECT_TRUE(s1->persistent());
    EXPECT_EQ(s1->persist_ms(), 300000u);
    EXPECT_EQ(s1->persist_mask(), ip("255.255.255.0"));
    EXPECT_TRUE(s2->persistent());
    EXPECT_EQ(s2->persist_ms(), 50000u);
    EXPECT_EQ(s2->persist_mask(), 0xffffffffu);
    EXPECT_FALSE(s3->persistent());
    // Templates find their real server again by its stable id.
    EXPECT_EQ(s1->dest_by_id(s1->dests()[0].id), &s1->dests()[0]);
}

// A checker's down verdict without inhibit_on_failure is, to IPVS, a
// removal: the dest stays (weight 0) but persistence templates leave it.
// With inhibit_on_failure it is quiescent and keeps them (IPVS default).
TEST(SnapshotBuilder, ADownRealServerIsUnavailableUnlessInhibited) {
    std::string text = vs("10.0.0.1 80", "rr", {"192.168.1.1 80 1", "192.168.1.2 80 1", "192.168.1.3 80 1"});
    const auto second = text.find("real_server 192.168.1.2");
    text.insert(text.find("weight 1\n", second) + 9, "        inhibit_on_failure\n");
    const auto config = load(text);
    const VsIdentity id = vs_identity(config.virtual_servers[0]);
    dp::StatsRegistry reg(1);
    SnapshotBuilder b(reg);
    WeightOverrides down;
    for (const char* a : {"192.168.1.1", "192.168.1.2"}) down[RsIdentity{id, *conf::IpAddr::parse(a), 80}] = 0;
    conf::Diagnostics diags;
    const auto snap = b.build(config, nullptr, down, diags);
    ASSERT_NE(snap, nullptr) << testing::PrintToString(messages(diags));
    const dp::Service* s = snap->find4(ip("10.0.0.1"), htons(80), IPPROTO_TCP);
    EXPECT_FALSE(dest_at(s, "192.168.1.1").available);
    EXPECT_EQ(dest_at(s, "192.168.1.1").weight, 0);
    EXPECT_TRUE(dest_at(s, "192.168.1.2").available);
    EXPECT_EQ(dest_at(s, "192.168.1.2").weight, 0);
    EXPECT_TRUE(dest_at(s, "192.168.1.3").available);
}

// IPVS schedules a port-0 service only when it is persistent: a group's
// port-0 entry without persistence is skipped with a warning (a plain
// `virtual_server IP` is made persistent by the parser, as keepalived does).
TEST(SnapshotBuilder, PortZeroNeedsPersistence) {
    const std::string group = "virtual_server_group G {\n    10.0.0.1\n}\n";
    const auto plain = load(group + vs("group G", "rr", {"192.168.1.1 80 1"}));
    dp::StatsRegistry reg(1);
    SnapshotBuilder b(reg);
    conf::Diagnostics diags;
    const auto skipped = b.build(plain, nullptr, {}, diags);
    ASSERT_NE(skipped, nullptr);
    EXPECT_EQ(skipped->find4(ip("10.0.0.1"), htons(443), IPPROTO_TCP), nullptr);
    EXPECT_THAT(messages(diags), testing::Contains(HasSubstr("port 0 (all ports) is only valid for a persistent service")));

    std::string text = group + vs("group G", "rr", {"192.168.1.1 80 1"});
    text.insert(text.find("    protocol TCP\n") + 17, "    persistence_timeout 60\n");
    conf::Diagnostics diags2;
    const auto built = b.build(load(text), skipped.get(), {}, diags2);
    ASSERT_NE(built, nullptr);
    const dp::Service* s = built->find4(ip("10.0.0.1"), htons(443), IPPROTO_TCP);  // any port
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(s->persistent());
    EXPECT_TRUE(messages(diags2).empty()) << testing::PrintToString(messages(diags2));
}

}  // namespace
}  // namespace kadp::ctl
