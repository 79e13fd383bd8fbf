// Runs on: any (unit test). No EAL: the table lives in plain memory.
#include <gtest/gtest.h>

#include "dataplane/conn_table.h"

#include <atomic>
#include <cstdint>
#include <iostream>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace kadp::dp {
namespace {

constexpr std::uint8_t kTcp = 6;
constexpr std::uint8_t kUdp = 17;
constexpr std::uint32_t kSmall = 1024;  // the smallest table create() makes (1 or 2 workers)

constexpr std::uint32_t ip4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
}

// A connection as the tests describe it; `nat` gives it an out key.
struct Flow {
    std::uint32_t caddr, vaddr, daddr;
    std::uint16_t cport, vport, dport;
    std::uint8_t proto;
    bool nat;
};

// Distinct flows from 198.18.0.0/15: client address and port from n.
Flow make_flow(std::uint32_t n, bool nat, std::uint8_t proto = kTcp) {
    return Flow{ip4(198, 18, (n >> 8) & 0xff, n & 0xff), ip4(198, 19, 0, 1), ip4(198, 19, 1, 1 + n % 7),
                static_cast<std::uint16_t>(1024 + (n >> 16)), 80, 8080, proto, nat};
}

FlowKey4 in_key(const Flow& f) { return {f.caddr, f.vaddr, f.cport, f.vport, f.proto}; }
// NAT replies: real server -> client.
FlowKey4 out_key(const Flow& f) { return {f.daddr, f.caddr, f.dport, f.cport, f.proto}; }

void fill(Conn4& c, const Flow& f, std::uint32_t expires_ms) {
    c.caddr = f.caddr;
    c.vaddr = f.vaddr;
    c.daddr = f.daddr;
    c.cport = f.cport;
    c.vport = f.vport;
    c.dport = f.dport;
    c.proto = f.proto;
    c.two_way = f.nat ? 1 : 0;
    c.expires_ms.store(expires_ms, std::memory_order_relaxed);
}

bool same_flow(const Conn4& c, const Flow& f) {
    return c.caddr == f.caddr && c.vaddr == f.vaddr && c.daddr == f.daddr && c.cport == f.cport &&
           c.vport == f.vport && c.dport == f.dport && c.proto == f.proto && c.two_way == (f.nat ? 1 : 0);
}

Conn4* add(ConnTable4& t, std::uint32_t worker, const Flow& f, std::uint32_t expires_ms = 1000) {
    Conn4* c = t.alloc(worker);
    if (c == nullptr) return nullptr;
    fill(*c, f, expires_ms);
    return t.link(worker, c, ConnState::syn_recv) ? c : nullptr;
}

Conn4* find(const ConnTable4& t, const FlowKey4& k, ConnDir* dir_out = nullptr) {
    ConnDir dir = ConnDir::in;
    Conn4* c = t.lookup(k, dir);
    if (dir_out != nullptr) *dir_out = dir;
    return c;
}

std::unique_ptr<ConnTable4> make_table(std::uint32_t capacity, std::uint32_t workers) {
    auto t = ConnTable4::create(capacity, workers);
    if (t) {
        for (std::uint32_t w = 0; w < workers; ++w) t->register_worker(w);
    }
    return t;
}

TEST(ConnTable, NatEntryFoundInBothDirections) {
    auto t = make_table(1024, 1);
    ASSERT_TRUE(t);
    const Flow f = make_flow(1, true);
    Conn4* c = add(*t, 0, f);
    ASSERT_NE(c, nullptr);

    ConnDir dir = ConnDir::out;
    EXPECT_EQ(find(*t, in_key(f), &dir), c);
    EXPECT_EQ(dir, ConnDir::in);
    EXPECT_EQ(find(*t, out_key(f), &dir), c);
    EXPECT_EQ(dir, ConnDir::out);
    EXPECT_TRUE(same_flow(*c, f));
    EXPECT_EQ(c->state.load(), static_cast<std::uint8_t>(ConnState::syn_recv));
    EXPECT_EQ(t->stats().in_use, 1U);
}

