// Runs on: control thread. The control thread's event loop: epoll over a
// signalfd (SIGTERM/SIGINT stop, SIGHUP reload), a 1 s timerfd tick, and
// any other descriptor a component asks it to watch (the kadpctl socket and
// its clients). Callbacks run on the control thread, one at a time; none may
// block.
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <map>

namespace kadp::ctl {

// SIGTERM, SIGINT and SIGHUP: what the control loop reads from its signalfd.
sigset_t control_signals();

// Blocks control_signals() in the calling thread and so in every thread it
// creates afterwards (EAL's threads and the workers), so they reach the
// signalfd instead of killing a random thread. Call it before rte_eal_init.
// They stay blocked for the rest of the process: unblocking at shutdown
// would deliver a second SIGTERM with its default action, killing a process
// that is stopping cleanly.
void block_control_signals();

// RAII file descriptor.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd();
    Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

struct LoopHandlers {
    std::function<void()> on_reload;  // SIGHUP
    std::function<void()> on_tick;    // every second
};

class EventLoop {
public:
    // What a watched descriptor's callback receives: epoll's event bits
    // (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR).
    using FdCallback = std::function<void(std::uint32_t events)>;
    using WatchId = std::uint64_t;

    // Throws std::system_error when a descriptor cannot be created.
    EventLoop();
    // Runs until SIGTERM or SIGINT; returns that signal's number.
    int run(const LoopHandlers& handlers);

    // Watches `fd` (not owned) for `events` (EPOLLIN, EPOLLOUT...; level
    // triggered). Returns an id for modify()/unwatch(). Throws
    // std::system_error. A callback may watch, modify and unwatch (itself
    // included): events of an id unwatched during a batch are not delivered,
    // even when the descriptor number was reused meanwhile.
    WatchId watch(int fd, std::uint32_t events, FdCallback callback);
    // Changes the events of a watch; false if epoll refused.
    bool modify(WatchId id, std::uint32_t events);
    // Stops watching (before the caller closes the descriptor).
    void unwatch(WatchId id);
    std::size_t watched() const { return watches_.size(); }

private:
    struct Watch {
        int fd;
        FdCallback callback;
    };

    Fd epoll_;
    Fd signals_;
    Fd timer_;
    std::map<WatchId, Watch> watches_;
    WatchId next_id_ = 3;  // 1 and 2: the signalfd and the timerfd
};

}  // namespace kadp::ctl
