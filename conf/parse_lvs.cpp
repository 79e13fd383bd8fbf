// Runs on: control thread. virtual_server_group, virtual_server, real_server
// and sorry_server, read as keepalived 2.2.7 reads them. Defaults that need
// the whole block (protocol, scheduler, forwarding method) are settled at the
// end of each virtual_server, where keepalived reports them too.
#include <algorithm>
#include <array>
#include <charconv>
#include <climits>

#include "conf/lvs_internal.h"

namespace kadp::conf {

std::string describe(const IpAddr& address, std::uint16_t port)
{
    return "[" + address.to_string() + "]:" + std::to_string(port);
}

std::string describe(const VirtualServer& vs)
{
    switch (vs.kind) {
    case VirtualServer::Kind::fwmark: return "FWM " + std::to_string(vs.fwmark);
    case VirtualServer::Kind::group: return "group " + vs.group;
    case VirtualServer::Kind::address: break;
    }
    return describe(vs.address, vs.port);
}

namespace {

constexpr double kMaxTimer = 1e13;  // keepalived's timers are 64-bit microseconds

// ------------------------------------------------------- virtual_server_group

// The last part of a range: "E" (v4 last octet in decimal, v6 last group in hex)
// or a whole address.
std::optional<IpAddr> range_end(const IpAddr& start, std::string_view text)
{
    if (text.find_first_of(".:") != std::string_view::npos) return IpAddr::parse(text);
    unsigned v = 0;
    int base = start.is_v4() ? 10 : 16;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
    if (ec != std::errc{} || p != text.data() + text.size() || text.empty()) return std::nullopt;
    IpAddr end = start;
    if (start.is_v4()) {
        if (v > 255) return std::nullopt;
        end.bytes[3] = static_cast<std::uint8_t>(v);
    } else {
        if (v > 0xffff) return std::nullopt;
        end.bytes[14] = static_cast<std::uint8_t>(v >> 8);
        end.bytes[15] = static_cast<std::uint8_t>(v);
    }
    return end;
}

// ADDR/LEN names every address of the prefix.
std::optional<std::pair<IpAddr, IpAddr>> prefix_range(std::string_view text)
{
    auto prefix = IpPrefix::parse(text);
    if (!prefix) return std::nullopt;
    IpAddr first = prefix->addr;
    IpAddr last = prefix->addr;
    int bits = first.is_v4() ? 32 : 128;
    for (int i = prefix->length; i < bits; ++i) {
        auto byte = static_cast<std::size_t>(i / 8);
        auto mask = static_cast<std::uint8_t>(0x80u >> (i % 8));
        first.bytes[byte] = static_cast<std::uint8_t>(first.bytes[byte] & ~mask);
        last.bytes[byte] = static_cast<std::uint8_t>(last.bytes[byte] | mask);
    }
    return std::pair{first, last};
}

std::optional<VirtualServerGroupEntry> parse_group_address(const Node& line, ParseContext& ctx)
{
    VirtualServerGroupEntry entry;
    entry.loc = line.loc;
    const std::string& text = line.keyword();
    auto dash = text.find('-');
    std::optional<IpAddr> first;
    std::optional<IpAddr> last;
    if (text.find('/') != std::string::npos) {
        if (auto r = prefix_range(text)) {
            first = r->first;
            last = r->second;
        }
    } else if (dash != std::string::npos) {
        first = IpAddr::parse(std::string_view(text).substr(0, dash));
        if (first) last = range_end(*first, std::string_view(text).substr(dash + 1));
    } else {
        first = IpAddr::parse(text);
        last = first;
    }
    if (!first || !last || first->family != last->family) {
        ctx.diags.error(line.loc, "virtual_server_group: '" + text + "' is not an IP address, range or fwmark");
        return std::nullopt;
    }
    if (dash != std::string::npos && !(*first < *last)) {
        // keepalived: "Address range end is not greater than address range start".
        ctx.diags.warning(line.loc, "address range end is not greater than address range start - " + text +
                                        " - entry skipped");
        return std::nullopt;
    }
    entry.address = *first;
    entry.range_end = *last;
    if (line.arg_count() >= 1) {
        auto port = arg_int(line, 0, 1, 65535, ctx);
        if (!port) return std::nullopt;
        entry.port = static_cast<std::uint16_t>(*port);
    }
    if (line.arg_count() > 1) ctx.diags.warning(line.loc, "extra words after the port ignored");
    return entry;
}

std::optional<VirtualServerGroupEntry> parse_group_fwmark(const Node& line, ParseContext& ctx)
{
    if (!need_args(line, 1, 2, ctx)) return std::nullopt;
    auto mark = arg_int(line, 0, 0, UINT32_MAX, ctx);
    if (!mark) return std::nullopt;
    VirtualServerGroupEntry entry;
    entry.loc = line.loc;
    entry.kind = VirtualServerGroupEntry::Kind::fwmark;
    entry.fwmark = static_cast<std::uint32_t>(*mark);
    if (line.arg_count() == 2) {
        if (line.arg(1) != "inet" && line.arg(1) != "inet6") {
            ctx.diags.warning(line.loc, "fwmark " + line.arg(0) + ": family '" + line.arg(1) +
                                            "' unknown - entry ignored (expects inet or inet6)");
            return std::nullopt;
        }
        entry.family = line.arg(1);
    }
    return entry;
}

// keepalived drops a group mixing IPv4, IPv6 and fwmarks without a family.
bool group_families_ok(const VirtualServerGroup& group)
{
    bool v4 = false;
    bool v6 = false;
    bool bare_fwmark = false;
    for (const auto& e : group.entries) {
        if (e.kind == VirtualServerGroupEntry::Kind::fwmark) bare_fwmark |= e.family.empty();
        else if (e.address.is_v4()) v4 = true;
        else v6 = true;
    }
    return !(v4 && v6 && bare_fwmark);
}

// --------------------------------------------------------- shared value parsers

std::optional<double> timer(const Node& node, double min, ParseContext& ctx)
{
    if (!need_args(node, 1, 1, ctx)) return std::nullopt;
    return arg_seconds(node, 0, min, kMaxTimer, ctx);
}

std::optional<bool> optional_flag(const Node& node, ParseContext& ctx)
{
    std::size_t before = ctx.diags.error_count();
    bool v = arg_flag(node, ctx);
    if (ctx.diags.error_count() != before) return std::nullopt;
    return v;
}

bool valid_scheduler(std::string_view s)
{
    static constexpr std::array<std::string_view, 14> kSchedulers = {
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "mh", "sed", "nq", "fo", "ovf", "twos"};
    return std::find(kSchedulers.begin(), kSchedulers.end(), s) != kSchedulers.end();
}

// ------------------------------------------------------------- real_server

struct VsParseState {
    bool protocol_set = false;
    bool lb_algo_set = false;
    bool lb_kind_set = false;
};

void parse_real_server(const Node& node, VirtualServer& vs, ParseContext& ctx)
{
    if (!need_args(node, 1, 2, ctx)) return;
    auto address = arg_ip(node, 0, ctx);
    if (!address) return;
    RealServer rs;
    rs.loc = node.loc;
    rs.address = *address;
    if (node.arg_count() == 2) {
        auto port = arg_int(node, 1, 1, 65535, ctx);
        if (!port) return;
        rs.port = static_cast<std::uint16_t>(*port);
    }
    auto set_timer = [&ctx](Inherited<double>& field, double min) {
        return [&field, min, &ctx](const Node& n) {
            if (auto v = timer(n, min, ctx)) field.assign(*v);
        };
    };
    auto set_flag = [&ctx](Inherited<bool>& field) {
        return [&field, &ctx](const Node& n) {
            if (auto v = optional_flag(n, ctx)) field.assign(*v);
        };
    };
    KeywordTable table = {
        {"weight", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_int(n, 0, 0, INT_MAX, ctx)) rs.weight = static_cast<int>(*v);
         }},
        {"lvs_method", [&](const Node& n) {
             if (auto k = parse_lvs_method(n, rs.tunnel, ctx)) {
                 rs.lvs_method = *k;
                 rs.lvs_method_set = true;
             }
         }},
        {"uthreshold", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_int(n, 0, 0, INT_MAX, ctx)) rs.uthreshold = static_cast<int>(*v);
         }},
        {"lthreshold", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_int(n, 0, 0, INT_MAX, ctx)) rs.lthreshold = static_cast<int>(*v);
         }},
        {"inhibit_on_failure", set_flag(rs.inhibit_on_failure)},
        {"alpha", set_flag(rs.alpha)},
        {"notify_up", [&](const Node& n) {
             if (!rs.notify_up.empty()) {
                 ctx.diags.warning(n.loc, "notify_up script already specified - ignoring " + n.rest());
                 return;
             }
             rs.notify_up = arg_script(n, ctx);
         }},
        {"notify_down", [&](const Node& n) {
             if (!rs.notify_down.empty()) {
                 ctx.diags.warning(n.loc, "notify_down script already specified - ignoring " + n.rest());
                 return;
             }
             rs.notify_down = arg_script(n, ctx);
         }},
        {"connect_timeout", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_seconds(n, 0, 0.000001, 4294.967295, ctx)) rs.connect_timeout.assign(*v);
         }},
        {"retry", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_int(n, 0, 1, INT_MAX, ctx)) rs.retry.assign(static_cast<int>(*v));
         }},
        {"delay_before_retry", set_timer(rs.delay_before_retry, 0)},
        {"warmup", set_timer(rs.warmup, 0)},
        {"delay_loop", set_timer(rs.delay_loop, 0.000001)},
        {"smtp_alert", [&](const Node& n) {
             if (auto v = optional_flag(n, ctx)) rs.smtp_alert = *v;
         }},
        {"virtualhost", [&](const Node& n) {
             if (n.arg_count() == 0) {
                 ctx.diags.warning(n.loc, "real server virtualhost missing");
                 return;
             }
             rs.virtualhost = n.arg(0);
         }},
        {"snmp_name", [&](const Node& n) {
             if (need_args(n, 1, 1, ctx)) rs.snmp_name = n.arg(0);
         }},
    };
    static constexpr std::array<std::string_view, 10> kCheckers = {
        "TCP_CHECK", "HTTP_GET", "SSL_GET", "SMTP_CHECK", "MISC_CHECK",
        "DNS_CHECK", "UDP_CHECK", "PING_CHECK", "FILE_CHECK", "BFD_CHECK"};
    for (std::string_view name : kCheckers) {
        table.emplace_back(name, [&rs, &ctx](const Node& n) {
            if (auto type = checker_type_of(n.keyword())) parse_checker(n, *type, rs, ctx);
        });
    }
    dispatch(node.children, table, ctx);
    vs.real_servers.push_back(std::move(rs));
}

