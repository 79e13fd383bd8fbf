// Runs on: any (unit test; no EAL: the publisher, registry and connection
// table work on plain memory). The DPDK backend's reload and listings:
// accepted changes are published with the counters kept, rejected files
// leave the running snapshot alone, dataplane changes need a restart.
#include "control/dpdk_control.h"
#include "dataplane/counters.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conf/load.h"

namespace kadp::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string conf_text(const std::string& weights_and_more, int conn_table = 4096) {
    return "dataplane {\n"
           "    interface lan {\n"
           "        device \"net_null0\"\n"
           "        address 198.18.0.254/24\n"
           "    }\n"
           "    conn_table_size " + std::to_string(conn_table) + "\n"
           "}\n" + weights_and_more;
}

std::string vs80(int w1, int w2) {
    std::string s = "virtual_server 198.18.0.100 80 {\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n";
    if (w1 >= 0) s += "    real_server 198.18.0.1 80 {\n        weight " + std::to_string(w1) + "\n    }\n";
    if (w2 >= 0) s += "    real_server 198.18.0.2 80 {\n        weight " + std::to_string(w2) + "\n    }\n";
    return s + "}\n";
}

class DpdkControlTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/kadp-dpdk-control.XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        options_.config_file = dir_ + "/k.conf";
        write(conf_text(vs80(1, 1)));
        conf::Diagnostics diags;
        conf::LoadOptions load;
        load.check_host = false;
        auto config = conf::load_file(options_.config_file, load, diags);
        ASSERT_TRUE(config && !diags.has_errors());
        auto snap = builder_.build(*config, nullptr, {}, diags);
        ASSERT_TRUE(snap);
        ASSERT_EQ(publisher_.publish(std::move(snap)), 0);
        DpdkRuntime rt;
        rt.options = &options_;
        rt.publisher = &publisher_;
        rt.registry = &registry_;
        rt.builder = &builder_;
        rt.conns = conns_.get();
        rt.channels = channel_.get();
        rt.channel_count = 1;
        // Every level: the test reads debug lines too ("desired state applied").
        ctl_ = std::make_unique<DpdkControl>(rt, *config,
                                             [this](LogLevel level, const std::string& l) {
                                                 log_ += l + "\n";
                                                 leveled_ += std::string(to_string(level)) + ": " + l + "\n";
                                             });
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    void write(const std::string& text) { std::ofstream(options_.config_file) << text; }

    std::string dir_;
    CliOptions options_;
    dp::StatsRegistry registry_{1};
    dp::SnapshotPublisher publisher_{1, 4};
    SnapshotBuilder builder_{registry_};
    std::unique_ptr<dp::ConnTable4> conns_ = dp::ConnTable4::create(1024, 1);
    std::unique_ptr<dp::WorkerChannel> channel_ = std::make_unique<dp::WorkerChannel>();
    std::unique_ptr<DpdkControl> ctl_;
    std::string log_;
    std::string leveled_;  // "LEVEL: line" (docs/logging.md)
};

TEST_F(DpdkControlTest, ListShowsTheSnapshotInIpvsTerms)
{
    const ListReply r = ctl_->list();
    EXPECT_EQ(r.backend, "dpdk");
    EXPECT_EQ(r.conn_table_size, conns_->capacity());
    ASSERT_EQ(r.services.size(), 1u);
    EXPECT_EQ(r.services[0].scheduler, "wrr");
    EXPECT_EQ(r.services[0].address.to_string(), "198.18.0.100");
    EXPECT_EQ(r.services[0].port, 80);
    ASSERT_EQ(r.services[0].dests.size(), 2u);
    EXPECT_EQ(r.services[0].dests[1].address.to_string(), "198.18.0.2");
    EXPECT_EQ(r.services[0].dests[1].forward, conf::LbKind::nat);
    EXPECT_EQ(ctl_->conns(10).total, 0u);
    const StatusReply s = ctl_->status();
    EXPECT_EQ(s.generation, 1u);
    EXPECT_EQ(s.services, 1u);
    EXPECT_EQ(s.real_servers, 2u);
    EXPECT_FALSE(s.last_reload);
}

// kadpctl stats without EAL or workers: every counter named (zero), the
// connection table, no ports or mempools, no IPVS totals.
TEST_F(DpdkControlTest, StatsWithoutWorkersNameEveryCounter)
{
    const StatsReply s = ctl_->stats();
    EXPECT_EQ(s.backend, "dpdk");
    EXPECT_TRUE(s.workers.empty());
    ASSERT_EQ(s.totals.size(), dp::kCounterCount);
    EXPECT_EQ(s.totals[0].first, std::string(dp::counter_name(0)));
    for (const auto& [name, n] : s.totals) EXPECT_EQ(n, 0u) << name;
    EXPECT_EQ(s.conn_capacity, conns_->capacity());
    EXPECT_EQ(s.conn_in_use, 0u);
    EXPECT_TRUE(s.ports.empty());
    EXPECT_TRUE(s.mempools.empty());
    EXPECT_FALSE(s.ipvs);
}

