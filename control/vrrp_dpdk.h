// Runs on: control thread. VRRP's backend for the DPDK data plane: an
// instance's `interface` is a dataplane interface; its adverts travel
// through that interface's exception TAP (the data plane hands the kernel
// 224.0.0.0/24 and the node's own unicast, and sends what the TAP sends);
// owning a VIP is DesiredState::set_vip_owned + DpdkControl::apply (the
// data plane answers ARP for it and accepts new connections from the next
// burst; released, it stops both at once), and gratuitous ARPs leave from
// the data plane's port (DpdkControl::gratuitous_arp).
#pragma once

#include <set>

#include "conf/model.h"
#include "control/dpdk_control.h"
#include "vrrp/vrrp_service.h"

namespace kadp::ctl {

class DpdkVrrpBackend final : public vrrp::VrrpBackend {
public:
    DpdkVrrpBackend(DpdkControl& ctl, const conf::Dataplane& dataplane) : ctl_(&ctl), dataplane_(&dataplane) {}

    std::string device(const std::string& interface) override;
    conf::IpAddr primary_address(const std::string& interface) override;
    void own(const std::string& interface, const std::vector<conf::VirtualIp>& vips) override;
    void release(const std::string& interface, const std::vector<conf::VirtualIp>& vips) override;
    void gratuitous_arp(const std::string& interface, const std::vector<conf::IpAddr>& addresses) override;

private:
    const conf::DataplaneInterface* find(const std::string& interface) const;
    DpdkControl* ctl_;
    const conf::Dataplane* dataplane_;
};

// Every address VRRP instances own while master (virtual_ipaddress and
// virtual_ipaddress_excluded): released at start, since every instance
// starts as backup.
std::set<conf::IpAddr> vrrp_addresses(const conf::Config& config);

// A reload moved addresses under VRRP (released until their instance is
// master) or out of it (owned for good).
void follow_vrrp_addresses(DesiredState& desired, const conf::Config& before, const conf::Config& after);

}  // namespace kadp::ctl
