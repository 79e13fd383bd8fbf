// Runs on: control thread.
#include "control/kernel/rtnl.h"

#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/route/rtnl.h>
#include <sys/socket.h>

#include <stdexcept>

namespace kadp::ctl {
namespace {

struct AddrFree {
    void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using NlAddr = std::unique_ptr<nl_addr, AddrFree>;
struct RtAddrFree {
    void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct RouteFree {
    void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};

int af_of(const conf::IpAddr& a) { return a.is_v6() ? AF_INET6 : AF_INET; }

NlAddr nl_address(const conf::IpAddr& a, int prefix) {
    NlAddr out(nl_addr_build(af_of(a), a.bytes.data(), a.is_v6() ? 16 : 4));
    if (!out) throw std::runtime_error("out of memory");
    nl_addr_set_prefixlen(out.get(), prefix);
    return out;
}

std::string where(const conf::SourceLoc& loc) { return loc.file + ":" + std::to_string(loc.line); }

// The interface index of `dev`; throws a message naming the entry.
int ifindex(const std::string& dev, const std::string& what) {
    const unsigned idx = if_nametoindex(dev.c_str());
    if (idx == 0) throw std::runtime_error(what + ": no interface '" + dev + "'");
    return static_cast<int>(idx);
}

std::unique_ptr<rtnl_addr, RtAddrFree> build_address(const conf::IpAddress& a, const std::string& what) {
    std::unique_ptr<rtnl_addr, RtAddrFree> out(rtnl_addr_alloc());
    if (!out) throw std::runtime_error("out of memory");
    if (a.dev.empty()) throw std::runtime_error(what + ": no 'dev' given (which interface?)");
    rtnl_addr_set_ifindex(out.get(), ifindex(a.dev, what));
    const NlAddr local = nl_address(a.address.addr, a.address.length);
    rtnl_addr_set_local(out.get(), local.get());
    rtnl_addr_set_prefixlen(out.get(), a.address.length);
    if (!a.broadcast.empty()) rtnl_addr_set_broadcast(out.get(), nl_address(a.broadcast, 32).get());
    if (!a.label.empty()) rtnl_addr_set_label(out.get(), a.label.c_str());
    if (!a.scope.empty()) {
        const int scope = rtnl_str2scope(a.scope.c_str());
        if (scope < 0) throw std::runtime_error(what + ": unknown scope '" + a.scope + "'");
        rtnl_addr_set_scope(out.get(), scope);
    }
    return out;
}

std::unique_ptr<rtnl_route, RouteFree> build_route(const conf::Route& r, const std::string& what) {
    std::unique_ptr<rtnl_route, RouteFree> out(rtnl_route_alloc());
    if (!out) throw std::runtime_error("out of memory");
    rtnl_route_set_family(out.get(), static_cast<std::uint8_t>(af_of(r.destination.addr)));
    rtnl_route_set_dst(out.get(), nl_address(r.destination.addr, r.destination.length).get());
    if (!r.table.empty()) {
        const int table = rtnl_route_str2table(r.table.c_str());
        if (table < 0) throw std::runtime_error(what + ": unknown table '" + r.table + "'");
        rtnl_route_set_table(out.get(), static_cast<std::uint32_t>(table));
    }
    const std::string type = r.blackhole && r.type.empty() ? "blackhole" : r.type;
    if (!type.empty()) {
        const int t = nl_str2rtntype(type.c_str());
        if (t < 0) throw std::runtime_error(what + ": unknown route type '" + type + "'");
        rtnl_route_set_type(out.get(), static_cast<std::uint8_t>(t));
    }
    if (!r.scope.empty()) {
        const int scope = rtnl_str2scope(r.scope.c_str());
        if (scope < 0) throw std::runtime_error(what + ": unknown scope '" + r.scope + "'");
        rtnl_route_set_scope(out.get(), static_cast<std::uint8_t>(scope));
    }
    if (r.metric >= 0) rtnl_route_set_priority(out.get(), static_cast<std::uint32_t>(r.metric));
    if (!r.src.empty()) rtnl_route_set_pref_src(out.get(), nl_address(r.src, r.src.is_v6() ? 128 : 32).get());
    if (!r.via.empty() || !r.dev.empty()) {
        rtnl_nexthop* nh = rtnl_route_nh_alloc();
        if (nh == nullptr) throw std::runtime_error("out of memory");
        if (!r.via.empty()) rtnl_route_nh_set_gateway(nh, nl_address(r.via, r.via.is_v6() ? 128 : 32).get());
        if (!r.dev.empty()) {
            try {
                rtnl_route_nh_set_ifindex(nh, ifindex(r.dev, what));
            } catch (...) {
                rtnl_route_nh_free(nh);
                throw;
            }
        }
        rtnl_route_add_nexthop(out.get(), nh);  // the route owns it from here
    }
    return out;
}

}  // namespace

void Rtnl::SockFree::operator()(nl_sock* s) const { nl_socket_free(s); }

Rtnl::Rtnl() : sock_(nl_socket_alloc()) {
    if (!sock_) throw std::runtime_error("cannot allocate a netlink socket");
    if (const int r = nl_connect(sock_.get(), NETLINK_ROUTE); r < 0) {
        throw std::runtime_error(std::string("cannot open an rtnetlink socket: ") + nl_geterror(r));
    }
}

Rtnl::~Rtnl() = default;

Rtnl::Added Rtnl::add_address(const conf::IpAddress& a) {
    const std::string what = "static_ipaddress " + a.text + " (" + where(a.loc) + ")";
    const auto addr = build_address(a, "cannot add " + what);
    const int r = rtnl_addr_add(sock_.get(), addr.get(), NLM_F_EXCL);
    if (r == -NLE_EXIST) return Added::existed;
    if (r < 0) throw std::runtime_error("cannot add " + what + ": " + nl_geterror(r));
    return Added::added;
}

Rtnl::Added Rtnl::add_route(const conf::Route& rt) {
    const std::string what = "static_routes " + rt.text + " (" + where(rt.loc) + ")";
    const auto route = build_route(rt, "cannot add " + what);
    const int r = rtnl_route_add(sock_.get(), route.get(), NLM_F_EXCL);
    if (r == -NLE_EXIST) return Added::existed;
    if (r < 0) throw std::runtime_error("cannot add " + what + ": " + nl_geterror(r));
    return Added::added;
}

int Rtnl::delete_address_raw(const conf::IpAddress& a, const std::string& what) {
    const auto addr = build_address(a, what);
    return rtnl_addr_delete(sock_.get(), addr.get(), 0);
}

std::string Rtnl::delete_address(const conf::IpAddress& a) {
    const std::string what = "cannot remove static_ipaddress " + a.text + " (" + where(a.loc) + ")";
    try {
        if (const int r = delete_address_raw(a, what); r < 0 && r != -NLE_NOADDR) return what + ": " + nl_geterror(r);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return {};
}

bool Rtnl::remove_address_if_present(const conf::IpAddress& a) {
    const std::string what = "cannot remove " + a.text + " (" + where(a.loc) + ")";
    const int r = delete_address_raw(a, what);
    if (r == -NLE_NOADDR) return false;
    if (r < 0) throw std::runtime_error(what + ": " + nl_geterror(r));
    return true;
}

std::string Rtnl::delete_route(const conf::Route& rt) {
    const std::string what = "cannot remove static_routes " + rt.text + " (" + where(rt.loc) + ")";
    try {
        const auto route = build_route(rt, what);
        const int r = rtnl_route_delete(sock_.get(), route.get(), 0);
        if (r < 0 && r != -NLE_OBJ_NOTFOUND) return what + ": " + nl_geterror(r);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return {};
}

}  // namespace kadp::ctl
