// Runs on: control thread (and `kadp -t`). keepalived 2.2.7's checks on the
// scripts a configuration will run, with what its `-t` reports: a script
// that cannot be found, is not executable by its user or (with
// enable_script_security) is insecure is disabled, and only a vrrp_script
// gets a message for that (keepalived drops the others silently; the dump
// shows them disabled). Without enable_script_security, running scripts at
// all is a "SECURITY VIOLATION" (exit status 6), once for the VRRP scripts
// and once for the checker scripts, as keepalived's two processes say it.
#include <grp.h>
#include <pwd.h>

#include <optional>

#include "conf/script_security.h"
#include "conf/sections.h"

namespace kadp::conf {
namespace {

struct UsedScript {
    Script* script;
    std::string user;   // as configured for this script; empty: script_user
    std::string group;
    std::string what;   // "track script chk": how keepalived names a vrrp_script
    bool vrrp_script;   // keepalived -t reports these when it disables them
    bool checker;       // run by keepalived's checker process, not its VRRP one
};

// The scripts keepalived would execute. keepalived checks every vrrp_script
// when the configuration has VRRP instances (tracked or not: they run), notify
// scripts of instances and sync groups, and the checker process's MISC_CHECK,
// notify_up/down and quorum_up/down scripts.
std::vector<UsedScript> used_scripts(Config& config)
{
    std::vector<UsedScript> used;
    auto add = [&](Script& s, const std::string& what, bool vrrp_script, bool checker) {
        if (!s.empty()) used.push_back({&s, s.user, s.group, what, vrrp_script, checker});
    };
    if (!config.vrrp_instances.empty()) {
        for (auto& s : config.vrrp_scripts) add(s.script, "track script " + s.name, true, false);
        for (auto& g : config.vrrp_sync_groups)
            for (auto* s : {&g.notify_master, &g.notify_backup, &g.notify_fault, &g.notify_stop, &g.notify})
                add(*s, "notify script of sync group " + g.name, false, false);
        for (auto& vi : config.vrrp_instances)
            for (auto* s : {&vi.notify_master, &vi.notify_backup, &vi.notify_fault, &vi.notify_stop, &vi.notify})
                add(*s, "notify script of " + vi.name, false, false);
    }
    for (auto& vs : config.virtual_servers) {
        add(vs.quorum_up, "quorum_up script", false, true);
        add(vs.quorum_down, "quorum_down script", false, true);
        for (auto& rs : vs.real_servers) {
            add(rs.notify_up, "notify_up script of " + rs.address.to_string(), false, true);
            add(rs.notify_down, "notify_down script of " + rs.address.to_string(), false, true);
            for (auto& c : rs.checkers) {
                if (c.type != CheckerType::misc_check || c.misc_path.empty()) continue;
                used.push_back({&c.misc_path, c.user, c.group, "MISC_CHECK of " + rs.address.to_string(), false, true});
            }
        }
    }
    return used;
}

struct Ids {
    uid_t uid;
    gid_t gid;
};

// The uid:gid a script runs as: its own user (and group, else the user's
// primary one), else script_user/script_group, else keepalived_script if it
// exists, else root. nullopt (with the name that failed) when a user or group
// does not exist, or when enable_script_security forbids the root fallback.
std::optional<Ids> script_ids(const UsedScript& u, const GlobalDefs& g, std::string& missing)
{
    const bool own = !u.user.empty();
    std::string user = own ? u.user : g.script_user;
    const std::string group_name = own ? u.group : g.script_group;
    const bool by_default = user.empty();
    if (by_default) user = "keepalived_script";
    const struct passwd* pw = getpwnam(user.c_str());
    if (pw == nullptr) {
        if (by_default && !g.enable_script_security) return Ids{0, 0};
        missing = user;
        return std::nullopt;
    }
    Ids ids{pw->pw_uid, pw->pw_gid};
    if (!group_name.empty()) {
        const struct group* gr = getgrnam(group_name.c_str());
        if (gr == nullptr) {
            missing = group_name;
            return std::nullopt;
        }
        ids.gid = gr->gr_gid;
    }
    return ids;
}

}  // namespace

void validate_scripts(Config& config, ParseContext& ctx)
{
    if (!ctx.options.check_host) return;
    const GlobalDefs& g = config.global_defs;
    struct Found {
        const UsedScript* used;
        bool insecure;
    };
    std::vector<Found> found;  // the scripts that are there (keepalived's SC_ISSCRIPT)
    const auto used = used_scripts(config);
    for (const auto& u : used) {
        Script& s = *u.script;
        std::string missing;
        const auto ids = script_ids(u, g, missing);
        if (!ids) {
            ctx.diags.warning(s.loc, "Unable to set user " + missing + " for " + u.what + " - disabling");
            s.disabled = true;
            continue;
        }
        const ScriptCheck check = check_script(s.argv.front(), ids->uid, ids->gid);
        s.path = check.path;
        switch (check.verdict) {
        case ScriptCheck::Verdict::ok: break;
        case ScriptCheck::Verdict::not_found:
            if (u.vrrp_script)
                ctx.diags.warning(s.loc, "Disabling " + u.what + " since not found/accessible (" + s.argv.front() + ")");
            s.disabled = true;
            continue;
        case ScriptCheck::Verdict::not_executable:
            s.disabled = true;  // keepalived only logs it, at run time
            break;
        case ScriptCheck::Verdict::insecure:
            if (!g.enable_script_security) break;  // keepalived runs it, and says so below
            if (u.vrrp_script)
                ctx.diags.warning(s.loc, "Disabling " + u.what + " due to insecure (" + check.path + ": " + check.unsafe +
                                             " can be changed by a user other than root)");
            s.disabled = true;
            continue;
        }
        found.push_back({&u, check.verdict == ScriptCheck::Verdict::insecure});
    }
    if (g.enable_script_security) return;
    for (const bool checker : {true, false}) {
        const Found* first = nullptr;
        bool insecure = false;
        for (const auto& f : found) {
            if (f.used->checker != checker) continue;
            if (first == nullptr) first = &f;
            insecure = insecure || f.insecure;
        }
        if (first == nullptr) continue;
        ctx.diags.security_violation(first->used->script->loc,
                                     std::string("SECURITY VIOLATION - ") + (checker ? "check " : "") +
                                         "scripts are being executed but script_security not enabled." +
                                         (insecure ? " There are insecure scripts." : ""));
    }
}

}  // namespace kadp::conf
