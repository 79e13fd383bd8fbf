// Runs on: control thread.
#include "control/vrrp_dpdk.h"

namespace kadp::ctl {

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
