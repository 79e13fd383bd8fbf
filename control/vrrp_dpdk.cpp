// Runs on: control thread.
#include "control/vrrp_dpdk.h"

#include "control/port_link.h"

namespace kadp::ctl {

DpdkLinkState::DpdkLinkState(EventLoop& loop, const conf::Dataplane& dataplane, std::vector<std::uint16_t> port_ids,
                             LogSink log)
    : log_(std::move(log)), timer_(loop)
{
    for (std::size_t i = 0; i < dataplane.interfaces.size(); ++i) {
        up_[dataplane.interfaces[i].name] = true;
        if (i < port_ids.size()) ports_.push_back({dataplane.interfaces[i].name, port_ids[i], dataplane.interfaces[i].device});
    }
    poll();
}

void DpdkLinkState::poll()
{
    for (const Port& p : ports_) {
        const bool up = port_link_up(p.port_id, p.devargs);
        bool& known = up_[p.name];
        if (known == up) continue;
        known = up;
        // A flapping link: a few lines a minute per port, then a summary.
        limited_.at(up ? LogLevel::info : LogLevel::warning, "port " + p.name + " link",
                    "port " + p.name + " link " + (up ? "up" : "down"));
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
