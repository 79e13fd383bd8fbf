// Runs on: any, but only where Linux IPVS is (root, ip_vs loaded): the VM of
// tests/scripts/kernel_ipvs_vm.sh runs it; elsewhere every test skips.
// IpvsNetlink against the real kernel: every setting kadp programs reads
// back the same, counters survive edits, errors carry the kernel's reason.
// Uses only 198.18.200.0/22, 2001:db8:200::/48 and fwmark 4242, and removes
// what it adds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "conf/load.h"
#include "control/desired_services.h"
#include "control/kernel/ip_vs_conn.h"
#include "control/kernel/ipvs_netlink.h"
#include "control/kernel/kernel_backend.h"
#include "control/kernel/kernel_record.h"
#include "control/kernel/leftover_vips.h"
#include "control/kernel/rtnl.h"
#include "control/kernel_control.h"
#include "control/reconcile.h"
#include "control/run_kernel.h"

namespace kadp::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

conf::IpAddr ip(const char* text) { return conf::IpAddr::parse(text).value(); }

IpvsDest dest(const char* addr, std::uint16_t port, conf::LbKind fwd, int weight) {
    IpvsDest d;
    d.address = ip(addr);
    d.port = port;
    d.forward = fwd;
    d.weight = weight;
    return d;
}

IpvsService service(conf::Protocol proto, const char* addr, std::uint16_t port, const char* sched,
                    std::vector<IpvsDest> dests) {
    IpvsService s;
    s.protocol = proto;
    s.address = ip(addr);
    s.family = s.address.family;
    s.port = port;
    s.scheduler = sched;
    s.dests = std::move(dests);
    return s;
}

IpvsService mark(conf::IpAddr::Family family, const char* sched, std::vector<IpvsDest> dests) {
    IpvsService s;
    s.fwmark = 4242;
    s.family = family;
    s.scheduler = sched;
    s.dests = std::move(dests);
    return s;
}

bool ours(const IpvsService& s) {
    if (s.fwmark != 0) return s.fwmark == 4242;
    const std::string a = s.address.to_string();
    return a.rfind("198.18.20", 0) == 0 || a.rfind("2001:db8:200:", 0) == 0;
}

class IpvsNetlinkTest : public ::testing::Test {
protected:
    void SetUp() override {
        try {
            nl_ = std::make_unique<IpvsNetlink>();
            nl_->services();
        } catch (const IpvsError& e) {
            GTEST_SKIP() << "no usable IPVS here: " << e.what();
        }
        remove_ours();
    }
    void TearDown() override {
        if (nl_) remove_ours();
    }

    std::vector<IpvsService> read_ours() {
        std::vector<IpvsService> out;
        for (auto& s : nl_->services()) {
            if (ours(s)) out.push_back(std::move(s));
        }
        return out;
    }
    void apply_all(const std::vector<IpvsService>& now, const std::vector<IpvsService>& want) {
        for (const IpvsOp& op : reconcile(now, now, want)) {
            ASSERT_NO_THROW(nl_->apply(op)) << describe(op);
        }
    }
    void remove_ours() {
        for (const auto& s : read_ours()) {
            IpvsOp op;
            op.kind = IpvsOp::Kind::delete_service;
            op.service = s;
            nl_->apply(op);
        }
    }

    std::unique_ptr<IpvsNetlink> nl_;
};

