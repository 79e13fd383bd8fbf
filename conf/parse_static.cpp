// Runs on: control thread. static_ipaddress, static_routes and the `ip addr` /
// `ip route` line syntax they share with vrrp_instance (virtual_ipaddress,
// virtual_ipaddress_excluded, virtual_routes). Options kadp does not model
// are accepted as keepalived accepts them and stay in the entry's `text`.
#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>

#include "conf/sections.h"

namespace kadp::conf {
namespace {

// The line as the operator wrote it, tokens joined (the keyword is the address).
std::string line_text(const Node& line)
{
    std::string out;
    for (const std::string& t : line.tokens) {
        if (!out.empty()) out += ' ';
        out += t;
    }
    return out;
}

bool is_one_of(std::string_view word, std::initializer_list<std::string_view> set)
{
    for (std::string_view s : set)
        if (s == word) return true;
    return false;
}

bool is_uint(std::string_view s, unsigned long long max)
{
    unsigned long long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc{} && p == s.data() + s.size() && !s.empty() && v <= max;
}

// Scope names `ip addr` accepts, or a number.
bool valid_scope(std::string_view s)
{
    return is_one_of(s, {"global", "site", "link", "host", "nowhere"}) || is_uint(s, 255);
}

// The value after option tokens[i]; reports a missing one.
const std::string* option_value(const Node& line, std::size_t i, std::string_view what, ParseContext& ctx)
{
    if (i + 1 < line.tokens.size()) return &line.tokens[i + 1];
    ctx.diags.error(line.loc, std::string(what) + " '" + line.tokens[i] + "' is missing a value");
    return nullptr;
}

// Options of `ip addr add` that take no value (keepalived accepts and applies them).
constexpr std::array kAddrFlags = {std::string_view{"home"}, std::string_view{"-nodad"},
                                   std::string_view{"nodad"}, std::string_view{"mngtmpaddr"},
                                   std::string_view{"noprefixroute"}, std::string_view{"autojoin"},
                                   std::string_view{"no_track"}, std::string_view{"use_vmac"}};

bool addr_flag(std::string_view w)
{
    for (std::string_view f : kAddrFlags)
        if (f == w) return true;
    return false;
}

// "brd": an address, or '-' / '+' (clear / set the host bits).
bool parse_broadcast(const std::string& v, const IpPrefix& addr, IpAddress& out)
{
    if (v == "-" || v == "+") {
        if (!addr.addr.is_v4()) return true;
        std::uint32_t a = addr.addr.v4_host_order();
        std::uint32_t mask = addr.length == 0 ? 0 : ~std::uint32_t{0} << (32 - addr.length);
        out.broadcast = IpAddr::from_v4_host_order(v == "+" ? (a | ~mask) : (a & mask));
        return true;
    }
    auto ip = IpAddr::parse(v);
    if (!ip || ip->family != addr.addr.family) return false;
    out.broadcast = *ip;
    return true;
}

}  // namespace

std::optional<IpAddress> parse_ip_address_line(const Node& line, ParseContext& ctx)
{
    no_block(line, ctx);
    IpAddress out;
    out.loc = line.loc;
    out.text = line_text(line);
    auto prefix = IpPrefix::parse(line.keyword());
    if (!prefix) {
        ctx.diags.error(line.loc, "'" + line.keyword() + "' is not an IP address[/prefix length]");
        return std::nullopt;
    }
    out.address = *prefix;
    const auto& t = line.tokens;
    for (std::size_t i = 1; i < t.size(); ++i) {
        const std::string& w = t[i];
        if (addr_flag(w)) continue;
        if (!is_one_of(w, {"brd", "broadcast", "dev", "scope", "label", "peer", "track_group", "preferred_lft"})) {
            // keepalived: "Unknown configuration entry 'X' for ip address - ignoring".
            ctx.diags.warning(line.loc, "Unknown configuration entry '" + w + "' for ip address - ignoring");
            continue;
        }
        const std::string* v = option_value(line, i, "ip address option", ctx);
        if (!v) return std::nullopt;
        ++i;
        if (w == "brd" || w == "broadcast") {
            if (!parse_broadcast(*v, out.address, out)) {
                ctx.diags.error(line.loc, "invalid broadcast address '" + *v + "' for " + out.address.to_string());
                return std::nullopt;
            }
        } else if (w == "dev") {
            out.dev = *v;
        } else if (w == "scope") {
            if (!valid_scope(*v)) {
                ctx.diags.error(line.loc, "invalid scope '" + *v + "' (global, site, link, host, nowhere or 0-255)");
                return std::nullopt;
            }
            out.scope = *v;
        } else if (w == "label") {
            out.label = *v;
        } else if (w == "peer") {
            if (!IpPrefix::parse(*v)) {
                ctx.diags.error(line.loc, "invalid peer address '" + *v + "'");
                return std::nullopt;
            }
        } else if (w == "preferred_lft") {
            if (*v != "forever" && !is_uint(*v, 0xffffffffULL)) {
                ctx.diags.error(line.loc, "invalid preferred_lft '" + *v + "' (a number of seconds or forever)");
                return std::nullopt;
            }
        }  // track_group: checked by whoever owns track_group blocks
    }
    return out;
}

namespace {

// Route options that take one value kadp does not model (ip route syntax).
bool route_value_option(std::string_view w)
{
    return is_one_of(w, {"tos", "dsfield", "proto", "protocol", "mtu", "advmss", "rtt", "rttvar", "reordering",
                         "window", "cwnd", "ssthresh", "realms", "rto_min", "initcwnd", "initrwnd", "features",
                         "quickack", "congctl", "pref", "fastopen_no_cookie", "hoplimit", "expires", "track_group",
                         "weight", "vrf", "ttl-propagate", "encap", "nhid"});
}

bool route_flag(std::string_view w)
{
    return is_one_of(w, {"onlink", "no_track", "append", "prepend", "replace", "inet", "inet6", "nexthop", "lock",
                         "pervasive"});
}

bool route_type(std::string_view w)
{
    return is_one_of(w, {"unicast", "local", "broadcast", "anycast", "multicast", "throw", "unreachable",
                         "prohibit", "blackhole", "nat"});
}

// Keeps one family per route, as `ip route` does.
bool same_family(Route& r, const IpAddr& a, const Node& line, ParseContext& ctx)
{
    IpAddr::Family have = r.destination.addr.family;
    if (have == IpAddr::Family::none) have = r.src.family;
    if (have == IpAddr::Family::none) have = r.via.family;
    if (have == IpAddr::Family::none || have == a.family) return true;
    ctx.diags.error(line.loc, "Cannot mix IPv4 and IPv6 addresses for route");
    return false;
}

struct RouteParser {
    const Node& line;
    ParseContext& ctx;
    Route r;
    bool inet6 = false;

