// Runs on: any (unit test). What the kernel backend's kadpctl reload reply
// says for a KernelDaemon reload result, without a kernel: accepted with
// the change lines, rejected with the diagnostics and the running
// generation. (List, conns, status and a real reload against Linux IPVS
// run in tests/unit/control/kernel/ipvs_netlink_test.cpp, inside the VM of
// tests/scripts/kernel_ipvs_vm.sh, and through kadpctl in tests/vm/init.sh.)
#include "control/kernel_control.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control/ctl_messages.h"
#include "control/json_value.h"

namespace kadp::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

IpvsService svc(const char* addr, const char* sched, std::vector<std::pair<const char*, int>> dests) {
    IpvsService s;
    s.address = conf::IpAddr::parse(addr).value();
    s.port = 80;
    s.scheduler = sched;
    for (const auto& [a, w] : dests) {
        IpvsDest d;
        d.address = conf::IpAddr::parse(a).value();
        d.port = 80;
        d.weight = w;
        s.dests.push_back(d);
    }
    return s;
}

TEST(KernelControl, AcceptedReloadCarriesTheChangeLines) {
    KernelDaemon::ReloadResult result;
    result.accepted = true;
    result.changes = diff_services({svc("198.18.0.10", "rr", {{"198.18.1.11", 1}})},
                                   {svc("198.18.0.10", "wrr", {{"198.18.1.11", 2}}),
                                    svc("198.18.0.11", "rr", {{"198.18.2.12", 1}})});
    result.applied = 3;
    const ReloadReply r = KernelControl::reload_reply(result, 2, "kadpctl", 1795624405);
    EXPECT_TRUE(r.accepted);
    EXPECT_EQ(r.generation, 2u);
    EXPECT_EQ(r.trigger, "kadpctl");
    EXPECT_EQ(r.time, 1795624405);
    EXPECT_EQ(r.message, "generation 2: " + result.changes.summary());
    EXPECT_THAT(r.message, HasSubstr("1 service added"));
    EXPECT_THAT(r.changes, ElementsAre(HasSubstr("TCP 198.18.0.10:80 changed: scheduler rr -> wrr"),
                                       HasSubstr("real server 198.18.1.11:80 of TCP 198.18.0.10:80: weight 1 -> 2"),
                                       HasSubstr("service TCP 198.18.0.11:80 added")));
    // What kadpctl reads back is the same reply.
    std::string error;
    const auto json = JsonValue::parse(to_json(r), error);
    ASSERT_TRUE(json) << error;
    const auto back = reload_from_json(*json, error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(back->changes, r.changes);
}

TEST(KernelControl, RefusedOperationsAreSaidInTheMessage) {
    KernelDaemon::ReloadResult result;
    result.accepted = true;
    result.failed = 2;
    const ReloadReply r = KernelControl::reload_reply(result, 4, "SIGHUP", 0);
    EXPECT_TRUE(r.accepted);
    EXPECT_EQ(r.message, "generation 4: no change; the kernel refused 2 operation(s) (see kadp's log)");
}

TEST(KernelControl, RejectedReloadKeepsTheGenerationAndGivesTheDiagnostics) {
    KernelDaemon::ReloadResult result;
    result.accepted = false;
    result.reason = "/etc/kadp/keepalived.conf: 1 error(s)";
    conf::Diagnostic d;
    d.loc.file = "/etc/kadp/keepalived.conf";
    d.loc.line = 7;
    d.severity = conf::Severity::error;
    d.message = "real_server: '198.18.999.11' is not an IP address";
    result.diagnostics.push_back(d);
    result.changes.lines.push_back("must not be reported");
    const ReloadReply r = KernelControl::reload_reply(result, 3, "kadpctl", 0);
    EXPECT_FALSE(r.accepted);
    EXPECT_EQ(r.generation, 3u);
    EXPECT_EQ(r.message, "/etc/kadp/keepalived.conf: 1 error(s); the running configuration stays (generation 3)");
    EXPECT_TRUE(r.changes.empty());
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(conf::Diagnostics::format(r.diagnostics[0]),
              "/etc/kadp/keepalived.conf:7: error: real_server: '198.18.999.11' is not an IP address");
}

}  // namespace
}  // namespace kadp::ctl
