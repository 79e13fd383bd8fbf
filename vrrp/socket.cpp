// Runs on: control thread.
#include "vrrp/socket.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace kadp::vrrp {
namespace {

[[noreturn]] void fail(const std::string& ifname, const char* what)
{
    throw std::system_error(errno, std::generic_category(), "VRRP socket on " + ifname + ": " + what);
}

in_addr to_in(const conf::IpAddr& a)
{
    in_addr out{};
    std::memcpy(&out.s_addr, a.bytes.data(), 4);
    return out;
}

}  // namespace

conf::IpAddr vrrp_group_v4() { return *conf::IpAddr::parse("224.0.0.18"); }

VrrpSocket::VrrpSocket(const std::string& ifname, bool multicast) : ifname_(ifname)
{
    ifindex_ = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (ifindex_ == 0) fail(ifname, "no such interface");
    fd_ = ctl::Fd(socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, kIpProtoVrrp));
    if (fd_.get() < 0) fail(ifname, "socket(AF_INET, SOCK_RAW, 112)");
    if (setsockopt(fd_.get(), SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), static_cast<socklen_t>(ifname.size())) != 0) {
        fail(ifname, "SO_BINDTODEVICE");
    }
    const int on = 1;
    if (setsockopt(fd_.get(), IPPROTO_IP, IP_HDRINCL, &on, sizeof on) != 0) fail(ifname, "IP_HDRINCL");
    if (!multicast) return;
    ip_mreqn mreq{};
    mreq.imr_multiaddr = to_in(vrrp_group_v4());
    mreq.imr_ifindex = ifindex_;
    if (setsockopt(fd_.get(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
        fail(ifname, "IP_ADD_MEMBERSHIP 224.0.0.18");
    }
    if (setsockopt(fd_.get(), IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq) != 0) fail(ifname, "IP_MULTICAST_IF");
    // Our own adverts must not come back as a peer's.
    const int off = 0;
    if (setsockopt(fd_.get(), IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof off) != 0) {
        fail(ifname, "IP_MULTICAST_LOOP");
    }
}

int VrrpSocket::send(std::span<const std::uint8_t> packet, const conf::IpAddr& dst)
{
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr = to_in(dst);
    const ssize_t n = sendto(fd_.get(), packet.data(), packet.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to),
                             sizeof to);
    if (n < 0) return -errno;
    return 0;
}

ssize_t VrrpSocket::receive(std::span<std::uint8_t> buf)
{
    const ssize_t n = recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -errno;
}

}  // namespace kadp::vrrp
