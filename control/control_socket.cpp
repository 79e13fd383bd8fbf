// Runs on: control thread.
#include "control/control_socket.h"

#include <sys/epoll.h>
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
        listen_watch_ = loop_->watch(listen_.get(), EPOLLIN, [this](std::uint32_t) { on_accept(); });
    } catch (...) {
        unlink(path_.c_str());
        throw;
    }
    if (const std::string why = unsafe_directory(path_); !why.empty() && log_) {
        log_.warning("control socket " + path_ + ": warning: " + why);
    }
}

ControlServer::~ControlServer() {
    while (!clients_.empty()) drop(clients_.begin()->first);
    loop_->unwatch(listen_watch_);
    // Only our own file: a newer daemon may have replaced it meanwhile.
    struct stat st {};
    if (stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) unlink(path_.c_str());
}

void ControlServer::on_accept() {
    for (;;) {
        Fd fd(accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (fd.get() < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
                limited_.error("control socket: accept", "control socket: accept: " + errno_text(errno));
            }
            return;
        }
        if (clients_.size() >= kMaxClients) {
            static constexpr char kBusy[] = "{\"ok\":false,\"error\":\"too many kadpctl clients at once, retry\"}\n";
            [[maybe_unused]] const ssize_t n = send(fd.get(), kBusy, sizeof kBusy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            limited_.warning("control socket: busy", "control socket: " + std::to_string(clients_.size()) +
                                                         " clients at once, refusing more");
            continue;  // closed by Fd
        }
        const std::uint64_t id = next_client_++;
        auto c = std::make_unique<Client>();
        c->started = c->progress = Clock::now();
        const int raw = fd.get();
        c->fd = std::move(fd);
        try {
            c->watch = loop_->watch(raw, EPOLLIN, [this, id](std::uint32_t ev) { on_client(id, ev); });
        } catch (const std::exception& e) {
            // One client the loop cannot take (out of memory, epoll limits):
            // closed, the daemon carries on.
            limited_.error("control socket: watch", std::string("control socket: ") + e.what());
            continue;
        }
        clients_.emplace(id, std::move(c));
    }
}

void ControlServer::on_client(std::uint64_t id, std::uint32_t events) {
    const auto it = clients_.find(id);
    if (it == clients_.end()) return;
    Client& c = *it->second;
    const bool keep = c.replying ? write_reply(c) : read_request(c);
    if (!keep || ((events & (EPOLLERR | EPOLLHUP)) != 0 && !c.replying)) drop(id);
}

bool ControlServer::read_request(Client& c) {
    char buf[1024];
    for (;;) {
        const ssize_t n = recv(c.fd.get(), buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        if (n == 0) {
            // The peer finished sending: what it sent, without a newline, is the request.
            if (c.in.empty()) return false;
            break;
        }
        c.progress = Clock::now();
        c.in.append(buf, static_cast<std::size_t>(n));
        if (c.in.find('\n') != std::string::npos) break;
        if (c.in.size() >= kMaxRequest) {
            reply(c, error_reply("request longer than " + std::to_string(kMaxRequest) + " bytes"));
            return write_reply(c);
        }
    }
    const std::string line = c.in.substr(0, c.in.find('\n'));
    if (line.size() >= kMaxRequest) {
        reply(c, error_reply("request longer than " + std::to_string(kMaxRequest) + " bytes"));
        return write_reply(c);
    }
    std::string error;
    const auto request = parse_request(line, error);
    if (!request) {
        reply(c, error_reply(error));
    } else if (handler_ == nullptr) {
        reply(c, error_reply("kadp is starting or stopping; retry"));
    } else {
        try {
            reply(c, serve_request(*handler_, *request));
        } catch (const std::exception& e) {
            limited_.error(std::string("control socket: ") + to_string(request->command),
                           std::string("control socket: ") + to_string(request->command) + ": " + e.what());
            reply(c, error_reply(std::string(to_string(request->command)) + " failed: " + e.what()));
        }
    }
    return write_reply(c);
}

void ControlServer::reply(Client& c, std::string text) {
    c.out = std::move(text);
    c.sent = 0;
    c.replying = true;
    c.progress = Clock::now();
    loop_->modify(c.watch, EPOLLOUT);
}

bool ControlServer::write_reply(Client& c) {
    while (c.sent < c.out.size()) {
        const ssize_t n = send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;  // EPOLLOUT calls again
        }
        c.sent += static_cast<std::size_t>(n);
        c.progress = Clock::now();
    }
    return false;  // all sent: closing tells kadpctl the reply is complete
}

void ControlServer::drop(std::uint64_t id) {
    const auto it = clients_.find(id);
    if (it == clients_.end()) return;
    loop_->unwatch(it->second->watch);
    clients_.erase(it);  // closes the descriptor
}

void ControlServer::tick() {
    limited_.flush();
    const auto now = Clock::now();
    for (auto it = clients_.begin(); it != clients_.end();) {
        const Client& c = *it->second;
        const auto id = it->first;
        ++it;
        if (now - c.progress >= kIdleTimeout || now - c.started >= kMaxLifetime) drop(id);
    }
}

}  // namespace kadp::ctl
