// Runs on: any (unit test). The reload diff: which operations turn the
// current IPVS state into the desired one, and that nothing already right
// is touched.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/desired_services.h"
#include "control/reconcile.h"

namespace kadp::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

conf::IpAddr ip(const char* text) { return conf::IpAddr::parse(text).value(); }

IpvsDest dest(const char* addr, int weight, conf::LbKind fwd = conf::LbKind::nat) {
    IpvsDest d;
    d.address = ip(addr);
    d.port = 80;
    d.weight = weight;
    d.forward = fwd;
    return d;
}

IpvsService service(const char* addr, std::vector<IpvsDest> dests, const char* sched = "rr") {
    IpvsService s;
    s.address = ip(addr);
    s.family = s.address.family;
    s.port = 80;
    s.scheduler = sched;
    s.dests = std::move(dests);
    return s;
}

std::vector<std::string> names(const std::vector<IpvsOp>& ops) {
    std::vector<std::string> out;
    for (const auto& op : ops) out.push_back(describe(op));
    return out;
}

TEST(Reconcile, FromNothingAddsEachServiceThenItsRealServers) {
    const std::vector<IpvsService> want = {service("198.18.0.1", {dest("198.18.1.1", 1), dest("198.18.1.2", 2)}),
                                           service("198.18.0.2", {dest("198.18.1.3", 1)})};
    const auto ops = reconcile({}, {}, want);
    EXPECT_THAT(names(ops), ElementsAre("add service TCP 198.18.0.1:80", "add real server 198.18.1.1:80 of TCP 198.18.0.1:80",
                                        "add real server 198.18.1.2:80 of TCP 198.18.0.1:80",
                                        "add service TCP 198.18.0.2:80", "add real server 198.18.1.3:80 of TCP 198.18.0.2:80"));
    EXPECT_EQ(ops[0].service.scheduler, "rr");
    EXPECT_TRUE(ops[0].service.dests.empty());
    EXPECT_EQ(ops[2].dest.weight, 2);
}

TEST(Reconcile, SameStateGivesNoOperationWhateverTheCounters) {
    const std::vector<IpvsService> want = {service("198.18.0.1", {dest("198.18.1.1", 1)})};
    auto now = want;
    now[0].stats.conns = 1234;
    now[0].dests[0].active_conns = 7;
    now[0].dests[0].stats.in_bytes = 99;
    now[0].loc = conf::SourceLoc{"other.conf", 3};
    EXPECT_THAT(reconcile(now, want, want), IsEmpty());
    EXPECT_THAT(reconcile(now, {}, want), IsEmpty());  // first start over what a previous run left
}

TEST(Reconcile, WeightChangeEditsOnlyThatRealServer) {
    const std::vector<IpvsService> now = {service("198.18.0.1", {dest("198.18.1.1", 1), dest("198.18.1.2", 1)}),
                                          service("198.18.0.2", {dest("198.18.1.3", 1)})};
    auto want = now;
    want[0].dests[1].weight = 5;
    const auto ops = reconcile(now, now, want);
    ASSERT_THAT(names(ops), ElementsAre("edit real server 198.18.1.2:80 of TCP 198.18.0.1:80"));
    EXPECT_EQ(ops[0].dest.weight, 5);
}

TEST(Reconcile, ForwardingThresholdsAndTunnelChangesAreEdits) {
    const std::vector<IpvsService> now = {service("198.18.0.1", {dest("198.18.1.1", 1), dest("198.18.1.2", 1),
                                                                 dest("198.18.1.3", 1, conf::LbKind::tun)})};
    auto want = now;
    want[0].dests[0].forward = conf::LbKind::dr;
    want[0].dests[1].upper_threshold = 10;
    want[0].dests[2].tunnel.type = "gre";
    EXPECT_EQ(reconcile(now, now, want).size(), 3u);
    // Tunnel options of a dest that is not tunnelled mean nothing.
    auto nat = now;
    nat[0].dests[0].tunnel.type = "gre";
    EXPECT_THAT(reconcile(now, now, nat), IsEmpty());
}

TEST(Reconcile, RemovedAndAddedRealServersDeleteBeforeAdd) {
    const std::vector<IpvsService> now = {service("198.18.0.1", {dest("198.18.1.1", 1), dest("198.18.1.2", 1)})};
    const std::vector<IpvsService> want = {service("198.18.0.1", {dest("198.18.1.3", 1), dest("198.18.1.2", 3)})};
    EXPECT_THAT(names(reconcile(now, now, want)),
                ElementsAre("delete real server 198.18.1.1:80 of TCP 198.18.0.1:80",
                            "edit real server 198.18.1.2:80 of TCP 198.18.0.1:80",
                            "add real server 198.18.1.3:80 of TCP 198.18.0.1:80"));
}

