// Runs on: any (unit test, no EAL). The RCU publisher: a plain thread stands
// in for a worker lcore; the test thread is the control thread.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <thread>

#include "dataplane/publisher.h"

namespace kadp::dp {
namespace {

// Counts its destructions; `value` lets a reader check the memory is intact.
struct Tracked {
    Tracked(int v, std::atomic<int>& deaths) : value(v), deaths_(&deaths) {}
    ~Tracked() {
        value = -1;
        deaths_->fetch_add(1);
    }
    int value;
    std::atomic<int>* deaths_;
};

std::unique_ptr<const Tracked> make(int v, std::atomic<int>& deaths) { return std::make_unique<const Tracked>(v, deaths); }

TEST(Publisher, AcquireSeesWhatWasPublished) {
    std::atomic<int> deaths{0};
    Publisher<Tracked> pub(1, 4);
    EXPECT_EQ(pub.acquire(), nullptr);
    ASSERT_EQ(pub.publish(make(1, deaths)), 0);
    ASSERT_NE(pub.acquire(), nullptr);
    EXPECT_EQ(pub.acquire()->value, 1);
    EXPECT_EQ(pub.current(), pub.acquire());
}

TEST(Publisher, OldObjectFreedOnlyAfterTheRegisteredWorkerIsQuiescent) {
    std::atomic<int> deaths{0};
    Publisher<Tracked> pub(2, 4);
    pub.register_worker(0);
    ASSERT_EQ(pub.publish(make(1, deaths)), 0);
    const Tracked* held = pub.acquire();  // worker 0's burst starts
    ASSERT_EQ(pub.publish(make(2, deaths)), 0);
    EXPECT_EQ(pub.retired(), 1u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(pub.reclaim(), 0u);
    EXPECT_EQ(deaths.load(), 0);
    EXPECT_EQ(held->value, 1);  // still valid memory
    pub.quiescent(0);           // burst over
    EXPECT_EQ(pub.reclaim(), 1u);
    EXPECT_EQ(deaths.load(), 1);
    EXPECT_EQ(pub.retired(), 0u);
    EXPECT_EQ(pub.acquire()->value, 2);
    pub.unregister_worker(0);
}

TEST(Publisher, EveryRegisteredWorkerMustPassAQuiescentState) {
    std::atomic<int> deaths{0};
    Publisher<Tracked> pub(3, 4);
    pub.register_worker(0);
    pub.register_worker(2);
    ASSERT_EQ(pub.publish(make(1, deaths)), 0);
    ASSERT_EQ(pub.publish(make(2, deaths)), 0);
    pub.quiescent(0);
    pub.quiescent(0);
    EXPECT_EQ(pub.reclaim(), 0u);  // worker 2 may still hold #1
    EXPECT_EQ(deaths.load(), 0);
    pub.quiescent(2);
    EXPECT_EQ(pub.reclaim(), 1u);
    EXPECT_EQ(deaths.load(), 1);
    pub.unregister_worker(0);
    pub.unregister_worker(2);
}

TEST(Publisher, QuiescentBeforeThePublishDoesNotCount) {
    std::atomic<int> deaths{0};
    Publisher<Tracked> pub(1, 4);
    pub.register_worker(0);
    ASSERT_EQ(pub.publish(make(1, deaths)), 0);
    pub.quiescent(0);
    ASSERT_EQ(pub.publish(make(2, deaths)), 0);
    EXPECT_EQ(pub.reclaim(), 0u);
    EXPECT_EQ(deaths.load(), 0);
    pub.unregister_worker(0);
}

TEST(Publisher, UnregisteredWorkersDoNotBlock) {
    std::atomic<int> deaths{0};
    Publisher<Tracked> pub(2, 4);
    pub.register_worker(1);
    pub.unregister_worker(1);
    ASSERT_EQ(pub.publish(make(1, deaths)), 0);
    ASSERT_EQ(pub.publish(make(2, deaths)), 0);  // nobody to wait for: freed in publish
    EXPECT_EQ(deaths.load(), 1);
    EXPECT_EQ(pub.retired(), 0u);
}

TEST(Publisher, RetiredListIsBounded) {
    std::atomic<int> deaths{0};
    Publisher<Tracked> pub(1, 2);
    pub.register_worker(0);
    ASSERT_EQ(pub.publish(make(1, deaths)), 0);
    ASSERT_EQ(pub.publish(make(2, deaths)), 0);
    ASSERT_EQ(pub.publish(make(3, deaths)), 0);
    auto fourth = make(4, deaths);
    EXPECT_EQ(pub.publish(std::move(fourth)), -EBUSY);
    ASSERT_NE(fourth, nullptr);  // still ours
    EXPECT_EQ(pub.acquire()->value, 3);
    EXPECT_EQ(pub.retired(), 2u);
    pub.quiescent(0);
    EXPECT_EQ(pub.publish(std::move(fourth)), 0);  // reclaims first, then fits
    EXPECT_EQ(fourth, nullptr);
    EXPECT_EQ(deaths.load(), 2);
    EXPECT_EQ(pub.acquire()->value, 4);
    pub.unregister_worker(0);
}

TEST(Publisher, DestructorFreesCurrentAndRetired) {
    std::atomic<int> deaths{0};
    {
        Publisher<Tracked> pub(1, 4);
        pub.register_worker(0);
        ASSERT_EQ(pub.publish(make(1, deaths)), 0);
        ASSERT_EQ(pub.publish(make(2, deaths)), 0);
        pub.unregister_worker(0);  // the workers stopped
        EXPECT_EQ(deaths.load(), 0);
    }
    EXPECT_EQ(deaths.load(), 2);
}

TEST(Publisher, GraceClockWaitsForOnlineWorkers) {
    Publisher<Tracked> pub(2, 1);
    pub.register_worker(1);
    const std::uint64_t t = pub.start_grace();
    EXPECT_FALSE(pub.grace_passed(t));
    pub.quiescent(1);
    EXPECT_TRUE(pub.grace_passed(t));
    pub.unregister_worker(1);
}

// A reader thread holds the old object across a publish: its memory stays
// valid and it is not freed until the reader reports quiescent.
TEST(Publisher, ReaderThreadHoldingTheOldObjectAcrossAPublish) {
    std::atomic<int> deaths{0};
    Publisher<Tracked> pub(1, 4);
    ASSERT_EQ(pub.publish(make(1, deaths)), 0);
    std::atomic<int> phase{0};
    std::atomic<int> seen_after{0};
    std::atomic<bool> intact{true};
    std::thread reader([&] {
        pub.register_worker(0);
        const Tracked* held = pub.acquire();
        phase.store(1);  // holding #1
        while (phase.load() != 2) {
            if (held->value != 1) intact.store(false);
            std::this_thread::yield();
        }
        for (int i = 0; i < 1000; ++i) {
            if (held->value != 1) intact.store(false);
        }
        pub.quiescent(0);
        seen_after.store(pub.acquire()->value);  // a new burst sees the new object
        phase.store(3);
        while (phase.load() != 4) std::this_thread::yield();
        pub.unregister_worker(0);
    });
    while (phase.load() != 1) std::this_thread::yield();
    ASSERT_EQ(pub.publish(make(2, deaths)), 0);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(pub.reclaim(), 0u);
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    EXPECT_EQ(deaths.load(), 0);
    phase.store(2);
    while (phase.load() != 3) std::this_thread::yield();
    EXPECT_EQ(pub.reclaim(), 1u);
    EXPECT_EQ(deaths.load(), 1);
    EXPECT_EQ(seen_after.load(), 2);
    phase.store(4);
    reader.join();
    EXPECT_TRUE(intact.load());
}

// Many publishes against a reader that keeps acquiring: every object it
// reads is intact, and everything is freed in the end.
TEST(Publisher, StressReaderNeverSeesAFreedObject) {
    std::atomic<int> deaths{0};
    constexpr int kPublishes = 500;
    std::atomic<bool> bad{false};
    std::atomic<bool> done{false};
    {
        Publisher<Tracked> pub(1, 8);
        ASSERT_EQ(pub.publish(make(0, deaths)), 0);
        std::thread reader([&] {
            pub.register_worker(0);
            while (!done.load(std::memory_order_relaxed)) {
                const Tracked* t = pub.acquire();
                for (int i = 0; i < 16; ++i) {
                    if (t->value < 0) bad.store(true);
                }
                pub.quiescent(0);
            }
            pub.unregister_worker(0);
        });
        for (int i = 1; i <= kPublishes;) {
            auto next = make(i, deaths);
            while (pub.publish(std::move(next)) != 0) {
                pub.reclaim();
                std::this_thread::yield();
            }
            ++i;
        }
        done.store(true);
        reader.join();
        pub.reclaim();
    }
    EXPECT_FALSE(bad.load());
    EXPECT_EQ(deaths.load(), kPublishes + 1);
}

}  // namespace
}  // namespace kadp::dp
