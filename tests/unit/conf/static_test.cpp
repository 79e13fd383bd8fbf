// Runs on: any (unit test). static_ipaddress, static_routes and the shared
// `ip addr` / `ip route` line syntax.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conf/load.h"
#include "tests/unit/conf/load_fixture.h"

namespace kadp::conf {
namespace {

using ::testing::HasSubstr;
using namespace kadp::conf::testing;

TEST(StaticIpaddress, FullSyntax)
{
    auto l = load(R"(static_ipaddress {
    198.18.0.16/24 brd 198.18.0.255 dev eth0 scope link label eth0:1
    198.18.0.17 dev eth1
    2001:db8::1/64 dev eth0 -nodad noprefixroute home preferred_lft forever
    198.18.1.1/24 brd + dev eth0
}
)");
    expect_clean(l);
    const auto& a = l.config.static_ipaddress;
    ASSERT_EQ(a.size(), 4u);
    EXPECT_EQ(a[0].address.to_string(), "198.18.0.16/24");
    EXPECT_EQ(a[0].broadcast.to_string(), "198.18.0.255");
    EXPECT_EQ(a[0].dev, "eth0");
    EXPECT_EQ(a[0].scope, "link");
    EXPECT_EQ(a[0].label, "eth0:1");
    EXPECT_EQ(a[0].loc.line, 2);
    EXPECT_EQ(a[0].text, "198.18.0.16/24 brd 198.18.0.255 dev eth0 scope link label eth0:1");
    EXPECT_EQ(a[1].address.to_string(), "198.18.0.17/32");
    EXPECT_TRUE(a[1].scope.empty());
    EXPECT_EQ(a[2].address.to_string(), "2001:db8::1/64");
    EXPECT_EQ(a[3].broadcast.to_string(), "198.18.1.255");  // '+' sets the host bits
}

TEST(StaticIpaddress, UnknownEntryIsIgnoredWithWarning)
{
    auto l = load("static_ipaddress {\n 198.18.1.2/24 dev eth0 198.18.1.3\n}\n");
    expect_diag(l, Severity::warning, 2, "Unknown configuration entry '198.18.1.3' for ip address");
    ASSERT_EQ(l.config.static_ipaddress.size(), 1u);
    EXPECT_EQ(l.config.static_ipaddress[0].dev, "eth0");
}

TEST(StaticIpaddress, InvalidAddressesAreErrors)
{
    auto l = load(R"(static_ipaddress {
    198.18.0.2/33
    nonsense dev eth0
    198.18.0.3 dev
    198.18.0.4 scope galaxy
    198.18.0.5 brd 2001:db8::1
}
)");
    expect_diag(l, Severity::error, 2, "198.18.0.2/33");
    expect_diag(l, Severity::error, 3, "nonsense");
    expect_diag(l, Severity::error, 4, "missing a value");
    expect_diag(l, Severity::error, 5, "galaxy");
    expect_diag(l, Severity::error, 6, "broadcast");
    EXPECT_TRUE(l.config.static_ipaddress.empty());
}

TEST(StaticRoutes, SampleSyntax)
{
    auto l = load(R"(static_routes {
    src 198.18.100.1 198.18.209.0/24 via 198.18.200.254 dev eth0
    198.18.212.0/24 dev eth3 scope site
    src 198.18.0.1 to 198.18.7.0/24 via 198.18.0.254 metric 5 table 100
    blackhole 198.18.113.1/32
    default via 198.18.0.1
    2001:db8:1::/48 via 2001:db8::ff dev eth0 mtu lock 1400 proto bird
}
)");
    expect_clean(l);
    const auto& r = l.config.static_routes;
    ASSERT_EQ(r.size(), 6u);
    EXPECT_EQ(r[0].src.to_string(), "198.18.100.1");
    EXPECT_EQ(r[0].destination.to_string(), "198.18.209.0/24");
    EXPECT_EQ(r[0].via.to_string(), "198.18.200.254");
    EXPECT_EQ(r[0].dev, "eth0");
    EXPECT_EQ(r[0].metric, -1);
    EXPECT_EQ(r[1].scope, "site");
    EXPECT_TRUE(r[1].via.empty());
    EXPECT_EQ(r[2].destination.to_string(), "198.18.7.0/24");
    EXPECT_EQ(r[2].metric, 5);
    EXPECT_EQ(r[2].table, "100");
    EXPECT_TRUE(r[3].blackhole);
    EXPECT_EQ(r[3].type, "blackhole");
    EXPECT_EQ(r[3].destination.to_string(), "198.18.113.1/32");
    EXPECT_EQ(r[4].destination.to_string(), "0.0.0.0/0");
    EXPECT_EQ(r[5].destination.to_string(), "2001:db8:1::/48");
    EXPECT_EQ(r[5].via.to_string(), "2001:db8::ff");
}

TEST(StaticRoutes, DeprecatedGwAndOrWarn)
{
    auto l = load(R"(static_routes {
    0.0.0.0/0 gw 198.18.0.1 table 100
    198.18.113.0/24 via 198.18.100.252 or 198.18.100.253
}
)");
    expect_diag(l, Severity::warning, 2, "\"gw\" for routes is deprecated");
    expect_diag(l, Severity::warning, 3, "\"or\" for routes is deprecated");
    EXPECT_FALSE(l.diags.has_errors());
    ASSERT_EQ(l.config.static_routes.size(), 2u);
    EXPECT_EQ(l.config.static_routes[0].via.to_string(), "198.18.0.1");
    EXPECT_EQ(l.config.static_routes[1].via.to_string(), "198.18.100.252");
}

TEST(StaticRoutes, InvalidRoutesAreErrors)
{
    auto l = load(R"(static_routes {
    198.18.8.0/24 via 2001:db8::1
    nonsense here
    198.18.9.0/24 dev
    via 198.18.0.1
    198.18.10.0/24 metric x
}
)");
    expect_diag(l, Severity::error, 2, "Cannot mix IPv4 and IPv6");
    expect_diag(l, Severity::error, 3, "nonsense");
    expect_diag(l, Severity::error, 4, "missing a value");
    expect_diag(l, Severity::error, 5, "no destination");
    expect_diag(l, Severity::error, 6, "metric");
    EXPECT_TRUE(l.config.static_routes.empty());
}

TEST(StaticIpaddress, KernelInterfaceCheck)
{
    const char* text = "static_ipaddress {\n 198.18.0.1/24 dev kadp-nosuch0\n 198.18.0.2/24 dev lo\n}\n"
                       "static_routes {\n 198.18.5.0/24 dev kadp-nosuch1\n}\n";
    auto off = load(text);
    expect_clean(off);
    auto on = load(text, true);
    expect_diag(on, Severity::warning, 2, "interface kadp-nosuch0 for ip address 198.18.0.1/24 doesn't exist");
    expect_diag(on, Severity::warning, 6, "interface kadp-nosuch1 for route 198.18.5.0/24 doesn't exist");
    EXPECT_EQ(find(on, 3, "lo"), nullptr);
    EXPECT_FALSE(on.diags.has_errors());
}

}  // namespace
}  // namespace kadp::conf
