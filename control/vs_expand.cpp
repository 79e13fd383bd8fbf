// Runs on: control thread.
#include "control/vs_expand.h"

#include <limits>

namespace kadp::ctl {
namespace {

std::string describe_addr(const conf::IpAddr& a, std::uint16_t port) {
    return "[" + a.to_string() + "]:" + std::to_string(port);
}

// Addresses from `first` to `last` inclusive; saturates far beyond any cap.
std::uint64_t range_size(const conf::IpAddr& first, const conf::IpAddr& last) {
    const std::size_t n = first.is_v4() ? 4 : 16;
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (i + 8 < n && first.bytes[i] != last.bytes[i]) return std::numeric_limits<std::uint64_t>::max();
        if (i + 8 >= n) {
            a = (a << 8) | first.bytes[i];
            b = (b << 8) | last.bytes[i];
        }
    }
    return b >= a ? b - a + 1 : 0;
}

// `a` + 1 in its family's width (callers stay inside a checked range).
void increment(conf::IpAddr& a) {
    for (std::size_t i = a.is_v4() ? 4 : 16; i-- > 0;) {
        if (++a.bytes[i] != 0) break;
    }
}

conf::IpAddr::Family family_named(const std::string& name, conf::IpAddr::Family otherwise) {
    if (name == "inet") return conf::IpAddr::Family::v4;
    if (name == "inet6") return conf::IpAddr::Family::v6;
    return otherwise;
}

}  // namespace

VsIdentity vs_identity(const conf::VirtualServer& vs) {
    VsIdentity id;
    id.kind = vs.kind;
    id.protocol = vs.protocol;
    switch (vs.kind) {
    case conf::VirtualServer::Kind::address:
        id.address = vs.address;
        id.port = vs.port;
        break;
    case conf::VirtualServer::Kind::fwmark: id.fwmark = vs.fwmark; break;
    case conf::VirtualServer::Kind::group: id.group = vs.group; break;
    }
    return id;
}

std::string describe(const conf::VirtualServer& vs) {
    const std::string proto = std::string("/") + conf::to_string(vs.protocol);
    switch (vs.kind) {
    case conf::VirtualServer::Kind::fwmark: return "FWM " + std::to_string(vs.fwmark);
    case conf::VirtualServer::Kind::group: return "group " + vs.group + proto;
    case conf::VirtualServer::Kind::address: break;
    }
    return describe_addr(vs.address, vs.port) + proto;
}

conf::IpAddr::Family fwmark_family(const conf::VirtualServer& vs) {
    if (!vs.ip_family.empty()) return family_named(vs.ip_family, conf::IpAddr::Family::v4);
    for (const auto& rs : vs.real_servers) {
        if (rs.lvs_method != conf::LbKind::tun) return rs.address.family;
    }
    return conf::IpAddr::Family::v4;
}

std::vector<VsEndpoint> expand_endpoints(const conf::Config& config, const conf::VirtualServer& vs,
                                         std::uint32_t max_group_expansion, conf::Diagnostics& diags) {
    std::vector<VsEndpoint> out;
    if (vs.kind == conf::VirtualServer::Kind::address) {
        out.push_back({VsEndpoint::Kind::address, vs.address, vs.port, 0, vs.address.family, vs.loc});
        return out;
    }
    if (vs.kind == conf::VirtualServer::Kind::fwmark) {
        out.push_back({VsEndpoint::Kind::fwmark, {}, 0, vs.fwmark, fwmark_family(vs), vs.loc});
        return out;
    }
    const conf::VirtualServerGroup* group = nullptr;
    for (const auto& g : config.virtual_server_groups) {
        if (g.name == vs.group) group = &g;
    }
    if (group == nullptr) {
        diags.error(vs.loc, "virtual server " + describe(vs) + ": virtual_server_group " + vs.group + " is not defined");
        return out;
    }
    for (const auto& e : group->entries) {
        if (e.kind == conf::VirtualServerGroupEntry::Kind::fwmark) {
            out.push_back({VsEndpoint::Kind::fwmark, {}, 0, e.fwmark, family_named(e.family, fwmark_family(vs)), e.loc});
            continue;
        }
        const std::uint64_t count = range_size(e.address, e.range_end);
        if (count > max_group_expansion) {
            diags.error(e.loc, "virtual_server_group " + group->name + ": " + e.address.to_string() + "-" +
                                   e.range_end.to_string() + " is " +
                                   (count == std::numeric_limits<std::uint64_t>::max() ? std::string("too many")
                                                                                       : std::to_string(count)) +
                                   " addresses, more than kadp expands (" + std::to_string(max_group_expansion) + ")");
            continue;
        }
        conf::IpAddr a = e.address;
        for (std::uint64_t i = 0; i < count; ++i, increment(a)) {
            out.push_back({VsEndpoint::Kind::address, a, e.port, 0, a.family, e.loc});
        }
    }
    return out;
}

}  // namespace kadp::ctl
