// Runs on: control thread.
#include "vrrp/garp_socket.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "dataplane/arp.h"

namespace kadp::vrrp {
namespace {

[[noreturn]] void fail(const std::string& ifname, const char* what)
{
    throw std::system_error(errno, std::generic_category(), "gratuitous ARP socket on " + ifname + ": " + what);
}

}  // namespace

GarpSocket::GarpSocket(const std::string& ifname) : ifname_(ifname)
{
    ifindex_ = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (ifindex_ == 0) fail(ifname, "no such interface");
    fd_ = ctl::Fd(socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));  // send only: protocol 0 receives nothing
    if (fd_.get() < 0) fail(ifname, "socket(AF_PACKET)");
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd_.get(), SIOCGIFHWADDR, &ifr) != 0) fail(ifname, "SIOCGIFHWADDR");
    std::memcpy(mac_.data(), ifr.ifr_hwaddr.sa_data, mac_.size());
}

int GarpSocket::send(const conf::IpAddr& vip)
{
    if (!vip.is_v4()) return -EAFNOSUPPORT;
    dp::ArpIface ifc;
    ifc.mac = mac_;
    std::uint32_t ip;
    std::memcpy(&ip, vip.bytes.data(), 4);
    std::array<std::uint8_t, dp::kArpFrameMin> frame{};
    const std::size_t len = dp::build_gratuitous_arp(frame.data(), frame.size(), ifc, ip);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = ifindex_;
    to.sll_halen = 6;
    std::memset(to.sll_addr, 0xff, 6);
    if (sendto(fd_.get(), frame.data(), len, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) return -errno;
    return 0;
}

}  // namespace kadp::vrrp
