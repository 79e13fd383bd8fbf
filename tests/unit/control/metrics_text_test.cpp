// Runs on: any (unit test). The Prometheus text rendering of status + list:
// exact output for a hand-built reply, label escaping, and a validator that
// parses every line as the text exposition format 0.0.4.
#include "control/metrics_text.h"

#include <algorithm>
#include <map>
// GCC 12 with -fsanitize=address -O2 warns (-Wmaybe-uninitialized) inside
// <regex>'s own std::function members; a false positive of the library
// header under ASan, silenced for this include only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#include <set>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

conf::IpAddr ip(const char* s) { return *conf::IpAddr::parse(s); }

StatusReply sample_status()
{
    StatusReply st;
    st.backend = "dpdk";
    st.version = "0.9";
    st.uptime_seconds = 42;
    st.generation = 3;
    st.reloads_accepted = 2;
    st.reloads_rejected = 1;
    st.services = 1;
    st.real_servers = 2;
    st.conn_capacity = 1024;
    st.conn_in_use = 5;
    st.counters = {{"rx_packets", 100}, {"conn_new", 7}, {"conn_defense_level", 1}, {"exception_to_kernel", 4}};
    PortStatus p;
    p.name = "lan";
    p.device = "net_af_packet0,iface=lan";
    p.rx_packets = 10;
    p.rx_bytes = 1000;
    p.tx_packets = 9;
    p.tx_bytes = 900;
    p.rx_missed = 1;
    p.link = "up";
    st.ports.push_back(p);
    st.mempools.push_back({"mbuf_pool_0", 8191, 8000, 191});
    VrrpInstanceStatus v;
    v.name = "VI_1";
    v.state = "MASTER";
    v.priority = 150;
    v.dropped = {{"bad_ttl", 2}};
    st.vrrp.push_back(v);
    st.vrrp_dropped = {{"bad_ttl", 2}, {"unknown_vrid", 5}};
    return st;
}

ListReply sample_list()
{
    ListReply l;
    IpvsService s;
    s.protocol = conf::Protocol::tcp;
    s.address = ip("198.18.0.100");
    s.port = 80;
    s.stats.conns = 12;
    s.stats.in_packets = 60;
    s.stats.out_packets = 50;
    s.stats.in_bytes = 6000;
    s.stats.out_bytes = 50000;
    IpvsDest d;
    d.address = ip("198.19.0.1");
    d.port = 8080;
    d.weight = 3;
    d.active_conns = 1;
    d.inactive_conns = 2;
    d.stats.conns = 12;
    d.stats.in_packets = 60;
    d.stats.out_packets = 50;
    d.stats.in_bytes = 6000;
    d.stats.out_bytes = 50000;
    s.dests.push_back(d);
    l.services.push_back(s);
    return l;
}