TEST(ConnTable, DirectRoutingEntryHasNoOutKey) {
    auto t = make_table(1024, 1);
    ASSERT_TRUE(t);
    const Flow f = make_flow(2, false);
    Conn4* c = add(*t, 0, f);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(find(*t, in_key(f)), c);
    EXPECT_EQ(find(*t, out_key(f)), nullptr);
}

TEST(ConnTable, LookupMisses) {
    auto t = make_table(1024, 1);
    ASSERT_TRUE(t);
    const Flow f = make_flow(3, true);
    EXPECT_EQ(find(*t, in_key(f)), nullptr);  // empty table
    ASSERT_NE(add(*t, 0, f), nullptr);

    FlowKey4 k = in_key(f);
    k.sport = static_cast<std::uint16_t>(k.sport + 1);
    EXPECT_EQ(find(*t, k), nullptr);
    k = in_key(f);
    k.proto = kUdp;
    EXPECT_EQ(find(*t, k), nullptr);
    k = in_key(f);
    k.daddr = ip4(198, 19, 0, 2);
    EXPECT_EQ(find(*t, k), nullptr);
    // The in key read backwards is not the out key.
    const FlowKey4 in = in_key(f);
    EXPECT_EQ(find(*t, FlowKey4{in.daddr, in.saddr, in.dport, in.sport, in.proto}), nullptr);
}

TEST(ConnTable, RemovedEntryIsNotFound) {
    auto t = make_table(1024, 1);
    ASSERT_TRUE(t);
    const Flow f = make_flow(4, true);
    const Flow g = make_flow(5, true);
    Conn4* c = add(*t, 0, f);
    ASSERT_NE(c, nullptr);
    ASSERT_NE(add(*t, 0, g), nullptr);

    EXPECT_TRUE(t->remove(0, c));
    EXPECT_EQ(find(*t, in_key(f)), nullptr);
    EXPECT_EQ(find(*t, out_key(f)), nullptr);
    EXPECT_NE(find(*t, in_key(g)), nullptr);  // the neighbour stays
    EXPECT_EQ(c->state.load(), static_cast<std::uint8_t>(ConnState::dead));
    const ConnTableStats s = t->stats();
    EXPECT_EQ(s.in_use, 1U);
    EXPECT_EQ(s.retired, 1U);
}

TEST(ConnTable, DoubleRemoveHasOneWinner) {
    auto t = make_table(1024, 1);
    ASSERT_TRUE(t);
    Conn4* c = add(*t, 0, make_flow(6, true));
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(t->remove(0, c));
    EXPECT_FALSE(t->remove(0, c));
    EXPECT_EQ(t->stats().in_use, 0U);
    EXPECT_EQ(t->stats().retired, 1U);  // freed once, not twice
}

TEST(ConnTable, ConcurrentRemoveAndExpiryHaveOneWinnerEach) {
    constexpr std::uint32_t kConns = 3000;
    auto t = ConnTable4::create(4096, 3);
    ASSERT_TRUE(t);
    t->register_worker(0);
    std::vector<Conn4*> conns;
    for (std::uint32_t i = 0; i < kConns; ++i) {
        conns.push_back(add(*t, 0, make_flow(i, i % 2 == 0), 10));
        ASSERT_NE(conns.back(), nullptr);
    }
    std::vector<std::atomic<std::uint32_t>> wins(kConns);
    std::atomic<std::uint32_t> expired{0};
    std::atomic<bool> go{false};
    auto remover = [&](std::uint32_t w) {
        t->register_worker(w);
        while (!go.load()) std::this_thread::yield();
        for (std::uint32_t i = 0; i < kConns; ++i) {
            if (t->remove(w, conns[i])) wins[i].fetch_add(1);
        }
    };
    std::thread a(remover, 1);
    std::thread b(remover, 2);
    go.store(true);
    // Worker 0 sweeps the whole pool (its share with 3 workers is a third:
    // the other two shares are swept by calling as them after the joins).
    expired += t->expire_step(0, 100, 4096);
    a.join();
    b.join();
    expired += t->expire_step(1, 100, 4096) + t->expire_step(2, 100, 4096);

    std::uint32_t total = expired.load();
    for (std::uint32_t i = 0; i < kConns; ++i) {
        EXPECT_LE(wins[i].load(), 1U) << i;
        total += wins[i].load();
    }
    EXPECT_EQ(total, kConns);  // every connection removed exactly once
    const ConnTableStats s = t->stats();
    EXPECT_EQ(s.in_use, 0U);
    EXPECT_EQ(s.retired, kConns);
}

