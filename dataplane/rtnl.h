// Runs on: control thread (start-up). Gives a kernel interface (an
// exception TAP) addresses and routes over rtnetlink, one request at a
// time, each acknowledged: what `ip addr add` / `ip route add` do. They go
// away with the interface, so nothing needs undoing on shutdown.
#pragma once

#include <string>

#include "conf/inet.h"

namespace kadp::dp {

// Both return "" on success, else the kernel's reason (strerror).
std::string rtnl_add_address(int ifindex, const conf::IpPrefix& prefix);
// `prefix` via `gateway`, leaving through ifindex.
std::string rtnl_add_route(int ifindex, const conf::IpPrefix& prefix, const conf::IpAddr& gateway);

}  // namespace kadp::dp
