// Runs on: control thread. vrrp_script, vrrp_sync_group, vrrp_instance, and
// resolve_vrrp: the defaults that depend on global_defs (which may come later
// in the file) and on the rest of the instance.
#include <charconv>
#include <climits>

#include "conf/sections.h"

namespace kadp::conf {
namespace {

// keepalived stores timers in microseconds in an unsigned int.
constexpr long long kMaxTimerSec = UINT_MAX / 1000000;

// Values parse_vrrp_instance leaves for "not configured"; resolve_vrrp
// replaces them, as keepalived's vrrp_complete_instance does.
constexpr int kUnsetPriority = 0;
constexpr int kUnsetVersion = 0;
constexpr double kUnsetSeconds = -1;
constexpr int kUnsetCount = 0;

// Recognised in vrrp_instance (2.2.7 man page and binary), not acted on yet.
constexpr std::string_view kOtherInstance[] = {
    "vrf", "use_vmac_addr", "vmac_xmit_base", "use_ipvlan", "native_ipv6", "track_src_ip", "mcast_dst_ip",
    "check_unicast_src", "unicast_fault_no_peer", "unicast_ttl", "old_unicast_checksum", "garp_lower_prio_delay",
    "garp_lower_prio_repeat", "garp_extra_if", "vmac_garp_intvl", "down_timer_adverts", "lower_prio_no_advert",
    "higher_prio_send_advert", "promote_secondaries", "skip_check_adv_addr", "strict_mode", "debug",
    "notify_master_rx_lower_pri", "notify_priority_changes", "notify_deleted", "kernel_rx_buf_size",
    "linkbeat_use_polling", "track_file", "track_process", "track_bfd",
};

// Recognised in vrrp_sync_group. notify_deleted and sync_group_tracking_weight
// are in the man page although the 2.2.7 binary does not know them.
constexpr std::string_view kOtherSyncGroup[] = {
    "track_file", "track_process", "track_bfd", "notify_priority_changes", "notify_deleted",
    "sync_group_tracking_weight",
};

void add_others(KeywordTable& table, const auto& names, std::vector<OtherKeyword>& other)
{
    for (std::string_view k : names) table.emplace_back(k, [&other](const Node& n) { keep_other(n, other); });
}

// A notify script; keepalived keeps the first and ignores repeats.
void set_notify(const Node& n, Script& into, const std::string& owner, ParseContext& ctx)
{
    no_block(n, ctx);
    if (!into.empty()) {
        ctx.diags.warning(n.loc, "(" + owner + ") " + n.keyword() + " script already specified - ignoring");
        return;
    }
    into = arg_script(n, ctx);
}

bool section_name(const Node& block, std::string& name, ParseContext& ctx)
{
    if (block.arg_count() != 1) {
        ctx.diags.error(block.loc, block.keyword() + " must have a name - block skipped");
        return false;
    }
    name = block.arg(0);
    return true;
}

// `NAME [weight N [reverse|noreverse]]`, the line form of track_interface and
// track_script.
struct TrackLine {
    std::string name;
    std::optional<int> weight;
    bool reverse = false;
};

std::optional<TrackLine> parse_track_line(const Node& line, const std::string& owner, ParseContext& ctx)
{
    no_block(line, ctx);
    TrackLine t{line.keyword(), std::nullopt, false};
    for (std::size_t i = 0; i < line.arg_count(); ++i) {
        const std::string& w = line.arg(i);
        if (w == "weight" && i + 1 < line.arg_count()) {
            const std::string& text = line.arg(++i);
            int v = 0;
            auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec != std::errc{} || p != text.data() + text.size() || v < -253 || v > 253) {
                ctx.diags.error(line.loc, "(" + owner + ") weight '" + text + "' for " + t.name +
                                              " must be a whole number from -253 to 253");
                return std::nullopt;
            }
            t.weight = v;
        } else if (w == "reverse" || w == "noreverse" || w == "no_reverse") {
            t.reverse = w == "reverse";
        } else {
            // keepalived: "(VI) unknown track_interface eth1 option eth2 - ignoring".
            ctx.diags.warning(line.loc, "(" + owner + ") unknown option '" + w + "' after " + t.name + " - ignoring");
        }
    }
    return t;
}

void parse_track_interfaces(const Node& n, std::vector<TrackedInterface>& out, const std::string& owner,
                            ParseContext& ctx)
{
    for (const Node& line : n.children) {
        auto t = parse_track_line(line, owner, ctx);
        if (!t) continue;
        out.push_back(TrackedInterface{line.loc, t->name, t->weight.value_or(0), t->reverse});
    }
}

void parse_track_scripts(const Node& n, std::vector<TrackedScript>& out, const std::string& owner,
                         ParseContext& ctx)
{
    for (const Node& line : n.children) {
        auto t = parse_track_line(line, owner, ctx);
        if (!t) continue;
        bool dup = false;
        for (const TrackedScript& s : out) dup = dup || s.name == t->name;
        if (dup) {
            ctx.diags.warning(line.loc, "(" + owner + ") duplicate track_script " + t->name + " - ignoring");
            continue;
        }
        out.push_back(TrackedScript{line.loc, t->name, t->weight, t->reverse});
    }
}

bool needs_block(const Node& n, ParseContext& ctx)
{
    if (n.has_block) return true;
    ctx.diags.error(n.loc, n.keyword() + " needs a { ... } block");
    return false;
}

// ------------------------------------------------------------ vrrp_instance
class InstanceParser {
public:
    InstanceParser(VrrpInstance& vi, const Config& config, ParseContext& ctx)
        : vi_(vi), config_(config), ctx_(ctx) {}

