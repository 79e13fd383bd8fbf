// Runs on: any (unit test). The kadpctl wire format: request lines, the
// reply envelope, serving a request with a handler, and every reply's JSON
// read back by what kadpctl uses.
#include "control/ctl_protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

using ::testing::HasSubstr;

TEST(CtlProtocol, ParsesTheFourCommands)
{
    std::string error;
    EXPECT_EQ(parse_request("list", error)->command, Request::Command::list);
    EXPECT_EQ(parse_request("  status \r", error)->command, Request::Command::status);
    EXPECT_EQ(parse_request("reload", error)->command, Request::Command::reload);
    const auto c = parse_request("conns 25", error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->command, Request::Command::conns);
    EXPECT_EQ(c->limit, 25u);
    EXPECT_EQ(parse_request("conns", error)->limit, kDefaultConnsLimit);
}

TEST(CtlProtocol, RejectsWhatIsNotARequest)
{
    std::string error;
    EXPECT_FALSE(parse_request("", error));
    EXPECT_THAT(error, HasSubstr("empty request"));
    EXPECT_FALSE(parse_request("flush", error));
    EXPECT_THAT(error, HasSubstr("unknown command 'flush'"));
    EXPECT_FALSE(parse_request("list extra", error));
    EXPECT_THAT(error, HasSubstr("unexpected argument 'extra'"));
    EXPECT_FALSE(parse_request("conns 0", error));
    EXPECT_FALSE(parse_request("conns 12x", error));
    EXPECT_THAT(error, HasSubstr("not a positive number"));
    EXPECT_FALSE(parse_request("conns 1 2", error));
    // Binary junk is quoted printably and cut short.
    EXPECT_FALSE(parse_request(std::string("\x01\x02") + std::string(100, 'a'), error));
    EXPECT_THAT(error, HasSubstr("??aaaa"));
    EXPECT_THAT(error, HasSubstr("...'"));
}

TEST(CtlProtocol, FormatRequestRoundTrips)
{
    Request r;
    r.command = Request::Command::conns;
    r.limit = 7;
    EXPECT_EQ(format_request(r), "conns 7\n");
    std::string error;
    const std::string line = format_request(r);
    EXPECT_EQ(parse_request(line.substr(0, line.size() - 1), error)->limit, 7u);
}

class FakeHandler : public ControlHandler {
public:
    ListReply list() override {
        ListReply r;
        r.backend = "fake";
        r.conn_table_size = 1024;
        IpvsService s;
        s.protocol = conf::Protocol::udp;
        s.address = *conf::IpAddr::parse("198.18.0.100");
        s.port = 53;
        s.scheduler = "rr";
        s.stats.in_bytes = 18446744073709551615ULL;  // 2^64-1 survives JSON
        IpvsDest d;
        d.address = *conf::IpAddr::parse("2001:db8::1");
        d.port = 5353;
        d.forward = conf::LbKind::tun;
        d.weight = 7;
        d.active_conns = 3;
        d.inactive_conns = 4;
        s.dests.push_back(d);
        r.services.push_back(s);
        IpvsService fwm;
        fwm.fwmark = 9;
        fwm.family = conf::IpAddr::Family::v6;
        fwm.scheduler = "wlc";
        fwm.persistence_timeout = 300;
        fwm.persistence_prefix_v6 = 48;
        fwm.scheduler_flags = {"mh-port"};
        fwm.one_packet = true;
        r.services.push_back(fwm);
        return r;
    }
    ConnsReply conns(std::size_t limit) override {
        last_limit = limit;
        ConnsReply r;
        IpvsConn c;
        c.protocol = conf::Protocol::tcp;
        c.expires_seconds = 42;
        c.state = "FIN_WAIT";
        c.client = *conf::IpAddr::parse("198.18.0.1");
        c.client_port = 1234;
        c.virtual_address = *conf::IpAddr::parse("198.18.0.100");
        c.virtual_port = 80;
        c.dest = *conf::IpAddr::parse("198.19.0.3");
        c.dest_port = 8080;
        r.conns = {c};
        r.total = 5;
        r.truncated = true;
        return r;
    }
    StatusReply status() override {
        StatusReply s;
        s.backend = "fake";
        s.version = "0.1.0";
        s.pid = 77;
        s.generation = 4;
        s.worker_lcores = {1, 2};
        PortStatus p;
        p.name = "lan";
        p.device = "net_null0";
        p.rx_packets = 10;
        p.tx_errors = 2;
        s.ports = {p};
        s.mempools = {MempoolStatus{"kadp_exc", 511, 500, 11}, MempoolStatus{"kadp_pool_s0", 8191, 8000, 191}};
        s.counters = {{"rx_packets", 10}, {"conn_new", 0}};
        s.conn_capacity = 1024;
        s.conn_in_use = 3;
        s.last_reload = reload("SIGHUP");
        s.vrrp = {VrrpInstanceStatus{"VI_1", "lan", 51, "MASTER", 150, {{"bad_password", 3}, {"bad_ttl", 1}}},
                  VrrpInstanceStatus{"VI_2", "lan", 52, "BACKUP", 100, {}}};
        s.vrrp_dropped = {{"bad_password", 3}, {"bad_ttl", 1}, {"vrid_mismatch", 9}};
        return s;
    }
    ReloadReply reload(const std::string& trigger) override {
        ReloadReply r;
        r.accepted = false;
        r.trigger = trigger;
        r.generation = 4;
        r.message = "k.conf: 1 error(s)";
        r.diagnostics.push_back({{"k.conf", 12}, conf::Severity::error, "missing '}'"});
        r.changes = {"nothing"};
        return r;
    }
    std::size_t last_limit = 0;
};