// A persistence template is listed as ipvsadm -Lnc lists IPVS's: state NONE,
// client port 0, and the real server it points at now (replaced in place
// when its first one left, so by its dest id).
TEST_F(DpdkControlTest, ConnsListsPersistenceTemplatesAsIpvsDoes)
{
    const dp::Service* svc = publisher_.current()->find4(inet_addr("198.18.0.100"), htons(80), IPPROTO_TCP);
    ASSERT_NE(svc, nullptr);
    dp::Conn4* t = conns_->alloc(0);
    ASSERT_NE(t, nullptr);
    t->caddr = inet_addr("198.18.1.7");
    t->vaddr = inet_addr("198.18.0.100");
    t->daddr = svc->dests()[0].addr[0];  // made for the first server...
    t->dport = htons(80);
    t->vport = htons(80);
    t->proto = IPPROTO_TCP;
    t->kind = dp::kConnKindTemplate;
    t->dest_id = svc->dests()[0].id;
    t->tpl_dest.store(svc->dests()[1].id);  // ...now on the second
    t->n_control.store(1);
    ASSERT_EQ(conns_->link_template(0, t, 0).tpl, t);
    const ConnsReply r = ctl_->conns(10);
    ASSERT_EQ(r.conns.size(), 1u);
    const IpvsConn& c = r.conns[0];
    EXPECT_EQ(c.protocol, conf::Protocol::tcp);
    EXPECT_FALSE(c.persistence_template);  // "IP" is for fwmark templates only
    EXPECT_EQ(c.state, "NONE");
    EXPECT_EQ(c.client.to_string(), "198.18.1.7");
    EXPECT_EQ(c.client_port, 0);
    EXPECT_EQ(c.virtual_address.to_string(), "198.18.0.100");
    EXPECT_EQ(c.virtual_port, 80);
    EXPECT_EQ(c.dest.to_string(), "198.18.0.2");
    EXPECT_EQ(c.dest_port, 80);
}

TEST_F(DpdkControlTest, AcceptedReloadPublishesAndKeepsCounters)
{
    const dp::Snapshot* before = publisher_.current();
    dp::ServiceCounters* counters = &before->services().services()[0]->counters();
    counters->traffic.slot(0).add_conn();  // a figure the reload must keep
    write(conf_text(vs80(3, -1) +
                    "virtual_server 198.18.0.100 8080 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n"
                    "    real_server 198.18.0.3 80 {\n    }\n}\n"));
    const ReloadReply r = ctl_->reload("test");
    EXPECT_TRUE(r.accepted) << r.message;
    EXPECT_EQ(r.generation, 2u);
    EXPECT_EQ(r.message, "generation 2: 1 service added, 1 real server removed, 1 real server changed");
    EXPECT_THAT(r.changes, ElementsAre("real server 198.18.0.2:80 of TCP 198.18.0.100:80 removed",
                                       "real server 198.18.0.1:80 of TCP 198.18.0.100:80: weight 1 -> 3",
                                       "service TCP 198.18.0.100:8080 added (rr, 1 real server)"));
    const dp::Snapshot* after = publisher_.current();
    ASSERT_NE(after, before);
    EXPECT_EQ(after->generation(), 2u);
    EXPECT_EQ(&after->services().services()[0]->counters(), counters) << "the unchanged service keeps its counters";
    EXPECT_EQ(ctl_->list().services[0].stats.conns, 1u);
    EXPECT_EQ(after->services().services()[0]->dests()[0].weight, 3);
    EXPECT_THAT(log_, HasSubstr("reload (test): generation 2: 1 service added"));
    // One summary line at info; the full diff at debug.
    EXPECT_THAT(leveled_, HasSubstr("info: reload (test): generation 2: 1 service added, 1 real server removed, "
                                    "1 real server changed\n"));
    EXPECT_THAT(leveled_, HasSubstr("debug:   real server 198.18.0.2:80 of TCP 198.18.0.100:80 removed\n"));
    EXPECT_THAT(leveled_, HasSubstr("debug:   service TCP 198.18.0.100:8080 added (rr, 1 real server)\n"));
    EXPECT_TRUE(ctl_->status().last_reload->accepted);
}