    KeywordTable table();

private:
    VrrpInstance& vi_;
    const Config& config_;
    ParseContext& ctx_;
    IpAddr::Family family_ = IpAddr::Family::none;  // set by the first address, as keepalived does

    void state(const Node& n);
    void authentication(const Node& n);
    void addresses(const Node& n, std::vector<VirtualIp>& out);
    void routes(const Node& n);
    void unicast_peers(const Node& n);
    void source_ip(const Node& n, IpAddr& into);
    bool family_ok(const IpAddr& a);
    template <class T>
    void number(const Node& n, T& into, long long min, long long max);
    void seconds(const Node& n, double& into, double min, double max);
};

bool InstanceParser::family_ok(const IpAddr& a)
{
    if (family_ == IpAddr::Family::none) family_ = a.family;
    return family_ == a.family;
}

template <class T>
void InstanceParser::number(const Node& n, T& into, long long min, long long max)
{
    no_block(n, ctx_);
    if (!need_args(n, 1, 1, ctx_)) return;
    if (auto v = arg_int(n, 0, min, max, ctx_)) into = static_cast<T>(*v);
}

void InstanceParser::seconds(const Node& n, double& into, double min, double max)
{
    no_block(n, ctx_);
    if (!need_args(n, 1, 1, ctx_)) return;
    if (auto v = arg_seconds(n, 0, min, max, ctx_)) into = *v;
}

void InstanceParser::state(const Node& n)
{
    no_block(n, ctx_);
    if (!need_args(n, 1, 1, ctx_)) return;
    const std::string& s = n.arg(0);
    if (s == "MASTER") {
        vi_.state = VrrpState::master;
    } else if (s == "BACKUP") {
        if (vi_.state == VrrpState::master)
            ctx_.diags.warning(n.loc, "(" + vi_.name + ") state previously set as MASTER - ignoring BACKUP");
    } else {
        ctx_.diags.error(n.loc, "(" + vi_.name + ") state: unknown state '" + s + "' (MASTER or BACKUP)");
    }
}

void InstanceParser::authentication(const Node& n)
{
    if (!needs_block(n, ctx_)) return;
    KeywordTable t = {
        {"auth_type",
         [&](const Node& c) {
             no_block(c, ctx_);
             if (!need_args(c, 1, 1, ctx_)) return;
             if (c.arg(0) == "PASS") vi_.auth_type = AuthType::pass;
             else if (c.arg(0) == "AH") vi_.auth_type = AuthType::ah;
             else
                 ctx_.diags.error(c.loc, "(" + vi_.name + ") unknown authentication type '" + c.arg(0) +
                                             "' (PASS or AH)");
         }},
        {"auth_pass",
         [&](const Node& c) {
             no_block(c, ctx_);
             if (!need_args(c, 1, 1, ctx_)) return;
             vi_.auth_pass = c.arg(0);
             if (vi_.auth_pass.size() > 8) {
                 ctx_.diags.warning(c.loc, "Truncating auth_pass to 8 characters");
                 vi_.auth_pass.resize(8);
             }
         }},
    };
    dispatch(n.children, t, ctx_);
}

void InstanceParser::addresses(const Node& n, std::vector<VirtualIp>& out)
{
    if (!needs_block(n, ctx_)) return;
    bool excluded = &out == &vi_.virtual_ipaddress_excluded;
    for (const Node& line : n.children) {
        auto a = parse_ip_address_line(line, ctx_);
        if (!a) continue;
        // virtual_ipaddress must match the instance's family; excluded ones may mix.
        if (!excluded && !family_ok(a->address.addr)) {
            ctx_.diags.warning(line.loc, "(" + vi_.name + ") address family must match VRRP instance [" +
                                             line.keyword() + "] - ignoring");
            continue;
        }
        out.push_back(std::move(*a));
    }
}

void InstanceParser::routes(const Node& n)
{
    if (!needs_block(n, ctx_)) return;
    for (const Node& line : n.children)
        if (auto r = parse_route_line(line, ctx_)) vi_.virtual_routes.push_back(std::move(*r));
}

// unicast_peer { IP [min_ttl N] [max_ttl N] }: one peer a line.
void InstanceParser::unicast_peers(const Node& n)
{
    if (!needs_block(n, ctx_)) return;
    for (const Node& line : n.children) {
        no_block(line, ctx_);
        auto ip = IpAddr::parse(line.keyword());
        if (!ip) {
            ctx_.diags.error(line.loc, "(" + vi_.name + ") unicast_peer: '" + line.keyword() +
                                           "' is not an IP address");
            continue;
        }
        for (std::size_t i = 0; i < line.arg_count(); ++i) {
            const std::string& w = line.arg(i);
            if ((w == "min_ttl" || w == "max_ttl") && i + 1 < line.arg_count()) {
                if (!arg_int(line, ++i, 0, 255, ctx_)) break;
            } else {
                ctx_.diags.warning(line.loc, "(" + vi_.name + ") unicast_peer: unknown option '" + w +
                                                 "' - ignoring (one peer a line)");
            }
        }
        if (!family_ok(*ip)) {
            ctx_.diags.warning(line.loc, "(" + vi_.name + ") unicast peer address [" + line.keyword() +
                                             "] must be of the same family as the instance - skipping");
            continue;
        }
        vi_.unicast_peer.push_back(*ip);
    }
}

void InstanceParser::source_ip(const Node& n, IpAddr& into)
{
    no_block(n, ctx_);
    if (!need_args(n, 1, 1, ctx_)) return;
    auto ip = arg_ip(n, 0, ctx_);
    if (!ip) return;
    if (!family_ok(*ip)) {
        ctx_.diags.error(n.loc, "(" + vi_.name + ") " + n.keyword() + " [" + n.arg(0) +
                                    "] must be of the same family as the instance's other addresses");
        return;
    }
    into = *ip;
}

KeywordTable InstanceParser::table()
{
    VrrpInstance& v = vi_;
    KeywordTable t = {
        {"state", [this](const Node& n) { state(n); }},
        {"interface",
         [this, &v](const Node& n) {
             no_block(n, ctx_);
             if (need_args(n, 1, 1, ctx_)) {
                 v.interface = n.arg(0);
                 v.interface_loc = n.loc;
             }
         }},
        {"virtual_router_id",
         [this, &v](const Node& n) {
             v.virtual_router_id = -1;  // given: validate_vrrp must not also call it missing
             number(n, v.virtual_router_id, 1, 255);
         }},
        {"priority", [this, &v](const Node& n) { number(n, v.priority, 1, 255); }},
        {"advert_int", [this, &v](const Node& n) { seconds(n, v.advert_int, 0.01, 255); }},
        {"version", [this, &v](const Node& n) { number(n, v.version, 2, 3); }},
        {"nopreempt", [&v](const Node&) { v.nopreempt = true; }},
        {"preempt", [&v](const Node&) { v.nopreempt = false; }},
        {"preempt_delay", [this, &v](const Node& n) { seconds(n, v.preempt_delay, 0, 1000); }},
        {"authentication", [this](const Node& n) { authentication(n); }},
        {"virtual_ipaddress", [this, &v](const Node& n) { addresses(n, v.virtual_ipaddress); }},
        {"virtual_ipaddress_excluded", [this, &v](const Node& n) { addresses(n, v.virtual_ipaddress_excluded); }},
        {"virtual_routes", [this](const Node& n) { routes(n); }},
        {"virtual_rules",
         [this](const Node& n) {
             if (!needs_block(n, ctx_)) return;
             for (const Node& line : n.children)
                 if (auto r = parse_rule_line(line, ctx_)) vi_.virtual_rules.push_back(std::move(*r));
         }},
        {"track_interface",
         [this, &v](const Node& n) {
             if (needs_block(n, ctx_)) parse_track_interfaces(n, v.track_interface, v.name, ctx_);
         }},
        {"track_script",
         [this, &v](const Node& n) {
             if (needs_block(n, ctx_)) parse_track_scripts(n, v.track_script, v.name, ctx_);
         }},
        {"unicast_src_ip", [this, &v](const Node& n) { source_ip(n, v.unicast_src_ip); }},
        {"mcast_src_ip", [this, &v](const Node& n) { source_ip(n, v.mcast_src_ip); }},
        {"unicast_peer", [this](const Node& n) { unicast_peers(n); }},
        {"notify_master", [this, &v](const Node& n) { set_notify(n, v.notify_master, v.name, ctx_); }},
        {"notify_backup", [this, &v](const Node& n) { set_notify(n, v.notify_backup, v.name, ctx_); }},
        {"notify_fault", [this, &v](const Node& n) { set_notify(n, v.notify_fault, v.name, ctx_); }},
        {"notify_stop", [this, &v](const Node& n) { set_notify(n, v.notify_stop, v.name, ctx_); }},
        {"notify", [this, &v](const Node& n) { set_notify(n, v.notify, v.name, ctx_); }},
        {"smtp_alert", [this, &v](const Node& n) { v.smtp_alert = arg_flag(n, ctx_); }},
        {"garp_master_delay", [this, &v](const Node& n) { number(n, v.garp_master_delay, 0, kMaxTimerSec); }},
        {"garp_master_repeat", [this, &v](const Node& n) { number(n, v.garp_master_repeat, 1, INT_MAX); }},
        {"garp_master_refresh", [this, &v](const Node& n) { number(n, v.garp_master_refresh, 0, kMaxTimerSec); }},
        {"garp_master_refresh_repeat",
         [this, &v](const Node& n) { number(n, v.garp_master_refresh_repeat, 1, INT_MAX); }},
        {"use_vmac",
         [&v](const Node& n) {
             v.use_vmac = true;
             keep_other(n, v.other);  // the optional name and MAC
         }},
        {"dont_track_primary", [&v](const Node&) { v.dont_track_primary = true; }},
        {"accept", [&v](const Node&) { v.accept = true; }},
        {"no_accept", [&v](const Node&) { v.accept = false; }},
    };
    add_others(t, kOtherInstance, v.other);
    (void)config_;
    return t;
}

}  // namespace

