// Runs on: control thread (and `kadp -t`). The file-system checks keepalived
// makes on a script before it may run, shared by the configuration check
// (validate_scripts.cpp) and the script runner's check at run time
// (control/script_runner.h): the file may have changed since the load.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>

namespace kadp::conf {

// argv[0] as execvp would find it: a name with a '/' is taken as is (made
// absolute against the current directory), a bare name is searched in
// kScriptPath. Empty when it is not an executable regular file.
std::string resolve_script_path(const std::string& name);

// The search path for bare script names (keepalived searches its own PATH;
// kadp uses a fixed one so the daemon's environment does not matter).
inline constexpr const char* kScriptPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// keepalived's rule, slightly stricter: the file and every directory above
// it must be owned by root and not writable by group or others. A sticky
// directory such as /tmp still lets others plant or replace what they own,
// so it counts as insecure too (keepalived accepts sticky root directories
// and root-group-writable ones). Both the path as written and the path its
// symbolic links lead to are walked: either could be swapped.
// Returns the first component that fails (or cannot be examined), nullopt
// when the whole path is secure.
std::optional<std::string> insecure_path_component(const std::string& path);
inline bool path_is_secure(const std::string& path) { return !insecure_path_component(path).has_value(); }

// keepalived's is_executable(): whether uid:gid may execute a file of this
// mode and owner (root: any x bit).
bool executable_by(const struct stat& st, uid_t uid, gid_t gid);

}  // namespace kadp::conf
