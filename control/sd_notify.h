// Runs on: control thread. systemd's readiness and watchdog protocol without
// libsystemd: each message is one datagram of "KEY=VALUE\n" lines sent to the
// AF_UNIX socket named by $NOTIFY_SOCKET (an abstract socket when the name
// starts with '@'). With no $NOTIFY_SOCKET every call is a no-op, so kadp run
// by hand or by a test behaves as before. docs/operations.md.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "control/event_loop.h"

namespace kadp::ctl {

class SdNotify {
public:
    // Disabled: sends nothing.
    SdNotify() = default;
    // `socket`: a path, or "@name" for an abstract socket; empty: disabled.
    // `watchdog`: systemd's WatchdogSec (0: no watchdog). Throws
    // std::system_error when the datagram socket cannot be created.
    SdNotify(std::string socket, std::chrono::microseconds watchdog);

    // $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (the watchdog is ours
    // only when WATCHDOG_PID is unset or our pid). The three variables are
    // then removed from the environment, so the scripts kadp runs (checkers,
    // notify scripts) do not inherit them. Call before other threads start.
    static SdNotify from_environment();

    bool enabled() const { return fd_.get() >= 0; }
    // 0: no watchdog. kadp pings at half of it.
    std::chrono::microseconds watchdog() const { return watchdog_; }

    // One datagram; false when disabled or the send failed (never blocks:
    // a full socket drops the message, systemd's own behaviour for late pings).
    bool send(std::string_view message) const;

    void ready(std::string_view status) const;
    // RELOADING=1 with MONOTONIC_USEC (what Type=notify-reload wants too).
    void reloading() const;
    void stopping(std::string_view status) const;
    void status(std::string_view status) const;
    void watchdog_ping() const;

private:
    Fd fd_;
    std::string socket_;
    std::chrono::microseconds watchdog_{0};
};

// Sends WATCHDOG=1 every half watchdog interval from the event loop, but
// only while `healthy()` says so (kadp stops pinging while a worker is
// stuck, so systemd restarts it). Nothing is armed without a watchdog.
class WatchdogPinger {
public:
    WatchdogPinger(EventLoop& loop, const SdNotify& notify, std::function<bool()> healthy);
    std::uint64_t pings() const { return pings_; }
    std::uint64_t skipped() const { return skipped_; }

private:
    void fire();

    const SdNotify& notify_;
    std::function<bool()> healthy_;
    Timer timer_;
    std::chrono::milliseconds period_{0};
    std::uint64_t pings_ = 0;
    std::uint64_t skipped_ = 0;
};

}  // namespace kadp::ctl
