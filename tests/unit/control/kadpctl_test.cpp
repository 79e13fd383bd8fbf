// Runs on: any (unit test). kadpctl's command line, exit codes and what it
// prints for a reply (the socket part is exercised by reload_netns.sh).
#include "control/kadpctl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

using ::testing::HasSubstr;

TEST(Kadpctl, OptionsBeforeAndAfterTheCommand)
{
    auto a = parse_kadpctl_args({"-s", "/tmp/x.sock", "list", "--stats", "--json"});
    ASSERT_TRUE(a.options) << a.error;
    EXPECT_EQ(a.options->socket, "/tmp/x.sock");
    EXPECT_TRUE(a.options->json);
    EXPECT_EQ(a.options->request.command, Request::Command::list);
    EXPECT_EQ(a.options->list.kind, ListKind::stats);

    auto b = parse_kadpctl_args({"conns", "--limit", "10"});
    ASSERT_TRUE(b.options) << b.error;
    EXPECT_EQ(b.options->socket, "/run/kadp/kadp.sock");
    EXPECT_EQ(b.options->request.command, Request::Command::conns);
    EXPECT_EQ(b.options->request.limit, 10u);

    auto c = parse_kadpctl_args({"--socket=/x", "list", "--rate", "--exact"});
    ASSERT_TRUE(c.options) << c.error;
    EXPECT_EQ(c.options->socket, "/x");
    EXPECT_EQ(c.options->list.kind, ListKind::rate);
    EXPECT_TRUE(c.options->list.exact);
}

TEST(Kadpctl, UsageErrors)
{
    EXPECT_THAT(parse_kadpctl_args({}).error, HasSubstr("no command"));
    EXPECT_THAT(parse_kadpctl_args({"flush"}).error, HasSubstr("unknown command 'flush'"));
    EXPECT_THAT(parse_kadpctl_args({"list", "--stats", "--rate"}).error, HasSubstr("exclude"));
    EXPECT_THAT(parse_kadpctl_args({"status", "--stats"}).error, HasSubstr("go with list"));
    EXPECT_THAT(parse_kadpctl_args({"list", "--limit", "3"}).error, HasSubstr("goes with conns"));
    EXPECT_THAT(parse_kadpctl_args({"conns", "--limit", "0"}).error, HasSubstr("positive"));
    EXPECT_THAT(parse_kadpctl_args({"list", "reload"}).error, HasSubstr("unexpected argument"));
    EXPECT_THAT(parse_kadpctl_args({"-s"}).error, HasSubstr("needs a socket path"));
    EXPECT_THAT(parse_kadpctl_args({"list", "--bogus"}).error, HasSubstr("unknown option"));
    EXPECT_TRUE(parse_kadpctl_args({"--help"}).options);
}

CtlOptions opts(std::vector<std::string> args) { return *parse_kadpctl_args(args).options; }

TEST(Kadpctl, RejectedReloadExitsOneWithItsDiagnostics)
{
    const std::string reply =
        R"j({"ok":true,"command":"reload","result":{"accepted":false,"generation":3,"message":"k.conf: 1 error(s); the running configuration stays (generation 3)",)j"
        R"j("diagnostics":[{"file":"k.conf","line":25,"severity":"error","message":"missing '}'"}],"changes":[]}})j";
    std::string out, err;
    EXPECT_EQ(render_reply(opts({"reload"}), reply, out, err), kCtlFailed);
    EXPECT_EQ(out, "");
    EXPECT_THAT(err, HasSubstr("reload rejected: k.conf: 1 error(s)"));
    EXPECT_THAT(err, HasSubstr("k.conf:25: error: missing '}'"));

    out.clear();
    err.clear();
    EXPECT_EQ(render_reply(opts({"--json", "reload"}), reply, out, err), kCtlFailed);
    EXPECT_EQ(out, reply + "\n");
}