TEST_F(DpdkControlTest, DesiredStateChangesArePublishedOnceAndSurviveAReload)
{
    const conf::VirtualServer& vs = ctl_->desired().config().virtual_servers[0];
    const RsIdentity rs1{vs_identity(vs), vs.real_servers[0].address, vs.real_servers[0].port};
    const conf::IpAddr vip = vs.address;
    EXPECT_TRUE(ctl_->apply());  // nothing changed: nothing published
    EXPECT_EQ(publisher_.current()->generation(), 1u);

    // A checker's verdict and a VRRP release in one batch: one snapshot.
    EXPECT_TRUE(ctl_->desired().set_weight(rs1, 0));
    EXPECT_TRUE(ctl_->desired().set_vip_owned(vip, false));
    EXPECT_FALSE(ctl_->desired().set_vip_owned(vip, false));  // no change
    ctl_->tick();
    const dp::Snapshot* snap = publisher_.current();
    EXPECT_EQ(snap->generation(), 2u);
    EXPECT_EQ(snap->services().services()[0]->dests()[0].weight, 0);
    EXPECT_EQ(snap->services().services()[0]->dests()[1].weight, 1);
    EXPECT_FALSE(snap->serves_vip4(0x640012c6));  // 198.18.0.100, wire order
    EXPECT_NE(snap->find4(0x640012c6, htons(80), 6), nullptr) << "the service stays, only the VIP is released";
    ctl_->tick();
    EXPECT_EQ(publisher_.current()->generation(), 2u);

    // A reload keeps both (the real server is still there), and the weight
    // of the file changes underneath the verdict.
    write(conf_text(vs80(5, 2)));
    ASSERT_TRUE(ctl_->reload("test").accepted);
    snap = publisher_.current();
    EXPECT_EQ(snap->services().services()[0]->dests()[0].weight, 0);
    EXPECT_EQ(snap->services().services()[0]->dests()[1].weight, 2);
    EXPECT_FALSE(snap->serves_vip4(0x640012c6));

    // Master again, verdict cleared: the file's weight.
    EXPECT_TRUE(ctl_->desired().set_vip_owned(vip, true));
    EXPECT_TRUE(ctl_->desired().clear_weight(rs1));
    EXPECT_TRUE(ctl_->apply());
    snap = publisher_.current();
    EXPECT_EQ(snap->services().services()[0]->dests()[0].weight, 5);
    EXPECT_TRUE(snap->serves_vip4(0x640012c6));
    EXPECT_THAT(log_, HasSubstr("desired state applied"));
}

TEST_F(DpdkControlTest, TakingAVipOverAsksWorkerZeroForAGratuitousArp)
{
    dp::WorkerCommand cmd;
    const conf::IpAddr vip = ctl_->desired().config().virtual_servers[0].address;
    ctl_->desired().set_vip_owned(vip, false);
    ASSERT_TRUE(ctl_->apply());
    EXPECT_FALSE(channel_->commands.pop(cmd)) << "releasing announces nothing";
    // Owned again: announced once the snapshot that owns it is out, on the
    // port whose connected prefix holds it (the dataplane block's
    // 198.18.0.254/24: port 0).
    ctl_->desired().set_vip_owned(vip, true);
    ASSERT_TRUE(ctl_->apply());
    ASSERT_TRUE(channel_->commands.pop(cmd));
    EXPECT_EQ(cmd.kind, dp::WorkerCommand::Kind::send_garp);
    EXPECT_EQ(cmd.port, 0u);
    EXPECT_EQ(cmd.ip, 0x640012c6u);  // 198.18.0.100, wire order
    EXPECT_FALSE(channel_->commands.pop(cmd));
}

TEST_F(DpdkControlTest, WorkerAlarmEventsAreLogged)
{
    ASSERT_TRUE(channel_->events.push(dp::WorkerEvent{dp::WorkerEvent::Kind::counter_rose,
                                                      dp::Counter::conn_table_full, 42}));
    ctl_->tick();
    EXPECT_THAT(log_, HasSubstr("worker 0: 42 more in the last second: "));
    EXPECT_THAT(log_, HasSubstr("(conn_table_full)"));
    dp::WorkerEvent ev;
    EXPECT_FALSE(channel_->events.pop(ev));
    EXPECT_THAT(leveled_, HasSubstr("warning: worker 0: 42 more in the last second: "));
}

// A worker under a sustained attack reports once a second: a few lines a
// minute per counter reach the log (docs/logging.md), the others wait for
// the summary.
TEST_F(DpdkControlTest, WorkerAlarmEventsAreRateLimitedPerCounter)
{
    for (int i = 0; i < 30; ++i) {
        ASSERT_TRUE(channel_->events.push(dp::WorkerEvent{dp::WorkerEvent::Kind::counter_rose,
                                                          dp::Counter::conn_table_full, 7}));
        ASSERT_TRUE(channel_->events.push(dp::WorkerEvent{dp::WorkerEvent::Kind::counter_rose,
                                                          dp::Counter::mbuf_alloc_fail, 1}));
        ctl_->tick();
    }
    const auto lines = [this](const std::string& part) {
        std::size_t n = 0;
        for (std::size_t at = 0; (at = log_.find(part, at)) != std::string::npos; at += part.size()) ++n;
        return n;
    };
    EXPECT_EQ(lines("(conn_table_full)"), 5u);
    EXPECT_EQ(lines("(mbuf_alloc_fail)"), 5u);
}

