// Runs on: control thread. The control thread's event loop: epoll over a
// signalfd (SIGTERM/SIGINT stop, SIGHUP reload), a 1 s timerfd tick,
// one-shot millisecond timers (one more timerfd armed for the earliest, up
// to 1 ms late so that close deadlines share a wake-up), and
// any other descriptor a component asks it to watch (the kadpctl socket and
// its clients, the health checkers' sockets). Callbacks run on the control
// thread, one at a time; none may block.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <utility>

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

    // One-shot timers on the monotonic clock. A timer runs its callback once,
    // `delay` from now or up to 1 ms later (timers due that close together
    // share a wake-up; 0: on the next turn of the loop, after the events
    // already pending); it is removed before its callback runs, so the
    // callback may re-arm it or cancel any timer. Timers due at the same
    // instant run in the order they were armed. Prefer the RAII Timer below.
    using Clock = std::chrono::steady_clock;
    using TimerId = std::uint64_t;
    using TimerCallback = std::function<void()>;
    TimerId add_timer(std::chrono::milliseconds delay, TimerCallback callback);
    // False when it already ran or was cancelled.
    bool cancel_timer(TimerId id);
    bool timer_pending(TimerId id) const { return timer_keys_.contains(id); }
    std::size_t timers() const { return timers_.size(); }
    // Runs the timers due by now (run() does it when the timerfd fires;
    // tests driving the loop by hand may call it).
    void run_due_timers();

private:
    struct Watch {
        int fd;
        FdCallback callback;
    };
    using TimerKey = std::pair<Clock::time_point, TimerId>;

    void arm_timerfd();

    Fd epoll_;
    Fd signals_;
    Fd timer_;
    Fd timers_fd_;  // armed for the earliest of timers_ (or disarmed)
    std::map<WatchId, Watch> watches_;
    WatchId next_id_ = 4;  // 1, 2 and 3: the signalfd, the tick and the timers' timerfd
    std::map<TimerKey, TimerCallback> timers_;  // ordered by deadline, then arming order
    std::map<TimerId, Clock::time_point> timer_keys_;
    TimerId next_timer_ = 1;
    Clock::time_point armed_for_ = Clock::time_point::max();
};

// A rearmable one-shot timer on an EventLoop that cancels itself when
// destroyed: a checker owns one and cannot be called back after it died.
// Control thread only.
class Timer {
public:
    explicit Timer(EventLoop& loop) : loop_(&loop) {}
    ~Timer() { cancel(); }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    // (Re)arms: a pending run is cancelled first.
    void arm(std::chrono::milliseconds delay, EventLoop::TimerCallback callback)
    {
        cancel();
        id_ = loop_->add_timer(delay, std::move(callback));
    }
    void cancel()
    {
        if (id_ != 0) loop_->cancel_timer(id_);
        id_ = 0;
    }
    bool armed() const { return id_ != 0 && loop_->timer_pending(id_); }

private:
    EventLoop* loop_;
    EventLoop::TimerId id_ = 0;
};

}  // namespace kadp::ctl
