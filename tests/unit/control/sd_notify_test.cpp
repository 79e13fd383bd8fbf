// Runs on: any (unit test; the main thread plays the control thread). The
// systemd notify protocol against a real AF_UNIX datagram socket playing
// systemd: path and abstract names, the environment, and the watchdog
// pinger that stops pinging while kadp is not healthy.
#include "control/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

// The fake systemd: a bound datagram socket; `name` is a path or "@abstract".
struct FakeSystemd {
    explicit FakeSystemd(std::string n) : name(std::move(n))
    {
        fd = Fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, name.data(), name.size());
        socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
        if (name[0] == '@') {
            addr.sun_path[0] = '\0';
        } else {
            unlink(name.c_str());
            ++len;
        }
        EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
    }
    ~FakeSystemd()
    {
        if (name[0] != '@') unlink(name.c_str());
    }
    // Every datagram waiting, without blocking.
    std::vector<std::string> drain()
    {
        std::vector<std::string> out;
        char buf[512];
        for (ssize_t n; (n = recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT)) >= 0;) out.emplace_back(buf, n);
        return out;
    }
    std::string name;
    Fd fd;
};

std::string unique(const char* what) { return std::string(what) + "-" + std::to_string(getpid()); }

TEST(SdNotify, DisabledSendsNothing)
{
    SdNotify n;
    EXPECT_FALSE(n.enabled());
    EXPECT_FALSE(n.send("READY=1\n"));
    EXPECT_EQ(n.watchdog().count(), 0);
}

TEST(SdNotify, PathSocketGetsEachMessageAsOneDatagram)
{
    FakeSystemd sd("/tmp/" + unique("kadp-sd-notify-test"));
    SdNotify n(sd.name, std::chrono::microseconds(0));
    ASSERT_TRUE(n.enabled());
    n.ready("serving 2 virtual services");
    n.reloading();
    n.status("hello");
    n.stopping("stopping (SIGTERM)");
    n.watchdog_ping();
    const auto got = sd.drain();
    ASSERT_EQ(got.size(), 5u);
    EXPECT_EQ(got[0], "READY=1\nSTATUS=serving 2 virtual services\nMAINPID=" + std::to_string(getpid()) + "\n");
    EXPECT_EQ(got[1].rfind("RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=", 0), 0u) << got[1];
    EXPECT_EQ(got[1].back(), '\n');
    EXPECT_GT(std::strtoull(got[1].c_str() + got[1].find("USEC=") + 5, nullptr, 10), 0u);
    EXPECT_EQ(got[2], "STATUS=hello\n");
    EXPECT_EQ(got[3], "STOPPING=1\nSTATUS=stopping (SIGTERM)\n");
    EXPECT_EQ(got[4], "WATCHDOG=1\n");
}

TEST(SdNotify, AbstractSocketNameStartsWithAt)
{
    FakeSystemd sd("@" + unique("kadp-sd-notify-abstract"));
    SdNotify n(sd.name, std::chrono::microseconds(0));
    EXPECT_TRUE(n.send("READY=1\n"));
    const auto got = sd.drain();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], "READY=1\n");
}

TEST(SdNotify, NoListenerIsNotAnError)
{
    SdNotify n("/tmp/" + unique("kadp-sd-notify-nobody"), std::chrono::microseconds(0));
    EXPECT_FALSE(n.send("READY=1\n"));
}

TEST(SdNotify, EnvironmentIsReadThenRemoved)
{
    const std::string name = "@" + unique("kadp-sd-env");
    setenv("NOTIFY_SOCKET", name.c_str(), 1);
    setenv("WATCHDOG_USEC", "3000000", 1);
    setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
    const SdNotify mine = SdNotify::from_environment();
    EXPECT_TRUE(mine.enabled());
    EXPECT_EQ(mine.watchdog(), std::chrono::microseconds(3000000));
    EXPECT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr);
    EXPECT_EQ(std::getenv("WATCHDOG_USEC"), nullptr);
    EXPECT_EQ(std::getenv("WATCHDOG_PID"), nullptr);

    // Another process's watchdog is not ours; the socket still is.
    setenv("NOTIFY_SOCKET", name.c_str(), 1);
    setenv("WATCHDOG_USEC", "3000000", 1);
    setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
    const SdNotify other = SdNotify::from_environment();
    EXPECT_TRUE(other.enabled());
    EXPECT_EQ(other.watchdog().count(), 0);

    const SdNotify none = SdNotify::from_environment();
    EXPECT_FALSE(none.enabled());
}

TEST(WatchdogPinger, PingsWhileHealthyAndSkipsWhileNot)
{
    block_control_signals();
    FakeSystemd sd("@" + unique("kadp-sd-watchdog"));
    SdNotify n(sd.name, std::chrono::microseconds(20000));
    EventLoop loop;
    // Healthy for the first three checks, then not; the loop stops at the sixth.
    int checks = 0;
    WatchdogPinger pinger(loop, n, [&checks] {
        ++checks;
        if (checks == 6) kill(getpid(), SIGTERM);
        return checks <= 3;
    });
    EXPECT_EQ(loop.run({}), SIGTERM);
    EXPECT_EQ(pinger.pings(), 3u);
    EXPECT_EQ(pinger.skipped(), 3u);
    const auto got = sd.drain();
    ASSERT_EQ(got.size(), 3u);
    for (const auto& m : got) EXPECT_EQ(m, "WATCHDOG=1\n");
}

TEST(WatchdogPinger, NothingArmedWithoutAWatchdog)
{
    FakeSystemd sd("@" + unique("kadp-sd-nowatchdog"));
    SdNotify n(sd.name, std::chrono::microseconds(0));
    EventLoop loop;
    WatchdogPinger pinger(loop, n, [] { return true; });
    EXPECT_EQ(loop.timers(), 0u);
    EXPECT_EQ(pinger.pings(), 0u);
    EXPECT_TRUE(sd.drain().empty());
}

}  // namespace
}  // namespace kadp::ctl
