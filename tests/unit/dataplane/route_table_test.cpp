// Runs on: any (unit test). RouteTable4 built from a dataplane block: longest
// match, default route, connected vs via, local addresses, build errors.
#include <gtest/gtest.h>

#include "conf/model.h"
#include "dataplane/checksum.h"
#include "dataplane/route_table.h"

#include <string>

namespace kadp::dp {
namespace {

constexpr std::uint32_t ip(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
{
    return be32_from_host((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d);
}

conf::IpAddr addr(std::uint32_t wire)
{
    conf::IpAddr a;
    a.family = conf::IpAddr::Family::v4;
    std::memcpy(a.bytes.data(), &wire, 4);
    return a;
}

conf::IpPrefix pfx(std::uint32_t wire, int len) { return conf::IpPrefix{addr(wire), len}; }

conf::DataplaneInterface itf(std::string name, std::initializer_list<conf::IpPrefix> a)
{
    conf::DataplaneInterface i;
    i.name = std::move(name);
    i.address = a;
    return i;
}

conf::DataplaneRoute route(conf::IpPrefix p, std::uint32_t via, std::string dev = {}, int line = 0)
{
    conf::DataplaneRoute r;
    r.prefix = p;
    r.via = addr(via);
    r.dev = std::move(dev);
    r.loc = conf::SourceLoc{"kadp.conf", line};
    return r;
}

// Two ports: p0 198.18.0.1/24 (+ secondary 198.18.0.2), p1 198.19.0.1/16.
conf::Dataplane two_ports()
{
    conf::Dataplane dp;
    dp.interfaces.push_back(itf("p0", {pfx(ip(198, 18, 0, 1), 24), pfx(ip(198, 18, 0, 2), 24)}));
    dp.interfaces.push_back(itf("p1", {pfx(ip(198, 19, 0, 1), 16)}));
    return dp;
}

std::unique_ptr<const RouteTable4> built(const conf::Dataplane& dp)
{
    RouteBuild b = RouteTable4::build(dp);
    EXPECT_TRUE(b.errors.empty()) << (b.errors.empty() ? "" : b.errors[0]);
    return std::move(b.table);
}

void expect_hop(const RouteTable4& t, std::uint32_t dst, RouteKind kind, std::uint16_t port, std::uint32_t nh)
{
    const RouteHop4 h = t.lookup(dst);
    EXPECT_EQ(h.kind, kind);
    EXPECT_EQ(h.port, port);
    EXPECT_EQ(h.next_hop, nh);
}

TEST(RouteTable, ConnectedAndLocal)
{
    auto t = built(two_ports());
    ASSERT_TRUE(t);
    expect_hop(*t, ip(198, 18, 0, 77), RouteKind::connected, 0, ip(198, 18, 0, 77));
    expect_hop(*t, ip(198, 19, 200, 3), RouteKind::connected, 1, ip(198, 19, 200, 3));
    expect_hop(*t, ip(198, 18, 0, 1), RouteKind::local, 0, ip(198, 18, 0, 1));
    expect_hop(*t, ip(198, 18, 0, 2), RouteKind::local, 0, ip(198, 18, 0, 2));
    expect_hop(*t, ip(198, 19, 0, 1), RouteKind::local, 1, ip(198, 19, 0, 1));
    EXPECT_TRUE(t->is_local(ip(198, 19, 0, 1)));
    EXPECT_FALSE(t->is_local(ip(198, 19, 0, 2)));
    EXPECT_EQ(t->lookup(ip(198, 18, 1, 1)).kind, RouteKind::none);  // outside /24
    EXPECT_EQ(t->lookup(ip(8, 8, 8, 8)).kind, RouteKind::none);     // no default route
}

TEST(RouteTable, LongestMatchAndDefault)
{
    conf::Dataplane dp = two_ports();
    dp.routes.push_back(route(pfx(0, 0), ip(198, 19, 0, 254)));                          // default via p1
    dp.routes.push_back(route(pfx(ip(203, 0, 0, 0), 8), ip(198, 18, 0, 10)));            // /8 via p0
    dp.routes.push_back(route(pfx(ip(203, 0, 113, 0), 24), ip(198, 18, 0, 11)));         // /24 inside it
    dp.routes.push_back(route(pfx(ip(203, 0, 113, 128), 25), ip(198, 19, 1, 1)));        // /25 inside that
    dp.routes.push_back(route(pfx(ip(203, 0, 113, 200), 32), ip(198, 18, 0, 12)));       // host route
    dp.routes.push_back(route(pfx(ip(203, 0, 112, 0), 23), ip(198, 18, 0, 13)));         // /23 covering the /24
    auto t = built(dp);
    ASSERT_TRUE(t);
    expect_hop(*t, ip(8, 8, 8, 8), RouteKind::via, 1, ip(198, 19, 0, 254));
    expect_hop(*t, ip(203, 9, 9, 9), RouteKind::via, 0, ip(198, 18, 0, 10));
    expect_hop(*t, ip(203, 0, 113, 5), RouteKind::via, 0, ip(198, 18, 0, 11));
    expect_hop(*t, ip(203, 0, 112, 5), RouteKind::via, 0, ip(198, 18, 0, 13));
    expect_hop(*t, ip(203, 0, 113, 129), RouteKind::via, 1, ip(198, 19, 1, 1));
    expect_hop(*t, ip(203, 0, 113, 200), RouteKind::via, 0, ip(198, 18, 0, 12));
    expect_hop(*t, ip(203, 0, 113, 201), RouteKind::via, 1, ip(198, 19, 1, 1));
    expect_hop(*t, ip(203, 0, 113, 127), RouteKind::via, 0, ip(198, 18, 0, 11));
    expect_hop(*t, ip(203, 0, 114, 0), RouteKind::via, 0, ip(198, 18, 0, 10));
    // Connected and local still beat the default route.
    expect_hop(*t, ip(198, 18, 0, 9), RouteKind::connected, 0, ip(198, 18, 0, 9));
    expect_hop(*t, ip(198, 18, 0, 1), RouteKind::local, 0, ip(198, 18, 0, 1));
    EXPECT_LE(t->node_count(), 1U + 3U * t->entries().size());
}

// Every /N boundary: a chain of nested prefixes, each via its own gateway.
TEST(RouteTable, EveryPrefixLength)
{
    conf::Dataplane dp;
    dp.interfaces.push_back(itf("p0", {pfx(ip(198, 18, 0, 1), 24)}));
    const std::uint32_t base = 0xcb007100;  // 203.0.113.0 host order
    for (int len = 1; len <= 32; ++len) {
        const std::uint32_t host = len == 32 ? base : base & (~0U << (32 - len));
        dp.routes.push_back(route(pfx(be32_from_host(host), len), ip(198, 18, 0, static_cast<std::uint8_t>(100 + len))));
    }
    auto t = built(dp);
    ASSERT_TRUE(t);
    for (int len = 1; len <= 32; ++len) {
        // An address that shares exactly `len` leading bits with base.
        const std::uint32_t dst = len == 32 ? base : base ^ (1U << (31 - len));
        const RouteHop4 h = t->lookup(be32_from_host(dst));
        EXPECT_EQ(h.next_hop, ip(198, 18, 0, static_cast<std::uint8_t>(100 + len))) << "len " << len;
    }
}

std::string first_error(const conf::Dataplane& dp)
{
    RouteBuild b = RouteTable4::build(dp);
    EXPECT_FALSE(b.table);
    return b.errors.empty() ? std::string() : b.errors[0];
}

TEST(RouteTable, BadGatewayRejected)
{
    conf::Dataplane dp = two_ports();
    dp.routes.push_back(route(pfx(0, 0), ip(192, 0, 2, 1), {}, 12));
    EXPECT_EQ(first_error(dp),
              "kadp.conf:12: route default: gateway 192.0.2.1 is not in a connected prefix of any dataplane interface");

    dp.routes.back() = route(pfx(ip(203, 0, 113, 0), 24), ip(198, 18, 0, 50), "p1", 13);
    EXPECT_EQ(first_error(dp),
              "kadp.conf:13: route 203.0.113.0/24: gateway 198.18.0.50 is not in a connected prefix of interface p1");

    dp.routes.back() = route(pfx(ip(203, 0, 113, 0), 24), ip(198, 18, 0, 2), {}, 14);
    EXPECT_EQ(first_error(dp), "kadp.conf:14: route 203.0.113.0/24: gateway 198.18.0.2 is one of this node's own addresses");

    dp.routes.back() = route(pfx(ip(203, 0, 113, 0), 24), ip(198, 18, 0, 9), "p9", 15);
    EXPECT_EQ(first_error(dp), "kadp.conf:15: route 203.0.113.0/24: dev p9 is not a dataplane interface");

    dp.routes.back() = route(pfx(ip(198, 18, 0, 0), 24), ip(198, 19, 0, 9), {}, 16);
    EXPECT_EQ(first_error(dp), "kadp.conf:16: route 198.18.0.0/24 is already a connected prefix");

    dp.routes.back() = route(pfx(ip(203, 0, 113, 0), 24), ip(198, 18, 0, 9), {}, 17);
    dp.routes.push_back(route(pfx(ip(203, 0, 113, 0), 24), ip(198, 18, 0, 8), {}, 18));
    EXPECT_EQ(first_error(dp), "kadp.conf:18: route 203.0.113.0/24 given twice");
}

TEST(RouteTable, DevPicksThePort)
{
    // The gateway is inside both ports' prefixes; dev decides.
    conf::Dataplane dp;
    dp.interfaces.push_back(itf("p0", {pfx(ip(198, 18, 0, 1), 16)}));
    dp.interfaces.push_back(itf("p1", {pfx(ip(198, 18, 5, 1), 24)}));
    dp.routes.push_back(route(pfx(ip(203, 0, 113, 0), 24), ip(198, 18, 5, 9), "p0"));
    dp.routes.push_back(route(pfx(ip(203, 0, 114, 0), 24), ip(198, 18, 5, 9)));
    auto t = built(dp);
    ASSERT_TRUE(t);
    expect_hop(*t, ip(203, 0, 113, 1), RouteKind::via, 0, ip(198, 18, 5, 9));
    expect_hop(*t, ip(203, 0, 114, 1), RouteKind::via, 1, ip(198, 18, 5, 9));  // longest connected prefix
}

TEST(RouteTable, SameSubnetOnTwoPortsRejected)
{
    conf::Dataplane dp;
    dp.interfaces.push_back(itf("p0", {pfx(ip(198, 18, 0, 1), 24)}));
    dp.interfaces.push_back(itf("p1", {pfx(ip(198, 18, 0, 2), 24)}));
    EXPECT_EQ(first_error(dp), "interface p1: connected prefix 198.18.0.0/24 is also connected on interface p0");
}

TEST(RouteTable, Ipv6Skipped)
{
    conf::Dataplane dp = two_ports();
    conf::IpPrefix v6;
    v6.addr.family = conf::IpAddr::Family::v6;
    v6.addr.bytes = {0x20, 0x01, 0x0d, 0xb8};
    v6.length = 64;
    dp.interfaces[0].address.push_back(v6);
    RouteBuild b = RouteTable4::build(dp);
    ASSERT_TRUE(b.table);
    EXPECT_EQ(b.skipped_v6, 1U);
}

}  // namespace
}  // namespace kadp::dp
