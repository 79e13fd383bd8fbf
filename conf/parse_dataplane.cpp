// Runs on: control thread. The kadp-only `dataplane { }` block (DPDK ports,
// addresses, routes, table sizes). keepalived ignores it with a warning.
//
//     dataplane {
//         interface NAME {                 # what vrrp_instance `interface` refers to
//             device "DEVARGS"             # PCI address or vdev spec (required)
//             address PREFIX               # repeatable; each gives a connected route
//             mtu N                        # 68..9216, default 1500
//             vlan ID                      # 802.1Q tag 1..4094, default untagged
//             rx_queues N / tx_queues N    # 1..1024, default one per worker lcore
//             exception_interface TAPNAME  # default kadp-NAME
//         }
//         route PREFIX|default via GW [dev NAME]
//         conn_table_size N                # 1024..134217728, default 1048576
//         conn_defense HIGH FULL | off     # SYN-flood defense marks, % of the table, default 75 90
//         stuck_worker_timeout MS          # 100..60000, default 1000: a worker not polling that long is stuck
//     }
//
// parse_dataplane checks what one line can tell; validate_dataplane checks
// what needs the whole block (and the vrrp_instances that refer to it).
#include <algorithm>
#include <cctype>
#include <map>

#include "conf/sections.h"

namespace kadp::conf {
namespace {

constexpr int kMinMtu = 68;      // the IPv4 minimum (RFC 791)
constexpr int kMinMtuV6 = 1280;  // the IPv6 minimum (RFC 8200)
constexpr int kMaxMtu = 9216;    // the largest jumbo frame common NICs take
constexpr long long kMaxQueues = 1024;  // DPDK's RTE_MAX_QUEUES_PER_PORT
constexpr long long kMinConnTable = 1024;
constexpr long long kMaxConnTable = 1LL << 27;  // ~134 M connections: tens of GiB already
constexpr std::size_t kMaxIfName = 15;          // IFNAMSIZ - 1, for the kernel TAP
// Below 100 ms a scheduling hiccup of the host would count; above a minute
// systemd's watchdog (WatchdogSec) would restart kadp first anyway.
constexpr long long kMinStuckMs = 100;
constexpr long long kMaxStuckMs = 60000;

std::string loc_text(const SourceLoc& loc) { return loc.file + ":" + std::to_string(loc.line); }

// A kernel interface name: 1..15 characters, none of them '/', ':' or blank,
// and not "." or "..".
bool valid_kernel_ifname(const std::string& s)
{
    if (s.empty() || s.size() > kMaxIfName || s == "." || s == "..") return false;
    return std::none_of(s.begin(), s.end(), [](char c) {
        return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || !std::isprint(static_cast<unsigned char>(c));
    });
}

// True when the bits of `a` beyond the first `len` are all zero.
bool host_bits_zero(const IpAddr& a, int len)
{
    const int bits = a.is_v4() ? 32 : 128;
    for (int b = len; b < bits; ++b) {
        if (a.bytes[static_cast<std::size_t>(b / 8)] & (0x80 >> (b % 8))) return false;
    }
    return true;
}

bool prefix_contains(const IpPrefix& p, const IpAddr& a)
{
    if (p.addr.family != a.family) return false;
    const int full = p.length / 8;
    for (int i = 0; i < full; ++i) {
        if (p.addr.bytes[static_cast<std::size_t>(i)] != a.bytes[static_cast<std::size_t>(i)]) return false;
    }
    const int rest = p.length % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (p.addr.bytes[static_cast<std::size_t>(full)] & mask) == (a.bytes[static_cast<std::size_t>(full)] & mask);
}

// The identity DPDK gives a device: a PCI address with its domain (the
// devargs after ',' are options), or a vdev's name (before the first ',').
// Two interfaces with the same identity would probe one port twice.
std::string device_identity(const std::string& devargs)
{
    std::string id = devargs.substr(0, devargs.find(','));
    std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    // "03:00.0" and "0000:03:00.0" are the same PCI function.
    auto is_bdf = [](const std::string& s) {
        return s.size() == 7 && std::isxdigit(static_cast<unsigned char>(s[0])) && s[2] == ':' && s[5] == '.';
    };
    if (is_bdf(id)) id = "0000:" + id;
    return id;
}

void parse_interface(const Node& node, Dataplane& dp, ParseContext& ctx)
{
    if (!need_args(node, 1, 1, ctx)) return;
    if (!node.has_block) {
        ctx.diags.error(node.loc, "interface " + node.arg(0) + " needs a { ... } block (with at least `device`)");
        return;
    }
    DataplaneInterface itf;
    itf.loc = node.loc;
    itf.name = node.arg(0);
    if (!valid_kernel_ifname(itf.name)) {
        ctx.diags.error(node.loc, "interface '" + itf.name +
                                      "': a name is 1 to 15 characters without '/', ':' or blanks");
    }
    bool exception_set = false;
    const KeywordTable table = {
        {"device",
         [&](const Node& n) {
             no_block(n, ctx);
             if (!need_args(n, 1, 1, ctx)) return;
             if (!itf.device.empty()) {
                 ctx.diags.error(n.loc, "interface " + itf.name + ": device given twice");
                 return;
             }
             if (n.arg(0).empty()) {
                 ctx.diags.error(n.loc, "device: empty devargs");
                 return;
             }
             const std::string id = device_identity(n.arg(0));
             for (const auto& other : dp.interfaces) {
                 if (!other.device.empty() && device_identity(other.device) == id) {
                     ctx.diags.error(n.loc, "interface " + itf.name + ": device " + n.arg(0) +
                                                " is already used by interface " + other.name + " (at " +
                                                loc_text(other.loc) + ")");
                     break;  // still recorded, so "has no device" does not follow
                 }
             }
             itf.device = n.arg(0);
         }},
        {"address",
         [&](const Node& n) {
             no_block(n, ctx);
             if (!need_args(n, 1, 1, ctx)) return;
             auto p = IpPrefix::parse(n.arg(0));
             if (!p) {
                 ctx.diags.error(n.loc, "address: '" + n.arg(0) + "' is not an address with a prefix length (A.B.C.D/LEN or X:X::X/LEN)");
                 return;
             }
             if (n.arg(0).find('/') == std::string::npos) {
                 ctx.diags.warning(n.loc, "address " + n.arg(0) + " has no /LEN: taken as /" +
                                              std::to_string(p->length) + ", so it gives no connected route");
             }
             for (const auto& a : itf.address) {
                 if (a.addr == p->addr) {
                     ctx.diags.error(n.loc, "interface " + itf.name + ": address " + p->addr.to_string() +
                                                " given twice");
                     return;
                 }
             }
             for (const auto& other : dp.interfaces) {
                 for (const auto& a : other.address) {
                     if (a.addr == p->addr) {
                         ctx.diags.error(n.loc, "interface " + itf.name + ": address " + p->addr.to_string() +
                                                    " is already on interface " + other.name + " (at " +
                                                    loc_text(other.loc) + ")");
                         return;
                     }
                 }
             }
             itf.address.push_back(*p);
         }},
        {"mtu",
         [&](const Node& n) {
             no_block(n, ctx);
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_int(n, 0, kMinMtu, kMaxMtu, ctx)) itf.mtu = static_cast<int>(*v);
         }},
        {"vlan",
         [&](const Node& n) {
             no_block(n, ctx);
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_int(n, 0, 1, 4094, ctx)) itf.vlan = static_cast<int>(*v);
         }},
        {"rx_queues",
         [&](const Node& n) {
             no_block(n, ctx);
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_int(n, 0, 1, kMaxQueues, ctx)) itf.rx_queues = static_cast<int>(*v);
         }},
        {"tx_queues",
         [&](const Node& n) {
             no_block(n, ctx);
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_int(n, 0, 1, kMaxQueues, ctx)) itf.tx_queues = static_cast<int>(*v);
         }},
        {"exception_interface",
         [&](const Node& n) {
             no_block(n, ctx);
             if (!need_args(n, 1, 1, ctx)) return;
             if (!valid_kernel_ifname(n.arg(0))) {
                 ctx.diags.error(n.loc, "exception_interface '" + n.arg(0) +
                                            "': a kernel interface name is 1 to 15 characters without '/', ':' or blanks");
                 return;
             }
             itf.exception_interface = n.arg(0);
             exception_set = true;
         }},
    };
    dispatch(node.children, table, ctx);
    if (itf.device.empty()) {
        ctx.diags.error(node.loc, "interface " + itf.name + " has no device (a PCI address or a vdev spec)");
    }
    if (!exception_set) {
        itf.exception_interface = "kadp-" + itf.name;
        if (itf.exception_interface.size() > kMaxIfName) {
            ctx.diags.error(node.loc, "interface " + itf.name + ": the default exception_interface '" +
                                          itf.exception_interface +
                                          "' is longer than 15 characters; set exception_interface");
        }
    }
    dp.interfaces.push_back(std::move(itf));
}

