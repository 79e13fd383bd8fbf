// Runs on: any (unit test; needs CAP_NET_RAW, skips without it). The VRRP
// transports on the loopback interface: a whole IPv4 packet of protocol 112
// sent by one VrrpSocket arrives, IP header and all, at another bound to
// `lo`; a socket bound to an interface that does not exist says which; a
// GarpSocket's frame is keepalived's gratuitous ARP.
#include "vrrp/socket.h"
#include "vrrp/garp_socket.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

namespace kadp::vrrp {
namespace {

bool can_open_raw()
{
    const int fd = socket(AF_INET, SOCK_RAW, kIpProtoVrrp);
    if (fd < 0) return false;
    close(fd);
    return true;
}

// A minimal IPv4 packet carrying `payload` as protocol 112 (the kernel
// fills the header checksum and ID left at 0 under IP_HDRINCL).
std::vector<std::uint8_t> packet(const char* src, const char* dst, std::uint8_t ttl, const std::vector<std::uint8_t>& payload)
{
    std::vector<std::uint8_t> p(20 + payload.size());
    p[0] = 0x45;
    p[1] = 0xc0;
    const auto len = static_cast<std::uint16_t>(p.size());
    p[2] = static_cast<std::uint8_t>(len >> 8);
    p[3] = static_cast<std::uint8_t>(len);
    p[8] = ttl;
    p[9] = kIpProtoVrrp;
    inet_pton(AF_INET, src, &p[12]);
    inet_pton(AF_INET, dst, &p[16]);
    std::memcpy(&p[20], payload.data(), payload.size());
    return p;
}

TEST(VrrpSocket, AWholePacketGoesOutAndComesBackWithItsHeader)
{
    if (!can_open_raw()) GTEST_SKIP() << "no CAP_NET_RAW";
    VrrpSocket rx("lo", false);
    VrrpSocket tx("lo", false);
    EXPECT_GT(rx.ifindex(), 0);
    EXPECT_EQ(rx.ifname(), "lo");
    const std::vector<std::uint8_t> payload = {0x21, 51, 100, 1, 0, 1, 0, 0, 198, 18, 0, 100};
    ASSERT_EQ(tx.send(packet("127.0.0.1", "127.0.0.1", 255, payload), *conf::IpAddr::parse("127.0.0.1")), 0);
    pollfd pfd{rx.fd(), POLLIN, 0};
    ASSERT_EQ(poll(&pfd, 1, 2000), 1);
    std::array<std::uint8_t, 256> buf{};
    const ssize_t n = rx.receive(buf);
    ASSERT_EQ(n, static_cast<ssize_t>(20 + payload.size()));
    EXPECT_EQ(buf[0], 0x45);
    EXPECT_EQ(buf[1], 0xc0);     // TOS as sent
    EXPECT_EQ(buf[8], 255);      // TTL as sent: the receiver can check it
    EXPECT_EQ(buf[9], kIpProtoVrrp);
    EXPECT_EQ(std::vector<std::uint8_t>(buf.begin() + 20, buf.begin() + n), payload);
    EXPECT_EQ(rx.receive(buf), 0);  // nothing more: non-blocking
}

TEST(VrrpSocket, AnUnknownInterfaceIsNamedInTheError)
{
    try {
        VrrpSocket s("kadp-nonexistent0", true);
        FAIL() << "opened";
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string(e.what()).find("kadp-nonexistent0: no such interface"), std::string::npos) << e.what();
    }
}

TEST(VrrpSocket, GroupIs224_0_0_18)
{
    EXPECT_EQ(vrrp_group_v4().to_string(), "224.0.0.18");
}

}  // namespace
}  // namespace kadp::vrrp

namespace kadp::vrrp {
namespace {

// GarpSocket on the loopback interface: what it sends is seen by a packet
// socket on `lo` as keepalived's gratuitous ARP (checked field by field).
TEST(GarpSocket, SendsABroadcastRequestWithSenderAndTargetTheVip)
{
    if (!can_open_raw()) GTEST_SKIP() << "no CAP_NET_RAW";
    const int rx = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
    ASSERT_GE(rx, 0);
    sockaddr_ll at{};
    at.sll_family = AF_PACKET;
    at.sll_protocol = htons(ETH_P_ARP);
    at.sll_ifindex = static_cast<int>(if_nametoindex("lo"));
    ASSERT_EQ(bind(rx, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
    GarpSocket garp("lo");
    ASSERT_EQ(garp.send(*conf::IpAddr::parse("198.18.0.100")), 0);
    std::array<std::uint8_t, 128> f{};
    ssize_t n = 0;
    for (int i = 0; i < 10 && n < 42; ++i) {  // lo delivers it twice (outgoing, incoming): either will do
        pollfd pfd{rx, POLLIN, 0};
        ASSERT_EQ(poll(&pfd, 1, 2000), 1);
        n = recv(rx, f.data(), f.size(), 0);
    }
    close(rx);
    ASSERT_EQ(n, 60);
    const std::array<std::uint8_t, 6> bcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    EXPECT_TRUE(std::equal(bcast.begin(), bcast.end(), f.begin()));                  // to broadcast
    EXPECT_TRUE(std::equal(garp.mac().begin(), garp.mac().end(), f.begin() + 6));    // from lo's MAC
    EXPECT_EQ(f[12], 0x08);
    EXPECT_EQ(f[13], 0x06);
    const std::vector<std::uint8_t> head(f.begin() + 14, f.begin() + 22);
    EXPECT_EQ(head, (std::vector<std::uint8_t>{0, 1, 8, 0, 6, 4, 0, 1}));  // Ethernet, IPv4, request
    EXPECT_TRUE(std::equal(garp.mac().begin(), garp.mac().end(), f.begin() + 22));   // sender MAC
    const std::vector<std::uint8_t> vip{198, 18, 0, 100};
    EXPECT_EQ(std::vector<std::uint8_t>(f.begin() + 28, f.begin() + 32), vip);       // sender IP
    EXPECT_TRUE(std::equal(bcast.begin(), bcast.end(), f.begin() + 32));             // target MAC
    EXPECT_EQ(std::vector<std::uint8_t>(f.begin() + 38, f.begin() + 42), vip);       // target IP
    EXPECT_EQ(std::count(f.begin() + 42, f.begin() + 60, 0), 18);                    // zero padding
    EXPECT_EQ(garp.send(*conf::IpAddr::parse("2001:db8::1")), -EAFNOSUPPORT);
}

}  // namespace
}  // namespace kadp::vrrp