TEST(Reconcile, SchedulerChangeEditsTheServiceInPlaceAndLeavesItsRealServers) {
    const std::vector<IpvsService> now = {service("198.18.0.1", {dest("198.18.1.1", 1)}, "rr")};
    for (auto change : {+[](IpvsService& s) { s.scheduler = "wlc"; },
                        +[](IpvsService& s) { s.persistence_timeout = 300; },
                        +[](IpvsService& s) { s.persistence_netmask_v4 = 0xffffff00; },
                        +[](IpvsService& s) { s.persistence_engine = "sip"; },
                        +[](IpvsService& s) { s.scheduler_flags = {"flag-1"}; },
                        +[](IpvsService& s) { s.one_packet = true; }}) {
        auto want = now;
        change(want[0]);
        const auto ops = reconcile(now, now, want);
        ASSERT_THAT(names(ops), ElementsAre("edit service TCP 198.18.0.1:80"));
        EXPECT_TRUE(ops[0].service.same_settings(want[0]));
    }
}

TEST(Reconcile, ServicesNoLongerWantedAreDeletedFirstOthersOnesAreLeftAlone) {
    const std::vector<IpvsService> managed = {service("198.18.0.1", {dest("198.18.1.1", 1)}),
                                              service("198.18.0.2", {dest("198.18.1.1", 1)})};
    auto now = managed;
    now.push_back(service("198.18.0.99", {dest("198.18.1.9", 1)}));  // added by ipvsadm, not by kadp
    const std::vector<IpvsService> want = {service("198.18.0.3", {dest("198.18.1.1", 1)}), managed[1]};
    EXPECT_THAT(names(reconcile(now, managed, want)),
                ElementsAre("delete service TCP 198.18.0.1:80", "add service TCP 198.18.0.3:80",
                            "add real server 198.18.1.1:80 of TCP 198.18.0.3:80"));
}

TEST(Reconcile, AnAdoptedServiceLosesRealServersTheConfigDoesNotName) {
    const std::vector<IpvsService> now = {service("198.18.0.1", {dest("198.18.1.1", 1), dest("198.18.1.9", 1)})};
    const std::vector<IpvsService> want = {service("198.18.0.1", {dest("198.18.1.1", 1)})};
    EXPECT_THAT(names(reconcile(now, {}, want)), ElementsAre("delete real server 198.18.1.9:80 of TCP 198.18.0.1:80"));
}

// After a crash, `managed` comes from the dead kadp's record (identities
// only, no settings): its services the configuration still has are adopted
// and only their differences applied; those it no longer has are deleted;
// what the record does not list is someone else's.
TEST(Reconcile, AfterACrashTheRecordTellsLeftoversFromOthers) {
    IpvsService recorded_kept = service("198.18.0.1", {});
    recorded_kept.scheduler.clear();
    IpvsService recorded_gone = service("198.18.0.2", {});
    recorded_gone.scheduler.clear();
    const std::vector<IpvsService> record = {recorded_kept, recorded_gone};
    const std::vector<IpvsService> now = {
        service("198.18.0.1", {dest("198.18.1.1", 1), dest("198.18.1.2", 2)}),
        service("198.18.0.2", {dest("198.18.1.1", 1)}),
        service("198.18.0.99", {dest("198.18.1.9", 1)}),  // not in the record: someone else's
    };
    const std::vector<IpvsService> want = {service("198.18.0.1", {dest("198.18.1.1", 1), dest("198.18.1.2", 5)})};
    EXPECT_THAT(names(reconcile(now, record, want)),
                ElementsAre("delete service TCP 198.18.0.2:80", "edit real server 198.18.1.2:80 of TCP 198.18.0.1:80"));
    // The same configuration again: nothing to do, whatever the record says.
    std::vector<IpvsService> after = {want[0], now[2]};
    EXPECT_THAT(reconcile(after, record, want), IsEmpty());
}

TEST(Reconcile, IdentityIsProtocolAddressPortOrMarkAndFamily) {
    IpvsService udp = service("198.18.0.1", {});
    udp.protocol = conf::Protocol::udp;
    const IpvsService tcp = service("198.18.0.1", {});
    EXPECT_THAT(names(reconcile({tcp}, {tcp}, {udp})),
                ElementsAre("delete service TCP 198.18.0.1:80", "add service UDP 198.18.0.1:80"));
    IpvsService mark4;
    mark4.fwmark = 5;
    IpvsService mark6 = mark4;
    mark6.family = conf::IpAddr::Family::v6;
    EXPECT_THAT(names(reconcile({mark4}, {mark4}, {mark4, mark6})), ElementsAre("add service FWM 5 IPv6"));
    const IpvsService v6 = service("2001:db8::1", {dest("2001:db8::10", 1)});
    EXPECT_THAT(names(reconcile({}, {}, {v6})),
                ElementsAre("add service TCP [2001:db8::1]:80", "add real server [2001:db8::10]:80 of TCP [2001:db8::1]:80"));
}

}  // namespace
}  // namespace kadp::ctl