// ------------------------------------------------------------ virtual_server

bool parse_vs_header(const Node& block, VirtualServer& vs, ParseContext& ctx)
{
    if (!need_args(block, 1, 2, ctx)) return false;
    const std::string& first = block.arg(0);
    if (first == "fwmark" || first == "group") {
        if (block.arg_count() < 2) {
            ctx.diags.error(block.loc, "virtual_server " + first + ": missing " +
                                           (first == "fwmark" ? "mark" : "group name"));
            return false;
        }
        if (first == "group") {
            vs.kind = VirtualServer::Kind::group;
            vs.group = block.arg(1);
            return true;
        }
        auto mark = arg_int(block, 1, 0, UINT32_MAX, ctx);
        if (!mark) return false;
        vs.kind = VirtualServer::Kind::fwmark;
        vs.fwmark = static_cast<std::uint32_t>(*mark);
        return true;
    }
    auto address = IpAddr::parse(first);
    if (!address) {
        ctx.diags.error(block.loc, "virtual_server: '" + first +
                                       "' is not an IP address, 'fwmark N' or 'group NAME'");
        return false;
    }
    vs.address = *address;
    if (block.arg_count() == 2) {
        auto port = arg_int(block, 1, 1, 65535, ctx);
        if (!port) return false;
        vs.port = static_cast<std::uint16_t>(*port);
    }
    return true;
}

