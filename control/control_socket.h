// Runs on: control thread. The kadpctl socket: a Unix stream socket served
// from the control thread's event loop, never blocking it.
//
// * Start-up: the parent directory is created (0755) when missing; a socket
//   file left by a dead daemon (connect() refused) is replaced; a live one
//   (connect() succeeds), or a path that is not a socket, fails start-up
//   with a message saying so. The socket is mode 0600 (root only), whatever
//   the umask. A directory another user could replace it in (writable by
//   others without the sticky bit, or someone else's) is logged as a
//   warning (docs/security.md).
// * Each client sends one request line (ctl_protocol.h), gets one reply line
//   and is closed. Everything is non-blocking; a request longer than
//   kMaxRequest gets an error reply; at most kMaxClients are served at once
//   (more are closed on accept); a client that makes no progress for
//   kIdleTimeout, or is not done after kMaxLifetime, is dropped on the next
//   tick(). Writes use MSG_NOSIGNAL: a client that went away costs a closed
//   descriptor, not a SIGPIPE.
// * The destructor closes everything and removes the socket file if it is
//   still the one this server created.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "control/control_handler.h"
#include "control/event_loop.h"
#include "control/log_limiter.h"
#include "control/log_sink.h"

namespace kadp::ctl {

inline constexpr const char* kDefaultControlSocket = "/run/kadp/kadp.sock";

struct ControlSocketError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class ControlServer {
public:
    static constexpr std::size_t kMaxClients = 16;
    static constexpr std::chrono::seconds kIdleTimeout{5};
    static constexpr std::chrono::seconds kMaxLifetime{60};

    using LogFn = LogSink;

    // Binds and listens on `path`, watched by `loop`. Throws
    // ControlSocketError with the reason. `loop` outlives the server.
    // Created before the data plane starts (so a second daemon stops before
    // touching DPDK); requests are answered "starting" until set_handler().
    ControlServer(EventLoop& loop, std::string path, LogFn log);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Who serves the requests (nullptr: none yet / any more); it outlives
    // its use.
    void set_handler(ControlHandler* handler) { handler_ = handler; }

    // From the loop's timer: drops clients past their deadlines.
    void tick();

    const std::string& path() const { return path_; }
    std::size_t clients() const { return clients_.size(); }

private:
    using Clock = std::chrono::steady_clock;
    struct Client {
        Fd fd;
        EventLoop::WatchId watch = 0;
        std::string in;
        std::string out;
        std::size_t sent = 0;
        bool replying = false;
        Clock::time_point started;
        Clock::time_point progress;
    };

    void on_accept();
    void on_client(std::uint64_t id, std::uint32_t events);
    bool read_request(Client& c);   // false: drop the client
    void reply(Client& c, std::string text);
    bool write_reply(Client& c);    // false: done or failed (drop)
    void drop(std::uint64_t id);

    EventLoop* loop_;
    std::string path_;
    ControlHandler* handler_ = nullptr;
    LogFn log_;
    LogLimiter limited_{log_};  // what clients can repeat: accept errors, too many at once
    Fd listen_;
    EventLoop::WatchId listen_watch_ = 0;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    std::map<std::uint64_t, std::unique_ptr<Client>> clients_;
    std::uint64_t next_client_ = 1;
};

}  // namespace kadp::ctl
