// Runs on: kadpctl (any). Renders the daemon's replies exactly as ipvsadm
// 1.31 prints the same IPVS state, so operators' scripts that parse
// `ipvsadm -Ln` keep working on `kadpctl list`. The layout (header lines,
// printf widths, the 33/28-column truncation of IPv4 names, number scaling,
// sort order) follows ipvsadm.c's print_title, print_service_entry,
// print_largenum, print_conn and libipvs's ipvs_cmp_services /
// ipvs_cmp_dests; docs/kadpctl.md lists each rule.
#pragma once

#include <string>

#include "control/ctl_messages.h"

namespace kadp::ctl {

enum class ListKind {
    plain,  // ipvsadm -Ln
    stats,  // ipvsadm -Ln --stats
    rate,   // ipvsadm -Ln --rate
};

struct ListFormat {
    ListKind kind = ListKind::plain;
    bool exact = false;  // --exact: numbers unscaled (no K/M/G/T)
};

// `ipvsadm -Ln [--stats|--rate] [--exact]`. Services and their real servers
// are sorted as ipvsadm sorts them (it sorts unless --nosort).
std::string render_list(const ListReply& reply, const ListFormat& format);

// `ipvsadm -Lnc`.
std::string render_conns(const ConnsReply& reply);

// ipvsadm's "ADDR:PORT", IPv6 in brackets.
std::string ipvs_addrport(const conf::IpAddr& addr, std::uint16_t port);

// print_largenum: a 9-column number, scaled to K/M/G/T from 10^8 up unless exact.
std::string ipvs_largenum(std::uint64_t n, bool exact);

}  // namespace kadp::ctl