void parse_protocol(const Node& n, VirtualServer& vs, VsParseState& st, ParseContext& ctx)
{
    if (!need_args(n, 1, 1, ctx)) return;
    std::string p = n.arg(0);
    std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (p == "TCP") vs.protocol = Protocol::tcp;
    else if (p == "UDP") vs.protocol = Protocol::udp;
    else if (p == "SCTP") vs.protocol = Protocol::sctp;
    else {
        // keepalived ignores it and falls back to UDP: a TCP service run as UDP is wrong.
        ctx.diags.error(n.loc, "Unknown protocol " + n.arg(0) + " (expects TCP, UDP or SCTP)");
        return;
    }
    st.protocol_set = true;
}

// persistence_granularity: an IPv4 netmask or an IPv6 prefix length.
void parse_granularity(const Node& n, VirtualServer& vs, ParseContext& ctx)
{
    if (!need_args(n, 1, 1, ctx)) return;
    const std::string& s = n.arg(0);
    bool v6 = vs.kind == VirtualServer::Kind::address ? vs.address.is_v6() : s.find('.') == std::string::npos;
    IpAddr mask;
    if (v6) {
        int len = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), len);
        if (ec != std::errc{} || p != s.data() + s.size() || len < 1 || len > 128) {
            ctx.diags.error(n.loc, "Invalid IPv6 persistence_granularity specified - " + s +
                                       " (expects a prefix length 1..128)");
            return;
        }
        mask.family = IpAddr::Family::v6;
        for (int i = 0; i < len; ++i)
            mask.bytes[static_cast<std::size_t>(i / 8)] |= static_cast<std::uint8_t>(0x80u >> (i % 8));
    } else {
        auto ip = IpAddr::parse(s);
        if (!ip || !ip->is_v4()) {
            ctx.diags.error(n.loc, "Invalid IPv4 persistence_granularity specified - " + s);
            return;
        }
        std::uint32_t m = ip->v4_host_order();
        if (m == 0 || ((~m + 1) & ~m) != 0) {  // ones then zeros only
            ctx.diags.error(n.loc, "IPv4 persistence_granularity netmask is not solid - " + s);
            return;
        }
        mask = *ip;
    }
    vs.persistence_granularity = mask;
    if (!vs.persistence_timeout) vs.persistence_timeout = 360;  // granularity implies persistence
}

