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
#include "control/log_limiter.h"
#include "control/log_sink.h"
#include "vrrp/link_state.h"
#include "vrrp/vrrp_service.h"

namespace kadp::ctl {

// The data plane's ports as track_interface sees them: each dataplane
// interface by its name, up while port_link_up() (control/port_link.h:
// the DPDK port's link and, on af_packet/af_xdp, the kernel interface's
// IFF_UP+IFF_RUNNING), polled every second. Each change is logged: "port
// lan link down".
class DpdkLinkState final : public vrrp::LinkState {
public:
    // `port_ids[i]` is the DPDK port of dataplane->interfaces[i]; empty in
    // tests without EAL (every interface up, never changing).
    DpdkLinkState(EventLoop& loop, const conf::Dataplane& dataplane, std::vector<std::uint16_t> port_ids,
                  LogSink log = {});
    [[nodiscard]] std::map<std::string, bool> snapshot() const override { return up_; }
    void subscribe(Callback callback) override { callback_ = std::move(callback); }

private:
    struct Port {
        std::string name;
        std::uint16_t port_id;
        std::string devargs;
    };
    void poll();
    std::vector<Port> ports_;
    std::map<std::string, bool> up_;
    LogSink log_;
    LogLimiter limited_{log_};
    Callback callback_;
    Timer timer_;
};

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