void parse_route(const Node& node, Dataplane& dp, ParseContext& ctx)
{
    no_block(node, ctx);
    // route PREFIX via GW [dev NAME]
    const auto n = node.arg_count();
    if (n != 3 && n != 5) {
        ctx.diags.error(node.loc, "route: expected `route PREFIX via GATEWAY [dev NAME]`");
        return;
    }
    if (node.arg(1) != "via" || (n == 5 && node.arg(3) != "dev")) {
        ctx.diags.error(node.loc, "route: expected `route PREFIX via GATEWAY [dev NAME]`, not '" + node.rest() + "'");
        return;
    }
    DataplaneRoute r;
    r.loc = node.loc;
    auto via = IpAddr::parse(node.arg(2));
    if (!via) {
        ctx.diags.error(node.loc, "route: gateway '" + node.arg(2) + "' is not an IP address");
        return;
    }
    r.via = *via;
    if (node.arg(0) == "default") {
        r.prefix = IpPrefix{via->is_v4() ? *IpAddr::parse("0.0.0.0") : *IpAddr::parse("::"), 0};
    } else {
        auto p = IpPrefix::parse(node.arg(0));
        if (!p) {
            ctx.diags.error(node.loc, "route: '" + node.arg(0) + "' is not a prefix (A.B.C.D/LEN, X:X::X/LEN or default)");
            return;
        }
        if (!host_bits_zero(p->addr, p->length)) {
            ctx.diags.error(node.loc, "route: prefix " + node.arg(0) + " has host bits set beyond /" +
                                          std::to_string(p->length));
            return;
        }
        if (p->addr.family != via->family) {
            ctx.diags.error(node.loc, "route: prefix " + node.arg(0) + " and gateway " + node.arg(2) +
                                          " are of different address families");
            return;
        }
        r.prefix = *p;
    }
    if (n == 5) r.dev = node.arg(4);
    dp.routes.push_back(std::move(r));
}

}  // namespace

