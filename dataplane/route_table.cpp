// Runs on: control thread (build); the lookup is inline in the header.
#include "dataplane/route_table.h"

#include <algorithm>
#include <cstring>

#include "conf/model.h"

namespace kadp::dp {
namespace {

std::uint32_t wire_of(const conf::IpAddr& a)
{
    std::uint32_t v;
    std::memcpy(&v, a.bytes.data(), sizeof v);
    return v;
}

// Mask of a prefix length, in wire order.
std::uint32_t wire_mask(std::uint8_t len)
{
    const std::uint32_t host = len == 0 ? 0 : ~std::uint32_t{0} << (32 - len);
    const std::uint8_t b[4] = {static_cast<std::uint8_t>(host >> 24), static_cast<std::uint8_t>(host >> 16),
                               static_cast<std::uint8_t>(host >> 8), static_cast<std::uint8_t>(host)};
    std::uint32_t v;
    std::memcpy(&v, b, sizeof v);
    return v;
}

std::string ip_text(std::uint32_t wire)
{
    std::uint8_t b[4];
    std::memcpy(b, &wire, sizeof b);
    return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." + std::to_string(b[3]);
}

std::string prefix_text(std::uint32_t wire, std::uint8_t len)
{
    return len == 0 ? std::string("default") : ip_text(wire) + "/" + std::to_string(len);
}

std::string where(const conf::SourceLoc& loc)
{
    if (loc.file.empty()) return loc.line > 0 ? "line " + std::to_string(loc.line) + ": " : std::string();
    return loc.file + (loc.line > 0 ? ":" + std::to_string(loc.line) : std::string()) + ": ";
}

}  // namespace

RouteBuild RouteTable4::build(const conf::Dataplane& dp)
{
    RouteBuild out;
    std::unique_ptr<RouteTable4> t(new RouteTable4());
    t->hops_.push_back(Hop{});  // index 0: no route
    std::vector<RouteEntry4> connected;
    std::vector<RouteEntry4>& all = t->entries_;

    if (dp.interfaces.size() > 0xffff) {
        out.errors.push_back(where(dp.loc) + "dataplane: more than 65535 interfaces");
        return out;
    }
    for (std::size_t i = 0; i < dp.interfaces.size(); ++i) {
        const conf::DataplaneInterface& itf = dp.interfaces[i];
        const auto port = static_cast<std::uint16_t>(i);
        for (const conf::IpPrefix& a : itf.address) {
            if (!a.addr.is_v4()) {
                ++out.skipped_v6;
                continue;
            }
            const std::uint32_t addr = wire_of(a.addr);
            const auto len = static_cast<std::uint8_t>(a.length);
            for (const RouteEntry4& e : all) {
                if (e.kind == RouteKind::local && e.prefix == addr) {
                    out.errors.push_back(where(itf.loc) + "interface " + itf.name + ": address " + ip_text(addr) +
                                         " is already an address of interface " + dp.interfaces[e.port].name);
                }
            }
            all.push_back(RouteEntry4{addr, 32, port, RouteKind::local, 0});
            if (len >= 32) continue;  // a /32 address gives no connected route
            const RouteEntry4 c{addr & wire_mask(len), len, port, RouteKind::connected, 0};
            bool dup = false;
            for (const RouteEntry4& e : connected) {
                if (e.prefix != c.prefix || e.length != c.length) continue;
                dup = true;
                if (e.port != port) {
                    // Two ports on one subnet would make ARP and the egress port ambiguous.
                    out.errors.push_back(where(itf.loc) + "interface " + itf.name + ": connected prefix " +
                                         prefix_text(c.prefix, c.length) + " is also connected on interface " +
                                         dp.interfaces[e.port].name);
                }
            }
            if (!dup) connected.push_back(c);  // a second address in the same subnet adds nothing
        }
    }
    all.insert(all.end(), connected.begin(), connected.end());

    for (const conf::DataplaneRoute& r : dp.routes) {
        if (!r.prefix.addr.is_v4() || !r.via.is_v4()) {
            ++out.skipped_v6;
            continue;
        }
        const auto len = static_cast<std::uint8_t>(r.prefix.length);
        const std::uint32_t prefix = wire_of(r.prefix.addr) & wire_mask(len);
        const std::uint32_t gw = wire_of(r.via);
        const std::string name = where(r.loc) + "route " + prefix_text(prefix, len);
        int dev = -1;
        if (!r.dev.empty()) {
            for (std::size_t i = 0; i < dp.interfaces.size(); ++i) {
                if (dp.interfaces[i].name == r.dev) dev = static_cast<int>(i);
            }
            if (dev < 0) {
                out.errors.push_back(name + ": dev " + r.dev + " is not a dataplane interface");
                continue;
            }
        }
        bool bad = false;
        for (const RouteEntry4& e : all) {
            if (e.kind == RouteKind::local && e.prefix == gw) {
                out.errors.push_back(name + ": gateway " + ip_text(gw) + " is one of this node's own addresses");
                bad = true;
                break;
            }
            if (e.prefix == prefix && e.length == len) {
                out.errors.push_back(name + (e.kind == RouteKind::via         ? " given twice"
                                             : e.kind == RouteKind::connected ? " is already a connected prefix"
                                                                              : " is one of this node's own addresses"));
                bad = true;
                break;
            }
        }
        if (bad) continue;
        // The egress port is the one whose connected prefix holds the gateway (longest wins).
        const RouteEntry4* via = nullptr;
        for (const RouteEntry4& c : connected) {
            if (dev >= 0 && c.port != dev) continue;
            if ((gw & wire_mask(c.length)) != c.prefix) continue;
            if (via == nullptr || c.length > via->length) via = &c;
        }
        if (via == nullptr) {
            out.errors.push_back(name + ": gateway " + ip_text(gw) + " is not in a connected prefix" +
                                 (dev >= 0 ? " of interface " + r.dev : std::string(" of any dataplane interface")));
            continue;
        }
        all.push_back(RouteEntry4{prefix, len, via->port, RouteKind::via, gw});
    }
    if (!out.errors.empty()) return out;

    // Shorter prefixes first: a longer one then only ever overwrites or
    // pushes down what a shorter one left (see insert()).
    std::stable_sort(all.begin(), all.end(),
                     [](const RouteEntry4& a, const RouteEntry4& b) { return a.length < b.length; });
    for (const RouteEntry4& e : all) {
        t->hops_.push_back(Hop{e.kind == RouteKind::via ? e.gateway : e.kind == RouteKind::local ? e.prefix : 0,
                               e.port, e.kind});
        t->insert(e, static_cast<std::uint32_t>(t->hops_.size() - 1));
    }
    out.table = std::move(t);
    return out;
}

// Leaf pushing: a slot holds either a hop index or a child node; creating a
// child copies the slot's hop into all 256 child slots, so a lookup ends at
// the first leaf it meets and never backtracks. Inserted in ascending length
// order, a prefix never covers a slot that already has a child (the child
// exists only for a longer prefix), so expansion overwrites leaves only.
void RouteTable4::insert(const RouteEntry4& r, std::uint32_t hop)
{
    // Slots are addressed by node index (-1: the root): push_back may move nodes_.
    auto slots_of = [this](std::int64_t node) { return node < 0 ? root_.data() : nodes_[static_cast<std::size_t>(node)].data(); };
    std::int64_t node = -1;
    unsigned level = 0;
    while (r.length > 8 * (level + 1)) {
        const std::uint32_t b = daddr_byte(r.prefix, level);
        std::uint32_t slot = slots_of(node)[b];
        if ((slot & kChild) == 0) {
            Node child;
            child.fill(slot);
            nodes_.push_back(child);
            slot = kChild | static_cast<std::uint32_t>(nodes_.size() - 1);
            slots_of(node)[b] = slot;
        }
        node = slot & kIndexMask;
        ++level;
    }
    std::uint32_t* slots = slots_of(node);
    const unsigned rem = r.length - 8 * level;  // 0..8 bits of this level's byte are fixed
    const unsigned span = 1U << (8 - rem);
    const unsigned first = daddr_byte(r.prefix, level) & ~(span - 1) & 0xffU;
    for (unsigned i = first; i < first + span; ++i) {
        slots[i] = hop;
    }
}

}  // namespace kadp::dp