TEST_F(IpvsNetlinkTest, EverySettingReadsBackAsProgrammed) {
    IpvsService web = service(conf::Protocol::tcp, "198.18.200.1", 80, "wrr",
                              {dest("198.18.201.1", 8080, conf::LbKind::nat, 3),
                               dest("198.18.201.2", 80, conf::LbKind::dr, 1)});
    web.persistence_timeout = 300;
    web.persistence_netmask_v4 = 0xffffff00;
    web.dests[0].upper_threshold = 100;
    web.dests[0].lower_threshold = 10;
    IpvsService sip = service(conf::Protocol::udp, "198.18.200.1", 5060, "rr",
                              {dest("198.18.201.1", 5060, conf::LbKind::nat, 1)});
    sip.one_packet = true;
    sip.persistence_timeout = 60;
    sip.persistence_engine = "sip";
    IpvsService sctp = service(conf::Protocol::sctp, "198.18.200.2", 3868, "sh",
                               {dest("198.18.201.2", 3868, conf::LbKind::dr, 1)});
    sctp.scheduler_flags = {"sh-fallback", "sh-port"};
    IpvsService v6 = service(conf::Protocol::tcp, "2001:db8:200::1", 443, "mh",
                             {dest("2001:db8:201::1", 443, conf::LbKind::nat, 2),
                              dest("198.18.201.3", 443, conf::LbKind::tun, 1)});  // mixed family: tunnels only
    v6.scheduler_flags = {"mh-port"};
    v6.persistence_timeout = 60;
    v6.persistence_prefix_v6 = 64;
    v6.dests[1].tunnel.type = "gue";
    v6.dests[1].tunnel.port = 6080;
    v6.dests[1].tunnel.checksum = "csum";
    const IpvsService mark4 = mark(conf::IpAddr::Family::v4, "wlc", {dest("198.18.201.4", 0, conf::LbKind::tun, 1)});
    const IpvsService mark6 = mark(conf::IpAddr::Family::v6, "lc", {dest("2001:db8:201::5", 0, conf::LbKind::dr, 1)});
    const std::vector<IpvsService> want = {web, sip, sctp, v6, mark4, mark6};

    apply_all({}, want);
    const auto got = read_ours();
    ASSERT_EQ(got.size(), want.size());
    // Nothing left to do: identity and every setting of every dest equal.
    EXPECT_THAT(reconcile(got, want, want), IsEmpty());
    for (const auto& w : want) {
        const auto it = std::find_if(got.begin(), got.end(), [&](const auto& g) { return g.same_service(w); });
        ASSERT_NE(it, got.end()) << describe_service(w);
        EXPECT_EQ(it->scheduler, w.scheduler);
        EXPECT_EQ(it->scheduler_flags, w.scheduler_flags) << describe_service(w);
        EXPECT_EQ(it->persistence_engine, w.persistence_engine);
        EXPECT_EQ(it->dests.size(), w.dests.size()) << describe_service(w);
    }
}

