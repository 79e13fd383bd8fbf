// Runs on: control thread.
#include "control/vrrp_dpdk.h"

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

DpdkLinkState::DpdkLinkState(EventLoop& loop, const conf::Dataplane& dataplane, std::vector<std::uint16_t> port_ids,
                             std::function<void(const std::string&)> log)
    : log_(std::move(log)), timer_(loop)
{
    for (std::size_t i = 0; i < dataplane.interfaces.size(); ++i) {
        up_[dataplane.interfaces[i].name] = true;
        if (i < port_ids.size())
            ports_.push_back({dataplane.interfaces[i].name, port_ids[i], kernel_interface_of(dataplane.interfaces[i].device)});
    }
    sock_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    poll();
}

DpdkLinkState::~DpdkLinkState()
{
    if (sock_ >= 0) close(sock_);
}

bool DpdkLinkState::kernel_iface_up(const std::string& iface) const
{
    ifreq ifr{};
    if (sock_ < 0 || iface.size() >= sizeof ifr.ifr_name) return true;
    iface.copy(ifr.ifr_name, iface.size());
    if (ioctl(sock_, SIOCGIFFLAGS, &ifr) != 0) return errno != ENODEV;  // gone: down; cannot tell: up
    return (ifr.ifr_flags & IFF_UP) != 0 && (ifr.ifr_flags & IFF_RUNNING) != 0;
}

void DpdkLinkState::poll()
{
    for (const Port& p : ports_) {
        rte_eth_link link{};
        const bool up = (rte_eth_link_get_nowait(p.port_id, &link) != 0 || link.link_status == RTE_ETH_LINK_UP) &&
                        (p.kernel_iface.empty() || kernel_iface_up(p.kernel_iface));
        bool& known = up_[p.name];
        if (known == up) continue;
        known = up;
        if (log_) log_("port " + p.name + " link " + (up ? "up" : "down"));
        if (callback_) callback_(p.name, up);
    }
    if (!ports_.empty()) timer_.arm(std::chrono::milliseconds(1000), [this] { poll(); });
}

std::set<conf::IpAddr> vrrp_addresses(const conf::Config& config)
{
    std::set<conf::IpAddr> out;
    for (const conf::VrrpInstance& vi : config.vrrp_instances) {
        for (const auto* list : {&vi.virtual_ipaddress, &vi.virtual_ipaddress_excluded}) {
            for (const conf::VirtualIp& v : *list) out.insert(v.address.addr);
        }
    }
    return out;
}

void follow_vrrp_addresses(DesiredState& desired, const conf::Config& before, const conf::Config& after)
{
    const std::set<conf::IpAddr> was = vrrp_addresses(before);
    const std::set<conf::IpAddr> now = vrrp_addresses(after);
    for (const conf::IpAddr& a : now) {
        if (!was.contains(a)) desired.set_vip_owned(a, false);
    }
    for (const conf::IpAddr& a : was) {
        if (!now.contains(a)) desired.set_vip_owned(a, true);
    }
}

const conf::DataplaneInterface* DpdkVrrpBackend::find(const std::string& interface) const
{
    for (const conf::DataplaneInterface& i : dataplane_->interfaces) {
        if (i.name == interface) return &i;
    }
    return nullptr;
}

std::string DpdkVrrpBackend::device(const std::string& interface)
{
    const conf::DataplaneInterface* i = find(interface);
    return i != nullptr ? i->exception_interface : interface;
}

conf::IpAddr DpdkVrrpBackend::primary_address(const std::string& interface)
{
    const conf::DataplaneInterface* i = find(interface);
    if (i == nullptr) return {};
    for (const conf::IpPrefix& p : i->address) {
        if (p.addr.is_v4()) return p.addr;
    }
    return {};
}

void DpdkVrrpBackend::own(const std::string&, const std::vector<conf::VirtualIp>& vips)
{
    for (const conf::VirtualIp& v : vips) ctl_->desired().set_vip_owned(v.address.addr, true);
    ctl_->apply();
}

void DpdkVrrpBackend::release(const std::string&, const std::vector<conf::VirtualIp>& vips)
{
    for (const conf::VirtualIp& v : vips) ctl_->desired().set_vip_owned(v.address.addr, false);
    ctl_->apply();
}

void DpdkVrrpBackend::gratuitous_arp(const std::string&, const std::vector<conf::IpAddr>& addresses)
{
    for (const conf::IpAddr& a : addresses) ctl_->gratuitous_arp(a);
}

}  // namespace kadp::ctl
