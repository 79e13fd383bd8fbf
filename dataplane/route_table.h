// Runs on: control thread (build) / worker lcores (lookup).
//
// The data plane's IPv4 routing table: connected prefixes (every interface
// `address`), the appliance's own addresses (local), and `route PREFIX via
// GW [dev NAME]` from the dataplane block. Written once by the control
// thread in build(), then immutable: it lives in the snapshot the control
// thread publishes by pointer, any number of workers read it concurrently,
// and a configuration change builds a new table (freed after the snapshot's
// grace period, never in place).
//
// Why not rte_lpm: rte_lpm_create() allocates from memzones, so it needs an
// initialised EAL, and DIR-24-8 costs 64 MiB for the first level alone.
// Appliance tables hold tens of routes, so this is a small multibit trie
// with 8-bit strides (four levels, like DIR-24-8 cut into bytes) and leaf
// pushing, built at publish time: a lookup is at most four dependent loads
// of 32-bit words, no branches on prefix lengths and no allocation. Memory:
// 1 KiB per node; one root plus at most one node per level per prefix
// longer than /8, i.e. <= 1 + 3 x prefixes nodes.
//
// Precedence (longest match first, as Linux): local /32 addresses, then the
// longest connected or `via` prefix. IPv6 prefixes are skipped until the
// IPv6 data plane lands (build() reports how many).
//
// Byte order: addresses in and out are wire order in a uint32_t, as in
// checksum.h and FlowKey4.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kadp::conf {
struct Dataplane;
}

namespace kadp::dp {

enum class RouteKind : std::uint8_t {
    none = 0,   // no route: the caller counts route_miss
    connected,  // destination on a connected prefix: next hop = destination
    via,        // through a gateway: next hop = the gateway
    local,      // one of the appliance's own interface addresses
};

struct RouteHop4 {
    std::uint32_t next_hop = 0;  // wire order; the address to resolve with ARP
    std::uint16_t port = 0;      // interface index: Dataplane::interfaces order (the port index)
    RouteKind kind = RouteKind::none;
};

// One route as build() derived it (for listings and tests).
struct RouteEntry4 {
    std::uint32_t prefix = 0;   // wire order, host bits clear
    std::uint8_t length = 0;
    std::uint16_t port = 0;
    RouteKind kind = RouteKind::none;
    std::uint32_t gateway = 0;  // wire order; `via` routes only
};

class RouteTable4;

struct RouteBuild {
    std::unique_ptr<const RouteTable4> table;  // null when errors is not empty
    std::vector<std::string> errors;           // "FILE:LINE: route ...: why", one per problem
    std::uint32_t skipped_v6 = 0;              // IPv6 addresses/routes not installed (yet)
};

class RouteTable4 {
public:
    // Builds the table from the dataplane block. Rejects: a gateway that is
    // not inside a connected prefix (of `dev` when named), a gateway that is
    // one of our own addresses, `dev` naming no interface, the same prefix
    // twice (routes, or a route equal to a connected prefix), the same
    // connected prefix on two interfaces, and a route to one of our own
    // addresses. Control thread; allocates.
    static RouteBuild build(const conf::Dataplane& dp);

    // Longest-prefix match for `daddr` (wire order). Any thread, lock-free,
    // allocation-free; the table is immutable.
    RouteHop4 lookup(std::uint32_t daddr) const
    {
        std::uint32_t e = root_[daddr_byte(daddr, 0)];
        for (unsigned level = 1; (e & kChild) != 0; ++level) {
            e = nodes_[e & kIndexMask][daddr_byte(daddr, level)];
        }
        const Hop& h = hops_[e];  // hops_[0] is the "no route" hop
        return RouteHop4{h.kind == RouteKind::connected ? daddr : h.next_hop, h.port, h.kind};
    }
    bool is_local(std::uint32_t addr) const { return lookup(addr).kind == RouteKind::local; }

    // Control thread: the routes as installed, local ones included.
    const std::vector<RouteEntry4>& entries() const { return entries_; }
    std::size_t node_count() const { return nodes_.size() + 1; }

private:
    static constexpr std::uint32_t kChild = 0x80000000U;
    static constexpr std::uint32_t kIndexMask = 0x7fffffffU;
    using Node = std::array<std::uint32_t, 256>;  // kChild | node index, or hop index (0: none)

    struct Hop {
        std::uint32_t next_hop = 0;
        std::uint16_t port = 0;
        RouteKind kind = RouteKind::none;
    };

    RouteTable4() = default;
    // Byte `level` (0 = most significant) of a wire-order address: the
    // address's bytes sit in memory in network order.
    static std::uint32_t daddr_byte(std::uint32_t wire, unsigned level)
    {
        // A shift, not a byte read through memory: keeps the address in a register.
        if constexpr (std::endian::native == std::endian::little) return (wire >> (8 * level)) & 0xffU;
        return (wire >> (24 - 8 * level)) & 0xffU;
    }
    void insert(const RouteEntry4& r, std::uint32_t hop);

    Node root_{};
    std::vector<Node> nodes_;
    std::vector<Hop> hops_;
    std::vector<RouteEntry4> entries_;
};

}  // namespace kadp::dp
