// Runs on: control thread (start-up).
#include "dataplane/rtnl.h"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kadp::dp {
namespace {

struct Request {
    nlmsghdr nh;
    union {
        ifaddrmsg ifa;
        rtmsg rt;
    };
    char attrs[128];
};

void add_attr(Request& r, unsigned short type, const void* data, std::size_t len)
{
    auto* rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&r) + NLMSG_ALIGN(r.nh.nlmsg_len));
    rta->rta_type = type;
    rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
    std::memcpy(RTA_DATA(rta), data, len);
    r.nh.nlmsg_len = static_cast<std::uint32_t>(NLMSG_ALIGN(r.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len));
}

std::size_t addr_len(const conf::IpAddr& a) { return a.is_v4() ? 4 : 16; }
unsigned char family(const conf::IpAddr& a) { return a.is_v4() ? AF_INET : AF_INET6; }

// Sends one request and waits for its acknowledgement.
std::string transact(Request& r)
{
    const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return std::strerror(errno);
    r.nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    r.nh.nlmsg_seq = 1;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    std::string error;
    if (sendto(fd, &r, r.nh.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
        error = std::strerror(errno);
    } else {
        alignas(nlmsghdr) char buf[4096];
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        const auto* nh = reinterpret_cast<const nlmsghdr*>(buf);
        if (n < 0) {
            error = std::strerror(errno);
        } else if (!NLMSG_OK(nh, static_cast<unsigned>(n)) || nh->nlmsg_type != NLMSG_ERROR) {
            error = "unexpected netlink answer";
        } else {
            const auto* e = reinterpret_cast<const nlmsgerr*>(buf + NLMSG_HDRLEN);
            if (e->error != 0) error = std::strerror(-e->error);
        }
    }
    close(fd);
    return error;
}

}  // namespace

std::string rtnl_add_address(int ifindex, const conf::IpPrefix& prefix)
{
    Request r{};
    r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
    r.nh.nlmsg_type = RTM_NEWADDR;
    r.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    r.ifa.ifa_family = family(prefix.addr);
    r.ifa.ifa_prefixlen = static_cast<unsigned char>(prefix.length);
    r.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    r.ifa.ifa_index = static_cast<unsigned>(ifindex);
    add_attr(r, IFA_LOCAL, prefix.addr.bytes.data(), addr_len(prefix.addr));
    add_attr(r, IFA_ADDRESS, prefix.addr.bytes.data(), addr_len(prefix.addr));
    return transact(r);
}

std::string rtnl_add_route(int ifindex, const conf::IpPrefix& prefix, const conf::IpAddr& gateway)
{
    Request r{};
    r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
    r.nh.nlmsg_type = RTM_NEWROUTE;
    r.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    r.rt.rtm_family = family(prefix.addr);
    r.rt.rtm_dst_len = static_cast<unsigned char>(prefix.length);
    r.rt.rtm_table = RT_TABLE_MAIN;
    r.rt.rtm_protocol = RTPROT_STATIC;
    r.rt.rtm_scope = RT_SCOPE_UNIVERSE;
    r.rt.rtm_type = RTN_UNICAST;
    if (prefix.length != 0) add_attr(r, RTA_DST, prefix.addr.bytes.data(), addr_len(prefix.addr));
    add_attr(r, RTA_GATEWAY, gateway.bytes.data(), addr_len(gateway));
    const auto oif = static_cast<std::uint32_t>(ifindex);
    add_attr(r, RTA_OIF, &oif, sizeof oif);
    return transact(r);
}

}  // namespace kadp::dp
