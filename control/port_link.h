// Runs on: control thread. Whether a data-plane port has link: its DPDK
// port says link up (or cannot tell) and - for a port on a kernel interface
// (af_packet, af_xdp: `iface=` in its devargs) - that interface is IFF_UP
// and IFF_RUNNING, keepalived's test: DPDK 22.11's af_packet PMD reports
// link up from start to stop whatever the veth or NIC below does. Used by
// VRRP's link states (vrrp_dpdk.h) and `kadpctl status`.
#pragma once

#include <cstdint>
#include <string>

namespace kadp::ctl {

// The kernel interface a vdev's devargs name ("net_af_packet0,iface=lan"
// -> "lan"); empty for a PCI address or a vdev without `iface=`.
std::string kernel_interface_of(const std::string& devargs);

// A kernel interface by name: IFF_UP and IFF_RUNNING; a name that is gone is
// down; one that cannot be asked about counts as up.
bool kernel_interface_up(const std::string& name);

bool port_link_up(std::uint16_t port_id, const std::string& devargs);

}  // namespace kadp::ctl
