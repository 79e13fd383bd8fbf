// Runs on: any (unit test). /proc/net/ip_vs_conn as the kernel prints it
// (ip_vs_conn_seq_show's formats) into IpvsConn.
#include <gtest/gtest.h>

#include "control/ctl_messages.h"
#include "control/ipvsadm_format.h"
#include "control/json_value.h"
#include "control/kernel/ip_vs_conn.h"

namespace kadp::ctl {
namespace {

conf::IpAddr ip(const char* text) { return conf::IpAddr::parse(text).value(); }

TEST(IpVsConn, ParsesIpv4AndIpv6LinesAndSkipsTheHeader) {
    const char* text =
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n"
        "TCP C6120002 9C40 C612000A 0050 C612010B 0050 ESTABLISHED     899\n"
        "UDP C6120002 D431 C612000B 0035 C612010B 0035 UDP             177\n"
        "TCP 2001:0db8:0000:0000:0000:0000:0000:0002 8A3C 2001:0db8:0000:0000:0000:0000:0000:0010 0050 "
        "2001:0db8:0002:0000:0000:0000:0000:0012 0050 TIME_WAIT        59\n"
        "TCP C6120002 9C41 C612000A 1F90 C612020C 1F90 NONE             29 sip 0123\n";
    const auto c = parse_ip_vs_conn(text);
    ASSERT_EQ(c.size(), 4u);
    EXPECT_EQ(c[0].protocol, conf::Protocol::tcp);
    EXPECT_EQ(c[0].client, ip("198.18.0.2"));
    EXPECT_EQ(c[0].client_port, 40000);
    EXPECT_EQ(c[0].virtual_address, ip("198.18.0.10"));
    EXPECT_EQ(c[0].virtual_port, 80);
    EXPECT_EQ(c[0].dest, ip("198.18.1.11"));
    EXPECT_EQ(c[0].dest_port, 80);
    EXPECT_EQ(c[0].state, "ESTABLISHED");
    EXPECT_EQ(c[0].expires_seconds, 899u);
    EXPECT_EQ(c[1].protocol, conf::Protocol::udp);
    EXPECT_EQ(c[1].virtual_port, 53);
    EXPECT_EQ(c[1].state, "UDP");
    EXPECT_EQ(c[2].client, ip("2001:db8::2"));
    EXPECT_EQ(c[2].virtual_address, ip("2001:db8::10"));
    EXPECT_EQ(c[2].dest, ip("2001:db8:2::12"));
    EXPECT_EQ(c[2].state, "TIME_WAIT");
    EXPECT_EQ(c[2].expires_seconds, 59u);
    EXPECT_EQ(c[3].virtual_port, 8080);  // persistence engine columns after it are ignored
    EXPECT_FALSE(c[0].persistence_template);
}

// A persistent fwmark service's templates are protocol IP, state NONE:
// ipvsadm -Lnc lists them, so kadpctl conns does too (text and JSON).
TEST(IpVsConn, KeepsPersistenceTemplates) {
    const auto c = parse_ip_vs_conn("IP  C6120002 0000 C612000A 1F90 C612010B 1F90 NONE             28\n");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_TRUE(c[0].persistence_template);
    EXPECT_EQ(c[0].client_port, 0);
    EXPECT_EQ(c[0].virtual_port, 8080);
    EXPECT_EQ(c[0].state, "NONE");
    ConnsReply r;
    r.conns = c;
    r.total = 1;
    EXPECT_EQ(render_conns(r),
              "IPVS connection entries\n"
              "pro expire state       source             virtual            destination\n"
              "IP  00:28  NONE        198.18.0.2:0       198.18.0.10:8080   198.18.1.11:8080\n");
    std::string error;
    const auto json = JsonValue::parse(to_json(r), error);
    ASSERT_TRUE(json) << error;
    const auto back = conns_from_json(*json, error);
    ASSERT_TRUE(back) << error;
    ASSERT_EQ(back->conns.size(), 1u);
    EXPECT_TRUE(back->conns[0].persistence_template);
}

TEST(IpVsConn, SkipsWhatItCannotRead) {
    const auto c = parse_ip_vs_conn(
        "ESP C6120002 0000 C612000A 0000 C612010B 0000 NONE 10\n"  // not a protocol kadp configures
        "TCP C61200 9C40 C612000A 0050 C612010B 0050 ESTABLISHED 9\n"  // short address
        "TCP C6120002 9C40 C612000A 0050 C612010B\n"                   // cut off
        "\n");
    EXPECT_TRUE(c.empty());
    EXPECT_TRUE(read_ip_vs_conn("/nonexistent/ip_vs_conn").empty());
}

}  // namespace
}  // namespace kadp::ctl