void parse_sched_flag(const Node& n, VirtualServer& vs, ParseContext& ctx)
{
    const std::string& k = n.keyword();
    // Like keepalived, the scheduler must already be named when its flag is.
    if ((k.starts_with("sh-") && vs.lb_algo != "sh") || (k.starts_with("mh-") && vs.lb_algo != "mh")) {
        ctx.diags.warning(n.loc, k + " only applies to " + k.substr(0, 2) + " scheduler - ignoring");
        return;
    }
    if (std::find(vs.lb_flags.begin(), vs.lb_flags.end(), k) == vs.lb_flags.end()) vs.lb_flags.push_back(k);
}

void parse_sorry_server(const Node& n, VirtualServer& vs, ParseContext& ctx)
{
    if (!need_args(n, 1, 2, ctx)) return;
    auto address = arg_ip(n, 0, ctx);
    if (!address) return;
    SorryServer s;
    s.address = *address;
    if (n.arg_count() == 2) {
        auto port = arg_int(n, 1, 1, 65535, ctx);
        if (!port) return;
        s.port = static_cast<std::uint16_t>(*port);
    }
    vs.sorry_server = s;
}

// keepalived settles these when the block ends (check_data.c validation).
// keepalived does not ask a protocol of a group made only of fwmarks.
bool group_is_all_fwmark(const Config& config, const std::string& name)
{
    for (const auto& g : config.virtual_server_groups) {
        if (g.name != name) continue;
        return std::all_of(g.entries.begin(), g.entries.end(), [](const VirtualServerGroupEntry& e) {
            return e.kind == VirtualServerGroupEntry::Kind::fwmark;
        });
    }
    return false;
}