TEST_F(IpvsNetlinkTest, EditsInPlaceKeepCountersAndConnections) {
    // A local VIP: a datagram this process sends is scheduled by IPVS on
    // the way out (its real server is unreachable; the counters count it).
    Rtnl rtnl;
    conf::IpAddress vip;
    vip.address = conf::IpPrefix{ip("198.18.202.1"), 32};
    vip.dev = "lo";
    vip.text = "198.18.202.1/32 dev lo";
    const bool added = rtnl.add_address(vip) == Rtnl::Added::added;
    IpvsService udp = service(conf::Protocol::udp, "198.18.202.1", 9, "rr",
                              {dest("198.18.203.1", 9, conf::LbKind::nat, 1)});
    apply_all({}, {udp});
    {
        const int fd = socket(AF_INET, SOCK_DGRAM, 0);
        ASSERT_GE(fd, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(9);
        std::memcpy(&to.sin_addr, udp.address.bytes.data(), 4);
        sendto(fd, "hello", 5, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
        close(fd);
    }
    // The kernel folds its per-CPU counters into what it reports on its
    // estimator tick (every 2 s).
    auto got = read_ours();
    for (int i = 0; i < 100 && !got.empty() && got[0].stats.conns == 0; ++i) {
        usleep(100 * 1000);
        got = read_ours();
    }
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].stats.conns, 1u);
    EXPECT_EQ(got[0].stats.in_packets, 1u);
    EXPECT_EQ(got[0].stats.in_bytes, 20u + 8u + 5u);
    ASSERT_EQ(got[0].dests.size(), 1u);
    EXPECT_EQ(got[0].dests[0].stats.conns, 1u);
    EXPECT_EQ(got[0].dests[0].inactive_conns, 1u);  // UDP connections are never "active"

    const auto conns = read_ip_vs_conn();
    const auto c = std::find_if(conns.begin(), conns.end(), [&](const IpvsConn& x) {
        return x.virtual_address == udp.address && x.virtual_port == 9;
    });
    ASSERT_NE(c, conns.end());
    EXPECT_EQ(c->protocol, conf::Protocol::udp);
    EXPECT_EQ(c->dest, ip("198.18.203.1"));
    EXPECT_EQ(c->dest_port, 9);
    EXPECT_GT(c->expires_seconds, 0u);

    IpvsService edited = udp;
    edited.scheduler = "wrr";
    edited.dests[0].weight = 5;
    edited.dests.push_back(dest("198.18.203.2", 9, conf::LbKind::nat, 1));
    const auto ops = reconcile(got, {udp}, {edited});
    ASSERT_EQ(ops.size(), 3u);  // edit service, edit dest, add dest
    for (const auto& op : ops) ASSERT_NO_THROW(nl_->apply(op)) << describe(op);
    got = read_ours();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].scheduler, "wrr");
    EXPECT_EQ(got[0].stats.conns, 1u);  // the same service, not a new one
    ASSERT_EQ(got[0].dests.size(), 2u);
    const IpvsDest* first = nullptr;
    for (const auto& d : got[0].dests) {
        if (d.same_dest(udp.dests[0])) first = &d;
    }
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->weight, 5);
    EXPECT_EQ(first->stats.conns, 1u);
    EXPECT_EQ(read_ip_vs_conn().size(), conns.size());

    remove_ours();
    if (added) {
        EXPECT_EQ(rtnl.delete_address(vip), "");
    }
}

TEST_F(IpvsNetlinkTest, TimeoutsRoundTrip) {
    const IpvsTimeouts before = nl_->timeouts();
    EXPECT_GT(before.tcp, 0u);
    IpvsTimeouts t;
    t.tcp = 901;
    t.udp = 61;
    nl_->set_timeouts(t);
    const IpvsTimeouts now = nl_->timeouts();
    EXPECT_EQ(now.tcp, 901u);
    EXPECT_EQ(now.tcp_fin, before.tcp_fin);  // 0 = unchanged
    EXPECT_EQ(now.udp, 61u);
    nl_->set_timeouts(before);
    EXPECT_EQ(nl_->timeouts().tcp, before.tcp);
}

TEST_F(IpvsNetlinkTest, RefusalsNameTheOperationTheReasonAndTheLikelyCause) {
    IpvsOp op;
    op.kind = IpvsOp::Kind::add_service;
    op.service = service(conf::Protocol::tcp, "198.18.200.9", 80, "nosuch", {});
    try {
        nl_->apply(op);
        ADD_FAILURE() << "a scheduler that does not exist was accepted";
    } catch (const IpvsError& e) {
        EXPECT_EQ(e.error(), ENOENT);
        EXPECT_EQ(std::string(e.what()),
                  "cannot add service TCP 198.18.200.9:80 (scheduler 'nosuch'): No such file or directory "
                  "\u2014 is ip_vs_nosuch loaded?");
    }
    op.service.scheduler = "rr";
    ASSERT_NO_THROW(nl_->apply(op));
    try {
        nl_->apply(op);
        ADD_FAILURE() << "the same service was added twice";
    } catch (const IpvsError& e) {
        EXPECT_EQ(e.error(), EEXIST);
        EXPECT_THAT(e.what(), HasSubstr("already there"));
    }
    IpvsOp del;
    del.kind = IpvsOp::Kind::delete_dest;
    del.service = op.service;
    del.dest = dest("198.18.201.9", 80, conf::LbKind::nat, 1);
    try {
        nl_->apply(del);
        ADD_FAILURE() << "a real server that is not there was deleted";
    } catch (const IpvsError& e) {
        EXPECT_THAT(e.what(), HasSubstr("cannot delete real server 198.18.201.9:80 of TCP 198.18.200.9:80"));
    }
}