TEST(ConnTable, FullTableDropsNewFlowsAndKeepsEstablishedOnes) {
    auto t = make_table(kSmall, 1);
    ASSERT_TRUE(t);
    ASSERT_EQ(t->capacity(), kSmall);
    std::vector<Conn4*> conns;
    for (std::uint32_t i = 0; i < kSmall; ++i) {
        conns.push_back(add(*t, 0, make_flow(i, true)));
        ASSERT_NE(conns.back(), nullptr) << i;
    }
    EXPECT_EQ(t->alloc(0), nullptr);
    EXPECT_EQ(t->alloc(0), nullptr);
    for (std::uint32_t i = 0; i < kSmall; ++i) {
        EXPECT_EQ(find(*t, in_key(make_flow(i, true))), conns[i]);
        EXPECT_EQ(find(*t, out_key(make_flow(i, true))), conns[i]);
    }
    ConnTableStats s = t->stats();
    EXPECT_EQ(s.in_use, kSmall);
    EXPECT_EQ(s.free, 0U);

    // One removal and a grace period make room for exactly one more.
    ASSERT_TRUE(t->remove(0, conns[7]));
    t->quiescent(0);
    EXPECT_NE(add(*t, 0, make_flow(kSmall + 1, true)), nullptr);
    EXPECT_EQ(t->alloc(0), nullptr);
}

// Alloc order is LIFO per worker cache, so an early reuse would hand the
// removed index straight back: the test would see it.
TEST(ConnTable, IndexReusedOnlyAfterEveryWorkerQuiesced) {
    auto t = make_table(kSmall, 2);
    ASSERT_TRUE(t);
    std::vector<Conn4*> conns;
    for (std::uint32_t i = 0; i < kSmall; ++i) {
        conns.push_back(add(*t, 0, make_flow(i, true)));
        ASSERT_NE(conns.back(), nullptr);
    }
    Conn4* victim = conns[20];
    ASSERT_TRUE(t->remove(0, victim));
    EXPECT_EQ(t->alloc(0), nullptr);  // not even to the remover, in the same burst
    t->quiescent(0);
    EXPECT_EQ(t->alloc(0), nullptr);  // worker 1 may still read it
    t->quiescent(0);
    EXPECT_EQ(t->alloc(0), nullptr);
    EXPECT_EQ(t->stats().retired, 1U);

    t->quiescent(1);                  // now every worker has passed
    EXPECT_EQ(t->stats().retired, 1U);  // reclaimed lazily by its owner...
    Conn4* again = t->alloc(0);       // ...when it runs out of free entries
    EXPECT_EQ(again, victim);
    EXPECT_EQ(t->stats().retired, 0U);
}

TEST(ConnTable, UnregisteredWorkerDoesNotHoldBackReuse) {
    auto t = make_table(64, 2);
    ASSERT_TRUE(t);
    Conn4* c = add(*t, 0, make_flow(1, false));
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(t->remove(0, c));
    t->unregister_worker(1);
    t->quiescent(0);
    const ConnTableStats s = t->stats();
    EXPECT_EQ(s.retired, 0U);
    EXPECT_EQ(s.free, s.capacity);
}

