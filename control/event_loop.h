// Runs on: control thread. The control thread's event loop: epoll over a
// signalfd (SIGTERM/SIGINT stop, SIGHUP reload) and a 1 s timerfd tick.
#pragma once

#include <csignal>
#include <functional>

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
    // Throws std::system_error when a descriptor cannot be created.
    EventLoop();
    // Runs until SIGTERM or SIGINT; returns that signal's number.
    int run(const LoopHandlers& handlers);

private:
    Fd epoll_;
    Fd signals_;
    Fd timer_;
};

}  // namespace kadp::ctl