TEST(Kadpctl, AcceptedReloadExitsZero)
{
    const std::string reply =
        R"j({"ok":true,"command":"reload","result":{"accepted":true,"generation":4,"message":"generation 4: 1 real server changed",)j"
        R"j("diagnostics":[],"changes":["real server 198.19.0.1:80 of TCP 198.18.0.100:80: weight 1 -> 3"]}})j";
    std::string out, err;
    EXPECT_EQ(render_reply(opts({"reload"}), reply, out, err), kCtlOk);
    EXPECT_EQ(out, "reload accepted: generation 4: 1 real server changed\n"
                   "  real server 198.19.0.1:80 of TCP 198.18.0.100:80: weight 1 -> 3\n");
}

TEST(Kadpctl, DaemonErrorsAndGarbage)
{
    std::string out, err;
    EXPECT_EQ(render_reply(opts({"list"}), R"j({"ok":false,"error":"kadp is starting or stopping; retry"})j", out, err),
              kCtlFailed);
    EXPECT_THAT(err, HasSubstr("kadp is starting"));
    err.clear();
    EXPECT_EQ(render_reply(opts({"list"}), "garbage", out, err), kCtlUnreachable);
    EXPECT_THAT(err, HasSubstr("not JSON"));
}

TEST(Kadpctl, ListRendersIpvsadmText)
{
    const std::string reply =
        R"j({"ok":true,"command":"list","result":{"backend":"dpdk","ipvs_version":"1.2.1","conn_table_size":65536,"services":[)j"
        R"j({"protocol":"TCP","address":"198.18.0.100","port":80,"fwmark":0,"family":"inet","scheduler":"wrr","dests":[)j"
        R"j({"address":"198.19.0.1","port":80,"forward":"Masq","weight":3,"active_conns":1,"inactive_conns":2}]}]}})j";
    std::string out, err;
    EXPECT_EQ(render_reply(opts({"list"}), reply, out, err), kCtlOk) << err;
    EXPECT_EQ(out, "IP Virtual Server version 1.2.1 (size=65536)\n"
                   "Prot LocalAddress:Port Scheduler Flags\n"
                   "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
                   "TCP  198.18.0.100:80 wrr\n"
                   "  -> 198.19.0.1:80                Masq    3      1          2         \n");
}

TEST(Kadpctl, StatusShowsNonZeroCounters)
{
    StatusReply s;
    s.backend = "dpdk";
    s.version = "0.1.0";
    s.pid = 9;
    s.config_file = "/etc/kadp/keepalived.conf";
    s.generation = 2;
    s.worker_lcores = {1};
    s.counters = {{"rx_packets", 5}, {"conn_new", 0}};
    const std::string text = render_status(s);
    EXPECT_THAT(text, HasSubstr("backend dpdk"));
    EXPECT_THAT(text, HasSubstr("generation 2"));
    EXPECT_THAT(text, HasSubstr("  rx_packets 5\n"));
    EXPECT_THAT(text, ::testing::Not(HasSubstr("conn_new")));
    EXPECT_THAT(text, HasSubstr("last reload: none"));
    EXPECT_THAT(text, ::testing::Not(HasSubstr("vrrp")));
    s.vrrp = {VrrpInstanceStatus{"VI_1", "lan", 51, "BACKUP", 100, {}}};
    EXPECT_THAT(render_status(s), HasSubstr("vrrp VI_1 on lan, VRID 51: BACKUP, priority 100, dropped adverts: none\n"));
    s.vrrp[0].dropped = {{"bad_password", 3}, {"not_unicast_peer", 12}};
    EXPECT_THAT(render_status(s), HasSubstr("vrrp VI_1 on lan, VRID 51: BACKUP, priority 100, dropped adverts: "
                                            "bad_password 3, not_unicast_peer 12\n"));
    EXPECT_THAT(render_status(s), HasSubstr("vrrp dropped adverts in all: none\n"));
    s.vrrp_dropped = {{"bad_checksum", 2}, {"bad_password", 3}, {"vrid_mismatch", 40}};
    EXPECT_THAT(render_status(s), HasSubstr("vrrp dropped adverts in all: bad_checksum 2, bad_password 3, vrid_mismatch 40\n"));
    EXPECT_THAT(text, ::testing::Not(HasSubstr("mempool")));
    s.mempools = {MempoolStatus{"kadp_pool_s0", 8191, 8000, 191}};
    EXPECT_THAT(render_status(s), HasSubstr("mempool kadp_pool_s0: size 8191, in use 191, available 8000\n"));
}

