// Runs on: control thread. VRRP's backend for the kernel (IPVS) path: an
// instance's `interface` is a kernel interface; adverts go through a raw
// socket on it; owning a VIP is adding the address there over rtnetlink
// (each virtual_ipaddress line as `ip addr add` reads it: its own dev,
// label, scope), releasing it is deleting it; gratuitous ARPs leave from a
// packet socket (vrrp::GarpSocket); link states come from rtnetlink.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "control/kernel/rtnl.h"
#include "control/log_limiter.h"
#include "control/log_sink.h"
#include "vrrp/garp_socket.h"
#include "vrrp/vrrp_service.h"

namespace kadp::ctl {

class KernelVrrpBackend final : public vrrp::VrrpBackend {
public:
    using LogFn = LogSink;
    // Throws std::system_error when rtnetlink cannot be read (links()).
    KernelVrrpBackend(ctl::EventLoop& loop, LogFn log) : log_(log), links_(loop, std::move(log)) {}

    std::string device(const std::string& interface) override { return interface; }
    conf::IpAddr primary_address(const std::string& interface) override;
    void own(const std::string& interface, const std::vector<conf::VirtualIp>& vips) override;
    void release(const std::string& interface, const std::vector<conf::VirtualIp>& vips) override;
    void gratuitous_arp(const std::string& interface, const std::vector<conf::IpAddr>& addresses) override;
    vrrp::LinkState& links() override { return links_; }

private:
    LogFn log_;
    LogLimiter limited_{log_};  // the kernel refusing a VIP at each transition of a flapping instance
    vrrp::NetlinkLinkState links_;
    Rtnl rtnl_;
    std::map<std::string, std::unique_ptr<vrrp::GarpSocket>> garp_;
};

}  // namespace kadp::ctl
