// Runs on: control thread.
#include "control/event_loop.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>
#include <utility>
#include <vector>

namespace kadp::ctl {
namespace {

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

// epoll_event.data.u64 of the loop's own descriptors; watches count from 3.
constexpr std::uint64_t kSignalsId = 1;
constexpr std::uint64_t kTimerId = 2;
constexpr std::uint64_t kTimersId = 3;

constexpr std::chrono::microseconds kTimerSlack{1000};

}  // namespace

sigset_t control_signals()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

void block_control_signals()
{
    const sigset_t set = control_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

Fd::~Fd()
{
    if (fd_ >= 0) close(fd_);
}

Fd& Fd::operator=(Fd&& o) noexcept
{
    if (this != &o) {
        if (fd_ >= 0) close(fd_);
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}

EventLoop::EventLoop()
{
    epoll_ = Fd(epoll_create1(EPOLL_CLOEXEC));
    if (epoll_.get() < 0) throw_errno("epoll_create1");
    const sigset_t set = control_signals();
    signals_ = Fd(signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
    if (signals_.get() < 0) throw_errno("signalfd");
    timer_ = Fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (timer_.get() < 0) throw_errno("timerfd_create");
    itimerspec every_second{};
    every_second.it_interval.tv_sec = 1;
    every_second.it_value.tv_sec = 1;
    if (timerfd_settime(timer_.get(), 0, &every_second, nullptr) != 0) throw_errno("timerfd_settime");
    timers_fd_ = Fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (timers_fd_.get() < 0) throw_errno("timerfd_create");
    for (const auto& [fd, id] : {std::pair{signals_.get(), kSignalsId}, std::pair{timer_.get(), kTimerId},
                                 std::pair{timers_fd_.get(), kTimersId}}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = id;
        if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) throw_errno("epoll_ctl");
    }
}

EventLoop::WatchId EventLoop::watch(int fd, std::uint32_t events, FdCallback callback)
{
    const WatchId id = next_id_++;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) throw_errno("epoll_ctl(add)");
    watches_.emplace(id, Watch{fd, std::move(callback)});
    return id;
}

bool EventLoop::modify(WatchId id, std::uint32_t events)
{
    const auto it = watches_.find(id);
    if (it == watches_.end()) return false;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    return epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, it->second.fd, &ev) == 0;
}

void EventLoop::unwatch(WatchId id)
{
    const auto it = watches_.find(id);
    if (it == watches_.end()) return;
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.fd, nullptr);
    watches_.erase(it);
}

EventLoop::TimerId EventLoop::add_timer(std::chrono::milliseconds delay, TimerCallback callback)
{
    const TimerId id = next_timer_++;
    const Clock::time_point when = Clock::now() + (delay.count() > 0 ? delay : std::chrono::milliseconds(0));
    timers_.emplace(TimerKey{when, id}, std::move(callback));
    timer_keys_.emplace(id, when);
    if (when < armed_for_) arm_timerfd();
    return id;
}

bool EventLoop::cancel_timer(TimerId id)
{
    const auto it = timer_keys_.find(id);
    if (it == timer_keys_.end()) return false;
    timers_.erase(TimerKey{it->second, id});
    timer_keys_.erase(it);
    // The timerfd may stay armed for a deadline that is gone: it then fires
    // once for nothing and is re-armed for the next one.
    return true;
}

// CLOCK_MONOTONIC is what steady_clock reads on Linux: an absolute deadline
// in its terms needs no conversion. A deadline still ahead is armed up to
// kTimerSlack later, so timers due within that of each other run in one
// wake-up (thousands of health checkers, each with its own deadline, would
// otherwise wake the loop, read the timerfd and re-arm it for one or two
// timers each). One already due is armed as it is: 0 ms timers run on the
// next turn.
void EventLoop::arm_timerfd()
{
    itimerspec spec{};
    if (timers_.empty()) {
        armed_for_ = Clock::time_point::max();
    } else {
        armed_for_ = timers_.begin()->first.first;
        Clock::time_point at = armed_for_;
        if (at > Clock::now()) at += kTimerSlack;
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
        // 0 would disarm: a deadline at the clock's origin is long past anyway.
        spec.it_value.tv_sec = static_cast<time_t>(ns / 1000000000);
        spec.it_value.tv_nsec = static_cast<long>(ns % 1000000000);
        if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
    }
    timerfd_settime(timers_fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

void EventLoop::run_due_timers()
{
    // Only the timers due when the round starts: one a callback arms for
    // 0 ms runs on the next turn, after the descriptors had their chance.
    const Clock::time_point now = Clock::now();
    std::vector<TimerId> due;
    for (auto it = timers_.begin(); it != timers_.end() && it->first.first <= now; ++it) due.push_back(it->first.second);
    for (const TimerId id : due) {
        const auto key = timer_keys_.find(id);
        if (key == timer_keys_.end()) continue;  // cancelled by an earlier callback
        const auto it = timers_.find(TimerKey{key->second, id});
        TimerCallback callback = std::move(it->second);
        timers_.erase(it);
        timer_keys_.erase(key);
        callback();
    }
    arm_timerfd();
}

int EventLoop::run(const LoopHandlers& handlers)
{
    for (;;) {
        epoll_event events[16];
        const int n = epoll_wait(epoll_.get(), events, 16, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            const std::uint64_t id = events[i].data.u64;
            if (id == kTimersId) {
                std::uint64_t expirations = 0;
                if (read(timers_fd_.get(), &expirations, sizeof expirations) < 0 && errno != EAGAIN) throw_errno("read(timerfd)");
                run_due_timers();
                continue;
            }
            if (id == kTimerId) {
                std::uint64_t expirations = 0;
                if (read(timer_.get(), &expirations, sizeof expirations) > 0 && handlers.on_tick) handlers.on_tick();
                continue;
            }
            if (id != kSignalsId) {
                // Looked up now: an earlier callback of this batch may have
                // unwatched it. The copy keeps the callback alive while it
                // unwatches itself.
                const auto it = watches_.find(id);
                if (it == watches_.end()) continue;
                const FdCallback callback = it->second.callback;
                callback(events[i].events);
                continue;
            }
            signalfd_siginfo si{};
            while (read(signals_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                const auto sig = static_cast<int>(si.ssi_signo);
                if (sig == SIGTERM || sig == SIGINT) return sig;
                if (sig == SIGHUP && handlers.on_reload) handlers.on_reload();
            }
        }
    }
}

}  // namespace kadp::ctl