TEST(ConnTable, ExpireStepSweepsIncrementallyAcrossClockWrap) {
    auto t = make_table(kSmall, 1);
    ASSERT_TRUE(t);
    // Take every entry so the test knows where each connection lives.
    std::vector<Conn4*> all;
    for (Conn4* c = t->alloc(0); c != nullptr; c = t->alloc(0)) all.push_back(c);
    ASSERT_EQ(all.size(), kSmall);
    auto at = [&](std::uint32_t idx) {
        for (Conn4* c : all) {
            if (t->index_of(c) == idx) return c;
        }
        return static_cast<Conn4*>(nullptr);
    };
    const Flow fa = make_flow(1, true), fb = make_flow(2, false), fc = make_flow(3, true);
    struct Case { std::uint32_t idx; Flow f; std::uint32_t expires; };
    // The clock wraps between 0xffffff00 and 0x50.
    for (const Case& k : {Case{400, fa, 0xfffffff8U}, Case{500, fb, 0x40U}, Case{600, fc, 0x1000U}}) {
        Conn4* c = at(k.idx);
        ASSERT_NE(c, nullptr);
        fill(*c, k.f, k.expires);
        ASSERT_TRUE(t->link(0, c, ConnState::established));
    }

    // Before the wrap nothing is due (an unsigned compare would expire fb).
    EXPECT_EQ(t->expire_step(0, 0xfffffff0U, kSmall), 0U);
    EXPECT_EQ(t->stats().in_use, 3U);

    // After it, fa and fb are due; budget 100 walks 100 entries per call,
    // each call starting where the last one stopped.
    const std::uint32_t now = 0x50;
    std::vector<std::uint32_t> removed;
    for (int i = 0; i < 11; ++i) removed.push_back(t->expire_step(0, now, 100));
    EXPECT_EQ(removed, (std::vector<std::uint32_t>{0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0}));
    EXPECT_EQ(find(*t, in_key(fa)), nullptr);
    EXPECT_EQ(find(*t, out_key(fa)), nullptr);
    EXPECT_EQ(find(*t, in_key(fb)), nullptr);
    EXPECT_EQ(find(*t, in_key(fc)), at(600));
    EXPECT_EQ(t->expire_step(0, now, kSmall), 0U);
    EXPECT_EQ(t->stats().in_use, 1U);
    // Exactly at the deadline counts as expired.
    EXPECT_EQ(t->expire_step(0, 0x1000U, kSmall), 1U);
    EXPECT_EQ(t->stats().in_use, 0U);
}

TEST(ConnTable, ExpireStepStaysInTheWorkersShare) {
    auto t = make_table(kSmall, 2);
    ASSERT_TRUE(t);
    std::vector<Conn4*> all;
    for (Conn4* c = t->alloc(0); c != nullptr; c = t->alloc(0)) all.push_back(c);
    ASSERT_EQ(all.size(), kSmall);
    std::uint32_t n = 0;
    for (Conn4* c : all) {
        fill(*c, make_flow(n++, true), 5);
        ASSERT_TRUE(t->link(0, c, ConnState::established));
    }
    EXPECT_EQ(t->expire_step(0, 10, 5000), kSmall / 2);
    for (Conn4* c : all) {
        const bool dead = c->state.load() == static_cast<std::uint8_t>(ConnState::dead);
        EXPECT_EQ(dead, t->index_of(c) < kSmall / 2) << t->index_of(c);
    }
    EXPECT_EQ(t->expire_step(1, 10, 5000), kSmall / 2);
    EXPECT_EQ(t->stats().in_use, 0U);
}

TEST(ConnTable, SetStateNeverRevivesADeadEntry) {
    auto t = make_table(64, 1);
    ASSERT_TRUE(t);
    Conn4* c = add(*t, 0, make_flow(1, true));
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(ConnTable4::set_state(*c, ConnState::established));
    EXPECT_EQ(c->state.load(), static_cast<std::uint8_t>(ConnState::established));
    ASSERT_TRUE(t->remove(0, c));
    EXPECT_FALSE(ConnTable4::set_state(*c, ConnState::established));
    EXPECT_EQ(c->state.load(), static_cast<std::uint8_t>(ConnState::dead));
    EXPECT_FALSE(t->remove(0, c));
}

}  // namespace