void parse_vrrp_script(const Node& block, Config& config, ParseContext& ctx)
{
    VrrpScript s;
    s.loc = block.loc;
    if (!section_name(block, s.name, ctx)) return;
    // `user` may come before or after `script`: applied after the block.
    std::string user, group;
    KeywordTable t = {
        {"script", [&](const Node& n) { s.script = arg_script(n, ctx); }},
        {"interval",
         [&](const Node& n) {
             if (need_args(n, 1, 1, ctx))
                 if (auto v = arg_int(n, 0, 1, kMaxTimerSec, ctx)) s.interval = static_cast<double>(*v);
         }},
        {"timeout",
         [&](const Node& n) {
             if (need_args(n, 1, 1, ctx))
                 if (auto v = arg_int(n, 0, 1, kMaxTimerSec, ctx)) s.timeout = static_cast<double>(*v);
         }},
        {"weight",
         [&](const Node& n) {
             if (!need_args(n, 1, 2, ctx)) return;
             if (auto v = arg_int(n, 0, -253, 253, ctx)) s.weight = static_cast<int>(*v);
             if (n.arg_count() > 1) {
                 if (n.arg(1) == "reverse") s.weight_reverse = true;
                 else if (n.arg(1) != "noreverse")
                     ctx.diags.warning(n.loc, "(" + s.name + ") unknown weight option '" + n.arg(1) + "' - ignoring");
             }
         }},
        {"rise",
         [&](const Node& n) {
             if (need_args(n, 1, 1, ctx))
                 if (auto v = arg_int(n, 0, 1, INT_MAX, ctx)) s.rise = static_cast<int>(*v);
         }},
        {"fall",
         [&](const Node& n) {
             if (need_args(n, 1, 1, ctx))
                 if (auto v = arg_int(n, 0, 1, INT_MAX, ctx)) s.fall = static_cast<int>(*v);
         }},
        {"user",
         [&](const Node& n) {
             if (!need_args(n, 1, 2, ctx)) return;
             user = n.arg(0);
             group = n.arg_count() > 1 ? n.arg(1) : std::string();
         }},
        {"init_fail", [&](const Node&) { s.init_fail = true; }},
    };
    dispatch(block.children, t, ctx);
    if (!user.empty()) {
        s.script.user = user;
        s.script.group = group;
    }
    if (s.script.empty()) {
        ctx.diags.error(block.loc, "vrrp_script " + s.name + ": no script specified");
        return;
    }
    for (const VrrpScript& other : config.vrrp_scripts) {
        if (other.name == s.name) {
            // keepalived silently keeps both and always finds the first.
            ctx.diags.warning(block.loc, "vrrp_script " + s.name + " already defined at line " +
                                             std::to_string(other.loc.line) + " - ignoring this one");
            return;
        }
    }
    config.vrrp_scripts.push_back(std::move(s));
}