// What kadpctl will call: start, list, checker verdicts, reload, stop.
TEST_F(IpvsNetlinkTest, KernelDaemonStartsReloadsListsAndStops) {
    char path[] = "/tmp/kadp-daemon-test-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    auto write = [&](const std::string& text) { std::ofstream(path) << text; };
    const std::string vs_head = "virtual_server 198.18.204.1 80 {\n    protocol TCP\n    lb_kind NAT\n";
    const std::string servers =
        "    real_server 198.18.205.1 80 {\n        weight 2\n    }\n"
        "    real_server 198.18.205.2 80 {\n        inhibit_on_failure\n    }\n";
    write(vs_head + "    lb_algo rr\n" + servers + "}\n");
    CliOptions options;
    options.config_file = path;
    std::vector<std::string> log;
    KernelDaemon daemon(options, [&log](const std::string& line) { log.push_back(line); });
    conf::Diagnostics diags;
    conf::LoadOptions load;
    load.check_host = false;
    auto config = conf::load_file(path, load, diags);
    ASSERT_TRUE(config.has_value());
    ASSERT_TRUE(daemon.start(*config));

    auto find = [&daemon]() -> IpvsService {
        for (auto& s : daemon.list()) {
            if (s.address == ip("198.18.204.1")) return s;
        }
        return {};
    };
    auto weights = [](const IpvsService& s) {
        std::vector<std::string> out;
        for (const auto& d : s.dests) out.push_back(d.address.to_string() + "/" + std::to_string(d.weight));
        std::sort(out.begin(), out.end());
        return out;
    };
    IpvsService s = find();
    EXPECT_EQ(s.scheduler, "rr");
    EXPECT_THAT(weights(s), ::testing::ElementsAre("198.18.205.1/2", "198.18.205.2/1"));

    // Both servers down: .1 is removed, .2 (inhibit_on_failure) stays at weight 0.
    const VsIdentity id = vs_identity(config->virtual_servers.at(0));
    const auto r = daemon.set_weight_overrides({{RsIdentity{id, ip("198.18.205.1"), 80}, 0},
                                                {RsIdentity{id, ip("198.18.205.2"), 80}, 0}});
    EXPECT_EQ(r.applied, 2u);
    EXPECT_EQ(r.failed, 0u);
    EXPECT_THAT(weights(find()), ::testing::ElementsAre("198.18.205.2/0"));
    daemon.set_weight_overrides({});

    write(vs_head + "    lb_algo wrr\n" + servers + "    real_server 198.18.205.3 80 {\n    }\n}\n");
    const auto ok = daemon.reload();
    EXPECT_TRUE(ok.accepted);
    EXPECT_EQ(ok.applied, 2u);  // edit the service, add .3; .1 and .2 untouched
    EXPECT_EQ(ok.failed, 0u);
    s = find();
    EXPECT_EQ(s.scheduler, "wrr");
    EXPECT_THAT(weights(s), ::testing::ElementsAre("198.18.205.1/2", "198.18.205.2/1", "198.18.205.3/1"));

    write(vs_head + "    lb_algo rr\n    real_server 198.18.999.1 80 {\n    }\n}\n");  // an error
    const auto rejected = daemon.reload();
    EXPECT_FALSE(rejected.accepted);
    EXPECT_THAT(rejected.messages, ::testing::Contains(HasSubstr(std::string(path) + ":5: error:")));
    EXPECT_EQ(find().scheduler, "wrr");
    EXPECT_EQ(find().dests.size(), 3u);

    daemon.stop();
    EXPECT_TRUE(find().address.empty());
    std::remove(path);
}

