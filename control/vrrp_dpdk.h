// Runs on: control thread. VRRP's backend for the DPDK data plane: an
// instance's `interface` is a dataplane interface; its adverts travel
// through that interface's exception TAP (the data plane hands the kernel
// 224.0.0.0/24 and the node's own unicast, and sends what the TAP sends);
// owning a VIP is DesiredState::set_vip_owned + DpdkControl::apply (the
// data plane answers ARP for it and accepts new connections from the next
// burst; released, it stops both at once), and gratuitous ARPs leave from
// the data plane's port (DpdkControl::gratuitous_arp).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "conf/model.h"
#include "control/dpdk_control.h"
#include "control/event_loop.h"
#include "vrrp/link_state.h"
#include "vrrp/vrrp_service.h"

namespace kadp::ctl {

// The data plane's ports as track_interface sees them: each dataplane
// interface by its name, up while its DPDK port reports link up (polled
// every second; a port that cannot tell counts as up) and - for a port on a
// kernel interface (af_packet, af_xdp: `iface=` in its devargs) - while
// that interface is IFF_UP and IFF_RUNNING (keepalived's test): DPDK 22.11's
// af_packet PMD reports link up from start to stop whatever the veth or
// NIC below does. Each change is logged: "port lan link down".
class DpdkLinkState final : public vrrp::LinkState {
public:
    // `port_ids[i]` is the DPDK port of dataplane->interfaces[i]; empty in
    // tests without EAL (every interface up, never changing).
    DpdkLinkState(EventLoop& loop, const conf::Dataplane& dataplane, std::vector<std::uint16_t> port_ids,
                  std::function<void(const std::string&)> log = {});
    ~DpdkLinkState() override;
    DpdkLinkState(const DpdkLinkState&) = delete;
    DpdkLinkState& operator=(const DpdkLinkState&) = delete;
    [[nodiscard]] std::map<std::string, bool> snapshot() const override { return up_; }
    void subscribe(Callback callback) override { callback_ = std::move(callback); }

private:
    struct Port {
        std::string name;
        std::uint16_t port_id;
        std::string kernel_iface;  // empty: the PMD's word only
    };
    void poll();
    [[nodiscard]] bool kernel_iface_up(const std::string& iface) const;
    std::vector<Port> ports_;
    std::map<std::string, bool> up_;
    std::function<void(const std::string&)> log_;
    int sock_ = -1;  // for SIOCGIFFLAGS
    Callback callback_;
    Timer timer_;
};

// The kernel interface a vdev's devargs name ("net_af_packet0,iface=lan"
// -> "lan"); empty for a PCI address or a vdev without `iface=`.
std::string kernel_interface_of(const std::string& devargs);

class DpdkVrrpBackend final : public vrrp::VrrpBackend {
public:
    DpdkVrrpBackend(DpdkControl& ctl, const conf::Dataplane& dataplane, vrrp::LinkState& links)
        : ctl_(&ctl), dataplane_(&dataplane), links_(&links) {}

    std::string device(const std::string& interface) override;
    conf::IpAddr primary_address(const std::string& interface) override;
    void own(const std::string& interface, const std::vector<conf::VirtualIp>& vips) override;
    void release(const std::string& interface, const std::vector<conf::VirtualIp>& vips) override;
    void gratuitous_arp(const std::string& interface, const std::vector<conf::IpAddr>& addresses) override;
    vrrp::LinkState& links() override { return *links_; }

private:
    const conf::DataplaneInterface* find(const std::string& interface) const;
    DpdkControl* ctl_;
    const conf::Dataplane* dataplane_;
    vrrp::LinkState* links_;
};

// Every address VRRP instances own while master (virtual_ipaddress and
// virtual_ipaddress_excluded): released at start, since every instance
// starts as backup.
std::set<conf::IpAddr> vrrp_addresses(const conf::Config& config);

// A reload moved addresses under VRRP (released until their instance is
// master) or out of it (owned for good).
void follow_vrrp_addresses(DesiredState& desired, const conf::Config& before, const conf::Config& after);

}  // namespace kadp::ctl