void finish_virtual_server(const Node& block, VirtualServer& vs, const VsParseState& st, const Config& config,
                           ParseContext& ctx)
{
    std::string name = describe(vs);
    if (vs.kind == VirtualServer::Kind::fwmark) {
        if (st.protocol_set)
            ctx.diags.warning(block.loc, "virtual server " + name +
                                             ": protocol specified for fwmark - protocol will be ignored");
        if (vs.ha_suspend) {
            ctx.diags.warning(block.loc, "virtual server " + name +
                                             ": cannot use ha_suspend with fwmarks - clearing ha_suspend");
            vs.ha_suspend = false;
        }
    } else if (!st.protocol_set &&
               !(vs.kind == VirtualServer::Kind::group && group_is_all_fwmark(config, vs.group))) {
        ctx.diags.warning(block.loc, "virtual server " + name + ": no protocol set - defaulting to UDP");
    }
    auto ops = std::find(vs.lb_flags.begin(), vs.lb_flags.end(), "ops");
    if (ops != vs.lb_flags.end() && (vs.kind == VirtualServer::Kind::fwmark || vs.protocol != Protocol::udp)) {
        ctx.diags.warning(block.loc, "virtual server " + name + ": one packet scheduling requires UDP - resetting");
        vs.lb_flags.erase(ops);
    }
    if (vs.kind == VirtualServer::Kind::address && vs.port == 0 && !vs.persistence_timeout) {
        ctx.diags.warning(block.loc, "virtual server " + name +
                                         ": zero port only valid for persistent services - setting persistence_timeout 360");
        vs.persistence_timeout = 360;
    }
    if (!st.lb_algo_set)
        ctx.diags.warning(block.loc, "virtual server " + name + ": no scheduler set, setting default 'wlc'");
    if (!st.lb_kind_set)
        ctx.diags.warning(block.loc, "virtual server " + name + ": no forwarding method set, setting default NAT");
}

