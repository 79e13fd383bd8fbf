// Runs on: control thread.
#include "control/port_link.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include <cerrno>

namespace kadp::ctl {

std::string kernel_interface_of(const std::string& devargs)
{
    if (devargs.rfind("net_af_packet", 0) != 0 && devargs.rfind("net_af_xdp", 0) != 0) return {};
    std::size_t at = 0;
    while ((at = devargs.find(',', at)) != std::string::npos) {
        ++at;
        if (devargs.compare(at, 6, "iface=") == 0) {
            const std::size_t end = devargs.find(',', at);
            return devargs.substr(at + 6, end == std::string::npos ? std::string::npos : end - at - 6);
        }
    }
    return {};
}

bool kernel_interface_up(const std::string& name)
{
    ifreq ifr{};
    if (name.empty() || name.size() >= sizeof ifr.ifr_name) return true;
    name.copy(ifr.ifr_name, name.size());
    const int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return true;
    const int rc = ioctl(sock, SIOCGIFFLAGS, &ifr);
    const int err = errno;
    close(sock);
    if (rc != 0) return err != ENODEV;
    return (ifr.ifr_flags & IFF_UP) != 0 && (ifr.ifr_flags & IFF_RUNNING) != 0;
}

bool port_link_up(std::uint16_t port_id, const std::string& devargs)
{
    rte_eth_link link{};
    const bool dpdk_up = rte_eth_link_get_nowait(port_id, &link) != 0 || link.link_status == RTE_ETH_LINK_UP;
    const std::string iface = kernel_interface_of(devargs);
    return dpdk_up && (iface.empty() || kernel_interface_up(iface));
}

}  // namespace kadp::ctl
