// Runs on: control thread (and `kadp -t`).
#include "conf/script_security.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string_view>
#include <system_error>

namespace kadp::conf {
namespace {

bool executable_file(const std::string& p)
{
    struct stat st {};
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
}

// Walks `p` and its parents up to '/'; `follow` = stat (the target of a
// link) or lstat (the link itself, for the path as written).
std::optional<std::string> first_insecure(std::filesystem::path p, bool follow)
{
    for (;;) {
        struct stat st {};
        const int rc = follow ? stat(p.c_str(), &st) : lstat(p.c_str(), &st);
        if (rc != 0) return p.string();
        // A symbolic link's own mode is always 0777 and means nothing: its
        // owner and its directory decide who can replace it.
        const bool writable = !S_ISLNK(st.st_mode) && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
        if (st.st_uid != 0 || writable) return p.string();
        if (!p.has_parent_path() || p == p.parent_path()) return std::nullopt;
        p = p.parent_path();
    }
}

}  // namespace

std::string resolve_script_path(const std::string& name)
{
    if (name.find('/') != std::string::npos) {
        if (!executable_file(name)) return {};
        std::error_code ec;
        auto abs = std::filesystem::absolute(name, ec);
        return ec ? name : abs.lexically_normal().string();
    }
    std::string_view dirs = kScriptPath;
    while (!dirs.empty()) {
        const auto colon = dirs.find(':');
        const std::string p = std::string(dirs.substr(0, colon)) + "/" + name;
        if (executable_file(p)) return p;
        dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    }
    return {};
}

std::optional<std::string> insecure_path_component(const std::string& path)
{
    std::error_code ec;
    const std::filesystem::path written = std::filesystem::absolute(path, ec).lexically_normal();
    if (ec) return path;
    if (auto bad = first_insecure(written, false)) return bad;
    const std::filesystem::path real = std::filesystem::weakly_canonical(written, ec);
    if (ec) return path;
    return real == written ? std::nullopt : first_insecure(real, true);
}

bool executable_by(const struct stat& st, uid_t uid, gid_t gid)
{
    if (uid == 0) return (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
    if (uid == st.st_uid) return (st.st_mode & S_IXUSR) != 0;
    if (gid == st.st_gid) return (st.st_mode & S_IXGRP) != 0;
    return (st.st_mode & S_IXOTH) != 0;
}

}  // namespace kadp::conf
