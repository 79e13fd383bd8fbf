// Runs on: control thread.
#include "control/control_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "control/ctl_protocol.h"

namespace kadp::ctl {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

sockaddr_un address_of(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof a.sun_path) {
        throw ControlSocketError("control socket path '" + path + "' is empty or longer than " +
                                 std::to_string(sizeof a.sun_path - 1) + " bytes");
    }
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    return a;
}

// mkdir -p of the socket's directory (0755: the socket itself is 0600).
void make_parent(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return;
    const std::string dir = path.substr(0, slash);
    for (std::size_t i = 1; i <= dir.size(); ++i) {
        if (i != dir.size() && dir[i] != '/') continue;
        const std::string part = dir.substr(0, i);
        if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
            throw ControlSocketError("control socket: cannot create directory " + part + ": " + errno_text(errno));
        }
    }
}

// A file already at `path`: replaced when it is a socket nobody listens on
// (a daemon that died), refused otherwise.
void clear_stale(const std::string& path, const sockaddr_un& addr) {
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        throw ControlSocketError("control socket " + path + ": " + errno_text(errno));
    }
    if (!S_ISSOCK(st.st_mode)) {
        throw ControlSocketError("control socket " + path + " exists and is not a socket: not replacing it");
    }
    Fd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe.get() < 0) throw ControlSocketError("control socket: socket(): " + errno_text(errno));
    if (connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        throw ControlSocketError("control socket " + path +
                                 " is in use by a running kadp (another daemon answers on it); stop it or use "
                                 "--control-socket PATH");
    }
    if (errno != ECONNREFUSED) {
        throw ControlSocketError("control socket " + path + ": cannot tell whether it is in use: " + errno_text(errno));
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
        throw ControlSocketError("control socket " + path + ": cannot remove the stale socket: " + errno_text(errno));
    }
}

// Why another user could replace the socket in its directory (rename it
// away and bind their own), or empty. Safe: owned by kadp's user or root,
// and writable by nobody else - or sticky (/tmp), where others cannot
// rename what they do not own. Group root counts as root, as for scripts.
std::string unsafe_directory(const std::string& path) {
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0) return {};
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        return "its directory " + dir + " belongs to uid " + std::to_string(st.st_uid) +
               ", who could replace the socket; use a directory of root's such as /run/kadp";
    }
    const bool others = (st.st_mode & S_IWOTH) != 0 || ((st.st_mode & S_IWGRP) != 0 && st.st_gid != 0);
    if (others && (st.st_mode & S_ISVTX) == 0) {
        return "its directory " + dir + " (mode " + mode +
               ") is writable by other users, who could replace the socket; use a directory only root can "
               "write such as /run/kadp";
    }
    return {};
}

}  // namespace

ControlServer::ControlServer(EventLoop& loop, std::string path, LogFn log)
    : loop_(&loop), path_(std::move(path)), log_(std::move(log)) {
    const sockaddr_un addr = address_of(path_);
    make_parent(path_);
    clear_stale(path_, addr);
    listen_ = Fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (listen_.get() < 0) throw ControlSocketError("control socket: socket(): " + errno_text(errno));
    // The file is created by bind(): with umask 0177 it is 0600 from the
    // first instant, not only after the chmod below.
    const mode_t old_mask = umask(0177);
    const int rc = bind(listen_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int bind_errno = errno;
    umask(old_mask);
    if (rc != 0) throw ControlSocketError("control socket " + path_ + ": bind: " + errno_text(bind_errno));
    struct stat st {};
    if (chmod(path_.c_str(), 0600) != 0 || stat(path_.c_str(), &st) != 0) {
        const int e = errno;
        unlink(path_.c_str());
        throw ControlSocketError("control socket " + path_ + ": " + errno_text(e));
    }
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    if (listen(listen_.get(), 16) != 0) {
        const int e = errno;
        unlink(path_.c_str());
        throw ControlSocketError("control socket " + path_ + ": listen: " + errno_text(e));
    }
    try {
        clients_ = std::make_unique<BoundedClients>(
            *loop_, listen_.get(), BoundedClients::Limits{kMaxClients, kMaxRequest, kIdleTimeout, kMaxLifetime},
            [this](const BoundedClients::Request& r) { return serve(r); },
            "{\"ok\":false,\"error\":\"too many kadpctl clients at once, retry\"}\n", "control socket", log_);
    } catch (...) {
        unlink(path_.c_str());
        throw;
    }
    if (const std::string why = unsafe_directory(path_); !why.empty() && log_) {
        log_.warning("control socket " + path_ + ": warning: " + why);
    }
}

ControlServer::~ControlServer() {
    clients_.reset();
    // Only our own file: a newer daemon may have replaced it meanwhile.
    struct stat st {};
    if (stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) unlink(path_.c_str());
}

// One line, or what came before the end of input (kadpctl shuts its side).
std::optional<std::string> ControlServer::serve(const BoundedClients::Request& r) {
    const std::size_t nl = r.bytes.find('\n');
    if (nl == std::string_view::npos && !r.eof && !r.full) return std::nullopt;
    if (nl == std::string_view::npos && r.eof && r.bytes.empty()) return std::nullopt;  // gone without a word
    const std::string_view line = r.bytes.substr(0, nl);
    if (line.size() >= kMaxRequest || (nl == std::string_view::npos && r.full)) {
        return error_reply("request longer than " + std::to_string(kMaxRequest) + " bytes");
    }
    std::string error;
    const auto request = parse_request(line, error);
    if (!request) return error_reply(error);
    if (handler_ == nullptr) return error_reply("kadp is starting or stopping; retry");
    try {
        return serve_request(*handler_, *request);
    } catch (const std::exception& e) {
        limited_.error("control socket: failed",
                       std::string("control socket: ") + to_string(request->command) + ": " + e.what());
        return error_reply(std::string(to_string(request->command)) + " failed: " + e.what());
    }
}

}  // namespace kadp::ctl