// A port's link, what is degraded (a lost exception TAP) and the reload
// counts survive the JSON round trip and are printed; nothing degraded prints nothing.
TEST(Kadpctl, StatusShowsPortLinkAndWhatIsDegraded)
{
    StatusReply s;
    s.backend = "dpdk";
    PortStatus p;
    p.name = "lan";
    p.device = "net_af_packet0,iface=lan";
    p.mac = "02:00:00:00:00:01";
    p.link = "down";
    s.ports = {p};
    EXPECT_THAT(render_status(s), ::testing::Not(HasSubstr("degraded")));
    EXPECT_THAT(render_status(s), ::testing::Not(HasSubstr("exception TAPs lost")));
    s.degraded = {"exception port kadp-lan of lan is gone"};
    s.exception_taps_lost = 1;
    s.reloads_accepted = 3;
    s.reloads_rejected = 2;
    std::string error;
    const auto json = JsonValue::parse(to_json(s), error);
    ASSERT_TRUE(json) << error;
    const auto back = status_from_json(*json, error);
    ASSERT_TRUE(back) << error;
    ASSERT_EQ(back->ports.size(), 1u);
    EXPECT_EQ(back->ports[0].link, "down");
    EXPECT_EQ(back->degraded, s.degraded);
    EXPECT_EQ(back->exception_taps_lost, 1u);
    const std::string text = render_status(*back);
    EXPECT_THAT(text, HasSubstr("tx errors 0, link down\n"));
    EXPECT_THAT(text, HasSubstr("degraded: exception port kadp-lan of lan is gone\n"));
    EXPECT_THAT(text, HasSubstr("exception TAPs lost 1\n"));
    EXPECT_THAT(text, HasSubstr("reloads 3 accepted, 2 rejected\n"));
}

// A stuck worker: its degraded line and the count, after the JSON round
// trip; none stuck prints no count.
TEST(Kadpctl, StatusShowsStuckWorkers)
{
    StatusReply s;
    s.backend = "dpdk";
    s.worker_lcores = {1, 2};
    EXPECT_THAT(render_status(s), ::testing::Not(HasSubstr("stuck")));
    s.degraded = {"worker on lcore 2 stuck: no loop for 1500 ms"};
    s.workers_stuck = 1;
    std::string error;
    const auto json = JsonValue::parse(to_json(s), error);
    ASSERT_TRUE(json) << error;
    const auto back = status_from_json(*json, error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(back->workers_stuck, 1u);
    EXPECT_THAT(render_status(*back), HasSubstr("workers 2 (lcores 1,2)\n"));
    EXPECT_THAT(render_status(*back),
                HasSubstr("degraded: worker on lcore 2 stuck: no loop for 1500 ms\nworkers stuck 1\nlast reload: none\n"));
}

// The kernel backend has no workers, ports or worker counters: status says
// so by leaving them out, and names IPVS's table for what it is.
TEST(Kadpctl, KernelStatusHasNoWorkersOrPorts)
{
    StatusReply s;
    s.backend = "kernel";
    s.version = "0.1.0";
    s.pid = 9;
    s.config_file = "/etc/kadp/keepalived.conf";
    s.generation = 3;
    s.services = 5;
    s.real_servers = 8;
    s.conn_in_use = 12;
    s.conn_capacity = 4096;
    const std::string text = render_status(s);
    EXPECT_THAT(text, HasSubstr("backend kernel, kadp 0.1.0, pid 9"));
    EXPECT_THAT(text, HasSubstr("config /etc/kadp/keepalived.conf, generation 3\n"));
    EXPECT_THAT(text, HasSubstr("services 5, real servers 8, connections 12 (IPVS connection table size 4096)\n"));
    EXPECT_THAT(text, ::testing::Not(HasSubstr("workers")));
    EXPECT_THAT(text, ::testing::Not(HasSubstr("counters")));
    EXPECT_THAT(text, HasSubstr("last reload: none"));
}

}  // namespace
}  // namespace kadp::ctl
