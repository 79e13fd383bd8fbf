// Runs on: any (unit test). kadpctl's ipvsadm layout against text written
// out by hand from ipvsadm 1.31's printf formats (print_title,
// print_service_entry, print_largenum, print_conn): every column, width,
// trailing space, sort and the K/M/G/T scaling.
#include "control/ipvsadm_format.h"

#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

conf::IpAddr ip(const char* text) { return *conf::IpAddr::parse(text); }

IpvsService service(conf::Protocol p, const char* addr, std::uint16_t port, const char* sched) {
    IpvsService s;
    s.protocol = p;
    s.address = ip(addr);
    s.family = s.address.family;
    s.port = port;
    s.scheduler = sched;
    return s;
}

IpvsDest dest(const char* addr, std::uint16_t port, conf::LbKind fwd, int weight, std::uint32_t active = 0,
              std::uint32_t inactive = 0) {
    IpvsDest d;
    d.address = ip(addr);
    d.port = port;
    d.forward = fwd;
    d.weight = weight;
    d.active_conns = active;
    d.inactive_conns = inactive;
    return d;
}

// Services in an order ipvsadm would not print them in.
ListReply mixed() {
    ListReply r;
    r.conn_table_size = 4096;
    IpvsService dns = service(conf::Protocol::udp, "198.18.0.100", 53, "wlc");
    dns.dests = {dest("198.19.0.2", 53, conf::LbKind::nat, 2, 0, 7), dest("198.19.0.1", 53, conf::LbKind::nat, 1)};
    IpvsService fwm8;
    fwm8.fwmark = 8;
    fwm8.family = conf::IpAddr::Family::v6;
    fwm8.scheduler = "rr";
    IpvsService v6 = service(conf::Protocol::tcp, "2001:db8::100", 80, "wlc");
    v6.persistence_timeout = 60;
    v6.persistence_prefix_v6 = 64;
    v6.dests = {dest("2001:db8::1", 8080, conf::LbKind::nat, 1)};
    IpvsService https = service(conf::Protocol::tcp, "198.18.0.100", 443, "sh");
    https.scheduler_flags = {"sh-port", "sh-fallback"};
    https.persistence_timeout = 300;
    https.persistence_netmask_v4 = 0xffffff00;
    https.dests = {dest("198.19.0.10", 443, conf::LbKind::dr, 100, 1234, 5)};
    IpvsService fwm7;
    fwm7.fwmark = 7;
    fwm7.scheduler = "wrr";
    IpvsService http = service(conf::Protocol::tcp, "198.18.0.100", 80, "rr");
    http.one_packet = true;
    http.dests = {dest("198.19.0.2", 8080, conf::LbKind::nat, 0), dest("198.19.0.1", 80, conf::LbKind::tun, 3, 2, 1)};
    r.services = {dns, fwm8, v6, https, fwm7, http};
    return r;
}

TEST(IpvsadmFormat, ListLikeIpvsadmLn)
{
    const std::string expected =
        "IP Virtual Server version 1.2.1 (size=4096)\n"
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
        "TCP  198.18.0.100:80 rr ops\n"
        "  -> 198.19.0.1:80                Tunnel  3      2          1         \n"
        "  -> 198.19.0.2:8080              Masq    0      0          0         \n"
        "TCP  198.18.0.100:443 sh (sh-fallback,sh-port) persistent 300 mask 255.255.255.0\n"
        "  -> 198.19.0.10:443              Route   100    1234       5         \n"
        "UDP  198.18.0.100:53 wlc\n"
        "  -> 198.19.0.1:53                Masq    1      0          0         \n"
        "  -> 198.19.0.2:53                Masq    2      0          7         \n"
        "TCP  [2001:db8::100]:80 wlc persistent 60 mask 64\n"
        "  -> [2001:db8::1]:8080           Masq    1      0          0         \n"
        "FWM  7 wrr\n"
        "FWM  8 IPv6 rr\n";
    EXPECT_EQ(render_list(mixed(), {}), expected);
}

TEST(IpvsadmFormat, LongIpv6NamesAreNotTruncated)
{
    ListReply r;
    IpvsService s = service(conf::Protocol::tcp, "2001:db8::100", 443, "rr");
    s.dests = {dest("2001:db8:aaaa:bbbb:cccc:dddd:eeee:1", 65535, conf::LbKind::nat, 1)};
    r.services = {s};
    const std::string text = render_list(r, {});
    EXPECT_NE(text.find("  -> [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:65535 Masq    1      0          0         \n"),
              std::string::npos)
        << text;
}

ListReply with_stats() {
    ListReply r;
    r.conn_table_size = 1048576;
    IpvsService s = service(conf::Protocol::tcp, "198.18.0.100", 80, "rr");
    s.stats.conns = 12;
    s.stats.in_packets = 123456789;
    s.stats.out_packets = 99999999;
    s.stats.in_bytes = 5000000000ULL;
    s.stats.out_bytes = 200000000000000ULL;
    IpvsDest d = dest("198.19.0.1", 80, conf::LbKind::nat, 1);
    d.stats.conns = 7;
    d.stats.in_packets = 100000000;
    d.stats.in_bytes = 150000000000ULL;
    d.stats.out_bytes = 999;
    s.dests = {d};
    r.services = {s};
    return r;
}