void parse_vrrp_sync_group(const Node& block, Config& config, ParseContext& ctx)
{
    VrrpSyncGroup g;
    g.loc = block.loc;
    if (!section_name(block, g.name, ctx)) return;
    for (const VrrpSyncGroup& other : config.vrrp_sync_groups) {
        if (other.name == g.name) {
            ctx.diags.error(block.loc, "vrrp sync group " + g.name + " already defined at line " +
                                           std::to_string(other.loc.line));
            return;
        }
    }
    bool have_group = false;
    KeywordTable t = {
        {"group",
         [&](const Node& n) {
             if (!needs_block(n, ctx)) return;
             if (have_group) {
                 ctx.diags.warning(n.loc, "Group list already specified for sync group " + g.name + " - ignoring");
                 return;
             }
             have_group = true;
             // keepalived reads every word of the block as a member name.
             for (const Node& line : n.children) {
                 no_block(line, ctx);
                 for (const std::string& w : line.tokens) g.group.push_back(w);
             }
         }},
        {"track_interface",
         [&](const Node& n) {
             if (needs_block(n, ctx)) parse_track_interfaces(n, g.track_interface, g.name, ctx);
         }},
        {"track_script",
         [&](const Node& n) {
             if (needs_block(n, ctx)) parse_track_scripts(n, g.track_script, g.name, ctx);
         }},
        {"notify_master", [&](const Node& n) { set_notify(n, g.notify_master, g.name, ctx); }},
        {"notify_backup", [&](const Node& n) { set_notify(n, g.notify_backup, g.name, ctx); }},
        {"notify_fault", [&](const Node& n) { set_notify(n, g.notify_fault, g.name, ctx); }},
        {"notify_stop", [&](const Node& n) { set_notify(n, g.notify_stop, g.name, ctx); }},
        {"notify", [&](const Node& n) { set_notify(n, g.notify, g.name, ctx); }},
        {"smtp_alert", [&](const Node& n) { g.smtp_alert = arg_flag(n, ctx); }},
        {"global_tracking",
         [&](const Node& n) {
             ctx.diags.warning(n.loc, "(" + g.name +
                                          ") global_tracking is deprecated. Use track_interface/script/file on "
                                          "the sync group");
             g.global_tracking = true;
         }},
    };
    add_others(t, kOtherSyncGroup, g.other);
    dispatch(block.children, t, ctx);
    config.vrrp_sync_groups.push_back(std::move(g));
}