// The two candidate buckets of a key, from the table's own private hashing.
struct ConnTableTestPeer {
    static std::set<std::uint32_t> buckets(const ConnTable4& t, const FlowKey4& k) {
        const std::uint32_t h = ConnTable4::hash(k);
        return {h & t.bucket_mask_, t.alt_bucket(h)};
    }
    static std::uint32_t primary(const ConnTable4& t, const FlowKey4& k) { return ConnTable4::hash(k) & t.bucket_mask_; }
    // Which bucket holds the key's slot: 0 primary, 1 alternate, -1 none.
    static int where(const ConnTable4& t, const FlowKey4& k) { return t.bucket_choice(k); }
};

namespace {

TEST(ConnTable, KeysFillTheirPrimaryBucketBeforeTheAlternateAndBulkLookupFindsBoth) {
    auto t = make_table(kSmall, 1);
    ASSERT_TRUE(t);
    // 10 one-way flows sharing a primary bucket: 7 stay there (one slot is
    // kept for the two-choice fallback), the rest go to their alternates.
    const std::uint32_t primary = ConnTableTestPeer::primary(*t, in_key(make_flow(0, false)));
    std::vector<Flow> flows;
    for (std::uint32_t n = 0; n < (1U << 24) && flows.size() < 10; ++n) {
        const Flow f = make_flow(n, false);
        if (ConnTableTestPeer::primary(*t, in_key(f)) == primary) flows.push_back(f);
    }
    ASSERT_EQ(flows.size(), 10U);
    for (const Flow& f : flows) ASSERT_NE(add(*t, 0, f), nullptr);
    int in_primary = 0;
    for (const Flow& f : flows) {
        const int w = ConnTableTestPeer::where(*t, in_key(f));
        ASSERT_NE(w, -1);
        in_primary += w == 0 ? 1 : 0;
    }
    EXPECT_EQ(in_primary, 7);
    // One bulk call over hits in either bucket and misses, interleaved.
    std::vector<FlowKey4> keys;
    for (std::uint32_t i = 0; i < flows.size(); ++i) {
        keys.push_back(in_key(flows[i]));
        keys.push_back(in_key(make_flow((1U << 23) + i, false)));  // never added
    }
    std::vector<Conn4*> out(keys.size());
    std::vector<ConnDir> dirs(keys.size());
    t->lookup_bulk(keys.data(), static_cast<std::uint32_t>(keys.size()), out.data(), dirs.data());
    for (std::uint32_t i = 0; i < flows.size(); ++i) {
        ASSERT_NE(out[2 * i], nullptr) << i;
        EXPECT_TRUE(same_flow(*out[2 * i], flows[i])) << i;
        EXPECT_EQ(dirs[2 * i], ConnDir::in);
        EXPECT_EQ(out[2 * i + 1], nullptr) << i;
    }
}

TEST(ConnTable, LinkFailsWhenBothBucketsAreFullAndFreesTheEntry) {
    auto t = make_table(kSmall, 1);
    ASSERT_TRUE(t);
    // 17 one-way flows sharing both candidate buckets (16 slots).
    const auto pair = ConnTableTestPeer::buckets(*t, in_key(make_flow(0, false)));
    std::vector<Flow> flows;
    for (std::uint32_t n = 0; n < (1U << 24) && flows.size() < 17; ++n) {
        const Flow f = make_flow(n, false);
        if (ConnTableTestPeer::buckets(*t, in_key(f)) == pair) flows.push_back(f);
    }
    ASSERT_EQ(flows.size(), 17U);
    for (std::uint32_t i = 0; i < 16; ++i) ASSERT_NE(add(*t, 0, flows[i]), nullptr) << i;

    Conn4* c = t->alloc(0);
    ASSERT_NE(c, nullptr);
    fill(*c, flows[16], 1000);
    EXPECT_FALSE(t->link(0, c, ConnState::syn_recv));
    EXPECT_EQ(c->state.load(), static_cast<std::uint8_t>(ConnState::dead));
    EXPECT_EQ(find(*t, in_key(flows[16])), nullptr);
    for (std::uint32_t i = 0; i < 16; ++i) EXPECT_NE(find(*t, in_key(flows[i])), nullptr) << i;
    const ConnTableStats s = t->stats();
    EXPECT_EQ(s.in_use, 16U);
    EXPECT_EQ(s.free, s.capacity - 16);  // never published: back at once
    EXPECT_EQ(t->alloc(0), c);
}

TEST(ConnTable, AtMost128BytesPerConnection) {
    for (const std::uint32_t cap : {1U, 1000U, 65536U, 100000U, 1U << 20}) {
        auto t = ConnTable4::create(cap, 8);
        ASSERT_TRUE(t) << cap;
        const ConnTableStats s = t->stats();
        EXPECT_GE(s.capacity, cap);
        EXPECT_EQ(s.free, s.capacity);
        const double per_conn = static_cast<double>(s.bytes) / static_cast<double>(s.capacity);
        std::cout << "capacity " << s.capacity << ": " << s.bytes << " bytes, " << per_conn << " B/conn\n";
        EXPECT_LE(per_conn, 128.0) << cap;
        EXPECT_GE(per_conn, 100.0) << cap;  // the pool and index really are there
    }
}

TEST(ConnTable, ForEachVisitsLiveEntriesOnly) {
    auto t = make_table(256, 1);
    ASSERT_TRUE(t);
    std::set<const Conn4*> live;
    for (std::uint32_t i = 0; i < 20; ++i) {
        Conn4* c = add(*t, 0, make_flow(i, i % 3 == 0));
        ASSERT_NE(c, nullptr);
        if (i % 4 == 0) {
            ASSERT_TRUE(t->remove(0, c));
        } else {
            live.insert(c);
        }
    }
    (void)t->alloc(0);  // allocated but not linked: not listed
    std::set<const Conn4*> seen;
    t->for_each([&](const Conn4& c) { seen.insert(&c); });
    EXPECT_EQ(seen, live);
}

TEST(ConnTable, LookupBulkEqualsLookup) {
    auto t = make_table(4096, 1);
    ASSERT_TRUE(t);
    std::vector<Flow> flows;
    for (std::uint32_t i = 0; i < 600; ++i) {
        flows.push_back(make_flow(i * 7 + 3, i % 2 == 0, i % 5 == 0 ? kUdp : kTcp));
        Conn4* c = add(*t, 0, flows.back());
        ASSERT_NE(c, nullptr);
        if (i % 6 == 0) {
            ASSERT_TRUE(t->remove(0, c));
        }
    }
    // In keys, out keys (some absent: DR), removed and never-seen flows.
    std::vector<FlowKey4> keys;
    for (std::uint32_t i = 0; i < flows.size(); ++i) {
        keys.push_back(in_key(flows[i]));
        keys.push_back(out_key(flows[i]));
        keys.push_back(in_key(make_flow(100000 + i, true)));
    }
    std::uint32_t hits = 0;
    for (std::size_t at = 0; at < keys.size(); at += ConnTable4::kMaxBulk) {
        const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(ConnTable4::kMaxBulk, keys.size() - at));
        std::vector<Conn4*> out(n, nullptr);
        std::vector<ConnDir> dirs(n, ConnDir::in);
        t->lookup_bulk(&keys[at], n, out.data(), dirs.data());
        for (std::uint32_t i = 0; i < n; ++i) {
            ConnDir dir = ConnDir::in;
            Conn4* one = t->lookup(keys[at + i], dir);
            EXPECT_EQ(out[i], one) << at + i;
            if (one != nullptr) {
                EXPECT_EQ(dirs[i], dir) << at + i;
                ++hits;
            }
        }
    }
    // 500 live flows (every 6th removed): 500 in hits + 200 NAT out hits.
    EXPECT_EQ(hits, 500U + 200U);
}