TEST_F(DpdkControlTest, AVerdictForARealServerTheReloadRemovedIsDropped)
{
    const conf::VirtualServer& vs = ctl_->desired().config().virtual_servers[0];
    const RsIdentity rs2{vs_identity(vs), vs.real_servers[1].address, vs.real_servers[1].port};
    ASSERT_TRUE(ctl_->desired().set_weight(rs2, 0));
    ASSERT_TRUE(ctl_->apply());
    write(conf_text(vs80(1, -1)));
    ASSERT_TRUE(ctl_->reload("test").accepted);
    EXPECT_TRUE(ctl_->desired().weights().empty());
}

TEST_F(DpdkControlTest, BrokenFileIsRejectedAndTheSnapshotStays)
{
    const dp::Snapshot* before = publisher_.current();
    write(conf_text(vs80(1, 1)) + "virtual_server 198.18.0.100 81 {\n    real_server 198.18.0.300 80 {\n    }\n}\n");
    const ReloadReply r = ctl_->reload("test");
    EXPECT_FALSE(r.accepted);
    EXPECT_EQ(r.generation, 1u);
    EXPECT_THAT(r.message, HasSubstr("1 error(s); the running configuration stays (generation 1)"));
    bool found = false;
    for (const auto& d : r.diagnostics) {
        found = found || (d.severity == conf::Severity::error && d.loc.file == options_.config_file && d.loc.line == 20);
    }
    EXPECT_TRUE(found) << "an error at k.conf:20";
    EXPECT_EQ(publisher_.current(), before);
    EXPECT_THAT(log_, HasSubstr("reload (test) rejected"));
    EXPECT_THAT(leveled_, HasSubstr("error: reload (test) rejected"));
    EXPECT_THAT(log_, HasSubstr(options_.config_file + ":20: error:"));
}

TEST_F(DpdkControlTest, ServicesTheDataPlaneCannotRunAreRejected)
{
    const dp::Snapshot* before = publisher_.current();
    write(conf_text("virtual_server 198.18.0.100 80 {\n    lb_algo twos\n    lb_kind NAT\n    protocol TCP\n"
                    "    real_server 198.18.0.1 80 {\n    }\n}\n"));
    const ReloadReply r = ctl_->reload("test");
    EXPECT_FALSE(r.accepted);
    EXPECT_THAT(r.message, HasSubstr("in the services"));
    EXPECT_EQ(publisher_.current(), before);
}

TEST_F(DpdkControlTest, ListShowsSchedulerFlagsAndThresholds)
{
    write(conf_text("virtual_server 198.18.0.100 80 {\n    lb_algo sh\n    sh-port\n    sh-fallback\n"
                    "    lb_kind NAT\n    protocol TCP\n    real_server 198.18.0.1 80 {\n        uthreshold 50\n"
                    "        lthreshold 10\n    }\n}\n"));
    const ReloadReply r = ctl_->reload("test");
    ASSERT_TRUE(r.accepted) << r.message;
    const ListReply l = ctl_->list();
    ASSERT_EQ(l.services.size(), 1u);
    EXPECT_EQ(l.services[0].scheduler, "sh");
    EXPECT_THAT(l.services[0].scheduler_flags, ElementsAre("sh-fallback", "sh-port"));
    ASSERT_EQ(l.services[0].dests.size(), 1u);
    EXPECT_EQ(l.services[0].dests[0].upper_threshold, 50u);
    EXPECT_EQ(l.services[0].dests[0].lower_threshold, 10u);
}

TEST_F(DpdkControlTest, DataplaneChangesNeedARestart)
{
    const dp::Snapshot* before = publisher_.current();
    write(conf_text(vs80(1, 1), 8192));
    const ReloadReply r = ctl_->reload("test");
    EXPECT_FALSE(r.accepted);
    EXPECT_THAT(r.message, HasSubstr("conn_table_size 4096 -> 8192 needs a restart"));
    EXPECT_EQ(publisher_.current(), before);
}

TEST_F(DpdkControlTest, UnreadableFileIsRejected)
{
    std::filesystem::remove(options_.config_file);
    const ReloadReply r = ctl_->reload("test");
    EXPECT_FALSE(r.accepted);
    EXPECT_THAT(r.message, HasSubstr("cannot be read"));
}

}  // namespace
}  // namespace kadp::ctl
