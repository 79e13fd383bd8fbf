// Runs on: control thread. IPVS connections as `ipvsadm -Lnc` shows them:
// IPVS has no netlink dump of its connection table, so ipvsadm (and kadp)
// read /proc/net/ip_vs_conn, one connection per line after a header:
//   Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
//   TCP C6120001 9C40 C612000A 0050 C6120101 0050 ESTABLISHED     899
// (IPv4 as 8 hex digits, IPv6 as colon groups; ports in hex).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "control/ipvs_model.h"

namespace kadp::ctl {

// Persistence templates (protocol IP for fwmark services) are kept, as
// ipvsadm shows them;
// lines that do not parse (a protocol kadp does not configure, a future
// format) are skipped.
std::vector<IpvsConn> parse_ip_vs_conn(std::string_view text);

// Reads and parses `path`; an unreadable file (no ip_vs loaded) is empty.
std::vector<IpvsConn> read_ip_vs_conn(const std::string& path = "/proc/net/ip_vs_conn");

}  // namespace kadp::ctl