// --- multi-threaded stress ---------------------------------------------------
//
// Each thread owns kFlowsPerThread flows and links / removes them at random,
// checking its own flows exactly; it also looks up other threads' flows,
// whose status it reads from a per-flow sequence number (a seqlock: odd while
// the owner is changing it, value % 4 == 2 while linked). A lookup between
// two equal even readings must agree with that status.

constexpr std::uint32_t kThreads = 4;
constexpr std::uint32_t kFlowsPerThread = 1500;
constexpr std::uint32_t kOpsPerThread = 150000;
constexpr std::uint32_t kBurst = 16;

struct StressShared {
    std::vector<Flow> flows;
    std::vector<std::atomic<std::uint32_t>> seq;
    std::vector<Conn4*> conn;  // written only by the owner
    std::atomic<std::uint32_t> ready{0};
    explicit StressShared(std::uint32_t n) : seq(n), conn(n, nullptr) {
        for (std::uint32_t i = 0; i < n; ++i) flows.push_back(make_flow(i, i % 3 != 0));
    }
};

struct StressResult {
    std::uint64_t links = 0, removes = 0, alloc_drops = 0, checked_foreign = 0;
    std::uint64_t lost = 0, phantom = 0, wrong = 0, link_failed = 0, remove_lost = 0, reused_early = 0;
};