void parse_dataplane(const Node& block, Config& config, ParseContext& ctx)
{
    if (block.arg_count() > 0) ctx.diags.warning(block.loc, "dataplane takes no name; '" + block.rest() + "' ignored");
    if (config.dataplane) {
        ctx.diags.error(block.loc, "more than one dataplane block (the first is at " +
                                       loc_text(config.dataplane->loc) + "); this one is ignored");
        return;
    }
    Dataplane dp;
    dp.loc = block.loc;
    bool conn_table_seen = false;
    bool conn_defense_seen = false;
    bool stuck_seen = false;
    const KeywordTable table = {
        {"interface", [&](const Node& n) { parse_interface(n, dp, ctx); }},
        {"route", [&](const Node& n) { parse_route(n, dp, ctx); }},
        {"conn_table_size",
         [&](const Node& n) {
             no_block(n, ctx);
             if (!need_args(n, 1, 1, ctx)) return;
             if (conn_table_seen) ctx.diags.warning(n.loc, "conn_table_size given twice; the last one counts");
             conn_table_seen = true;
             if (auto v = arg_int(n, 0, kMinConnTable, kMaxConnTable, ctx)) {
                 dp.conn_table_size = static_cast<std::uint64_t>(*v);
             }
         }},
        {"conn_defense",
         [&](const Node& n) {
             no_block(n, ctx);
             if (!need_args(n, 1, 2, ctx)) return;
             if (conn_defense_seen) ctx.diags.warning(n.loc, "conn_defense given twice; the last one counts");
             conn_defense_seen = true;
             if (n.arg_count() == 1) {
                 if (n.arg(0) != "off") {
                     ctx.diags.error(n.loc, "conn_defense takes two percentages (HIGH FULL) or 'off'");
                     return;
                 }
                 dp.conn_defense_high_pct = dp.conn_defense_full_pct = kConnDefenseOff;
                 return;
             }
             const auto high = arg_int(n, 0, 1, 100, ctx);
             const auto full = arg_int(n, 1, 1, 100, ctx);
             if (!high || !full) return;
             if (*high > *full) {
                 ctx.diags.error(n.loc, "conn_defense: HIGH (" + std::to_string(*high) + ") above FULL (" +
                                            std::to_string(*full) + ")");
                 return;
             }
             dp.conn_defense_high_pct = static_cast<std::uint32_t>(*high);
             dp.conn_defense_full_pct = static_cast<std::uint32_t>(*full);
         }},
        {"stuck_worker_timeout",
         [&](const Node& n) {
             no_block(n, ctx);
             if (!need_args(n, 1, 1, ctx)) return;
             if (stuck_seen) ctx.diags.warning(n.loc, "stuck_worker_timeout given twice; the last one counts");
             stuck_seen = true;
             if (auto v = arg_int(n, 0, kMinStuckMs, kMaxStuckMs, ctx)) {
                 dp.stuck_worker_timeout_ms = static_cast<std::uint32_t>(*v);
             }
         }},
    };
    dispatch(block.children, table, ctx);
    config.dataplane = std::move(dp);
}