KeywordTable vs_table(VirtualServer& vs, VsParseState& st, ParseContext& ctx)
{
    auto set_timer = [&ctx](Inherited<double>& field, double min) {
        return [&field, min, &ctx](const Node& n) {
            if (auto v = timer(n, min, ctx)) field.assign(*v);
        };
    };
    auto sched_flag = [&](const Node& n) { parse_sched_flag(n, vs, ctx); };
    auto plain_flag = [&](const Node& n) {
        if (std::find(vs.lb_flags.begin(), vs.lb_flags.end(), n.keyword()) == vs.lb_flags.end())
            vs.lb_flags.push_back(n.keyword());
    };
    auto scheduler = [&](const Node& n) {
        if (!need_args(n, 1, 1, ctx)) return;
        if (!valid_scheduler(n.arg(0))) {
            // keepalived reports it too (`keepalived -t` exits 5) and runs
            // wlc instead; kadp refuses to guess the operator's scheduler.
            ctx.diags.error(n.loc, "virtual server " + describe(vs) + ": invalid lvs_scheduler '" + n.arg(0) +
                                       "' (expects one of rr wrr lc wlc lblc lblcr dh sh mh sed nq fo ovf twos)");
            st.lb_algo_set = true;  // one diagnostic, not also "no scheduler set"
            return;
        }
        vs.lb_algo = n.arg(0);
        st.lb_algo_set = true;
    };
    auto method = [&](const Node& n) {
        if (auto k = parse_lvs_method(n, vs.tunnel, ctx)) {
            vs.lb_kind = *k;
            st.lb_kind_set = true;
        }
    };
    auto quorum_script = [&](Script& s) {
        return [&s, &ctx](const Node& n) {
            if (!s.empty()) {
                ctx.diags.warning(n.loc, n.keyword() + " script already specified - ignoring " + n.rest());
                return;
            }
            s = arg_script(n, ctx);
        };
    };
    return {
        {"ip_family", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (n.arg(0) != "inet" && n.arg(0) != "inet6") {
                 ctx.diags.warning(n.loc, "unknown address family " + n.arg(0) + " - ignoring");
                 return;
             }
             vs.ip_family = n.arg(0);
         }},
        {"retry", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_int(n, 0, 1, INT_MAX, ctx)) vs.retry.assign(static_cast<int>(*v));
         }},
        {"delay_before_retry", set_timer(vs.delay_before_retry, 0)},
        {"warmup", set_timer(vs.warmup, 0)},
        {"delay_loop", set_timer(vs.delay_loop, 0.000001)},
        {"connect_timeout", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_seconds(n, 0, 0.000001, 4294.967295, ctx)) vs.connect_timeout.assign(*v);
         }},
        {"inhibit_on_failure", [&](const Node& n) {
             if (auto v = optional_flag(n, ctx)) vs.inhibit_on_failure.assign(*v);
         }},
        {"lb_algo", scheduler},
        {"lvs_sched", scheduler},
        {"hashed", plain_flag},
        {"ops", plain_flag},
        {"flag-1", plain_flag},
        {"flag-2", plain_flag},
        {"flag-3", plain_flag},
        {"sh-port", sched_flag},
        {"sh-fallback", sched_flag},
        {"mh-port", sched_flag},
        {"mh-fallback", sched_flag},
        {"lb_kind", method},
        {"lvs_method", method},
        {"persistence_engine", [&](const Node& n) {
             if (need_args(n, 1, 1, ctx)) vs.persistence_engine = n.arg(0);
         }},
        {"persistence_timeout", [&](const Node& n) {
             if (n.arg_count() == 0) {
                 vs.persistence_timeout = 360;
                 return;
             }
             need_args(n, 0, 1, ctx);
             if (auto v = arg_int(n, 0, 1, 2678400, ctx)) vs.persistence_timeout = static_cast<double>(*v);
         }},
        {"persistence_granularity", [&](const Node& n) { parse_granularity(n, vs, ctx); }},
        {"protocol", [&](const Node& n) { parse_protocol(n, vs, st, ctx); }},
        {"ha_suspend", [&](const Node&) { vs.ha_suspend = true; }},
        {"smtp_alert", [&](const Node& n) {
             if (auto v = optional_flag(n, ctx)) vs.smtp_alert = *v;
         }},
        {"virtualhost", [&](const Node& n) {
             if (n.arg_count() == 0) {
                 ctx.diags.warning(n.loc, "virtual server virtualhost missing");
                 return;
             }
             vs.virtualhost = n.arg(0);
         }},
        {"snmp_name", [&](const Node& n) {
             if (need_args(n, 1, 1, ctx)) vs.snmp_name = n.arg(0);
         }},
        {"alpha", [&](const Node& n) {
             if (auto v = optional_flag(n, ctx)) vs.alpha.assign(*v);
         }},
        {"omega", [&](const Node&) { vs.omega = true; }},
        {"quorum_up", quorum_script(vs.quorum_up)},
        {"quorum_down", quorum_script(vs.quorum_down)},
        {"quorum", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             auto v = arg_int(n, 0, 0, INT_MAX, ctx);
             if (!v) return;
             if (*v == 0) ctx.diags.warning(n.loc, "Quorum 0 must be at least 1. Setting to 1.");
             vs.quorum = *v == 0 ? 1 : static_cast<int>(*v);
         }},
        {"hysteresis", [&](const Node& n) {
             if (!need_args(n, 1, 1, ctx)) return;
             if (auto v = arg_int(n, 0, 0, INT_MAX, ctx)) vs.hysteresis = static_cast<int>(*v);
         }},
        {"weight", [&](const Node& n) {
             // A virtual-server weight (used by keepalived for groups) kadp does not act on.
             if (need_args(n, 1, 1, ctx) && arg_int(n, 0, 1, INT_MAX, ctx)) keep_other(n, vs.other);
         }},
        {"sorry_server", [&](const Node& n) { parse_sorry_server(n, vs, ctx); }},
        {"sorry_server_inhibit", [&](const Node& n) {
             if (!vs.sorry_server) {
                 ctx.diags.warning(n.loc, "Ignoring sorry_server_inhibit used before or without sorry_server");
                 return;
             }
             vs.sorry_server_inhibit = true;
         }},
        {"sorry_server_lvs_method", [&](const Node& n) {
             if (!vs.sorry_server) {
                 ctx.diags.warning(n.loc, "sorry_server_lvs_method used without sorry_server - ignoring");
                 return;
             }
             if (auto k = parse_lvs_method(n, vs.sorry_server->tunnel, ctx)) vs.sorry_server->lvs_method = *k;
         }},
        {"real_server", [&](const Node& n) { parse_real_server(n, vs, ctx); }},
    };
}

}  // namespace

