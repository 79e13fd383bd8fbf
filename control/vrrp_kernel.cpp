// Runs on: control thread.
#include "control/vrrp_kernel.h"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <cstring>
#include <exception>

namespace kadp::ctl {

conf::IpAddr KernelVrrpBackend::primary_address(const std::string& interface)
{
    ifaddrs* all = nullptr;
    if (getifaddrs(&all) != 0) return {};
    conf::IpAddr out;
    for (const ifaddrs* i = all; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET || interface != i->ifa_name) continue;
        const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
        out.family = conf::IpAddr::Family::v4;
        std::memcpy(out.bytes.data(), &in->sin_addr, 4);
        break;  // the first: the primary
    }
    freeifaddrs(all);
    return out;
}

void KernelVrrpBackend::own(const std::string& interface, const std::vector<conf::VirtualIp>& vips)
{
    for (conf::VirtualIp v : vips) {
        if (v.dev.empty()) v.dev = interface;
        try {
            rtnl_.add_address(v);
        } catch (const std::exception& e) {
            limited_.warning("VIP not added on " + interface, e.what());
        }
    }
}

void KernelVrrpBackend::release(const std::string& interface, const std::vector<conf::VirtualIp>& vips)
{
    for (conf::VirtualIp v : vips) {
        if (v.dev.empty()) v.dev = interface;
        const std::string err = rtnl_.delete_address(v);
        if (!err.empty()) limited_.warning("VIP not removed from " + interface, err);
    }
}

void KernelVrrpBackend::gratuitous_arp(const std::string& interface, const std::vector<conf::IpAddr>& addresses)
{
    auto it = garp_.find(interface);
    if (it == garp_.end()) {
        try {
            it = garp_.emplace(interface, std::make_unique<vrrp::GarpSocket>(interface)).first;
        } catch (const std::exception& e) {
            limited_.warning("gratuitous ARP socket on " + interface, e.what());
            return;
        }
    }
    for (const conf::IpAddr& a : addresses) {
        if (a.is_v4()) it->second->send(a);
    }
}

}  // namespace kadp::ctl