    bool value_ip(std::size_t& i, IpAddr& into)
    {
        const std::string* v = option_value(line, i, "route option", ctx);
        if (!v) return false;
        ++i;
        // `via inet6 ADDR`: the family word is optional.
        if ((*v == "inet" || *v == "inet6") && i + 1 < line.tokens.size()) v = &line.tokens[++i];
        auto ip = IpAddr::parse(*v);
        if (!ip) {
            ctx.diags.error(line.loc, "route: '" + *v + "' is not an IP address");
            return false;
        }
        if (!same_family(r, *ip, line, ctx)) return false;
        into = *ip;
        return true;
    }

    bool destination(const std::string& w)
    {
        if (!r.destination.addr.empty()) {
            ctx.diags.error(line.loc, "unknown route keyword " + w);
            return false;
        }
        std::optional<IpPrefix> p;
        if (w == "default") {
            p = IpPrefix{*IpAddr::parse(inet6 ? "::" : "0.0.0.0"), 0};
        } else {
            p = IpPrefix::parse(w);
        }
        if (!p) {
            ctx.diags.error(line.loc, "route: '" + w + "' is not a destination prefix");
            return false;
        }
        if (!same_family(r, p->addr, line, ctx)) return false;
        r.destination = *p;
        return true;
    }

    bool option(std::size_t& i)
    {
        const std::string& w = line.tokens[i];
        if (w == "src") return value_ip(i, r.src);
        if (w == "via" || w == "gw") {
            if (w == "gw") ctx.diags.warning(line.loc, "\"gw\" for routes is deprecated. Please use \"via\"");
            if (!r.via.empty()) {  // a second gateway (nexthop): kept in the text only
                IpAddr ignored;
                return value_ip(i, ignored);
            }
            return value_ip(i, r.via);
        }
        if (w == "or") {
            ctx.diags.warning(line.loc, "\"or\" for routes is deprecated. Please use \"nexthop\"");
            IpAddr second;
            return value_ip(i, second);
        }
        if (w == "to") return true;  // `[to] DST`
        if (w == "inet6") inet6 = true;
        if (route_flag(w)) return true;
        if (w == "blackhole") {
            r.blackhole = true;
            r.type = w;
            return true;
        }
        if (route_type(w)) {
            r.type = w;
            return true;
        }
        if (w == "dev" || w == "oif" || w == "table" || w == "metric" || w == "priority" || w == "preference" ||
            w == "scope" || route_value_option(w))
            return value_option(i);
        return destination(w);
    }

    bool value_option(std::size_t& i)
    {
        const std::string& w = line.tokens[i];
        const std::string* v = option_value(line, i, "route option", ctx);
        if (!v) return false;
        ++i;
        if (*v == "lock" && i + 1 < line.tokens.size()) v = &line.tokens[++i];  // `mtu lock N`
        if (w == "dev" || w == "oif") {
            r.dev = *v;
        } else if (w == "table") {
            r.table = *v;
        } else if (w == "metric" || w == "priority" || w == "preference") {
            if (!is_uint(*v, 0xffffffffULL)) {
                ctx.diags.error(line.loc, "route " + w + ": '" + *v + "' is not a number from 0 to 4294967295");
                return false;
            }
            r.metric = static_cast<int>(std::min<unsigned long long>(std::stoull(*v), 0x7fffffff));
        } else if (w == "scope") {
            if (!valid_scope(*v)) {
                ctx.diags.error(line.loc, "route: invalid scope '" + *v + "'");
                return false;
            }
            r.scope = *v;
        }
        return true;
    }
};

}  // namespace

std::optional<Route> parse_route_line(const Node& line, ParseContext& ctx)
{
    no_block(line, ctx);
    RouteParser p{line, ctx, {}};
    p.r.loc = line.loc;
    p.r.text = line_text(line);
    for (std::size_t i = 0; i < line.tokens.size(); ++i)
        if (!p.option(i)) return std::nullopt;
    if (p.r.destination.addr.empty()) {
        ctx.diags.error(line.loc, "route has no destination");
        return std::nullopt;
    }
    return p.r;
}

void parse_static_ipaddress(const Node& block, Config& config, ParseContext& ctx)
{
    for (const Node& line : block.children)
        if (auto a = parse_ip_address_line(line, ctx)) config.static_ipaddress.push_back(std::move(*a));
}

void parse_static_routes(const Node& block, Config& config, ParseContext& ctx)
{
    for (const Node& line : block.children)
        if (auto r = parse_route_line(line, ctx)) config.static_routes.push_back(std::move(*r));
}

}  // namespace kadp::conf