void parse_vrrp_instance(const Node& block, Config& config, ParseContext& ctx)
{
    VrrpInstance vi;
    vi.loc = block.loc;
    if (!section_name(block, vi.name, ctx)) return;
    for (const VrrpInstance& other : config.vrrp_instances) {
        if (other.name == vi.name) {
            // keepalived skips the second block; running without it would be wrong.
            ctx.diags.error(block.loc, "vrrp instance " + vi.name + " already defined at line " +
                                           std::to_string(other.loc.line));
            return;
        }
    }
    vi.priority = kUnsetPriority;
    vi.version = kUnsetVersion;
    vi.garp_master_delay = kUnsetSeconds;
    vi.garp_master_repeat = kUnsetCount;
    vi.garp_master_refresh = kUnsetSeconds;
    vi.garp_master_refresh_repeat = kUnsetCount;
    InstanceParser p(vi, config, ctx);
    dispatch(block.children, p.table(), ctx);
    config.vrrp_instances.push_back(std::move(vi));
}

namespace {

bool instance_is_v6(const VrrpInstance& vi)
{
    // Every address kept by the parser has the instance's family.
    if (!vi.virtual_ipaddress.empty()) return vi.virtual_ipaddress.front().address.addr.is_v6();
    if (!vi.unicast_src_ip.empty()) return vi.unicast_src_ip.is_v6();
    if (!vi.mcast_src_ip.empty()) return vi.mcast_src_ip.is_v6();
    if (!vi.unicast_peer.empty()) return vi.unicast_peer.front().is_v6();
    return false;
}

void resolve_instance(VrrpInstance& vi, const GlobalDefs& g)
{
    if (vi.priority == kUnsetPriority) vi.priority = vi.state == VrrpState::master ? 255 : 100;
    // IPv6 instances always run VRRPv3.
    if (instance_is_v6(vi)) vi.version = 3;
    if (vi.version == kUnsetVersion) vi.version = g.vrrp_version;
    if (vi.garp_master_delay == kUnsetSeconds) vi.garp_master_delay = g.vrrp_garp_master_delay;
    if (vi.garp_master_repeat == kUnsetCount) vi.garp_master_repeat = g.vrrp_garp_master_repeat;
    if (vi.garp_master_refresh == kUnsetSeconds) vi.garp_master_refresh = g.vrrp_garp_master_refresh;
    if (vi.garp_master_refresh_repeat == kUnsetCount)
        vi.garp_master_refresh_repeat = g.vrrp_garp_master_refresh_repeat;
    // keepalived's default: accept mode unless strict.
    if (!vi.accept) vi.accept = !g.vrrp_strict;
}

}  // namespace

void resolve_vrrp(Config& config, ParseContext& ctx)
{
    (void)ctx;
    for (VrrpScript& s : config.vrrp_scripts)
        if (s.timeout == 0) s.timeout = s.interval;
    for (VrrpInstance& vi : config.vrrp_instances) resolve_instance(vi, config.global_defs);
}

}  // namespace kadp::conf
