// Runs on: control thread (and `kadp -t`).
#include "conf/script_security.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>
#include <system_error>

namespace kadp::conf {
namespace {

namespace fs = std::filesystem;

// Root searches every directory; keepalived resolves the path with the
// script's effective ids, so a directory the user cannot search hides it.
bool searchable_by(const struct stat& st, uid_t uid, gid_t gid)
{
    return uid == 0 || executable_by(st, uid, gid);
}

// Every directory above `p` exists and uid:gid may search it.
bool reachable_by(const fs::path& p, uid_t uid, gid_t gid)
{
    if (uid == 0) return true;
    for (fs::path dir = p.parent_path(); !dir.empty(); dir = dir.parent_path()) {
        struct stat st {};
        if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || !searchable_by(st, uid, gid)) return false;
        if (dir == dir.root_path()) break;
    }
    return true;
}

// find_path(): the first regular file in kScriptPath that uid:gid may
// execute; empty when there is none.
std::string search_path(const std::string& name, uid_t uid, gid_t gid)
{
    std::string_view dirs = kScriptPath;
    while (!dirs.empty()) {
        const auto colon = dirs.find(':');
        const std::string p = std::string(dirs.substr(0, colon)) + "/" + name;
        struct stat st {};
        if (stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && executable_by(st, uid, gid) && reachable_by(p, uid, gid))
            return p;
        dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    }
    return {};
}

// Whether a non-root user could replace what this component holds. A
// sticky directory lets others create names but not touch root's, so it may
// be writable by anyone; root's group counts as root.
bool unsafe_component(const struct stat& st)
{
    if (st.st_uid != 0) return true;
    const bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) != 0;
    if (sticky_dir) return false;
    return (st.st_gid != 0 && (st.st_mode & S_IWGRP) != 0) || (st.st_mode & S_IWOTH) != 0;
}

// Root privileges: the user or group is root, or the file is set-uid root
// or set-gid root (and executable that way).
bool runs_privileged(const struct stat& st, uid_t uid, gid_t gid)
{
    return uid == 0 || gid == 0 || (st.st_uid == 0 && (st.st_mode & S_IXUSR) && (st.st_mode & S_ISUID)) ||
           (st.st_gid == 0 && (st.st_mode & S_IXGRP) && (st.st_mode & S_ISGID));
}

}  // namespace

ScriptCheck check_script(const std::string& argv0, uid_t uid, gid_t gid)
{
    ScriptCheck r;
    if (argv0.empty()) return r;
    std::string written = argv0;
    if (argv0.find('/') == std::string::npos) {
        written = search_path(argv0, uid, gid);
        if (written.empty()) return r;
    }
    std::error_code ec;
    const fs::path abs = fs::absolute(written, ec).lexically_normal();
    if (ec || !reachable_by(abs, uid, gid)) return r;
    const std::unique_ptr<char, decltype(&std::free)> real(realpath(written.c_str(), nullptr), &std::free);
    if (!real || !reachable_by(real.get(), uid, gid)) return r;

    struct stat st {};
    if (stat(real.get(), &st) != 0) return r;
    r.path = real.get();
    if (!S_ISREG(st.st_mode) || !executable_by(st, uid, gid)) {
        r.verdict = ScriptCheck::Verdict::not_executable;
        return r;
    }
    r.verdict = ScriptCheck::Verdict::ok;
    if (!runs_privileged(st, uid, gid)) return r;

    // "/" first, then each longer prefix down to the file itself.
    fs::path prefix;
    for (const auto& part : fs::path(r.path)) {
        prefix /= part;
        struct stat cst {};
        if (stat(prefix.c_str(), &cst) != 0) {
            r.verdict = ScriptCheck::Verdict::not_found;
            return r;
        }
        if (unsafe_component(cst)) {
            r.verdict = ScriptCheck::Verdict::insecure;
            r.unsafe = prefix.string();
            return r;
        }
    }
    return r;
}

bool executable_by(const struct stat& st, uid_t uid, gid_t gid)
{
    if (uid == 0) return (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
    if (uid == st.st_uid) return (st.st_mode & S_IXUSR) != 0;
    if (gid == st.st_gid) return (st.st_mode & S_IXGRP) != 0;
    return (st.st_mode & S_IXOTH) != 0;
}

}  // namespace kadp::conf
