// Runs on: control thread (and `kadp -t`). keepalived's checks on the
// scripts a configuration will run: a script that cannot be found is
// disabled; with enable_script_security every script must have a user to run
// as and must not be replaceable by anyone but root; without it, running
// scripts at all is a "SECURITY VIOLATION" keepalived -t reports.
#include <pwd.h>

#include <algorithm>

#include "conf/script_security.h"
#include "conf/sections.h"

namespace kadp::conf {
namespace {

struct UsedScript {
    Script* script;
    std::string what;  // "track script chk", "notify_master of VI_1", ...
    bool tracked;      // a vrrp_script: keepalived -t reports it when missing
};

// The scripts keepalived would execute: tracked vrrp_scripts, notify and
// quorum scripts, MISC_CHECK paths. An untracked vrrp_script never runs.
std::vector<UsedScript> used_scripts(Config& config)
{
    std::vector<UsedScript> used;
    auto add = [&](Script& s, const std::string& what, bool is_track = false) {
        if (!s.empty()) used.push_back({&s, what, is_track});
    };
    auto tracked = [&](const std::string& name) {
        auto tracks = [&](const std::vector<TrackedScript>& v) {
            return std::any_of(v.begin(), v.end(), [&](const TrackedScript& t) { return t.name == name; });
        };
        return std::any_of(config.vrrp_instances.begin(), config.vrrp_instances.end(),
                           [&](const VrrpInstance& vi) { return tracks(vi.track_script); }) ||
               std::any_of(config.vrrp_sync_groups.begin(), config.vrrp_sync_groups.end(),
                           [&](const VrrpSyncGroup& g) { return tracks(g.track_script); });
    };
    for (auto& s : config.vrrp_scripts)
        if (tracked(s.name)) add(s.script, "track script " + s.name, true);
    for (auto& g : config.vrrp_sync_groups) {
        for (auto* s : {&g.notify_master, &g.notify_backup, &g.notify_fault, &g.notify_stop, &g.notify})
            add(*s, "notify script of sync group " + g.name);
    }
    for (auto& vi : config.vrrp_instances) {
        for (auto* s : {&vi.notify_master, &vi.notify_backup, &vi.notify_fault, &vi.notify_stop, &vi.notify})
            add(*s, "notify script of " + vi.name);
    }
    for (auto& vs : config.virtual_servers) {
        add(vs.quorum_up, "quorum_up script");
        add(vs.quorum_down, "quorum_down script");
        for (auto& rs : vs.real_servers) {
            add(rs.notify_up, "notify_up script of " + rs.address.to_string());
            add(rs.notify_down, "notify_down script of " + rs.address.to_string());
            for (auto& c : rs.checkers)
                if (c.type == CheckerType::misc_check) add(c.misc_path, "MISC_CHECK of " + rs.address.to_string());
        }
    }
    return used;
}

}  // namespace

void validate_scripts(Config& config, ParseContext& ctx)
{
    if (!ctx.options.check_host) return;
    auto used = used_scripts(config);
    const GlobalDefs& g = config.global_defs;
    for (auto& u : used) {
        u.script->path = resolve_script_path(u.script->argv.front());
        if (u.script->path.empty()) {
            // keepalived -t names only missing track scripts; the others are
            // dropped silently (the dump shows them disabled).
            if (u.tracked)
                ctx.diags.warning(u.script->loc, "Disabling " + u.what + " since not found/accessible (" +
                                                     u.script->argv.front() + ")");
            u.script->disabled = true;
        }
    }
    std::erase_if(used, [](const UsedScript& u) { return u.script->disabled; });
    if (used.empty()) return;

    if (!g.enable_script_security) {
        ctx.diags.warning(used.front().script->loc,
                          "SECURITY VIOLATION - scripts are being executed but script_security not enabled.");
        return;
    }
    for (auto& u : used) {
        std::string user = !u.script->user.empty() ? u.script->user
                           : !g.script_user.empty() ? g.script_user
                                                    : "keepalived_script";
        if (getpwnam(user.c_str()) == nullptr) {
            ctx.diags.warning(u.script->loc, "Unable to set user " + user + " for " + u.what + " - disabling");
            u.script->disabled = true;
        } else if (!path_is_secure(u.script->path)) {
            ctx.diags.warning(u.script->loc, "Disabling " + u.what + " due to insecure path " + u.script->path +
                                                 " (writable by a user other than root)");
            u.script->disabled = true;
        }
    }
}

}  // namespace kadp::conf