std::optional<LbKind> parse_lvs_method(const Node& node, Tunnel& tunnel, ParseContext& ctx)
{
    if (node.arg_count() == 0) {
        ctx.diags.error(node.loc, node.keyword() + ": missing forwarding method (NAT, DR or TUN)");
        return std::nullopt;
    }
    const std::string& m = node.arg(0);
    if (m == "NAT" || m == "DR") {
        if (node.arg_count() > 1) ctx.diags.warning(node.loc, node.keyword() + ": extra words after " + m + " ignored");
        return m == "NAT" ? LbKind::nat : LbKind::dr;
    }
    if (m != "TUN") {
        // keepalived ignores it and forwards by NAT; serving a DR/TUN set-up by NAT is wrong.
        ctx.diags.error(node.loc, "unknown [" + m + "] routing method (expects NAT, DR or TUN; case matters)");
        return std::nullopt;
    }
    Tunnel t;
    std::size_t i = 1;
    if (i < node.arg_count() && node.arg(i) == "type") {
        if (++i >= node.arg_count()) {
            ctx.diags.error(node.loc, node.keyword() + ": missing tunnel type (ipip, gue or gre)");
            return std::nullopt;
        }
        t.type = node.arg(i++);
        if (t.type != "ipip" && t.type != "gue" && t.type != "gre") {
            ctx.diags.error(node.loc, "Unknown tunnel type " + t.type + " (expects ipip, gue or gre)");
            return std::nullopt;
        }
        if (t.type == "gue") {
            if (i + 1 >= node.arg_count() || node.arg(i) != "port") {
                ctx.diags.error(node.loc, node.keyword() + ": gue tunnels require 'port N'");
                return std::nullopt;
            }
            auto port = arg_int(node, i + 1, 1, 65535, ctx);
            if (!port) return std::nullopt;
            t.port = static_cast<std::uint16_t>(*port);
            i += 2;
        }
    }
    if (i < node.arg_count()) {
        const std::string& c = node.arg(i++);
        if (c != "nocsum" && c != "csum" && c != "remcsum") {
            ctx.diags.error(node.loc, "Invalid tunnel option " + c + " (expects nocsum, csum or remcsum)");
            return std::nullopt;
        }
        if (t.type == "ipip" && c != "nocsum") {
            ctx.diags.error(node.loc, "ipip tunnels do not support checksum option " + c);
            return std::nullopt;
        }
        if (t.type == "gre" && c == "remcsum") {
            ctx.diags.error(node.loc, "gre tunnels do not support remote checksum option");
            return std::nullopt;
        }
        t.checksum = c;
    }
    if (i < node.arg_count()) ctx.diags.warning(node.loc, node.keyword() + ": extra words ignored");
    tunnel = t;
    return LbKind::tun;
}

void parse_virtual_server_group(const Node& block, Config& config, ParseContext& ctx)
{
    if (!need_args(block, 1, 1, ctx)) return;
    VirtualServerGroup group;
    group.loc = block.loc;
    group.name = block.arg(0);
    for (const Node& line : block.children) {
        no_block(line, ctx);
        auto entry = line.keyword() == "fwmark" ? parse_group_fwmark(line, ctx) : parse_group_address(line, ctx);
        if (entry) group.entries.push_back(*entry);
    }
    if (group.entries.empty()) {
        ctx.diags.warning(block.loc, "virtual server group " + group.name + " has no entries - removing");
        return;
    }
    if (!group_families_ok(group)) {
        ctx.diags.warning(block.loc, "virtual server group " + group.name +
                                         " cannot have IPv4, IPv6 and fwmark without family - removing");
        return;
    }
    config.virtual_server_groups.push_back(std::move(group));
}

void parse_virtual_server(const Node& block, Config& config, ParseContext& ctx)
{
    VirtualServer vs;
    vs.loc = block.loc;
    if (!parse_vs_header(block, vs, ctx)) return;
    // Values shown until a level sets its own (see resolve_lvs).
    vs.connect_timeout.value = 5;
    vs.retry.value = 1;
    vs.delay_before_retry.value = 1;
    vs.delay_loop.value = 60;
    VsParseState st;
    dispatch(block.children, vs_table(vs, st, ctx), ctx);
    finish_virtual_server(block, vs, st, config, ctx);
    config.virtual_servers.push_back(std::move(vs));
}

}  // namespace kadp::conf