JsonValue result_of(const std::string& line, const char* command) {
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
    std::string error;
    auto reply = parse_reply(line, error);
    EXPECT_TRUE(reply) << error;
    if (!reply) return {};
    EXPECT_TRUE(reply->ok);
    EXPECT_EQ(reply->command, command);
    return reply->result;
}

TEST(CtlProtocol, ListRoundTripsThroughJson)
{
    FakeHandler h;
    const JsonValue v = result_of(serve_request(h, Request{Request::Command::list, 0}), "list");
    std::string error;
    const auto r = list_from_json(v, error);
    ASSERT_TRUE(r) << error;
    const ListReply want = h.list();
    EXPECT_EQ(r->backend, "fake");
    EXPECT_EQ(r->conn_table_size, 1024u);
    ASSERT_EQ(r->services.size(), 2u);
    const IpvsService& s = r->services[0];
    EXPECT_TRUE(s.same_service(want.services[0]));
    EXPECT_TRUE(s.same_settings(want.services[0]));
    EXPECT_EQ(s.stats, want.services[0].stats);
    ASSERT_EQ(s.dests.size(), 1u);
    EXPECT_TRUE(s.dests[0].same_dest(want.services[0].dests[0]));
    EXPECT_TRUE(s.dests[0].same_settings(want.services[0].dests[0]));
    EXPECT_EQ(s.dests[0].active_conns, 3u);
    EXPECT_EQ(s.dests[0].inactive_conns, 4u);
    const IpvsService& f = r->services[1];
    EXPECT_TRUE(f.same_service(want.services[1]));
    EXPECT_TRUE(f.same_settings(want.services[1]));
}

TEST(CtlProtocol, ConnsCarryTheLimitAndRoundTrip)
{
    FakeHandler h;
    const JsonValue v = result_of(serve_request(h, Request{Request::Command::conns, 9}), "conns");
    EXPECT_EQ(h.last_limit, 9u);
    std::string error;
    const auto r = conns_from_json(v, error);
    ASSERT_TRUE(r) << error;
    EXPECT_EQ(r->total, 5u);
    EXPECT_TRUE(r->truncated);
    ASSERT_EQ(r->conns.size(), 1u);
    EXPECT_EQ(r->conns[0].state, "FIN_WAIT");
    EXPECT_EQ(r->conns[0].expires_seconds, 42u);
    EXPECT_EQ(r->conns[0].dest.to_string(), "198.19.0.3");
    EXPECT_EQ(r->conns[0].dest_port, 8080);
}