// kadpctl's daemon side on the kernel backend: IPVS's header figures, the
// status, a reload reply with its change lines, and a checker verdict put
// into the shared DesiredState reaching IPVS on the next tick.
TEST_F(IpvsNetlinkTest, KernelControlListsStatusReloadsAndAppliesVerdicts) {
    char path[] = "/tmp/kadp-control-test-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    auto write = [&](const std::string& text) { std::ofstream(path) << text; };
    const std::string head = "virtual_server 198.18.206.1 80 {\n    protocol TCP\n    lb_kind NAT\n    lb_algo rr\n";
    write(head + "    real_server 198.18.207.1 80 {\n    }\n}\n");
    CliOptions options;
    options.config_file = path;
    std::vector<std::string> log;
    KernelDaemon daemon(options, [&log](const std::string& line) { log.push_back(line); });
    conf::Diagnostics diags;
    conf::LoadOptions load;
    load.check_host = false;
    auto config = conf::load_file(path, load, diags);
    ASSERT_TRUE(config.has_value());
    ASSERT_TRUE(daemon.start(*config));
    KernelControl ctl(daemon, [&log](const std::string& line) { log.push_back(line); });

    const ListReply list = ctl.list();
    EXPECT_EQ(list.backend, "kernel");
    EXPECT_THAT(list.ipvs_version, ::testing::MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
    EXPECT_GT(list.conn_table_size, 0u);
    const auto mine = [](const std::vector<IpvsService>& services) {
        for (const auto& s : services) {
            if (s.address == ip("198.18.206.1")) return s;
        }
        return IpvsService{};
    };
    EXPECT_EQ(mine(list.services).dests.size(), 1u);

    StatusReply st = ctl.status();
    EXPECT_EQ(st.backend, "kernel");
    EXPECT_EQ(st.config_file, path);
    EXPECT_EQ(st.generation, 1u);
    EXPECT_EQ(st.services, 1u);
    EXPECT_EQ(st.real_servers, 1u);
    EXPECT_TRUE(st.worker_lcores.empty());
    EXPECT_TRUE(st.ports.empty());
    EXPECT_FALSE(st.last_reload.has_value());

    write(head + "    real_server 198.18.207.1 80 {\n        weight 3\n    }\n"
                 "    real_server 198.18.207.2 80 {\n    }\n}\n");
    // The health checkers follow each accepted reload (run_kernel wires them here).
    std::vector<std::size_t> reloaded;  // real servers of each configuration handed on
    ctl.on_reloaded([&reloaded](const conf::Config& c) { reloaded.push_back(c.virtual_servers.at(0).real_servers.size()); });
    const ReloadReply ok = ctl.reload("kadpctl");
    EXPECT_TRUE(ok.accepted) << ok.message;
    EXPECT_THAT(reloaded, ::testing::ElementsAre(2u));
    EXPECT_EQ(ok.generation, 2u);
    EXPECT_EQ(ok.message, "generation 2: 1 real server added, 1 real server changed");
    EXPECT_THAT(ok.changes, ::testing::UnorderedElementsAre(
                                "real server 198.18.207.1:80 of TCP 198.18.206.1:80: weight 1 -> 3",
                                HasSubstr("real server 198.18.207.2:80 of TCP 198.18.206.1:80 added")));
    EXPECT_EQ(mine(ctl.list().services).dests.size(), 2u);

    // A verdict in the desired state: nothing happens until tick() applies it.
    const VsIdentity id = vs_identity(daemon.config().virtual_servers.at(0));
    EXPECT_TRUE(daemon.desired().set_weight(RsIdentity{id, ip("198.18.207.1"), 80}, 0));
    EXPECT_EQ(mine(ctl.list().services).dests.size(), 2u);
    ctl.tick();
    const IpvsService after = mine(ctl.list().services);
    ASSERT_EQ(after.dests.size(), 1u);  // weight 0 without inhibit_on_failure: removed
    EXPECT_EQ(after.dests[0].address, ip("198.18.207.2"));
    // A checker's sink applies at once (KernelControl::apply): back up = re-added.
    EXPECT_TRUE(daemon.desired().clear_weight(RsIdentity{id, ip("198.18.207.1"), 80}));
    ctl.apply();
    EXPECT_EQ(mine(ctl.list().services).dests.size(), 2u);
    EXPECT_TRUE(daemon.desired().set_weight(RsIdentity{id, ip("198.18.207.1"), 80}, 0));
    ctl.apply();
    EXPECT_EQ(mine(ctl.list().services).dests.size(), 1u);

    write(head + "    real_server 198.18.999.1 80 {\n    }\n}\n");
    const ReloadReply bad = ctl.reload("kadpctl");
    EXPECT_FALSE(bad.accepted);
    EXPECT_EQ(bad.generation, 2u);
    EXPECT_EQ(reloaded.size(), 1u);  // a rejected reload leaves the checkers alone
    ASSERT_FALSE(bad.diagnostics.empty());
    EXPECT_EQ(bad.diagnostics[0].loc.line, 5);
    EXPECT_EQ(bad.diagnostics[0].loc.file, path);
    st = ctl.status();
    ASSERT_TRUE(st.last_reload.has_value());
    EXPECT_FALSE(st.last_reload->accepted);
    EXPECT_EQ(st.generation, 2u);
    EXPECT_EQ(st.real_servers, 1u);  // the verdict still holds

    daemon.stop();
    EXPECT_TRUE(mine(ctl.list().services).address.empty());
    std::remove(path);
}

std::vector<std::string> lines_with(const std::vector<std::string>& log, const std::string& text) {
    std::vector<std::string> out;
    for (const auto& l : log) {
        if (l.find(text) != std::string::npos) out.push_back(l);
    }
    return out;
}

std::vector<std::string> recorded_services(const std::string& path) {
    std::vector<std::string> problems;
    const auto r = read_record(path, problems);
    std::vector<std::string> out;
    if (!r) return {"(no record)"};
    for (const auto& s : r->services) out.push_back(describe_service(s));
    for (const auto& a : r->addresses) out.push_back(a.text);
    return out;
}

// A kadp killed with SIGKILL left services A and B (its record says so),
// and someone else added C. The next kadp, whose configuration has A (one
// real server dropped, one reweighted) and D (a scheduler the kernel lacks):
// A is adopted and only its differences applied, B is deleted, C stays; D is
// refused, left out of the record and added by the next apply once it can
// be. A clean stop removes A and D and the record, never C.
TEST_F(IpvsNetlinkTest, KernelBackendTakesOverTheServicesADeadKadpRecorded) {
    char dir[] = "/tmp/kadp-record-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string path = std::string(dir) + "/kadp.state";
    const IpvsService a0 = service(conf::Protocol::tcp, "198.18.208.1", 80, "rr",
                                   {dest("198.18.209.1", 80, conf::LbKind::nat, 1),
                                    dest("198.18.209.2", 80, conf::LbKind::nat, 1)});
    const IpvsService b0 = service(conf::Protocol::tcp, "198.18.208.2", 80, "rr", {});
    const IpvsService c0 = service(conf::Protocol::tcp, "198.18.208.3", 80, "rr", {});
    apply_all({}, {a0, b0, c0});
    KernelRecord left;
    left.services = {a0, b0};
    ASSERT_EQ(write_record(path, left), "");

    std::vector<std::string> log;
    KernelBackend backend([&log](const std::string& l) { log.push_back(l); }, path);
    const IpvsService a1 = service(conf::Protocol::tcp, "198.18.208.1", 80, "rr",
                                   {dest("198.18.209.1", 80, conf::LbKind::nat, 3)});
    IpvsService d1 = service(conf::Protocol::tcp, "198.18.208.4", 80, "nosuch",
                             {dest("198.18.209.1", 80, conf::LbKind::nat, 1)});
    const conf::Config config;
    const LvsGlobals globals;
    auto r = backend.apply(config, {a1, d1}, globals);
    EXPECT_EQ(r.applied, 3u);  // delete B, delete .2 of A, edit .1 of A
    EXPECT_EQ(r.failed, 1u);   // add D
    auto now = read_ours();  // in the kernel's hash order
    std::sort(now.begin(), now.end(), [](const auto& x, const auto& y) { return x.address < y.address; });
    ASSERT_EQ(now.size(), 2u);
    EXPECT_EQ(now[0].address, ip("198.18.208.1"));
    ASSERT_EQ(now[0].dests.size(), 1u);
    EXPECT_EQ(now[0].dests[0].weight, 3);
    EXPECT_EQ(now[1].address, ip("198.18.208.3"));
    EXPECT_THAT(recorded_services(path), ::testing::ElementsAre("TCP 198.18.208.1:80"));
    EXPECT_EQ(lines_with(log, "did not stop cleanly").size(), 1u);
    EXPECT_THAT(log, ::testing::Contains("found " + path +
                                         ": the previous kadp did not stop cleanly; taking over what it left (2 IPVS "
                                         "services, 0 static addresses, 0 static routes): kept where the "
                                         "configuration has them, removed where not"));
    EXPECT_THAT(log, ::testing::Contains("service TCP 198.18.208.1:80 is already in IPVS: adopted "
                                         "(its connections and counters stay)"));
    EXPECT_THAT(log, ::testing::Contains("service TCP 198.18.208.3:80 in IPVS is not kadp's: left as it is "
                                         "(lvs_flush would remove it at start)"));
    EXPECT_THAT(log, ::testing::Contains("delete service TCP 198.18.208.2:80"));
    EXPECT_THAT(log, ::testing::Contains(HasSubstr("cannot add service TCP 198.18.208.4:80 (scheduler 'nosuch')")));
    EXPECT_THAT(lines_with(log, "198.18.208.4:80"), ::testing::SizeIs(1));  // its real server: no second message

    // Nothing changed: nothing to do, the refusal is tried again.
    r = backend.apply(config, {a1, d1}, globals);
    EXPECT_EQ(r.applied, 0u);
    EXPECT_EQ(r.failed, 1u);
    d1.scheduler = "rr";  // e.g. the module loaded since
    r = backend.apply(config, {a1, d1}, globals);
    EXPECT_EQ(r.applied, 2u);
    EXPECT_EQ(r.failed, 0u);
    EXPECT_EQ(read_ours().size(), 3u);
    EXPECT_THAT(recorded_services(path), ::testing::ElementsAre("TCP 198.18.208.1:80", "TCP 198.18.208.4:80"));

    backend.stop();
    now = read_ours();
    ASSERT_EQ(now.size(), 1u);
    EXPECT_EQ(now[0].address, ip("198.18.208.3"));
    EXPECT_NE(access(path.c_str(), F_OK), 0);
    rmdir(dir);
}

bool on_lo(const char* address) {
    ifaddrs* all = nullptr;
    if (getifaddrs(&all) != 0) return false;
    bool found = false;
    for (const ifaddrs* i = all; i != nullptr && !found; i = i->ifa_next) {
        if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET || std::string(i->ifa_name) != "lo") continue;
        const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
        found = std::memcmp(&in->sin_addr, ip(address).bytes.data(), 4) == 0;
    }
    freeifaddrs(all);
    return found;
}

