// Runs on: control thread. Gratuitous ARPs from the kernel backend: an
// AF_PACKET socket on the VRRP instance's interface sends the frame the
// data plane sends in the DPDK backend (dp::build_gratuitous_arp: a
// broadcast request, sender = target = the VIP, from the interface's MAC),
// so a peer sees the same announcement from either backend.
#pragma once

#include <string>

#include "conf/inet.h"
#include "control/event_loop.h"
#include "dataplane/neigh_table.h"

namespace kadp::vrrp {

class GarpSocket {
public:
    // Throws std::system_error naming the interface.
    explicit GarpSocket(const std::string& ifname);

    // One gratuitous ARP for `vip` (IPv4). 0, or -errno.
    int send(const conf::IpAddr& vip);
    const dp::MacAddr& mac() const { return mac_; }

private:
    std::string ifname_;
    int ifindex_ = 0;
    dp::MacAddr mac_{};
    ctl::Fd fd_;
};

}  // namespace kadp::vrrp
