// Runs on: any (unit test; needs CAP_NET_RAW, skips without it). VrrpSocket
// on the loopback interface: a whole IPv4 packet of protocol 112 sent by
// one socket arrives, IP header and all, at another bound to `lo`; a
// socket bound to an interface that does not exist says which.
#include "vrrp/socket.h"

#include <arpa/inet.h>
#include <netinet/ip.h>
#include <poll.h>
#include <unistd.h>

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
