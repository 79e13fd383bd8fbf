// Runs on: control thread. The VRRP transport: one raw IPv4 socket for
// protocol 112 per interface, the same for both backends (in the DPDK one
// the interface is the exception TAP, which carries 224.0.0.0/24 and the
// appliance's own unicast both ways: docs/dataplane.md). Packets go out
// whole (IP_HDRINCL: the codec writes TTL 255, TOS 0xC0 and the source),
// and come in with their IP header, so the receiver can check the TTL.
// Non-blocking: the owner watches fd() on the ctl::EventLoop.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <sys/types.h>

#include "conf/inet.h"
#include "control/event_loop.h"
#include "vrrp/codec.h"

namespace kadp::vrrp {


class VrrpSocket {
public:
    // Binds to `ifname` (SO_BINDTODEVICE); with `multicast`, joins
    // 224.0.0.18 there and sends multicast out of it. Throws
    // std::system_error whose message names the interface.
    VrrpSocket(const std::string& ifname, bool multicast);

    int fd() const { return fd_.get(); }
    int ifindex() const { return ifindex_; }
    const std::string& ifname() const { return ifname_; }

    // One whole IPv4 packet to `dst` (its own destination field must
    // agree). 0, or -errno (EAGAIN when the socket buffer is full).
    int send(std::span<const std::uint8_t> packet, const conf::IpAddr& dst);
    // One packet, IP header included, into `buf`: its length, 0 when none
    // is waiting, or -errno.
    ssize_t receive(std::span<std::uint8_t> buf);

private:
    std::string ifname_;
    int ifindex_ = 0;
    ctl::Fd fd_;
};

// The IPv4 multicast group of VRRP (RFC 3768 / 5798).
conf::IpAddr vrrp_group_v4();

}  // namespace kadp::vrrp
