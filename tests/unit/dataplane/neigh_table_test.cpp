// Runs on: any (unit test). NeighTable4 on a simulated millisecond clock:
// states, held packets (also raced by threads), poisoning policy, table
// full, request rate limiting. Held "packets" are fake rte_mbuf pointers:
// the table never dereferences them.
#include <gtest/gtest.h>

#include "dataplane/checksum.h"
#include "dataplane/neigh_table.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace kadp::dp {
namespace {

constexpr std::uint32_t kT0 = 1'000'000;  // simulated clock start (ms)
const MacAddr kMacA = {0x02, 0, 0, 0, 0, 0xa};
const MacAddr kMacB = {0x02, 0, 0, 0, 0, 0xb};

std::uint32_t ip(std::uint8_t d) { return be32_from_host(0xc6120000U | d); }  // 198.18.0.d
rte_mbuf* fake(std::uintptr_t n) { return reinterpret_cast<rte_mbuf*>(n * 64); }

std::unique_ptr<NeighTable4> make(std::uint32_t capacity = 256)
{
    NeighConfig c;
    c.capacity = capacity;
    auto t = NeighTable4::create(c);
    EXPECT_TRUE(t);
    return t;
}

TEST(NeighTable, ResolveHoldsThenReplyReleases)
{
    auto t = make();
    NeighResolve r = t->resolve(0, ip(5), fake(1), kT0);
    EXPECT_EQ(r.verdict, ResolveVerdict::held_request);  // creator sends the first request
    EXPECT_EQ(t->resolve(0, ip(5), fake(2), kT0 + 10).verdict, ResolveVerdict::held);  // rate-limited
    EXPECT_EQ(t->lookup(0, ip(5), kT0).state, NeighState::incomplete);
    EXPECT_EQ(t->lookup(1, ip(5), kT0).state, NeighState::free);  // other port: other key

    NeighLearn l = t->learn(0, ip(5), kMacA, ArpSource::reply, kT0 + 20);
    EXPECT_EQ(l.verdict, LearnVerdict::learned);
    ASSERT_EQ(l.n_held, 2U);
    std::set<rte_mbuf*> got(l.held, l.held + 2);
    EXPECT_EQ(got, (std::set<rte_mbuf*>{fake(1), fake(2)}));
    const NeighView v = t->lookup(0, ip(5), kT0 + 20);
    EXPECT_EQ(v.state, NeighState::reachable);
    EXPECT_EQ(v.mac, kMacA);

    r = t->resolve(0, ip(5), fake(3), kT0 + 30);
    EXPECT_EQ(r.verdict, ResolveVerdict::hit);
    EXPECT_EQ(r.mac(), kMacA);
    // Nothing left held: a second learn releases nothing.
    EXPECT_EQ(t->learn(0, ip(5), kMacA, ArpSource::reply, kT0 + 40).n_held, 0U);
}

TEST(NeighTable, HoldBoundedAndRequestRateLimited)
{
    auto t = make();
    EXPECT_EQ(t->resolve(0, ip(6), fake(1), kT0).verdict, ResolveVerdict::held_request);
    for (std::uint32_t i = 2; i <= kHeldPerNeighbour; ++i) {
        EXPECT_EQ(t->resolve(0, ip(6), fake(i), kT0 + i).verdict, ResolveVerdict::held);
    }
    EXPECT_EQ(t->resolve(0, ip(6), fake(99), kT0 + 500).verdict, ResolveVerdict::hold_full);
    // 1 s later the next packet (if it can be held) or the sweep sends request 2.
    NeighSweep s;
    for (std::uint32_t i = 0; i < 256 / NeighSweep::kMaxSlice; ++i) {
        t->sweep(NeighSweep::kMaxSlice, kT0 + 999, s);
        EXPECT_EQ(s.n_requests, 0U);
    }
    std::uint32_t requests = 0;
    for (std::uint32_t i = 0; i < 256 / NeighSweep::kMaxSlice; ++i) {
        t->sweep(NeighSweep::kMaxSlice, kT0 + 1000, s);
        requests += s.n_requests;
        if (s.n_requests) {
            EXPECT_EQ(s.requests[0].ip, ip(6));
            EXPECT_EQ(s.requests[0].port, 0);
        }
    }
    EXPECT_EQ(requests, 1U);
    EXPECT_EQ(t->lookup(0, ip(6), kT0 + 1000).probes, 2U);
    // Same millisecond, a packet: no second request (slots full -> hold_full anyway).
    EXPECT_EQ(t->resolve(0, ip(6), fake(100), kT0 + 1000).verdict, ResolveVerdict::hold_full);
}

// Sweeps the whole table once at `now`, accumulating.
struct Swept {
    std::uint32_t requests = 0, failed = 0, removed = 0;
    std::vector<rte_mbuf*> dropped;
};
Swept sweep_all(NeighTable4& t, std::uint32_t now)
{
    Swept out;
    NeighSweep s;
    for (std::uint32_t i = 0; i < t.capacity() / NeighSweep::kMaxSlice; ++i) {
        t.sweep(NeighSweep::kMaxSlice, now, s);
        out.requests += s.n_requests;
        out.failed += s.failed;
        out.removed += s.removed;
        out.dropped.insert(out.dropped.end(), s.dropped, s.dropped + s.n_dropped);
    }
    return out;
}

TEST(NeighTable, IncompleteFailsAfterRetriesThenRetries)
{
    auto t = make();
    EXPECT_EQ(t->resolve(0, ip(7), fake(1), kT0).verdict, ResolveVerdict::held_request);
    EXPECT_EQ(sweep_all(*t, kT0 + 1000).requests, 1U);  // probe 2
    EXPECT_EQ(sweep_all(*t, kT0 + 1500).requests, 0U);
    EXPECT_EQ(sweep_all(*t, kT0 + 2000).requests, 1U);  // probe 3 = max_probes
    Swept s = sweep_all(*t, kT0 + 3000);
    EXPECT_EQ(s.requests, 0U);
    EXPECT_EQ(s.failed, 1U);
    EXPECT_EQ(s.dropped, std::vector<rte_mbuf*>{fake(1)});  // handed back to be freed
    EXPECT_EQ(t->lookup(0, ip(7), kT0 + 3000).state, NeighState::failed);
    EXPECT_EQ(t->resolve(0, ip(7), fake(2), kT0 + 3500).verdict, ResolveVerdict::failed);
    // retrans_ms after the failure the next packet starts over.
    EXPECT_EQ(t->resolve(0, ip(7), fake(3), kT0 + 4000).verdict, ResolveVerdict::held_request);
    EXPECT_EQ(t->lookup(0, ip(7), kT0 + 4000).state, NeighState::incomplete);
    // A late reply still completes it.
    NeighLearn l = t->learn(0, ip(7), kMacA, ArpSource::reply, kT0 + 4100);
    EXPECT_EQ(l.verdict, LearnVerdict::learned);
    ASSERT_EQ(l.n_held, 1U);
    EXPECT_EQ(l.held[0], fake(3));
}

TEST(NeighTable, ReachableStaleReprobe)
{
    auto t = make();
    t->resolve(0, ip(8), fake(1), kT0);
    t->learn(0, ip(8), kMacA, ArpSource::reply, kT0);
    EXPECT_EQ(t->resolve(0, ip(8), fake(2), kT0 + 29'999).verdict, ResolveVerdict::hit);
    EXPECT_EQ(t->lookup(0, ip(8), kT0 + 30'000).state, NeighState::stale);
    // Stale: still used, first packet probes (unicast to the known MAC), rate-limited.
    NeighResolve r = t->resolve(0, ip(8), fake(3), kT0 + 30'000);
    EXPECT_EQ(r.verdict, ResolveVerdict::hit_probe);
    EXPECT_EQ(r.mac(), kMacA);
    EXPECT_EQ(t->resolve(0, ip(8), fake(4), kT0 + 30'500).verdict, ResolveVerdict::hit);
    EXPECT_EQ(t->resolve(0, ip(8), fake(4), kT0 + 31'000).verdict, ResolveVerdict::hit_probe);
    // The answer makes it reachable again.
    EXPECT_EQ(t->learn(0, ip(8), kMacA, ArpSource::reply, kT0 + 31'010).verdict, LearnVerdict::refreshed);
    EXPECT_EQ(t->lookup(0, ip(8), kT0 + 31'010).state, NeighState::reachable);
    EXPECT_EQ(t->lookup(0, ip(8), kT0 + 31'010).probes, 0U);
    // Stale again and never answered: 3 probes, then back to broadcast resolution.
    const std::uint32_t s0 = kT0 + 61'010;
    EXPECT_EQ(t->resolve(0, ip(8), fake(5), s0).verdict, ResolveVerdict::hit_probe);
    EXPECT_EQ(t->resolve(0, ip(8), fake(5), s0 + 1000).verdict, ResolveVerdict::hit_probe);
    EXPECT_EQ(t->resolve(0, ip(8), fake(5), s0 + 2000).verdict, ResolveVerdict::hit_probe);
    EXPECT_EQ(t->resolve(0, ip(8), fake(5), s0 + 2500).verdict, ResolveVerdict::hit);
    EXPECT_EQ(t->resolve(0, ip(8), fake(6), s0 + 3000).verdict, ResolveVerdict::held_request);
    EXPECT_EQ(t->lookup(0, ip(8), s0 + 3000).state, NeighState::incomplete);
}

TEST(NeighTable, UnusedEntriesExpire)
{
    auto t = make();
    t->resolve(0, ip(9), fake(1), kT0);
    t->learn(0, ip(9), kMacA, ArpSource::reply, kT0);
    t->resolve(0, ip(9), fake(2), kT0 + 50'000);  // used: the timer restarts
    EXPECT_EQ(sweep_all(*t, kT0 + 60'000).removed, 0U);
    EXPECT_EQ(t->size(), 1U);
    EXPECT_EQ(sweep_all(*t, kT0 + 110'000).removed, 1U);
    EXPECT_EQ(t->size(), 0U);
    EXPECT_EQ(t->lookup(0, ip(9), kT0 + 110'000).state, NeighState::free);
    // The slot is reusable and the key resolves from scratch.
    EXPECT_EQ(t->resolve(0, ip(9), fake(3), kT0 + 110'001).verdict, ResolveVerdict::held_request);
}

TEST(NeighTable, PoisoningPolicy)
{
    auto t = make();
    // Replies and gratuitous ARP never create entries.
    NeighLearn l = t->learn(0, ip(10), kMacA, ArpSource::reply, kT0);
    EXPECT_EQ(l.verdict, LearnVerdict::unsolicited);
    EXPECT_EQ(t->learn(0, ip(10), kMacA, ArpSource::gratuitous, kT0).verdict, LearnVerdict::unsolicited);
    EXPECT_EQ(t->lookup(0, ip(10), kT0).state, NeighState::free);
    EXPECT_EQ(learn_counter(ArpSource::reply, LearnVerdict::unsolicited), Counter::arp_reply_unsolicited);

    // A request to us teaches its sender, as stale.
    EXPECT_EQ(t->learn(0, ip(11), kMacA, ArpSource::request_to_us, kT0).verdict, LearnVerdict::learned);
    EXPECT_EQ(t->lookup(0, ip(11), kT0).state, NeighState::stale);
    EXPECT_EQ(learn_counter(ArpSource::request_to_us, LearnVerdict::learned), Counter::arp_request_learned);
    // Its first use probes.
    EXPECT_EQ(t->resolve(0, ip(11), fake(1), kT0 + 1).verdict, ResolveVerdict::hit_probe);
    // Stale: a different MAC is accepted.
    EXPECT_EQ(t->learn(0, ip(11), kMacB, ArpSource::reply, kT0 + 2).verdict, LearnVerdict::changed);
    EXPECT_EQ(t->lookup(0, ip(11), kT0 + 2).mac, kMacB);
    EXPECT_EQ(t->lookup(0, ip(11), kT0 + 2).state, NeighState::reachable);
    // Reachable: a different MAC is a conflict, from any source; the entry keeps B.
    for (ArpSource src : {ArpSource::reply, ArpSource::gratuitous, ArpSource::request_to_us}) {
        EXPECT_EQ(t->learn(0, ip(11), kMacA, src, kT0 + 3).verdict, LearnVerdict::conflict);
        EXPECT_EQ(learn_counter(src, LearnVerdict::conflict), Counter::arp_conflict);
    }
    EXPECT_EQ(t->lookup(0, ip(11), kT0 + 3).mac, kMacB);
    // Same MAC refreshes.
    EXPECT_EQ(t->learn(0, ip(11), kMacB, ArpSource::gratuitous, kT0 + 4).verdict, LearnVerdict::refreshed);
    EXPECT_EQ(learn_counter(ArpSource::gratuitous, LearnVerdict::refreshed), Counter::arp_reply_learned);
    // Once stale, a change is accepted again.
    EXPECT_EQ(t->learn(0, ip(11), kMacA, ArpSource::gratuitous, kT0 + 30'004).verdict, LearnVerdict::changed);
    EXPECT_EQ(t->lookup(0, ip(11), kT0 + 30'004).mac, kMacA);
    // A reply to our own request (incomplete) is learned.
    t->resolve(0, ip(12), fake(2), kT0);
    EXPECT_EQ(t->learn(0, ip(12), kMacB, ArpSource::reply, kT0 + 5).verdict, LearnVerdict::learned);
}

TEST(NeighTable, TableFullRefusesNewNeighbours)
{
    NeighConfig c;
    c.capacity = 64;
    auto t = NeighTable4::create(c);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->capacity(), 64U);
    std::uint32_t held = 0, full = 0;
    for (std::uint32_t i = 0; i < 100; ++i) {
        const ResolveVerdict v = t->resolve(0, be32_from_host(0xc6130000U + i), fake(i + 1), kT0).verdict;
        if (v == ResolveVerdict::held_request) ++held;
        if (v == ResolveVerdict::table_full) ++full;
    }
    EXPECT_EQ(held, 64U);
    EXPECT_EQ(full, 36U);
    EXPECT_EQ(t->size(), 64U);
    EXPECT_EQ(resolve_counters(ResolveVerdict::table_full).first, Counter::neigh_unresolved_dropped);
    EXPECT_EQ(t->learn(1, ip(1), kMacA, ArpSource::request_to_us, kT0).verdict, LearnVerdict::table_full);
    // Existing neighbours still work.
    EXPECT_EQ(t->learn(0, be32_from_host(0xc6130005U), kMacA, ArpSource::reply, kT0).verdict, LearnVerdict::learned);
    std::vector<rte_mbuf*> out(64 * kHeldPerNeighbour);
    EXPECT_EQ(t->drain(out.data(), static_cast<std::uint32_t>(out.size())), 63U);
}

TEST(NeighTable, CapacityBounds)
{
    NeighConfig c;
    c.capacity = 0;
    EXPECT_FALSE(NeighTable4::create(c));
    c.capacity = (1U << 20) + 1;
    EXPECT_FALSE(NeighTable4::create(c));
    c.capacity = 100;
    EXPECT_EQ(NeighTable4::create(c)->capacity(), 128U);
}

// Holders race a learner: every held packet comes out exactly once, either
// from learn() (to send) or back to its holder (hit / refused).
TEST(NeighTable, HoldTakeRaceExactlyOnce)
{
    for (int round = 0; round < 200; ++round) {
        auto t = make(64);
        const std::uint32_t target = ip(20);
        std::atomic<bool> go{false};
        constexpr int kHolders = 3;
        constexpr std::uintptr_t kPerHolder = 8;
        std::vector<std::vector<rte_mbuf*>> kept(kHolders);  // packets their holder still owns
        std::vector<rte_mbuf*> released;
        std::vector<std::thread> threads;
        for (int h = 0; h < kHolders; ++h) {
            threads.emplace_back([&, h] {
                while (!go.load()) {}
                for (std::uintptr_t i = 0; i < kPerHolder; ++i) {
                    rte_mbuf* m = fake(1 + static_cast<std::uintptr_t>(h) * 100 + i);
                    const ResolveVerdict v = t->resolve(0, target, m, kT0).verdict;
                    if (v != ResolveVerdict::held && v != ResolveVerdict::held_request) kept[static_cast<std::size_t>(h)].push_back(m);
                }
            });
        }
        threads.emplace_back([&] {
            while (!go.load()) {}
            for (int i = 0; i < 50; ++i) {
                NeighLearn l = t->learn(0, target, kMacA, ArpSource::reply, kT0);
                released.insert(released.end(), l.held, l.held + l.n_held);
            }
        });
        go.store(true);
        for (auto& th : threads) th.join();
        std::vector<rte_mbuf*> leftover(64 * kHeldPerNeighbour);
        leftover.resize(t->drain(leftover.data(), static_cast<std::uint32_t>(leftover.size())));
        std::multiset<rte_mbuf*> all(released.begin(), released.end());
        all.insert(leftover.begin(), leftover.end());
        for (auto& k : kept) all.insert(k.begin(), k.end());
        ASSERT_EQ(all.size(), kHolders * kPerHolder) << "round " << round;
        ASSERT_EQ(std::set<rte_mbuf*>(all.begin(), all.end()).size(), all.size()) << "duplicate, round " << round;
    }
}

// Holders race the sweep failing the entry, and the expiry removing it.
TEST(NeighTable, HoldVersusFailureRace)
{
    for (int round = 0; round < 200; ++round) {
        NeighConfig c;
        c.capacity = 64;
        c.max_probes = 1;
        auto t = NeighTable4::create(c);
        const std::uint32_t target = ip(21);
        EXPECT_EQ(t->resolve(0, target, fake(1), kT0).verdict, ResolveVerdict::held_request);
        std::atomic<bool> go{false};
        std::vector<rte_mbuf*> kept, dropped;
        std::thread holder([&] {
            while (!go.load()) {}
            for (std::uintptr_t i = 2; i < 12; ++i) {
                const ResolveVerdict v = t->resolve(0, target, fake(i), kT0 + 999).verdict;
                if (v != ResolveVerdict::held && v != ResolveVerdict::held_request) kept.push_back(fake(i));
            }
        });
        std::thread sweeper([&] {
            while (!go.load()) {}
            Swept s = sweep_all(*t, kT0 + 1000);
            dropped = s.dropped;
        });
        go.store(true);
        holder.join();
        sweeper.join();
        std::vector<rte_mbuf*> leftover(256);
        leftover.resize(t->drain(leftover.data(), 256));
        std::multiset<rte_mbuf*> all(kept.begin(), kept.end());
        all.insert(dropped.begin(), dropped.end());
        all.insert(leftover.begin(), leftover.end());
        ASSERT_EQ(all.size(), 11U) << "round " << round;
        ASSERT_EQ(std::set<rte_mbuf*>(all.begin(), all.end()).size(), 11U) << "round " << round;
    }
}

// Workers creating many neighbours at once: each key gets one entry.
TEST(NeighTable, ConcurrentCreateOneEntryPerKey)
{
    auto t = make(1024);
    std::atomic<bool> go{false};
    std::atomic<std::uint32_t> requests{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < 4; ++w) {
        threads.emplace_back([&, w] {
            while (!go.load()) {}
            for (std::uint32_t i = 0; i < 300; ++i) {
                const ResolveVerdict v =
                    t->resolve(0, be32_from_host(0xc6120000U + i), fake(1 + static_cast<std::uintptr_t>(w) * 1000 + i), kT0).verdict;
                if (v == ResolveVerdict::held_request) requests.fetch_add(1);
            }
        });
    }
    go.store(true);
    for (auto& th : threads) th.join();
    EXPECT_EQ(t->size(), 300U);
    EXPECT_EQ(requests.load(), 300U);  // one first request per neighbour
}

}  // namespace
}  // namespace kadp::dp
