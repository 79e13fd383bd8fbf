// Runs on: any (unit test; the main thread plays the control thread). The
// event loop's extra descriptors: callbacks get their events, a watch
// removed during a batch gets no event from that batch, ticks and SIGTERM;
// one-shot timers: order, cancellation from callbacks, re-arming, RAII.
#include "control/event_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <csignal>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

struct Pipe {
    Pipe() {
        int fds[2];
        EXPECT_EQ(pipe(fds), 0);
        r = Fd(fds[0]);
        w = Fd(fds[1]);
    }
    Fd r, w;
};

TEST(EventLoop, UnwatchedDuringABatchIsNotDelivered)
{
    block_control_signals();
    EventLoop loop;
    Pipe a, b;
    ASSERT_EQ(write(a.w.get(), "x", 1), 1);
    ASSERT_EQ(write(b.w.get(), "y", 1), 1);  // both readable: one epoll batch
    int calls = 0;
    EventLoop::WatchId ida = 0, idb = 0;
    // Whichever runs first removes the other, then stops the loop.
    ida = loop.watch(a.r.get(), EPOLLIN, [&](std::uint32_t ev) {
        EXPECT_TRUE(ev & EPOLLIN);
        ++calls;
        loop.unwatch(idb);
        loop.unwatch(ida);
        kill(getpid(), SIGTERM);
    });
    idb = loop.watch(b.r.get(), EPOLLIN, [&](std::uint32_t ev) {
        EXPECT_TRUE(ev & EPOLLIN);
        ++calls;
        loop.unwatch(ida);
        loop.unwatch(idb);
        kill(getpid(), SIGTERM);
    });
    EXPECT_EQ(loop.watched(), 2u);
    EXPECT_EQ(loop.run({}), SIGTERM);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(loop.watched(), 0u);
}

TEST(EventLoop, ModifySwitchesEventsAndTicksRun)
{
    block_control_signals();
    EventLoop loop;
    Pipe p;
    int writable = 0, ticks = 0;
    EventLoop::WatchId id = 0;
    id = loop.watch(p.w.get(), 0, [&](std::uint32_t ev) {
        EXPECT_TRUE(ev & EPOLLOUT);
        ++writable;
        loop.unwatch(id);
    });
    EXPECT_TRUE(loop.modify(id, EPOLLOUT));
    EXPECT_FALSE(loop.modify(id + 100, EPOLLOUT));
    LoopHandlers h;
    h.on_tick = [&] {
        ++ticks;
        kill(getpid(), SIGTERM);
    };
    EXPECT_EQ(loop.run(h), SIGTERM);
    EXPECT_EQ(writable, 1);
    EXPECT_EQ(ticks, 1);
}


using std::chrono::milliseconds;

TEST(EventLoopTimers, RunInDeadlineOrderThenArmingOrder)
{
    block_control_signals();
    EventLoop loop;
    std::string order;
    loop.add_timer(milliseconds(30), [&] { order += "c"; });
    loop.add_timer(milliseconds(10), [&] { order += "a"; });
    loop.add_timer(milliseconds(10), [&] { order += "b"; });
    loop.add_timer(milliseconds(60), [&] {
        order += "d";
        kill(getpid(), SIGTERM);
    });
    EXPECT_EQ(loop.timers(), 4u);
    const auto start = EventLoop::Clock::now();
    EXPECT_EQ(loop.run({}), SIGTERM);
    EXPECT_EQ(order, "abcd");
    EXPECT_GE(EventLoop::Clock::now() - start, milliseconds(60));  // a lower bound only
    EXPECT_EQ(loop.timers(), 0u);
}

TEST(EventLoopTimers, CancelledFromACallbackAndRearmedFromItsOwn)
{
    block_control_signals();
    EventLoop loop;
    int runs = 0;
    bool victim_ran = false;
    EventLoop::TimerId victim = 0;
    // Due together: the first cancels the second, which must not run.
    loop.add_timer(milliseconds(5), [&] { EXPECT_TRUE(loop.cancel_timer(victim)); });
    victim = loop.add_timer(milliseconds(5), [&] { victim_ran = true; });
    Timer again(loop);
    std::function<void()> tick = [&] {
        EXPECT_FALSE(again.armed());  // removed before its callback runs
        if (++runs < 3) again.arm(milliseconds(1), tick);
        else kill(getpid(), SIGTERM);
    };
    again.arm(milliseconds(10), tick);
    EXPECT_TRUE(again.armed());
    EXPECT_EQ(loop.run({}), SIGTERM);
    EXPECT_FALSE(victim_ran);
    EXPECT_FALSE(loop.cancel_timer(victim));
    EXPECT_EQ(runs, 3);
}

TEST(EventLoopTimers, DestroyedHandleNeverFiresAndRearmReplaces)
{
    block_control_signals();
    EventLoop loop;
    bool dead_ran = false;
    int replaced = 0, kept = 0;
    {
        Timer dead(loop);
        dead.arm(milliseconds(1), [&] { dead_ran = true; });
    }
    EXPECT_EQ(loop.timers(), 0u);
    Timer t(loop);
    t.arm(milliseconds(1), [&] { ++replaced; });
    t.arm(milliseconds(5), [&] { ++kept; });  // the first is cancelled
    EXPECT_EQ(loop.timers(), 1u);
    loop.add_timer(milliseconds(20), [] { kill(getpid(), SIGTERM); });
    EXPECT_EQ(loop.run({}), SIGTERM);
    EXPECT_FALSE(dead_ran);
    EXPECT_EQ(replaced, 0);
    EXPECT_EQ(kept, 1);
}

TEST(EventLoopTimers, ZeroDelayArmedInACallbackWaitsForTheNextTurn)
{
    block_control_signals();
    EventLoop loop;
    Pipe p;
    ASSERT_EQ(write(p.w.get(), "x", 1), 1);
    std::vector<std::string> seen;
    EventLoop::WatchId id = 0;
    id = loop.watch(p.r.get(), EPOLLIN, [&](std::uint32_t) {
        seen.push_back("fd");
        loop.unwatch(id);
    });
    // Each zero-delay callback arms another: without the one-round rule the
    // loop would spin in timers and never read the pipe.
    std::function<void()> spin = [&] {
        seen.push_back("timer");
        if (seen.size() < 50) loop.add_timer(milliseconds(0), spin);
        else kill(getpid(), SIGTERM);
    };
    loop.add_timer(milliseconds(0), spin);
    EXPECT_EQ(loop.run({}), SIGTERM);
    ASSERT_EQ(seen.size(), 50u);
    EXPECT_NE(std::find(seen.begin(), seen.end(), "fd"), seen.end());
}

}  // namespace
}  // namespace kadp::ctl
