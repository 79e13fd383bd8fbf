// Runs on: control thread. Cross checks of the VRRP sections, after
// resolve_vrrp: what keepalived 2.2.7 rejects or corrects in
// vrrp_complete_instance and friends, plus references that point nowhere.
// Messages follow keepalived's wording where it has one.
#include <net/if.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "conf/sections.h"
#include "conf/lexer.h"

namespace kadp::conf {
namespace {

std::string fmt_seconds(double v)
{
    std::ostringstream o;
    o << v;
    return o.str();
}

// v2 adverts carry whole seconds, v3 centiseconds up to 40.95 s.
void check_advert_int(VrrpInstance& vi, ParseContext& ctx)
{
    if (vi.version == 2) {
        double rounded = std::max(1.0, std::floor(vi.advert_int + 0.5));
        if (rounded != vi.advert_int) {
            ctx.diags.warning(vi.loc, "(" + vi.name + ") VRRPv2 advertisement interval " + fmt_seconds(vi.advert_int) +
                                          "s must be an integer - rounding to " + fmt_seconds(rounded) + "s");
            vi.advert_int = rounded;
        }
        return;
    }
    if (vi.advert_int > 40.95) {
        ctx.diags.warning(vi.loc, "(" + vi.name + ") VRRPv3 advertisement interval " + fmt_seconds(vi.advert_int) +
                                      "s is out of range. Must be less than 40.96s. Setting to 40.95s");
        vi.advert_int = 40.95;
        return;
    }
    double cs = std::floor(vi.advert_int * 100 + 0.5);
    if (std::fabs(cs - vi.advert_int * 100) > 1e-6) {
        double rounded = std::max(1.0, cs) / 100;
        ctx.diags.warning(vi.loc, "(" + vi.name + ") VRRPv3 advertisement interval " + fmt_seconds(vi.advert_int) +
                                      "s must be in units of 10ms - rounding to " + fmt_seconds(rounded) + "s");
        vi.advert_int = rounded;
    }
}

void check_authentication(VrrpInstance& vi, const GlobalDefs& g, ParseContext& ctx)
{
    if (vi.auth_type == AuthType::none) return;
    auto drop = [&](const std::string& why) {
        ctx.diags.warning(vi.loc, "(" + vi.name + ") " + why);
        vi.auth_type = AuthType::none;
        vi.auth_pass.clear();
    };
    if (vi.version == 3) return drop("VRRP version 3 does not support authentication. Ignoring.");
    if (g.vrrp_strict) return drop("Strict mode does not support authentication. Ignoring.");
    if (vi.auth_pass.empty()) return drop("Authentication specified but no password given. Ignoring");
    if (vi.auth_type == AuthType::ah && vi.state == VrrpState::master) {
        ctx.diags.warning(vi.loc, "(" + vi.name + ") Initial state master is incompatible with AH authentication - "
                                                  "clearing (starting as BACKUP)");
        vi.state = VrrpState::backup;
    }
}

void check_preempt(VrrpInstance& vi, ParseContext& ctx)
{
    if (vi.nopreempt && vi.priority == 255) {
        ctx.diags.warning(vi.loc, "(" + vi.name + ") nopreempt is incompatible with priority 255. resetting nopreempt");
        vi.nopreempt = false;
    }
    if (vi.nopreempt && vi.state == VrrpState::master) {
        ctx.diags.warning(vi.loc, "(" + vi.name + ") Warning - nopreempt will not work with initial state MASTER - "
                                                  "clearing");
        vi.nopreempt = false;
    }
    if (vi.preempt_delay > 0 && vi.state == VrrpState::master) {
        ctx.diags.warning(vi.loc, "(" + vi.name + ") Warning - preempt delay will not work with initial state "
                                                  "MASTER - clearing");
        vi.preempt_delay = 0;
    }
}

// keepalived tracks a virtual route through its interface: one without `dev`
// (and without `no_track`) cannot be tracked, which it reports.
void check_route_tracking(const VrrpInstance& vi, ParseContext& ctx)
{
    for (const Route& r : vi.virtual_routes) {
        if (!r.dev.empty()) continue;
        auto words = split_tokens(r.text);
        if (std::find(words.begin(), words.end(), "no_track") != words.end()) continue;
        ctx.diags.warning(r.loc, "Warning - cannot track route " + r.destination.to_string() +
                                     " with no interface specified, not tracking");
    }
}

// Instance-local checks; false when the instance must be removed.
bool check_instance(VrrpInstance& vi, const GlobalDefs& g, ParseContext& ctx)
{
    if (vi.virtual_router_id < 0) return false;  // an invalid value was already reported
    if (vi.virtual_router_id == 0) {
        ctx.diags.error(vi.loc, "(" + vi.name + ") the virtual router id must be set (virtual_router_id 1..255)");
        return false;
    }
    if (vi.interface.empty() && vi.unicast_peer.empty()) {
        ctx.diags.error(vi.loc, "(" + vi.name + ") Unknown interface! (an instance needs `interface` unless it "
                                                "uses unicast_peer)");
    }
    if (g.vrrp_strict && vi.state == VrrpState::master && vi.priority != 255) {
        ctx.diags.warning(vi.loc, "(" + vi.name + ") State MASTER must match being address owner (priority 255) in "
                                                  "strict mode - starting as BACKUP");
        vi.state = VrrpState::backup;
    }
    check_advert_int(vi, ctx);
    check_authentication(vi, g, ctx);
    check_preempt(vi, ctx);
    check_route_tracking(vi, ctx);
    if (vi.virtual_ipaddress.empty())
        ctx.diags.warning(vi.loc, "(" + vi.name + ") No VIP specified; at least one is sensible");
    return true;
}

void check_track_scripts(std::vector<TrackedScript>& list, const std::string& owner, const Config& config,
                         ParseContext& ctx)
{
    std::erase_if(list, [&](const TrackedScript& t) {
        bool found = std::any_of(config.vrrp_scripts.begin(), config.vrrp_scripts.end(),
                                 [&](const VrrpScript& s) { return s.name == t.name; });
        if (!found) ctx.diags.warning(t.loc, "(" + owner + ") track script " + t.name + " not found, ignoring...");
        return !found;
    });
}

// Sync group members must change state together, so keepalived ignores the
// tracking weights of their scripts and interfaces (unless global_tracking):
// said here at load time; what it means at run time (a weighted script is
// not tracked at all; an interface's weight, as the 2.2.7 binary does, is
// still applied) is vrrp::Tracker's job, so the model keeps the weights.
void warn_member_weights(const VrrpInstance& vi, const Config& config, ParseContext& ctx)
{
    for (const TrackedScript& t : vi.track_script) {
        int weight = t.weight.value_or(0);
        if (!t.weight) {
            for (const VrrpScript& s : config.vrrp_scripts)
                if (s.name == t.name) weight = s.weight;
        }
        if (weight == 0) continue;
        ctx.diags.warning(t.loc, "(" + vi.name + ") ignoring weight of tracked script " + t.name +
                                     " due to SYNC group " + vi.sync_group);
    }
    for (const TrackedInterface& t : vi.track_interface) {
        if (t.weight == 0) continue;
        ctx.diags.warning(t.loc, "(" + vi.name + ") ignoring weight of tracked interface " + t.name +
                                     " due to SYNC group " + vi.sync_group);
    }
}

// Members that do not exist are dropped, an instance in two groups stays in
// the first, a group left empty is removed: all as keepalived does.
void check_sync_groups(Config& config, ParseContext& ctx)
{
    std::map<std::string, VrrpInstance*> by_name;
    for (VrrpInstance& vi : config.vrrp_instances) by_name[vi.name] = &vi;
    for (VrrpSyncGroup& sg : config.vrrp_sync_groups) {
        std::vector<std::string> kept;
        for (const std::string& member : sg.group) {
            auto it = by_name.find(member);
            if (it == by_name.end()) {
                ctx.diags.warning(sg.loc, "Virtual router " + member + " specified in sync group " + sg.name +
                                              " doesn't exist - ignoring");
            } else if (!it->second->sync_group.empty()) {
                ctx.diags.warning(sg.loc, "Virtual router " + member + " cannot exist in more than one sync group (" +
                                              it->second->sync_group + " and " + sg.name + "); ignoring " + sg.name);
            } else if (std::find(kept.begin(), kept.end(), member) == kept.end()) {
                it->second->sync_group = sg.name;
                kept.push_back(member);
            }
        }
        sg.group = kept;
        if (!sg.global_tracking)
            for (const std::string& member : kept) warn_member_weights(*by_name[member], config, ctx);
        check_track_scripts(sg.track_script, sg.name, config, ctx);
        if (kept.size() == 1)
            ctx.diags.warning(sg.loc, "Sync group " + sg.name +
                                          " has only 1 virtual router(s) - this probably isn't what you want");
    }
    std::erase_if(config.vrrp_sync_groups, [&](const VrrpSyncGroup& sg) {
        if (!sg.group.empty()) return false;
        ctx.diags.warning(sg.loc, "Sync group " + sg.name + ", no matching virtual router found in group "
                                                            "declaration - removing");
        return true;
    });
}

const char* family_name(bool v6) { return v6 ? "IPv6" : "IPv4"; }

bool is_v6(const VrrpInstance& vi)
{
    if (!vi.virtual_ipaddress.empty()) return vi.virtual_ipaddress.front().address.addr.is_v6();
    if (!vi.unicast_src_ip.empty()) return vi.unicast_src_ip.is_v6();
    if (!vi.unicast_peer.empty()) return vi.unicast_peer.front().is_v6();
    return false;
}

// Unicast instances whose peer lists do not overlap may share a VRID.
bool peers_disjoint(const VrrpInstance& a, const VrrpInstance& b)
{
    if (a.unicast_peer.empty() || b.unicast_peer.empty()) return false;
    for (const IpAddr& p : a.unicast_peer)
        if (std::find(b.unicast_peer.begin(), b.unicast_peer.end(), p) != b.unicast_peer.end()) return false;
    return true;
}

void check_duplicates(const Config& config, ParseContext& ctx)
{
    const auto& all = config.vrrp_instances;
    for (std::size_t i = 0; i < all.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            const VrrpInstance& a = all[j];
            const VrrpInstance& b = all[i];
            if (a.virtual_router_id == b.virtual_router_id && a.interface == b.interface && is_v6(a) == is_v6(b) &&
                !peers_disjoint(a, b)) {
                ctx.diags.error(b.loc, a.name + " and " + b.name + " both use VRID " +
                                           std::to_string(b.virtual_router_id) + " with " + family_name(is_v6(b)) +
                                           " on interface " + (b.interface.empty() ? "(none)" : b.interface));
            }
        }
    }
    // The same VIP in two instances: two masters would fight over it.
    std::map<std::string, const VrrpInstance*> owner;
    for (const VrrpInstance& vi : all) {
        auto note = [&](const VirtualIp& v) {
            std::string key = v.address.addr.to_string();
            auto [it, fresh] = owner.emplace(key, &vi);
            if (!fresh && it->second != &vi)
                ctx.diags.warning(v.loc, "(" + vi.name + ") virtual address " + key + " is also used by vrrp_instance " +
                                             it->second->name);
        };
        for (const VirtualIp& v : vi.virtual_ipaddress) note(v);
        for (const VirtualIp& v : vi.virtual_ipaddress_excluded) note(v);
    }
}

// ---------------------------------------------------------------- interfaces
struct InterfaceCheck {
    const Config& config;
    ParseContext& ctx;