void stress_worker(ConnTable4& t, StressShared& sh, std::uint32_t w, StressResult& r) {
    t.register_worker(w);
    sh.ready.fetch_add(1);
    while (sh.ready.load() != kThreads) std::this_thread::yield();
    std::mt19937 rng(w * 7919 + 1);
    const std::uint32_t own_begin = w * kFlowsPerThread;
    const auto n_all = static_cast<std::uint32_t>(sh.flows.size());
    struct Seen { const Conn4* c; std::uint32_t flow; };
    std::vector<Seen> seen;
    seen.reserve(kBurst * 2);

    for (std::uint32_t op = 0; op < kOpsPerThread; ++op) {
        const std::uint32_t f = own_begin + rng() % kFlowsPerThread;
        const Flow& flow = sh.flows[f];
        const std::uint32_t s = sh.seq[f].load(std::memory_order_relaxed);
        if (s % 4 == 0) {  // unlinked: link it
            Conn4* c = t.alloc(w);
            if (c == nullptr) {
                // Everything free is waiting for a reader that is not running
                // (4 threads on 2 cores): a counted drop; let it run.
                ++r.alloc_drops;
                std::this_thread::yield();
            } else {
                fill(*c, flow, 0);
                sh.seq[f].store(s + 1, std::memory_order_relaxed);
                std::atomic_thread_fence(std::memory_order_release);
                if (t.link(w, c, ConnState::established)) {
                    sh.conn[f] = c;
                    sh.seq[f].store(s + 2, std::memory_order_release);
                    ++r.links;
                } else {
                    sh.seq[f].store(s + 4, std::memory_order_release);
                    ++r.link_failed;
                }
            }
        } else {           // linked: it must be there, in both directions
            ConnDir dir = ConnDir::out;
            Conn4* c = t.lookup(in_key(flow), dir);
            if (c != sh.conn[f] || dir != ConnDir::in) ++r.lost;
            if (flow.nat && find(t, out_key(flow)) != sh.conn[f]) ++r.lost;
            if (rng() % 2 == 0 && c != nullptr) {
                sh.seq[f].store(s + 1, std::memory_order_relaxed);
                std::atomic_thread_fence(std::memory_order_release);
                if (!t.remove(w, c)) ++r.remove_lost;
                sh.seq[f].store(s + 2, std::memory_order_release);
                ++r.removes;
                if (find(t, in_key(flow)) != nullptr || find(t, out_key(flow)) != nullptr) ++r.phantom;
            }
        }

        // Somebody else's flow (or our own).
        const std::uint32_t g = rng() % n_all;
        const FlowKey4 k = rng() % 2 == 0 || !sh.flows[g].nat ? in_key(sh.flows[g]) : out_key(sh.flows[g]);
        const std::uint32_t s1 = sh.seq[g].load(std::memory_order_acquire);
        Conn4* c = find(t, k);
        std::atomic_thread_fence(std::memory_order_acquire);
        const std::uint32_t s2 = sh.seq[g].load(std::memory_order_relaxed);
        if (c != nullptr) {
            if (!same_flow(*c, sh.flows[g])) ++r.wrong;
            seen.push_back({c, g});
        }
        if (s1 == s2 && s1 % 2 == 0) {
            ++r.checked_foreign;
            if (s1 % 4 == 2 && c == nullptr) ++r.lost;
            if (s1 % 4 == 0 && c != nullptr) ++r.phantom;
        }

        if (op % kBurst == kBurst - 1) {
            // Entries found in this burst must not have been recycled yet.
            for (const Seen& e : seen) {
                if (!same_flow(*e.c, sh.flows[e.flow])) ++r.reused_early;
            }
            seen.clear();
            t.quiescent(w);
        }
    }
    t.quiescent(w);
    t.unregister_worker(w);  // a finished thread must not hold back the others' grace periods
}

