// Runs on: any (unit test). No EAL. The SYN-flood defense's pieces on their
// own: the level from the table's occupancy (with hysteresis), and the
// expiry sweep removing idle half-open connections -- and nothing else --
// when the level asks for it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <atomic>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "dataplane/conn_defense.h"
#include "dataplane/conn_state.h"
#include "dataplane/conn_table.h"

namespace kadp::dp {
namespace {

constexpr std::uint32_t ip4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
}

TEST(ConnDefense, LevelRisesAtItsMarksAndFallsBelowThemByTheHysteresis) {
    const ConnDefenseConfig cfg;  // 75 / 90, hysteresis 10
    EXPECT_EQ(next_defense_level(0, 0, 1000, cfg), 0);
    EXPECT_EQ(next_defense_level(0, 749, 1000, cfg), 0);
    EXPECT_EQ(next_defense_level(0, 750, 1000, cfg), 1);
    EXPECT_EQ(next_defense_level(0, 899, 1000, cfg), 1);
    EXPECT_EQ(next_defense_level(0, 900, 1000, cfg), 2);  // straight from 0 to 2
    EXPECT_EQ(next_defense_level(0, 1000, 1000, cfg), 2);
    // Going down: level 2 is kept down to 80%, level 1 down to 65%.
    EXPECT_EQ(next_defense_level(2, 800, 1000, cfg), 2);
    EXPECT_EQ(next_defense_level(2, 799, 1000, cfg), 1);
    EXPECT_EQ(next_defense_level(1, 899, 1000, cfg), 1);
    EXPECT_EQ(next_defense_level(1, 650, 1000, cfg), 1);
    EXPECT_EQ(next_defense_level(1, 649, 1000, cfg), 0);
    EXPECT_EQ(next_defense_level(2, 10, 1000, cfg), 0);
    // No overflow at the largest tables.
    EXPECT_EQ(next_defense_level(0, std::uint64_t{1} << 30, std::uint64_t{1} << 30, cfg), 2);
    // Marks above 100% switch a level off.
    ConnDefenseConfig off;
    off.high_pct = 101;
    off.full_pct = 101;
    EXPECT_EQ(next_defense_level(0, 1000, 1000, off), 0);
}

TEST(ConnDefense, LevelsSetTheHalfOpenIdleLimitAndTheSweepPeriod) {
    const ConnDefenseConfig cfg;
    EXPECT_EQ(half_open_idle_limit_ms(0, cfg), 0U);
    EXPECT_EQ(half_open_idle_limit_ms(1, cfg), 5000U);
    EXPECT_EQ(half_open_idle_limit_ms(2, cfg), 1000U);
    EXPECT_EQ(defense_sweep_period_ms(0, 1000, cfg), 1000U);
    EXPECT_EQ(defense_sweep_period_ms(1, 1000, cfg), 1000U);
    EXPECT_EQ(defense_sweep_period_ms(2, 1000, cfg), 250U);
    EXPECT_EQ(defense_sweep_period_ms(2, 2, cfg), 1U);
    EXPECT_EQ(defense_sweep_period_ms(0, 0, cfg), 1U);
}

TEST(ConnDefense, HalfOpenStatesAreSynRecvSynackAndSynSent) {
    for (std::uint8_t s = 0; s < kConnStateCount; ++s) {
        const auto st = static_cast<ConnState>(s);
        const bool want = st == ConnState::syn_recv || st == ConnState::synack || st == ConnState::syn_sent;
        EXPECT_EQ(state_is_half_open(st), want) << to_string(st);
    }
}

struct Removed {
    std::vector<std::pair<std::uint32_t, ConnState>> seen;  // (caddr, last state)
    static void hook(void* self, const Conn4& c, ConnState last) {
        static_cast<Removed*>(self)->seen.emplace_back(c.caddr, last);
    }
};

// One connection per state of interest, each last touched at t=0 (deadline
// = its state's timeout), NAT (both keys).
class SweepEvictionTest : public ::testing::Test {
protected:
    SweepEvictionTest() {
        t_ = ConnTable4::create(1024, 1);
        t_->register_worker(0);
    }
    ~SweepEvictionTest() override { t_->unregister_worker(0); }
    Conn4* add(std::uint32_t n, ConnState st, std::uint8_t proto = 6, std::uint8_t kind = kConnKindFlow) {
        Conn4* c = t_->alloc(0);
        c->caddr = ip4(198, 18, 1, n);
        c->vaddr = ip4(198, 18, 0, 100);
        c->daddr = ip4(198, 19, 0, 1);
        c->cport = static_cast<std::uint16_t>(40000 + n);
        c->vport = 80;
        c->dport = 80;
        c->proto = proto;
        c->kind = kind;
        c->two_way = kind == kConnKindFlow ? 1 : 0;
        c->expires_ms.store(state_timeout_ms(st), std::memory_order_relaxed);
        EXPECT_TRUE(t_->link(0, c, st));
        return c;
    }
    std::unique_ptr<ConnTable4> t_;
};

TEST_F(SweepEvictionTest, OnlyIdleHalfOpenFlowsAreRemovedAndReportedWithTheirState) {
    add(1, ConnState::syn_recv);
    add(2, ConnState::synack);
    add(3, ConnState::syn_sent);
    add(4, ConnState::established);
    add(5, ConnState::close_wait);
    add(6, ConnState::udp, 17);
    add(7, ConnState::fin_wait);
    Conn4* tpl = add(8, ConnState::none, 6, kConnKindTemplate);
    tpl->persist_ms = 300'000;
    tpl->expires_ms.store(300'000);
    ASSERT_EQ(t_->linked(), 8U);
    Removed r;
    // Level 0 (limit 0): a whole sweep at t=4 s removes nothing.
    auto n = t_->sweep_step(0, 4000, 1024, 0, &Removed::hook, &r);
    EXPECT_EQ(n.expired + n.evicted, 0U);
    // Idle 4 s with a 5 s limit: still nothing.
    n = t_->sweep_step(0, 4000, 1024, 5000, &Removed::hook, &r);
    EXPECT_EQ(n.expired + n.evicted, 0U);
    EXPECT_TRUE(r.seen.empty());
    // Idle 5 s: exactly the three half-open ones.
    n = t_->sweep_step(0, 5000, 1024, 5000, &Removed::hook, &r);
    EXPECT_EQ(n.evicted, 3U);
    EXPECT_EQ(n.expired, 0U);
    ASSERT_EQ(r.seen.size(), 3U);
    std::vector<std::pair<std::uint32_t, ConnState>> want{{ip4(198, 18, 1, 1), ConnState::syn_recv},
                                                          {ip4(198, 18, 1, 2), ConnState::synack},
                                                          {ip4(198, 18, 1, 3), ConnState::syn_sent}};
    std::sort(r.seen.begin(), r.seen.end());
    EXPECT_EQ(r.seen, want);
    EXPECT_EQ(t_->linked(), 5U);
    // Both keys of an evicted NAT connection are gone.
    ConnDir dir;
    EXPECT_EQ(t_->lookup(FlowKey4{ip4(198, 18, 1, 1), ip4(198, 18, 0, 100), 40001, 80, 6}, dir), nullptr);
    EXPECT_EQ(t_->lookup(FlowKey4{ip4(198, 19, 0, 1), ip4(198, 18, 1, 1), 80, 40001, 6}, dir), nullptr);
    // Even a 1 ms limit far later leaves the others (until their own deadlines).
    n = t_->sweep_step(0, 9000, 1024, 1, &Removed::hook, &r);
    EXPECT_EQ(n.expired + n.evicted, 0U);
    EXPECT_EQ(t_->linked(), 5U);
    // The ordinary expiry still runs alongside: close_wait's 60 s.
    n = t_->sweep_step(0, 60'000, 1024, 1, &Removed::hook, &r);
    EXPECT_EQ(n.expired, 1U);
    EXPECT_EQ(n.evicted, 0U);
    EXPECT_EQ(t_->stats().in_use, 4U);
}

TEST_F(SweepEvictionTest, AHalfOpenFlowTouchedLaterIsIdleFromItsLastPacket) {
    Conn4* c = add(1, ConnState::syn_recv);
    // A retransmitted SYN at t=3 s pushed the deadline to 3 s + 60 s.
    c->expires_ms.store(3000 + state_timeout_ms(ConnState::syn_recv));
    EXPECT_EQ(t_->sweep_step(0, 7999, 1024, 5000, nullptr, nullptr).evicted, 0U);
    EXPECT_EQ(t_->sweep_step(0, 8000, 1024, 5000, nullptr, nullptr).evicted, 1U);
}

TEST_F(SweepEvictionTest, AFlowEstablishedBeforeTheSweepReachesItStays) {
    Conn4* c = add(1, ConnState::syn_recv);
    // The client's ACK: established, deadline pushed (as track_state does).
    ASSERT_TRUE(ConnTable4::set_state(*c, ConnState::syn_recv, ConnState::established));
    c->expires_ms.store(6000 + state_timeout_ms(ConnState::established));
    EXPECT_EQ(t_->sweep_step(0, 6000, 1024, 1, nullptr, nullptr).evicted, 0U);
    EXPECT_EQ(t_->linked(), 1U);
}

// Another worker's packets establish connections while the sweep evicts
// idle half-open ones: each connection ends exactly one way -- evicted as
// syn_recv, or established and still linked -- so per-state counts (the
// dest's active/inactive) follow every connection exactly once. (The
// window between the sweep's state load and its CAS is a few instructions:
// this stress run rarely lands in it; the CAS from the judged state is what
// makes the outcome exact there too.)
TEST(SweepEvictionRace, EachConnectionIsEitherEvictedHalfOpenOrEstablishedNeverBoth) {
    constexpr std::uint32_t kConns = 900;
    // One sweeping worker, so its share is the whole pool; the other
    // thread only changes states (set_state needs no registration).
    auto t = ConnTable4::create(1024, 1);
    t->register_worker(0);
    std::vector<Conn4*> conns;
    for (std::uint32_t n = 0; n < kConns; ++n) {
        Conn4* c = t->alloc(0);
        ASSERT_NE(c, nullptr);
        c->caddr = ip4(198, 18, 2 + n / 250, 1 + n % 250);
        c->vaddr = ip4(198, 18, 0, 100);
        c->daddr = ip4(198, 19, 0, 1);
        c->cport = 40000;
        c->vport = 80;
        c->dport = 80;
        c->proto = 6;
        c->two_way = 1;
        c->expires_ms.store(state_timeout_ms(ConnState::syn_recv), std::memory_order_relaxed);
        ASSERT_TRUE(t->link(0, c, ConnState::syn_recv));
        conns.push_back(c);
    }
    std::vector<std::uint8_t> established(kConns, 0);
    std::atomic<bool> go{false};
    // Another thread establishes every other connection, as the client's ACK does.
    std::thread acks([&] {
        while (!go.load(std::memory_order_acquire)) {
        }
        for (std::uint32_t n = 0; n < kConns; n += 2) {
            if (ConnTable4::set_state(*conns[n], ConnState::syn_recv, ConnState::established)) {
                conns[n]->expires_ms.store(10'000 + state_timeout_ms(ConnState::established), std::memory_order_relaxed);
                established[n] = 1;
            }
        }
    });
    Removed r;
    go.store(true, std::memory_order_release);
    std::uint32_t evicted = 0;
    for (int pass = 0; pass < 4; ++pass) {
        evicted += t->sweep_step(0, 10'000, 1024, 1000, &Removed::hook, &r).evicted;
    }
    acks.join();
    evicted += t->sweep_step(0, 10'000, 1024, 1000, &Removed::hook, &r).evicted;
    std::uint32_t n_established = 0;
    for (std::uint32_t n = 0; n < kConns; ++n) n_established += established[n];
    EXPECT_EQ(evicted + n_established, kConns);
    EXPECT_EQ(r.seen.size(), evicted);
    for (const auto& [caddr, last] : r.seen) EXPECT_EQ(last, ConnState::syn_recv);
    EXPECT_EQ(t->linked(), n_established);
    for (std::uint32_t n = 0; n < kConns; ++n) {
        const auto st = static_cast<ConnState>(conns[n]->state.load());
        EXPECT_EQ(st, established[n] != 0 ? ConnState::established : ConnState::dead) << n;
    }
    t->unregister_worker(0);
}

}  // namespace
}  // namespace kadp::dp