    bool exists(const std::string& name) const
    {
        if (config.dataplane) {
            return std::any_of(config.dataplane->interfaces.begin(), config.dataplane->interfaces.end(),
                               [&](const DataplaneInterface& d) { return d.name == name; });
        }
        return if_nametoindex(name.c_str()) != 0;
    }

    // Kernel: a warning, as keepalived; dataplane: an error, kadp cannot use it.
    void need(const std::string& name, const SourceLoc& loc, const std::string& what) const
    {
        if (name.empty() || exists(name)) return;
        if (config.dataplane) {
            ctx.diags.error(loc, "interface " + name + " for " + what + " is not a dataplane interface");
        } else {
            ctx.diags.warning(loc, "WARNING - interface " + name + " for " + what + " doesn't exist");
        }
    }
};

void check_interfaces(const Config& config, ParseContext& ctx)
{
    if (!config.dataplane && !ctx.options.check_host) return;
    InterfaceCheck c{config, ctx};
    for (const VrrpInstance& vi : config.vrrp_instances) {
        c.need(vi.interface, vi.interface_loc, "vrrp_instance " + vi.name);
        if (config.dataplane) continue;  // only the instance's own interface is a dataplane port
        for (const TrackedInterface& t : vi.track_interface) c.need(t.name, t.loc, "track_interface of " + vi.name);
        for (const VirtualIp& v : vi.virtual_ipaddress) c.need(v.dev, v.loc, "ip address " + v.address.to_string());
        for (const VirtualIp& v : vi.virtual_ipaddress_excluded)
            c.need(v.dev, v.loc, "ip address " + v.address.to_string());
        for (const Route& r : vi.virtual_routes) c.need(r.dev, r.loc, "route " + r.destination.to_string());
    }
    if (config.dataplane) return;
    for (const VrrpSyncGroup& sg : config.vrrp_sync_groups)
        for (const TrackedInterface& t : sg.track_interface) c.need(t.name, t.loc, "track_interface of " + sg.name);
    for (const IpAddress& a : config.static_ipaddress) c.need(a.dev, a.loc, "ip address " + a.address.to_string());
    for (const Route& r : config.static_routes) c.need(r.dev, r.loc, "route " + r.destination.to_string());
}

void check_lvs_sync_daemon(const Config& config, ParseContext& ctx)
{
    const auto& d = config.global_defs.lvs_sync_daemon;
    if (!d || d->vrrp_instance.empty()) return;
    bool found = std::any_of(config.vrrp_instances.begin(), config.vrrp_instances.end(),
                             [&](const VrrpInstance& vi) { return vi.name == d->vrrp_instance; });
    if (!found)
        ctx.diags.warning(config.global_defs.loc, "lvs_sync_daemon: vrrp_instance " + d->vrrp_instance +
                                                      " doesn't exist");
}

}  // namespace

void validate_vrrp(Config& config, ParseContext& ctx)
{
    std::erase_if(config.vrrp_instances,
                  [&](VrrpInstance& vi) { return !check_instance(vi, config.global_defs, ctx); });
    for (VrrpInstance& vi : config.vrrp_instances) check_track_scripts(vi.track_script, vi.name, config, ctx);
    check_sync_groups(config, ctx);
    check_duplicates(config, ctx);
    check_interfaces(config, ctx);
    check_lvs_sync_daemon(config, ctx);
}

}  // namespace kadp::conf