TEST(IpvsadmFormat, StatsLikeIpvsadmLnStats)
{
    const std::string expected =
        "IP Virtual Server version 1.2.1 (size=1048576)\n"
        "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
        "  -> RemoteAddress:Port\n"
        "TCP  198.18.0.100:80                    12  123456K 99999999    5000M     200T\n"
        "  -> 198.19.0.1:80                       7  100000K        0     150G      999\n";
    EXPECT_EQ(render_list(with_stats(), {ListKind::stats, false}), expected);
}

TEST(IpvsadmFormat, ExactNumbersWidenTheColumn)
{
    const std::string text = render_list(with_stats(), {ListKind::stats, true});
    EXPECT_NE(text.find("  -> 198.19.0.1:80                       7 100000000        0 150000000000      999\n"),
              std::string::npos)
        << text;
}

TEST(IpvsadmFormat, RateLikeIpvsadmLnRate)
{
    ListReply r;
    r.conn_table_size = 4096;
    IpvsService s = service(conf::Protocol::udp, "198.18.0.100", 53, "rr");
    IpvsStats rates;
    rates.cps = 3;
    rates.in_pps = 40;
    rates.out_pps = 41;
    rates.in_bps = 123456789;
    rates.out_bps = 5000;
    s.stats = rates;
    IpvsDest d = dest("198.19.0.2", 53, conf::LbKind::nat, 1);
    d.stats = rates;
    s.dests = {d};
    r.services = {s};
    const std::string expected =
        "IP Virtual Server version 1.2.1 (size=4096)\n"
        "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
        "  -> RemoteAddress:Port\n"
        "UDP  198.18.0.100:53                     3       40       41  123456K     5000\n"
        "  -> 198.19.0.2:53                       3       40       41  123456K     5000\n";
    EXPECT_EQ(render_list(r, {ListKind::rate, false}), expected);
}

TEST(IpvsadmFormat, ConnsLikeIpvsadmLnc)
{
    ConnsReply r;
    IpvsConn a;
    a.protocol = conf::Protocol::tcp;
    a.expires_seconds = 899;
    a.state = "ESTABLISHED";
    a.client = ip("198.18.0.1");
    a.client_port = 40000;
    a.virtual_address = ip("198.18.0.100");
    a.virtual_port = 80;
    a.dest = ip("198.19.0.1");
    a.dest_port = 80;
    IpvsConn b = a;
    b.protocol = conf::Protocol::udp;
    b.expires_seconds = 245;
    b.state = "UDP";
    b.client_port = 5353;
    b.virtual_port = 53;
    b.dest = ip("198.19.0.2");
    b.dest_port = 53;
    IpvsConn c = a;
    c.expires_seconds = 6000;
    c.state = "SYN_RECV";
    c.client = ip("2001:db8::1");
    c.virtual_address = ip("2001:db8::100");
    c.dest = ip("2001:db8::2");
    r.conns = {a, b, c};
    const std::string expected =
        "IPVS connection entries\n"
        "pro expire state       source             virtual            destination\n"
        "TCP 14:59  ESTABLISHED 198.18.0.1:40000   198.18.0.100:80    198.19.0.1:80\n"
        "UDP 04:05  UDP         198.18.0.1:5353    198.18.0.100:53    198.19.0.2:53\n"
        "TCP 100:00 SYN_RECV    [2001:db8::1]:40000 [2001:db8::100]:80 [2001:db8::2]:80\n";
    EXPECT_EQ(render_conns(r), expected);
}

TEST(IpvsadmFormat, EmptyTableHasTheHeadersOnly)
{
    ListReply r;
    r.conn_table_size = 4096;
    EXPECT_EQ(render_list(r, {}),
              "IP Virtual Server version 1.2.1 (size=4096)\n"
              "Prot LocalAddress:Port Scheduler Flags\n"
              "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
    EXPECT_EQ(render_conns({}), "IPVS connection entries\n"
                                "pro expire state       source             virtual            destination\n");
}

TEST(IpvsadmFormat, LargenumThresholds)
{
    EXPECT_EQ(ipvs_largenum(99999999, false), " 99999999");
    EXPECT_EQ(ipvs_largenum(100000000, false), "  100000K");
    EXPECT_EQ(ipvs_largenum(999999999, false), "  999999K");
    EXPECT_EQ(ipvs_largenum(1000000000, false), "    1000M");
    EXPECT_EQ(ipvs_largenum(99999999999ULL, false), "   99999M");
    EXPECT_EQ(ipvs_largenum(100000000000ULL, false), "     100G");
    EXPECT_EQ(ipvs_largenum(100000000000000ULL, false), "     100T");
    EXPECT_EQ(ipvs_largenum(5, true), "        5");
    EXPECT_EQ(ipvs_largenum(123456789, true), " 123456789");
}

}  // namespace
}  // namespace kadp::ctl