conf::Config config_text(const std::string& text) {
    conf::LoadOptions options;
    options.check_host = false;
    conf::Diagnostics diags;
    conf::Config c = conf::load_text(text, "test.conf", options, diags);
    EXPECT_FALSE(diags.has_errors());
    return c;
}

// Static addresses: the dead kadp's record lists .1 (still configured:
// adopted, removed at stop) and .2 (no longer: removed now); .3 was there
// before and is not recorded (configured, but not kadp's: stays after stop).
TEST_F(IpvsNetlinkTest, KernelBackendTakesOverTheStaticAddressesADeadKadpRecorded) {
    char dir[] = "/tmp/kadp-record-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string path = std::string(dir) + "/kadp.state";
    const conf::Config before = config_text(
        "static_ipaddress {\n    198.18.210.1/32 dev lo\n    198.18.210.2/32 dev lo\n    198.18.210.3/32 dev lo\n}\n");
    Rtnl rtnl;
    for (const auto& a : before.static_ipaddress) ASSERT_EQ(rtnl.add_address(a), Rtnl::Added::added) << a.text;
    KernelRecord left;
    left.addresses = {before.static_ipaddress[0], before.static_ipaddress[1]};
    ASSERT_EQ(write_record(path, left), "");

    std::vector<std::string> log;
    KernelBackend backend([&log](const std::string& l) { log.push_back(l); }, path);
    const conf::Config config = config_text(
        "static_ipaddress {\n    198.18.210.1/32 dev lo\n    198.18.210.3/32 dev lo\n    198.18.210.4/32 dev lo\n}\n");
    const auto r = backend.apply(config, {}, LvsGlobals{});
    EXPECT_EQ(r.failed, 0u);
    EXPECT_EQ(r.applied, 1u);  // .4 added
    EXPECT_TRUE(on_lo("198.18.210.1"));
    EXPECT_FALSE(on_lo("198.18.210.2"));
    EXPECT_TRUE(on_lo("198.18.210.3"));
    EXPECT_TRUE(on_lo("198.18.210.4"));
    EXPECT_THAT(log, ::testing::Contains("adopted static address 198.18.210.1/32 dev lo (left by the previous kadp)"));
    EXPECT_THAT(log, ::testing::Contains("removed static address 198.18.210.2/32 dev lo"));
    EXPECT_THAT(log, ::testing::Contains("added static address 198.18.210.4/32 dev lo"));
    EXPECT_THAT(lines_with(log, "198.18.210.3"), IsEmpty());
    EXPECT_THAT(recorded_services(path), ::testing::ElementsAre("198.18.210.1/32 dev lo", "198.18.210.4/32 dev lo"));

    backend.stop();
    EXPECT_FALSE(on_lo("198.18.210.1"));
    EXPECT_TRUE(on_lo("198.18.210.3"));
    EXPECT_FALSE(on_lo("198.18.210.4"));
    EXPECT_NE(access(path.c_str(), F_OK), 0);
    EXPECT_EQ(rtnl.delete_address(before.static_ipaddress[2]), "");
    EXPECT_EQ(rtnl.delete_address(before.static_ipaddress[2]), "");  // already gone: what a delete wants
    rmdir(dir);
}

// keepalived's VRRP at start: the VIPs a killed master left on the
// interface go before the instances start (in BACKUP).
TEST_F(IpvsNetlinkTest, LeftoverVipsAreRemovedAtStart) {
    const conf::Config config = config_text(
        "vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 51\n"
        "    virtual_ipaddress {\n        198.18.211.1/32\n        198.18.211.2/32\n    }\n}\n");
    Rtnl rtnl;
    conf::IpAddress left = config.vrrp_instances.at(0).virtual_ipaddress.at(0);
    left.dev = "lo";
    ASSERT_EQ(rtnl.add_address(left), Rtnl::Added::added);
    std::vector<std::string> log;
    EXPECT_EQ(remove_leftover_vips(config, rtnl, [&log](const std::string& l) { log.push_back(l); }), 1u);
    EXPECT_FALSE(on_lo("198.18.211.1"));
    EXPECT_THAT(log, ::testing::ElementsAre("(VI_1) removed 198.18.211.1/32 dev lo, left on the interface by a "
                                            "previous run: the instance starts in BACKUP"));
    EXPECT_EQ(remove_leftover_vips(config, rtnl, [&log](const std::string& l) { log.push_back(l); }), 0u);
}

}  // namespace
}  // namespace kadp::ctl
