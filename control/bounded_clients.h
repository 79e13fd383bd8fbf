// Runs on: control thread. The client side shared by the kadpctl socket
// (control_socket.h) and the metrics endpoint (metrics_server.h): accept on
// a listening socket watched by the event loop, one request and one reply
// per connection, everything non-blocking and bounded. The protocol (is
// the request complete? what is the answer?) is the owner's Serve function;
// this class owns the limits.
//
// * At most Limits::max_clients at once: one more is sent `busy_reply`
//   (empty: nothing) without blocking and closed on accept, not queued.
// * A client's bytes are read into one buffer; Serve sees them after every
//   read. Once the buffer holds max_request bytes Serve must answer (it
//   gets `full`); if it does not, the client is dropped: memory per client
//   is at most max_request + one read (1 KiB) and one reply.
// * A client that makes no progress for idle_timeout, or is not done after
//   max_lifetime, is dropped by tick().
// * accept() failing with other than EAGAIN (out of descriptors...) is
//   logged and pauses accepting until the next tick(), instead of spinning
//   on a listener that stays readable.
// * What clients can repeat (busy, accept errors) is logged through a
//   LogLimiter (docs/logging.md), its summaries written by tick().
// * The reply is written with MSG_NOSIGNAL (a client that went away costs
//   a closed descriptor, not a SIGPIPE); once all is written the socket is
//   shut for writing and closed: the close ends the reply.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "control/event_loop.h"
#include "control/log_limiter.h"
#include "control/log_sink.h"

namespace kadp::ctl {

class BoundedClients {
public:
    using Clock = std::chrono::steady_clock;

    struct Limits {
        std::size_t max_clients = 16;
        std::size_t max_request = 4096;
        Clock::duration idle_timeout = std::chrono::seconds(5);
        Clock::duration max_lifetime = std::chrono::seconds(30);
    };

    // What a client sent so far: `bytes` (all of it), `eof` (the peer shut
    // its side: nothing more will come), `full` (bytes.size() >=
    // max_request: answer now). Returns the whole reply, or nullopt while
    // the request is incomplete (with eof or full: the client is dropped
    // unanswered).
    struct Request {
        std::string_view bytes;
        bool eof = false;
        bool full = false;
    };
    using ServeFn = std::function<std::optional<std::string>(const Request&)>;
    using LogFn = LogSink;

    // Watches `listen_fd` (non-blocking, listening; the owner keeps it open
    // for the lifetime of this object) on `loop`, which outlives it.
    // `name` starts the log lines ("control socket", "metrics").
    BoundedClients(EventLoop& loop, int listen_fd, Limits limits, ServeFn serve, std::string busy_reply,
                   std::string name, LogFn log);
    ~BoundedClients();
    BoundedClients(const BoundedClients&) = delete;
    BoundedClients& operator=(const BoundedClients&) = delete;

    // From the loop's tick: drops clients past their deadlines at `now`
    // and resumes a paused accept.
    void tick(Clock::time_point now);
    void tick() { tick(Clock::now()); }

    std::size_t clients() const { return clients_.size(); }
    bool accept_paused() const { return accept_paused_; }
    const Limits& limits() const { return limits_; }

private:
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
    bool read_request(Client& c);  // false: drop the client
    void start_reply(Client& c, std::string text);
    bool write_reply(Client& c);  // false: done or failed (drop)
    void drop(std::uint64_t id);

    EventLoop* loop_;
    int listen_fd_;
    Limits limits_;
    ServeFn serve_;
    std::string busy_reply_;
    std::string name_;
    LogLimiter log_;
    EventLoop::WatchId listen_watch_ = 0;
    bool accept_paused_ = false;
    std::map<std::uint64_t, std::unique_ptr<Client>> clients_;
    std::uint64_t next_client_ = 1;
};

}  // namespace kadp::ctl