TEST(CtlProtocol, StatusAndReloadRoundTrip)
{
    FakeHandler h;
    std::string error;
    const auto s = status_from_json(result_of(serve_request(h, Request{Request::Command::status, 0}), "status"), error);
    ASSERT_TRUE(s) << error;
    EXPECT_EQ(s->pid, 77);
    EXPECT_EQ(s->generation, 4u);
    EXPECT_EQ(s->worker_lcores, (std::vector<unsigned>{1, 2}));
    ASSERT_EQ(s->ports.size(), 1u);
    EXPECT_EQ(s->ports[0].tx_errors, 2u);
    EXPECT_EQ(s->conn_in_use, 3u);
    ASSERT_EQ(s->mempools.size(), 2u);
    EXPECT_EQ(s->mempools[0].name, "kadp_exc");
    EXPECT_EQ(s->mempools[0].size, 511u);
    EXPECT_EQ(s->mempools[0].available, 500u);
    EXPECT_EQ(s->mempools[0].in_use, 11u);
    EXPECT_EQ(s->mempools[1].name, "kadp_pool_s0");
    EXPECT_EQ(s->mempools[1].in_use, 191u);
    // The daemon's counter order (counters.h groups them by stage) survives.
    EXPECT_EQ(s->counters, (std::vector<std::pair<std::string, std::uint64_t>>{{"rx_packets", 10}, {"conn_new", 0}}));
    ASSERT_TRUE(s->last_reload);
    EXPECT_EQ(s->last_reload->trigger, "SIGHUP");
    ASSERT_EQ(s->vrrp.size(), 2u);
    using Drops = std::vector<std::pair<std::string, std::uint64_t>>;
    EXPECT_EQ(s->vrrp[0].dropped, (Drops{{"bad_password", 3}, {"bad_ttl", 1}}));
    EXPECT_TRUE(s->vrrp[1].dropped.empty());
    EXPECT_EQ(s->vrrp_dropped, (Drops{{"bad_password", 3}, {"bad_ttl", 1}, {"vrid_mismatch", 9}}));
    // `kadpctl status --json` prints this line as it is.
    const std::string line = serve_request(h, Request{Request::Command::status, 0});
    EXPECT_NE(line.find("\"priority\":150,\"dropped\":{\"bad_password\":3,\"bad_ttl\":1}}"), std::string::npos) << line;
    EXPECT_NE(line.find("\"priority\":100,\"dropped\":{}}"), std::string::npos) << line;
    EXPECT_EQ(s->vrrp[0].name, "VI_1");
    EXPECT_EQ(s->vrrp[0].interface, "lan");
    EXPECT_EQ(s->vrrp[0].vrid, 51u);
    EXPECT_EQ(s->vrrp[0].state, "MASTER");
    EXPECT_EQ(s->vrrp[0].priority, 150u);

    const auto r = reload_from_json(result_of(serve_request(h, Request{Request::Command::reload, 0}), "reload"), error);
    ASSERT_TRUE(r) << error;
    EXPECT_FALSE(r->accepted);
    EXPECT_EQ(r->trigger, "kadpctl");
    ASSERT_EQ(r->diagnostics.size(), 1u);
    EXPECT_EQ(conf::Diagnostics::format(r->diagnostics[0]), "k.conf:12: error: missing '}'");
}

TEST(CtlProtocol, ErrorRepliesAndBrokenReplies)
{
    std::string error;
    const auto e = parse_reply(error_reply("no \"such\" thing"), error);
    ASSERT_TRUE(e) << error;
    EXPECT_FALSE(e->ok);
    EXPECT_EQ(e->error, "no \"such\" thing");
    EXPECT_FALSE(parse_reply("not json", error));
    EXPECT_THAT(error, HasSubstr("not JSON"));
    EXPECT_FALSE(parse_reply("{\"ok\":true}", error));
    EXPECT_THAT(error, HasSubstr("result"));
}

}  // namespace
}  // namespace kadp::ctl