TEST(ConnTableStress, ConcurrentInsertLookupRemove) {
    auto t = ConnTable4::create(1U << 14, kThreads);
    ASSERT_TRUE(t);
    StressShared sh(kThreads * kFlowsPerThread);
    std::vector<StressResult> results(kThreads);
    std::vector<std::thread> threads;
    for (std::uint32_t w = 0; w < kThreads; ++w) {
        threads.emplace_back(stress_worker, std::ref(*t), std::ref(sh), w, std::ref(results[w]));
    }
    for (auto& th : threads) th.join();

    StressResult sum;
    for (const StressResult& r : results) {
        sum.links += r.links;
        sum.removes += r.removes;
        sum.alloc_drops += r.alloc_drops;
        sum.checked_foreign += r.checked_foreign;
        sum.lost += r.lost;
        sum.phantom += r.phantom;
        sum.wrong += r.wrong;
        sum.link_failed += r.link_failed;
        sum.remove_lost += r.remove_lost;
        sum.reused_early += r.reused_early;
    }
    std::cout << "stress: " << sum.links << " links, " << sum.removes << " removes, " << sum.alloc_drops
              << " alloc drops, " << sum.checked_foreign << " cross-thread checks\n";
    EXPECT_EQ(sum.lost, 0U);
    EXPECT_EQ(sum.phantom, 0U);
    EXPECT_EQ(sum.wrong, 0U);
    EXPECT_EQ(sum.link_failed, 0U);
    EXPECT_EQ(sum.remove_lost, 0U);
    EXPECT_EQ(sum.reused_early, 0U);
    EXPECT_GT(sum.links, kThreads * kOpsPerThread / 4);  // the test did work
    EXPECT_GT(sum.checked_foreign, kThreads * kOpsPerThread / 2);

    // Quiet now: every linked flow is found, every unlinked one is not.
    std::uint64_t linked = 0;
    for (std::uint32_t f = 0; f < sh.flows.size(); ++f) {
        const bool is_linked = sh.seq[f].load() % 4 == 2;
        linked += is_linked ? 1 : 0;
        EXPECT_EQ(find(*t, in_key(sh.flows[f])), is_linked ? sh.conn[f] : nullptr) << f;
        if (sh.flows[f].nat) {
            EXPECT_EQ(find(*t, out_key(sh.flows[f])), is_linked ? sh.conn[f] : nullptr) << f;
        }
    }
    ConnTableStats s = t->stats();
    EXPECT_EQ(s.in_use, linked);
    EXPECT_EQ(s.in_use + s.free + s.retired, s.capacity);
    std::uint64_t listed = 0;
    t->for_each([&](const Conn4&) { ++listed; });
    EXPECT_EQ(listed, linked);

    // Remove everything; after two quiescent rounds all memory is free again.
    for (std::uint32_t f = 0; f < sh.flows.size(); ++f) {
        if (sh.seq[f].load() % 4 == 2) {
            EXPECT_TRUE(t->remove(f % kThreads, sh.conn[f]));
        }
    }
    for (std::uint32_t w = 0; w < kThreads; ++w) t->register_worker(w);
    for (int round = 0; round < 2; ++round) {
        for (std::uint32_t w = 0; w < kThreads; ++w) t->quiescent(w);
    }
    s = t->stats();
    EXPECT_EQ(s.in_use, 0U);
    EXPECT_EQ(s.retired, 0U);
    EXPECT_EQ(s.free, s.capacity);
}

}  // namespace
}  // namespace kadp::dp
