// Runs on: control thread. The backend-neutral view of virtual services in
// IPVS's own vocabulary: what the config asks for (desired state, flattened
// as IPVS sees keepalived's virtual servers) and what a backend reports back
// (the same shape with counters filled in). Both backends take the first and
// produce the second, so the reconciler, reload and `kadpctl list` are
// written once:
//   * kernel backend: one IpvsService = one IPVS service over generic
//     netlink, one IpvsDest = one IPVS destination;
//   * dpdk backend: one IpvsService = one dp::Service of the snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "conf/inet.h"
#include "conf/model.h"

namespace kadp::ctl {

// ipvsadm's --stats (totals) and --rate (per second, over the last
// estimation interval) figures.
struct IpvsStats {
    std::uint64_t conns = 0;
    std::uint64_t in_packets = 0;
    std::uint64_t out_packets = 0;
    std::uint64_t in_bytes = 0;
    std::uint64_t out_bytes = 0;
    std::uint64_t cps = 0;
    std::uint64_t in_pps = 0;
    std::uint64_t out_pps = 0;
    std::uint64_t in_bps = 0;
    std::uint64_t out_bps = 0;
    friend bool operator==(const IpvsStats&, const IpvsStats&) = default;
};

// A real server of a service.
struct IpvsDest {
    conf::IpAddr address;
    std::uint16_t port = 0;
    conf::LbKind forward = conf::LbKind::nat;  // Masq / Route / Tunnel
    int weight = 1;
    std::uint32_t upper_threshold = 0;  // 0 = none
    std::uint32_t lower_threshold = 0;
    // forward == tun: encapsulation (ipip, gue + port, gre) and checksum
    // option; ignored for other methods.
    conf::Tunnel tunnel;
    // Reported by a backend; ignored in desired state.
    std::uint32_t active_conns = 0;
    std::uint32_t inactive_conns = 0;
    std::uint32_t persist_conns = 0;
    IpvsStats stats;

    // Identity within its service.
    [[nodiscard]] bool same_dest(const IpvsDest& o) const { return address == o.address && port == o.port; }
    // What a reload compares to decide "edit": everything an operator sets.
    [[nodiscard]] bool same_settings(const IpvsDest& o) const {
        return forward == o.forward && weight == o.weight && upper_threshold == o.upper_threshold &&
               lower_threshold == o.lower_threshold &&
               (forward != conf::LbKind::tun ||
                (tunnel.type == o.tunnel.type && tunnel.port == o.tunnel.port && tunnel.checksum == o.tunnel.checksum));
    }
};

// A virtual service: (protocol, address, port) or a firewall mark.
struct IpvsService {
    conf::SourceLoc loc;  // the virtual_server it comes from (messages); not compared
    // fwmark != 0: a mark service (protocol, address and port unused), with
    // family telling IPv4 from IPv6.
    conf::Protocol protocol = conf::Protocol::tcp;
    conf::IpAddr address;
    std::uint16_t port = 0;
    std::uint32_t fwmark = 0;
    conf::IpAddr::Family family = conf::IpAddr::Family::v4;
    std::string scheduler = "wlc";
    // Persistence: timeout in seconds (0 = not persistent) and netmask
    // (IPv4 dotted mask or IPv6 prefix length, as ipvsadm prints it).
    std::uint32_t persistence_timeout = 0;
    std::uint32_t persistence_netmask_v4 = 0xffffffff;  // host order
    std::uint8_t persistence_prefix_v6 = 128;
    std::string persistence_engine;  // e.g. "sip"
    std::vector<std::string> scheduler_flags;  // sh-port, sh-fallback, mh-port, mh-fallback
    bool one_packet = false;                    // ops
    std::vector<IpvsDest> dests;
    // Reported by a backend; ignored in desired state.
    IpvsStats stats;

    // Identity: what the kernel keys a service on.
    [[nodiscard]] bool same_service(const IpvsService& o) const {
        return fwmark == o.fwmark && (fwmark != 0 ? family == o.family
                                                  : protocol == o.protocol && address == o.address &&
                                                        port == o.port);
    }
    // Settings an edit changes in place (connections kept).
    [[nodiscard]] bool same_settings(const IpvsService& o) const {
        return scheduler == o.scheduler && persistence_timeout == o.persistence_timeout &&
               persistence_netmask_v4 == o.persistence_netmask_v4 &&
               persistence_prefix_v6 == o.persistence_prefix_v6 && persistence_engine == o.persistence_engine &&
               scheduler_flags == o.scheduler_flags && one_packet == o.one_packet;
    }
};

// One connection, as `ipvsadm -Lnc` prints it.
struct IpvsConn {
    conf::Protocol protocol = conf::Protocol::tcp;  // unused for a template
    // A persistence template of a persistent firewall-mark service (Linux
    // IPVS: protocol "IP"), which ipvsadm -Lnc shows as protocol IP.
    // (Templates of persistent address:port services carry their protocol
    // and client port 0: ordinary entries here, state NONE, on both
    // backends.) The DPDK backend has no fwmark services.
    bool persistence_template = false;
    std::uint32_t expires_seconds = 0;
    std::string state;  // ESTABLISHED, SYN_RECV, FIN_WAIT, NONE (UDP) ...
    conf::IpAddr client;
    std::uint16_t client_port = 0;
    conf::IpAddr virtual_address;
    std::uint16_t virtual_port = 0;
    conf::IpAddr dest;
    std::uint16_t dest_port = 0;
};

// IPVS's global connection timeouts (ipvsadm --set), seconds; 0 = unchanged.
struct IpvsTimeouts {
    std::uint32_t tcp = 0;
    std::uint32_t tcp_fin = 0;
    std::uint32_t udp = 0;
};

}  // namespace kadp::ctl