void validate_dataplane(Config& config, ParseContext& ctx)
{
    if (!config.dataplane) return;
    Dataplane& dp = *config.dataplane;

    std::map<std::string, const DataplaneInterface*> by_name;
    std::map<std::string, const DataplaneInterface*> by_tap;
    for (const auto& itf : dp.interfaces) {
        if (auto [it, fresh] = by_name.emplace(itf.name, &itf); !fresh) {
            ctx.diags.error(itf.loc, "duplicate interface " + itf.name + " (first at " + loc_text(it->second->loc) + ")");
            continue;
        }
        if (auto [it, fresh] = by_tap.emplace(itf.exception_interface, &itf); !fresh) {
            ctx.diags.error(itf.loc, "interface " + itf.name + ": exception_interface " + itf.exception_interface +
                                         " is already interface " + it->second->name + "'s");
        }
        const bool has_v6 = std::any_of(itf.address.begin(), itf.address.end(),
                                        [](const IpPrefix& a) { return a.addr.is_v6(); });
        if (has_v6 && itf.mtu < kMinMtuV6) {
            ctx.diags.error(itf.loc, "interface " + itf.name + ": mtu " + std::to_string(itf.mtu) +
                                         " is below 1280, the IPv6 minimum, and the interface has an IPv6 address");
        }
    }
    auto own_address = [&](const IpAddr& ip) {
        return std::any_of(dp.interfaces.begin(), dp.interfaces.end(), [&](const DataplaneInterface& itf) {
            return std::any_of(itf.address.begin(), itf.address.end(),
                               [&](const IpPrefix& a) { return a.addr == ip; });
        });
    };

    // Routes: the gateway must sit in a connected prefix (of `dev` when named).
    std::vector<const DataplaneRoute*> seen;
    for (auto& r : dp.routes) {
        const DataplaneInterface* dev = nullptr;
        if (!r.dev.empty()) {
            auto it = by_name.find(r.dev);
            if (it == by_name.end()) {
                ctx.diags.error(r.loc, "route " + r.prefix.to_string() + ": dev " + r.dev +
                                           " is not a dataplane interface");
                continue;
            }
            dev = it->second;
        }
        for (const auto* other : seen) {
            if (other->prefix == r.prefix) {
                ctx.diags.error(r.loc, "route " + r.prefix.to_string() + " given twice (first at " +
                                           loc_text(other->loc) + ")");
                break;
            }
        }
        seen.push_back(&r);
        if (own_address(r.via)) {
            ctx.diags.error(r.loc, "route " + r.prefix.to_string() + ": gateway " + r.via.to_string() +
                                       " is one of this node's own addresses");
            continue;
        }
        bool reachable = false;
        for (const auto& itf : dp.interfaces) {
            if (dev && &itf != dev) continue;
            for (const auto& a : itf.address) reachable = reachable || prefix_contains(a, r.via);
        }
        if (!reachable) {
            ctx.diags.error(r.loc, "route " + r.prefix.to_string() + ": gateway " + r.via.to_string() +
                                       " is not in a connected prefix" +
                                       (dev ? " of interface " + dev->name : std::string(" of any dataplane interface")));
        }
    }
    // vrrp_instance `interface` naming a dataplane port is checked by
    // validate_vrrp (conf/validate_vrrp.cpp), which knows both modes.
}

}  // namespace kadp::conf
