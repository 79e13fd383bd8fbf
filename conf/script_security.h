// Runs on: control thread (and `kadp -t`). keepalived 2.2.7's checks on a
// script before it may run (check_script_secure() in its lib/notify.c), in
// one function shared by the configuration check (validate_scripts.cpp) and
// the script runner's check before every run (control/script_runner.h): the
// file may have changed since the load.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>

namespace kadp::conf {

// The search path for bare script names (keepalived searches its own PATH;
// kadp uses a fixed one so the daemon's environment does not matter).
inline constexpr const char* kScriptPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct ScriptCheck {
    enum class Verdict {
        ok,
        // Missing; a bare name with no regular file executable by the user
        // in kScriptPath; or a directory on the way the user cannot search.
        not_found,
        // Found, but the user may not execute it.
        not_executable,
        // It would run with root privileges (the user or the group is root,
        // or it is set-uid/set-gid root) and a component of its real path is
        // not owned by root, or is writable by a non-root user (see
        // check_script). keepalived runs such a script anyway when
        // enable_script_security is off.
        insecure,
    };
    Verdict verdict = Verdict::not_found;
    // Absolute, with symbolic links, "." and ".." resolved (keepalived runs
    // and names the script by this path). Empty when not found.
    std::string path;
    // insecure: the first component of `path` that fails, from "/" down.
    std::string unsafe;
};

// keepalived 2.2.7's rule for a script whose argv[0] is `argv0`, to run as
// uid:gid:
// * a name without '/' is searched in kScriptPath for a regular file uid:gid
//   may execute; a name with one is taken relative to the current directory;
// * the path is resolved as uid:gid would resolve it (every directory on the
//   way searchable by them, root passes everywhere);
// * the file must be executable by uid:gid (executable_by);
// * only a script that runs with root privileges is checked further: each
//   component of the real path, "/" first, must be owned by root, and must
//   be neither world-writable nor group-writable with a group other than
//   root, except that a directory with the sticky bit (such as /tmp) may be
//   writable by anyone. Only the real path is walked, not the path as
//   written: a symbolic link in an insecure directory that leads to a secure
//   file passes, one that leads into an insecure directory does not.
ScriptCheck check_script(const std::string& argv0, uid_t uid, gid_t gid);

// keepalived's is_executable(): whether uid:gid may execute a file of this
// mode and owner (root: any x bit).
bool executable_by(const struct stat& st, uid_t uid, gid_t gid);

}  // namespace kadp::conf
