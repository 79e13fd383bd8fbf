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
//   and is closed. Everything is non-blocking (bounded_clients.h); a request
//   longer than kMaxRequest gets an error reply; at most kMaxClients are
//   served at once (one more is told to retry and closed on accept); a
//   client that makes no progress for kIdleTimeout, or is not done after
//   kMaxLifetime, is dropped on the next tick(). Writes use MSG_NOSIGNAL: a
//   client that went away costs a closed descriptor, not a SIGPIPE.
// * The destructor closes everything and removes the socket file if it is
//   still the one this server created.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "control/bounded_clients.h"
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
    void tick()
    {
        clients_->tick();
        limited_.flush();
    }

    const std::string& path() const { return path_; }
    std::size_t clients() const { return clients_->clients(); }

private:
    std::optional<std::string> serve(const BoundedClients::Request& r);

    EventLoop* loop_;
    std::string path_;
    ControlHandler* handler_ = nullptr;
    LogFn log_;
    LogLimiter limited_{log_};  // failures clients can make repeat (BoundedClients limits its own lines)
    Fd listen_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    std::unique_ptr<BoundedClients> clients_;  // after listen_: destroyed before it
};

}  // namespace kadp::ctl