constexpr const char* kExpected = R"(# HELP kadp_info Always 1; the backend and kadp's version as labels.
# TYPE kadp_info gauge
kadp_info{backend="dpdk",version="0.9"} 1
# HELP kadp_uptime_seconds Seconds since kadp started.
# TYPE kadp_uptime_seconds gauge
kadp_uptime_seconds 42
# HELP kadp_config_generation Generation of the running configuration: +1 per accepted reload (DPDK: per published snapshot, which checker verdicts and VRRP takeovers move too).
# TYPE kadp_config_generation gauge
kadp_config_generation 3
# HELP kadp_reloads_total Reloads since start (SIGHUP and kadpctl), by result.
# TYPE kadp_reloads_total counter
kadp_reloads_total{result="accepted"} 2
kadp_reloads_total{result="rejected"} 1
# HELP kadp_services Virtual services configured.
# TYPE kadp_services gauge
kadp_services 1
# HELP kadp_real_servers Real servers configured, over all services.
# TYPE kadp_real_servers gauge
kadp_real_servers 2
# HELP kadp_degraded Things that no longer work as configured (kadpctl status lists them).
# TYPE kadp_degraded gauge
kadp_degraded 0
# HELP kadp_exception_taps_lost Exception TAPs deleted under kadp (DPDK backend).
# TYPE kadp_exception_taps_lost gauge
kadp_exception_taps_lost 0
# HELP kadp_service_connections_total Connections scheduled by the virtual service.
# TYPE kadp_service_connections_total counter
kadp_service_connections_total{vip="198.18.0.100",port="80",protocol="TCP"} 12
# HELP kadp_service_packets_total Packets of the virtual service; in: client to real server, out: back.
# TYPE kadp_service_packets_total counter
kadp_service_packets_total{vip="198.18.0.100",port="80",protocol="TCP",direction="in"} 60
kadp_service_packets_total{vip="198.18.0.100",port="80",protocol="TCP",direction="out"} 50
# HELP kadp_service_bytes_total Bytes of the virtual service; in: client to real server, out: back.
# TYPE kadp_service_bytes_total counter
kadp_service_bytes_total{vip="198.18.0.100",port="80",protocol="TCP",direction="in"} 6000
kadp_service_bytes_total{vip="198.18.0.100",port="80",protocol="TCP",direction="out"} 50000
# HELP kadp_real_server_connections_total Connections scheduled to the real server.
# TYPE kadp_real_server_connections_total counter
kadp_real_server_connections_total{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080"} 12
# HELP kadp_real_server_packets_total Packets through the real server's connections, by direction.
# TYPE kadp_real_server_packets_total counter
kadp_real_server_packets_total{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",direction="in"} 60
kadp_real_server_packets_total{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",direction="out"} 50
# HELP kadp_real_server_bytes_total Bytes through the real server's connections, by direction.
# TYPE kadp_real_server_bytes_total counter
kadp_real_server_bytes_total{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",direction="in"} 6000
kadp_real_server_bytes_total{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",direction="out"} 50000
# HELP kadp_real_server_active_connections The real server's active connections (ipvsadm ActiveConn).
# TYPE kadp_real_server_active_connections gauge
kadp_real_server_active_connections{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080"} 1
# HELP kadp_real_server_inactive_connections The real server's inactive connections (ipvsadm InActConn).
# TYPE kadp_real_server_inactive_connections gauge
kadp_real_server_inactive_connections{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080"} 2
# HELP kadp_real_server_weight The real server's weight now (0: quiesced, e.g. its checker failed with inhibit_on_failure).
# TYPE kadp_real_server_weight gauge
kadp_real_server_weight{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080"} 3
# HELP kadp_vrrp_state 1 for the VRRP instance's current state, 0 for the others.
# TYPE kadp_vrrp_state gauge
kadp_vrrp_state{instance="VI_1",state="INIT"} 0
kadp_vrrp_state{instance="VI_1",state="BACKUP"} 0
kadp_vrrp_state{instance="VI_1",state="MASTER"} 1
kadp_vrrp_state{instance="VI_1",state="FAULT"} 0
kadp_vrrp_state{instance="VI_1",state="STOP"} 0
# HELP kadp_vrrp_priority The VRRP instance's effective priority.
# TYPE kadp_vrrp_priority gauge
kadp_vrrp_priority{instance="VI_1"} 150
# HELP kadp_vrrp_adverts_dropped_total Adverts for the instance's VRID refused before its state machine, by reason (non-zero only).
# TYPE kadp_vrrp_adverts_dropped_total counter
kadp_vrrp_adverts_dropped_total{instance="VI_1",reason="bad_ttl"} 2
# HELP kadp_vrrp_adverts_refused_total Every advert the VRRP service refused before a state machine, by reason, instance known or not (non-zero only).
# TYPE kadp_vrrp_adverts_refused_total counter
kadp_vrrp_adverts_refused_total{reason="bad_ttl"} 2
kadp_vrrp_adverts_refused_total{reason="unknown_vrid"} 5
# HELP kadp_dataplane_events_total Data-plane outcomes summed over the workers, one per counter of dataplane/counters.h (kadpctl status).
# TYPE kadp_dataplane_events_total counter
kadp_dataplane_events_total{counter="rx_packets"} 100
kadp_dataplane_events_total{counter="conn_new"} 7
kadp_dataplane_events_total{counter="exception_to_kernel"} 4
# HELP kadp_conn_defense_level SYN-flood defense level summed over the workers (0 off, 1, 2 each).
# TYPE kadp_conn_defense_level gauge
kadp_conn_defense_level 1
# HELP kadp_conn_table_entries Connection-table entries in use.
# TYPE kadp_conn_table_entries gauge
kadp_conn_table_entries 5
# HELP kadp_conn_table_capacity Connection-table size (entries).
# TYPE kadp_conn_table_capacity gauge
kadp_conn_table_capacity 1024
# HELP kadp_port_rx_packets_total Frames the port received (rte_eth_stats ipackets).
# TYPE kadp_port_rx_packets_total counter
kadp_port_rx_packets_total{port="lan",device="net_af_packet0,iface=lan"} 10
# HELP kadp_port_rx_bytes_total Bytes the port received.
# TYPE kadp_port_rx_bytes_total counter
kadp_port_rx_bytes_total{port="lan",device="net_af_packet0,iface=lan"} 1000
# HELP kadp_port_tx_packets_total Frames the port sent.
# TYPE kadp_port_tx_packets_total counter
kadp_port_tx_packets_total{port="lan",device="net_af_packet0,iface=lan"} 9
# HELP kadp_port_tx_bytes_total Bytes the port sent.
# TYPE kadp_port_tx_bytes_total counter
kadp_port_tx_bytes_total{port="lan",device="net_af_packet0,iface=lan"} 900
# HELP kadp_port_rx_missed_total Frames the port dropped: no RX descriptor free.
# TYPE kadp_port_rx_missed_total counter
kadp_port_rx_missed_total{port="lan",device="net_af_packet0,iface=lan"} 1
# HELP kadp_port_rx_errors_total Erroneous frames the port received.
# TYPE kadp_port_rx_errors_total counter
kadp_port_rx_errors_total{port="lan",device="net_af_packet0,iface=lan"} 0
# HELP kadp_port_rx_nombuf_total Frames the port dropped: mbuf pool empty.
# TYPE kadp_port_rx_nombuf_total counter
kadp_port_rx_nombuf_total{port="lan",device="net_af_packet0,iface=lan"} 0
# HELP kadp_port_tx_errors_total Frames the port failed to send.
# TYPE kadp_port_tx_errors_total counter
kadp_port_tx_errors_total{port="lan",device="net_af_packet0,iface=lan"} 0
# HELP kadp_port_link_up 1: the port's link is up, 0: down (absent: not known).
# TYPE kadp_port_link_up gauge
kadp_port_link_up{port="lan",device="net_af_packet0,iface=lan"} 1
# HELP kadp_mempool_mbufs Mbufs in the DPDK mempool.
# TYPE kadp_mempool_mbufs gauge
kadp_mempool_mbufs{pool="mbuf_pool_0"} 8191
# HELP kadp_mempool_mbufs_in_use Mbufs of the DPDK mempool handed out.
# TYPE kadp_mempool_mbufs_in_use gauge
kadp_mempool_mbufs_in_use{pool="mbuf_pool_0"} 191
)";

TEST(MetricsText, ExactOutputForAHandBuiltReply)
{
    EXPECT_EQ(render_metrics(sample_status(), sample_list()), kExpected);
}

TEST(MetricsText, EmptyFamiliesAreLeftOut)
{
    StatusReply st;
    st.backend = "kernel";
    const std::string out = render_metrics(st, ListReply{});
    EXPECT_THAT(out, ::testing::HasSubstr("kadp_info{backend=\"kernel\",version=\"\"} 1\n"));
    EXPECT_THAT(out, ::testing::Not(::testing::HasSubstr("kadp_service_")));
    EXPECT_THAT(out, ::testing::Not(::testing::HasSubstr("kadp_port_")));
    EXPECT_THAT(out, ::testing::Not(::testing::HasSubstr("kadp_conn_table_")));  // capacity 0: not known
}

TEST(MetricsText, FwmarkServiceAndIpv6Labels)
{
    ListReply l;
    IpvsService fw;
    fw.fwmark = 7;
    fw.stats.conns = 1;
    l.services.push_back(fw);
    IpvsService v6;
    v6.protocol = conf::Protocol::udp;
    v6.address = ip("2001:db8::1");
    v6.port = 53;
    l.services.push_back(v6);
    const std::string out = render_metrics(StatusReply{}, l);
    EXPECT_THAT(out, ::testing::HasSubstr("kadp_service_connections_total{vip=\"7\",port=\"0\",protocol=\"fwmark\"} 1\n"));
    EXPECT_THAT(out, ::testing::HasSubstr("kadp_service_connections_total{vip=\"2001:db8::1\",port=\"53\",protocol=\"UDP\"} 0\n"));
}

TEST(MetricsText, LabelValuesEscaped)
{
    EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    StatusReply st;
    VrrpInstanceStatus v;
    v.name = "odd\"name\\\n";
    v.state = "BACKUP";
    st.vrrp.push_back(v);
    EXPECT_THAT(render_metrics(st, ListReply{}),
                ::testing::HasSubstr("kadp_vrrp_priority{instance=\"odd\\\"name\\\\\\n\"} 0\n"));
}

// The text format 0.0.4, line by line: comments HELP/TYPE, then samples
// `name{label="value",...} value`; a family's TYPE comes before its
// samples, once; every sample's family has HELP and TYPE; no family is
// split; names and label names use the allowed characters.
void validate_exposition(const std::string& text)
{
    ASSERT_FALSE(text.empty());
    ASSERT_EQ(text.back(), '\n');
    static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) ([^\n\\]|\\\\|\\n)*)");
    static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
    static const std::regex sample(
        R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\\\|\\"|\\n)*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\\\|\\"|\\n)*")*\})? (-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|\+Inf|-Inf))");
    std::map<std::string, std::string> types;
    std::set<std::string> helps, finished;
    std::string current;
    std::istringstream in(text);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        std::smatch m;
        std::string family;
        if (std::regex_match(line, m, help)) {
            family = m[1];
            EXPECT_TRUE(helps.insert(family).second) << "line " << n << ": second HELP";
        } else if (std::regex_match(line, m, type)) {
            family = m[1];
            EXPECT_TRUE(types.emplace(family, m[2]).second) << "line " << n << ": second TYPE";
        } else if (std::regex_match(line, m, sample)) {
            family = m[1];
            EXPECT_TRUE(types.contains(family)) << "line " << n << ": sample before its TYPE";
            EXPECT_TRUE(helps.contains(family)) << "line " << n << ": sample without HELP";
            if (types[family] == "counter") {
                EXPECT_TRUE(family.ends_with("_total")) << family;
            }
        } else {
            ADD_FAILURE() << "line " << n << " is not exposition format: " << line;
            continue;
        }
        if (family != current) {
            EXPECT_FALSE(finished.contains(family)) << "line " << n << ": family " << family << " split";
            if (!current.empty()) finished.insert(current);
            current = family;
        }
    }
}

TEST(MetricsText, EveryLineParsesAsTheExpositionFormat)
{
    validate_exposition(render_metrics(sample_status(), sample_list()));
    StatusReply odd = sample_status();
    odd.vrrp[0].name = "quote\" back\\ nl\n";
    odd.ports[0].device = "net_pcap0,iface=\"x\"";
    validate_exposition(render_metrics(odd, sample_list()));
}

TEST(MetricsText, PerWorkerCountersFollowTheStatusOrder)
{
    const std::vector<WorkerCounterSet> workers = {{1, {60, 4, 0, 3}}, {2, {40, 3, 1, 1}}};
    const std::string out = render_metrics(sample_status(), sample_list(), workers);
    EXPECT_THAT(out, ::testing::HasSubstr(
                         "# HELP kadp_worker_events_total Data-plane outcomes of one worker (its lcore), one per counter of "
                         "dataplane/counters.h.\n# TYPE kadp_worker_events_total counter\n"
                         "kadp_worker_events_total{worker=\"1\",counter=\"rx_packets\"} 60\n"
                         "kadp_worker_events_total{worker=\"1\",counter=\"conn_new\"} 4\n"
                         "kadp_worker_events_total{worker=\"1\",counter=\"exception_to_kernel\"} 3\n"
                         "kadp_worker_events_total{worker=\"2\",counter=\"rx_packets\"} 40\n"
                         "kadp_worker_events_total{worker=\"2\",counter=\"conn_new\"} 3\n"
                         "kadp_worker_events_total{worker=\"2\",counter=\"exception_to_kernel\"} 1\n"
                         "# HELP kadp_conn_defense_level "));
    validate_exposition(render_metrics(sample_status(), sample_list(), workers));
}

TEST(MetricsText, CheckerVerdictsBeforeTheWeights)
{
    const std::vector<RealServerHealth> health = {{"198.18.0.100", "80", "TCP", "198.19.0.1", "8080", true, {}},
                                                  {"group web", "0", "TCP", "198.19.0.2", "80", false, {}}};
    const std::string out = render_metrics(sample_status(), sample_list(), {}, health);
    EXPECT_THAT(out, ::testing::HasSubstr(
                         "# HELP kadp_real_server_up The real server's health-checker verdict: 1 alive (or no checker), "
                         "0 down; every configured real server.\n# TYPE kadp_real_server_up gauge\n"
                         "kadp_real_server_up{vip=\"198.18.0.100\",port=\"80\",protocol=\"TCP\",real_server=\"198.19.0.1\","
                         "real_port=\"8080\"} 1\n"
                         "kadp_real_server_up{vip=\"group web\",port=\"0\",protocol=\"TCP\",real_server=\"198.19.0.2\","
                         "real_port=\"80\"} 0\n"
                         "# HELP kadp_real_server_weight "));
    validate_exposition(out);
    // Without verdicts (no source): no family.
    EXPECT_THAT(render_metrics(sample_status(), sample_list()), ::testing::Not(::testing::HasSubstr("kadp_real_server_up")));
}

// Two checkers of one real server: one that never ran (pending), one down
// after a refused connection.
std::vector<RealServerHealth> checker_health()
{
    RealServerHealth rs{"198.18.0.100", "80", "TCP", "198.19.0.1", "8080", false, {}};
    CheckerHealth pending;
    pending.type = "TCP_CHECK";
    pending.target = "[198.19.0.1]:tcp:8080";
    pending.up = true;
    pending.result = "none";
    CheckerHealth down;
    down.type = "HTTP_GET";
    down.target = "[198.19.0.1]:tcp:8081";
    down.up = false;
    down.ran = true;
    down.result = "connect_error";
    down.latency_ms = 1012;
    down.consecutive_failures = 3;
    down.failures = 7;
    down.last_check = 1700000100;
    down.last_transition = 1700000040;
    rs.checkers = {pending, down};
    return {rs};
}

constexpr const char* kCheckerFamilies = R"(# HELP kadp_checker_up The health checker's own state: 1 up, 0 down (kadpctl checks).
# TYPE kadp_checker_up gauge
kadp_checker_up{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="TCP_CHECK",target="[198.19.0.1]:tcp:8080"} 1
kadp_checker_up{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="HTTP_GET",target="[198.19.0.1]:tcp:8081"} 0
# HELP kadp_checker_last_result 1 for the kind of the checker's last attempt (none: no attempt ended yet), 0 for the others.
# TYPE kadp_checker_last_result gauge
kadp_checker_last_result{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="TCP_CHECK",target="[198.19.0.1]:tcp:8080",result="none"} 1
kadp_checker_last_result{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="TCP_CHECK",target="[198.19.0.1]:tcp:8080",result="ok"} 0
kadp_checker_last_result{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="TCP_CHECK",target="[198.19.0.1]:tcp:8080",result="timeout"} 0
kadp_checker_last_result{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="TCP_CHECK",target="[198.19.0.1]:tcp:8080",result="connect_error"} 0
kadp_checker_last_result{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="TCP_CHECK",target="[198.19.0.1]:tcp:8080",result="bad_response"} 0
kadp_checker_last_result{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="TCP_CHECK",target="[198.19.0.1]:tcp:8080",result="failed"} 0
kadp_checker_last_result{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="HTTP_GET",target="[198.19.0.1]:tcp:8081",result="none"} 0
kadp_checker_last_result{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="HTTP_GET",target="[198.19.0.1]:tcp:8081",result="ok"} 0
kadp_checker_last_result{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="HTTP_GET",target="[198.19.0.1]:tcp:8081",result="timeout"} 0
kadp_checker_last_result{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="HTTP_GET",target="[198.19.0.1]:tcp:8081",result="connect_error"} 1
kadp_checker_last_result{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="HTTP_GET",target="[198.19.0.1]:tcp:8081",result="bad_response"} 0
kadp_checker_last_result{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="HTTP_GET",target="[198.19.0.1]:tcp:8081",result="failed"} 0
# HELP kadp_checker_last_latency_seconds The checker's last attempt, start to verdict.
# TYPE kadp_checker_last_latency_seconds gauge
kadp_checker_last_latency_seconds{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="HTTP_GET",target="[198.19.0.1]:tcp:8081"} 1.012
# HELP kadp_checker_consecutive_failures Failed attempts of the checker since its last success.
# TYPE kadp_checker_consecutive_failures gauge
kadp_checker_consecutive_failures{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="TCP_CHECK",target="[198.19.0.1]:tcp:8080"} 0
kadp_checker_consecutive_failures{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="HTTP_GET",target="[198.19.0.1]:tcp:8081"} 3
# HELP kadp_checker_failures_total Failed attempts of the checker since it was started (a reload that changes it starts it again).
# TYPE kadp_checker_failures_total counter
kadp_checker_failures_total{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="TCP_CHECK",target="[198.19.0.1]:tcp:8080"} 0
kadp_checker_failures_total{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="HTTP_GET",target="[198.19.0.1]:tcp:8081"} 7
# HELP kadp_checker_last_check_timestamp_seconds Unix time the checker's last attempt ended.
# TYPE kadp_checker_last_check_timestamp_seconds gauge
kadp_checker_last_check_timestamp_seconds{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="HTTP_GET",target="[198.19.0.1]:tcp:8081"} 1700000100
# HELP kadp_checker_last_transition_timestamp_seconds Unix time the checker last went up or down (absent: never).
# TYPE kadp_checker_last_transition_timestamp_seconds gauge
kadp_checker_last_transition_timestamp_seconds{vip="198.18.0.100",port="80",protocol="TCP",real_server="198.19.0.1",real_port="8080",checker="HTTP_GET",target="[198.19.0.1]:tcp:8081"} 1700000040
# HELP kadp_vrrp_state )";

TEST(MetricsText, CheckerFamiliesExactlyAfterTheRealServers)
{
    const auto health = checker_health();
    const std::string out = render_metrics(sample_status(), sample_list(), {}, health);
    EXPECT_THAT(out, ::testing::HasSubstr(std::string("kadp_real_server_weight{vip=\"198.18.0.100\",port=\"80\",protocol=\"TCP\","
                                                      "real_server=\"198.19.0.1\",real_port=\"8080\"} 3\n") +
                                          kCheckerFamilies));
    validate_exposition(out);
    // Without checkers (none configured, or no source): no checker family.
    EXPECT_THAT(render_metrics(sample_status(), sample_list()), ::testing::Not(::testing::HasSubstr("kadp_checker_")));
}

TEST(MetricsText, LatencyIsExactDecimalSeconds)
{
    auto health = checker_health();
    for (const auto& [ms, text] : std::vector<std::pair<std::uint64_t, std::string>>{{0, "0.000"}, {7, "0.007"}, {50, "0.050"}, {12345, "12.345"}}) {
        health[0].checkers[1].latency_ms = ms;
        EXPECT_THAT(render_metrics(StatusReply{}, ListReply{}, {}, health),
                    ::testing::HasSubstr("target=\"[198.19.0.1]:tcp:8081\"} " + text + "\n# HELP kadp_checker_consecutive_failures"))
            << ms;
    }
}

// The checkers' own failure texts (checks/*_check.cpp) map to the bounded set.
TEST(MetricsText, CheckerResultKinds)
{
    EXPECT_STREQ(checker_result_kind(false, false, ""), "none");
    EXPECT_STREQ(checker_result_kind(true, true, ""), "ok");
    const std::vector<std::pair<const char*, const char*>> cases = {
        {"TCP connection to [198.19.0.1]:tcp:80 timeout.", "timeout"},
        {"Timeout connecting server [198.19.0.1]:tcp:80.", "timeout"},
        {"Timeout HTTP read server [198.19.0.1]:tcp:80.", "timeout"},
        {"SMTP_CHECK Read timeout from server [198.19.0.1]:tcp:25", "timeout"},
        {"Misc check for [/bin/check] timed out.", "timeout"},
        {"TCP connection to [198.19.0.1]:tcp:80 failed (Connection refused).", "connect_error"},
        {"Error connecting server [198.19.0.1]:tcp:80.", "connect_error"},
        {"SSL handshake/communication error (bad cert) connecting to server [198.19.0.1]:tcp:443.", "connect_error"},
        {"DNS_CHECK ([198.19.0.1]:udp:53) network unreachable for [198.19.0.1]:53", "connect_error"},
        {"HTTP status code error to server [198.19.0.1]:tcp:80.", "bad_response"},
        {"MD5 digest error to server [198.19.0.1]:tcp:80.", "bad_response"},
        {"Read, no data received from server [198.19.0.1]:tcp:80.", "bad_response"},
        {"SMTP_CHECK Bad greeting banner from server [198.19.0.1]:tcp:25", "bad_response"},
        {"DNS_CHECK ([198.19.0.1]:udp:53) read error occurred. (rcode = 2)", "bad_response"},
        {"Misc check for [/bin/check] exited with status 1.", "failed"},
        {"", "failed"},
    };
    for (const auto& [reason, kind] : cases) EXPECT_STREQ(checker_result_kind(true, false, reason), kind) << reason;
    for (const auto& [reason, kind] : cases) {
        const std::string k = checker_result_kind(true, false, reason);
        EXPECT_NE(std::find(kCheckerResults.begin(), kCheckerResults.end(), k), kCheckerResults.end()) << k;
    }
}

}  // namespace
}  // namespace kadp::ctl
