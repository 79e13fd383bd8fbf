// Runs on: control thread.
#include "control/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <utility>

namespace kadp::ctl {

SdNotify::SdNotify(std::string socket, std::chrono::microseconds watchdog)
    : socket_(std::move(socket)), watchdog_(watchdog)
{
    if (socket_.empty()) return;
    fd_ = Fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd_.get() < 0) throw std::system_error(errno, std::generic_category(), "notify socket");
}

SdNotify SdNotify::from_environment()
{
    const char* const socket = std::getenv("NOTIFY_SOCKET");
    const char* const usec = std::getenv("WATCHDOG_USEC");
    const char* const pid = std::getenv("WATCHDOG_PID");
    std::chrono::microseconds watchdog{0};
    if (usec != nullptr) {
        char* end = nullptr;
        const unsigned long long v = std::strtoull(usec, &end, 10);
        const bool ours = pid == nullptr || std::strtoll(pid, nullptr, 10) == static_cast<long long>(::getpid());
        if (end != usec && *end == '\0' && ours) watchdog = std::chrono::microseconds(v);
    }
    SdNotify out(socket != nullptr ? std::string(socket) : std::string(), watchdog);
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    return out;
}

bool SdNotify::send(std::string_view message) const
{
    if (!enabled()) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_.size() >= sizeof addr.sun_path) return false;
    std::memcpy(addr.sun_path, socket_.data(), socket_.size());
    if (socket_[0] == '@') addr.sun_path[0] = '\0';
    // An abstract name is exactly its bytes; a path ends with its NUL.
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_.size() +
                                            (socket_[0] == '@' ? 0 : 1));
    const ssize_t n = ::sendto(fd_.get(), message.data(), message.size(), MSG_NOSIGNAL,
                               reinterpret_cast<const sockaddr*>(&addr), len);
    return n == static_cast<ssize_t>(message.size());
}

void SdNotify::ready(std::string_view status) const
{
    send("READY=1\nSTATUS=" + std::string(status) + "\nMAINPID=" + std::to_string(::getpid()) + "\n");
}

void SdNotify::reloading() const
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    const auto usec = static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
    send("RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=" + std::to_string(usec) + "\n");
}

void SdNotify::stopping(std::string_view status) const
{
    send("STOPPING=1\nSTATUS=" + std::string(status) + "\n");
}

void SdNotify::status(std::string_view status) const { send("STATUS=" + std::string(status) + "\n"); }

void SdNotify::watchdog_ping() const { send("WATCHDOG=1\n"); }

WatchdogPinger::WatchdogPinger(EventLoop& loop, const SdNotify& notify, std::function<bool()> healthy)
    : notify_(notify), healthy_(std::move(healthy)), timer_(loop)
{
    if (!notify_.enabled() || notify_.watchdog().count() == 0) return;
    // Half the interval, as sd_watchdog_enabled(3) advises; at least 1 ms.
    period_ = std::chrono::duration_cast<std::chrono::milliseconds>(notify_.watchdog() / 2);
    if (period_.count() == 0) period_ = std::chrono::milliseconds(1);
    fire();
}

void WatchdogPinger::fire()
{
    if (!healthy_ || healthy_()) {
        notify_.watchdog_ping();
        ++pings_;
    } else {
        ++skipped_;
    }
    timer_.arm(period_, [this] { fire(); });
}

}  // namespace kadp::ctl
