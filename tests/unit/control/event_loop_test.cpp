// Runs on: any (unit test; the main thread plays the control thread). The
// event loop's extra descriptors: callbacks get their events, a watch
// removed during a batch gets no event from that batch, ticks and SIGTERM.
#include "control/event_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <csignal>

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

}  // namespace
}  // namespace kadp::ctl
