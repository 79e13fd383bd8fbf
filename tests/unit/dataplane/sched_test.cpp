// Runs on: any (unit test). The IPVS schedulers without EAL: plain threads
// stand in for worker lcores.
#include <gtest/gtest.h>

#include "dataplane/sched/sched.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

namespace kadp::dp {
namespace {

// Dests with the given weights, each with its own stats (their identity).
class Dests {
public:
    explicit Dests(std::vector<std::int32_t> weights) {
        for (std::int32_t w : weights) {
            stats_.push_back(std::make_unique<DestStats>());
            refs_.push_back(DestRef{w, stats_.back().get()});
        }
    }
    std::span<const DestRef> refs() const { return refs_; }
    void set_weight(std::size_t i, std::int32_t w) { refs_[i].weight = w; }
    void erase(std::size_t i) { refs_.erase(refs_.begin() + static_cast<std::ptrdiff_t>(i)); }
    void set_conns(std::size_t i, std::uint32_t active, std::uint32_t inactive) {
        stats_[i]->active.store(active);
        stats_[i]->inactive.store(inactive);
    }

private:
    std::vector<std::unique_ptr<DestStats>> stats_;
    std::vector<DestRef> refs_;
};

std::vector<std::uint32_t> picks(const SchedState& s, std::size_t n) {
    std::vector<std::uint32_t> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(s.pick(SchedFlow{}));
    return out;
}

using Seq = std::vector<std::uint32_t>;

// IPVS's wrr as the kernel runs it, one stateful pick at a time under its
// lock (ip_vs_wrr.c, weights fixed): the reference the schedule must equal.
class IpvsWrrModel {
public:
    explicit IpvsWrrModel(std::vector<std::int32_t> w) : w_(std::move(w)) {
        std::int32_t g = 0, max = 0;
        for (std::int32_t x : w_) {
            if (x > 0) g = std::gcd(g, x);
            max = std::max(max, x);
        }
        di_ = g > 0 ? g : 1;
        mw_ = max - (di_ - 1);
        cw_ = mw_;
    }
    std::uint32_t pick() {
        if (mw_ <= 0) return kNoDest;
        int dest = cl_;
        for (;;) {
            for (++dest; dest < static_cast<int>(w_.size()); ++dest) {
                if (w_[static_cast<std::size_t>(dest)] >= cw_) {
                    cl_ = dest;
                    return static_cast<std::uint32_t>(dest);
                }
            }
            dest = -1;  // back to the list head
            cw_ -= di_;
            if (cw_ <= 0) cw_ = mw_;
        }
    }

private:
    std::vector<std::int32_t> w_;
    int cl_ = -1;
    std::int32_t cw_ = 0, mw_ = 0, di_ = 1;
};

// --- names ---------------------------------------------------------------

TEST(SchedName, KnownNamesMapBothWays) {
    EXPECT_EQ(sched_from_name("rr"), SchedAlgo::rr);
    EXPECT_EQ(sched_from_name("wrr"), SchedAlgo::wrr);
    EXPECT_EQ(sched_from_name("lc"), SchedAlgo::lc);
    EXPECT_EQ(sched_from_name("wlc"), SchedAlgo::wlc);
    EXPECT_EQ(sched_from_name("sh"), SchedAlgo::sh);
    EXPECT_EQ(sched_from_name("dh"), SchedAlgo::dh);
    EXPECT_EQ(sched_from_name("mh"), SchedAlgo::mh);
    EXPECT_EQ(sched_from_name("sed"), SchedAlgo::sed);
    EXPECT_EQ(sched_from_name("nq"), SchedAlgo::nq);
    EXPECT_EQ(sched_from_name("lblc"), SchedAlgo::lblc);
    EXPECT_EQ(sched_from_name("lblcr"), SchedAlgo::lblcr);
    EXPECT_EQ(sched_from_name("fo"), SchedAlgo::fo);
    EXPECT_EQ(sched_from_name("ovf"), SchedAlgo::ovf);
    for (SchedAlgo a : {SchedAlgo::rr, SchedAlgo::wrr, SchedAlgo::lc, SchedAlgo::wlc, SchedAlgo::sh, SchedAlgo::dh,
                        SchedAlgo::mh, SchedAlgo::sed, SchedAlgo::nq, SchedAlgo::lblc, SchedAlgo::lblcr, SchedAlgo::fo,
                        SchedAlgo::ovf}) {
        EXPECT_EQ(sched_from_name(sched_name(a)), a);
    }
    EXPECT_EQ(sched_name(SchedAlgo::wlc), "wlc");
    EXPECT_EQ(sched_names(), "rr, wrr, lc, wlc, sh, dh, mh, sed, nq, lblc, lblcr, fo, ovf");
}

TEST(SchedName, OtherNamesAreRejected) {
    for (const char* n : {"twos", "foo", "RR", "Wlc", "SH", "", "rr ", "lblcr2"}) {
        EXPECT_FALSE(sched_from_name(n).has_value()) << n;
    }
}

TEST(SchedState, RejectsBadDests) {
    Dests neg({1, -1});
    EXPECT_THROW(SchedState(SchedAlgo::rr, neg.refs()), std::invalid_argument);
    std::vector<DestRef> no_stats{{1, nullptr}};
    EXPECT_THROW(SchedState(SchedAlgo::wlc, no_stats), std::invalid_argument);
}

// --- rr ------------------------------------------------------------------

TEST(SchedRr, CyclesInListOrder) {
    Dests d({1, 1, 1});
    SchedState s(SchedAlgo::rr, d.refs());
    EXPECT_EQ(s.period(), 3U);
    EXPECT_EQ(picks(s, 7), (Seq{0, 1, 2, 0, 1, 2, 0}));
}

TEST(SchedRr, SkipsWeightZeroAndIgnoresWeightValue) {
    Dests d({0, 5, 0, 1, 3, 0});
    SchedState s(SchedAlgo::rr, d.refs());
    EXPECT_EQ(picks(s, 7), (Seq{1, 3, 4, 1, 3, 4, 1}));
}

TEST(SchedRr, CarriesPositionAcrossRebuild) {
    Dests d({1, 1, 1, 1});
    SchedState a(SchedAlgo::rr, d.refs());
    EXPECT_EQ(picks(a, 2), (Seq{0, 1}));
    // Same dests: continue after the last one picked, not from the top.
    SchedState b(SchedAlgo::rr, d.refs(), &a);
    EXPECT_EQ(picks(b, 3), (Seq{2, 3, 0}));
    // The dest picked last (0) drops to weight 0: continue after it anyway.
    d.set_weight(0, 0);
    SchedState c(SchedAlgo::rr, d.refs(), &b);
    EXPECT_EQ(picks(c, 4), (Seq{1, 2, 3, 1}));
    // The dest picked last (1) leaves the service: restart at the top.
    d.erase(1);
    SchedState e(SchedAlgo::rr, d.refs(), &c);
    EXPECT_EQ(picks(e, 3), (Seq{1, 2, 1}));
    // A state of another algorithm gives no position.
    SchedState f(SchedAlgo::wrr, d.refs());
    EXPECT_EQ(picks(f, 1), (Seq{1}));
    SchedState g(SchedAlgo::rr, d.refs(), &f);
    EXPECT_EQ(picks(g, 1), (Seq{1}));
}

// --- wrr -----------------------------------------------------------------

struct WrrCase {
    std::vector<std::int32_t> weights;
    Seq cycle;
};

TEST(SchedWrr, ReproducesIpvsSequence) {
    const std::vector<WrrCase> cases = {
        {{4, 3, 2}, {0, 0, 1, 0, 1, 2, 0, 1, 2}},
        {{5, 5, 5}, {0, 1, 2}},                    // equal weights: plain rr
        {{7}, {0}},                                // one dest
        {{3, 0, 1}, {0, 0, 0, 2}},                 // weight 0 never picked
        {{4, 2, 6}, {2, 0, 2, 0, 1, 2}},           // gcd 2: mw 5, cw 5, 3, 1
        {{0, 9, 3, 6}, {1, 1, 3, 1, 2, 3}},        // gcd 3: mw 7, cw 7, 4, 1
        {{1, 2}, {1, 0, 1}},
    };
    for (const WrrCase& c : cases) {
        Dests d(c.weights);
        SchedState s(SchedAlgo::wrr, d.refs());
        ASSERT_TRUE(s.exact_order());
        EXPECT_EQ(s.period(), c.cycle.size()) << ::testing::PrintToString(c.weights);
        Seq two = c.cycle;
        two.insert(two.end(), c.cycle.begin(), c.cycle.end());
        EXPECT_EQ(picks(s, two.size()), two) << ::testing::PrintToString(c.weights);
    }
}

TEST(SchedWrr, MatchesKernelLoopOnRandomWeights) {
    std::mt19937 rng(42);
    for (int round = 0; round < 300; ++round) {
        const std::size_t n = 1 + rng() % 8;
        const std::int32_t scale = 1 + static_cast<std::int32_t>(rng() % 4);  // gcd > 1 often
        std::vector<std::int32_t> w;
        for (std::size_t i = 0; i < n; ++i) w.push_back(rng() % 4 == 0 ? 0 : scale * static_cast<std::int32_t>(rng() % 12));
        Dests d(w);
        SchedState s(SchedAlgo::wrr, d.refs());
        IpvsWrrModel model(w);
        const std::size_t len = 3 * std::max<std::size_t>(s.period(), 1);
        for (std::size_t i = 0; i < len; ++i) {
            ASSERT_EQ(s.pick(SchedFlow{}), model.pick()) << ::testing::PrintToString(w) << " pick " << i;
        }
    }
}

TEST(SchedWrr, LongRunIsProportionalToWeights) {
    const std::vector<std::int32_t> w = {50, 30, 0, 10, 20};  // gcd 10
    Dests d(w);
    SchedState s(SchedAlgo::wrr, d.refs());
    ASSERT_EQ(s.period(), 11U);
    constexpr std::uint64_t kCycles = 1000;
    std::vector<std::uint64_t> count(w.size());
    for (std::uint64_t i = 0; i < kCycles * s.period(); ++i) ++count[s.pick(SchedFlow{})];
    EXPECT_EQ(count, (std::vector<std::uint64_t>{5 * kCycles, 3 * kCycles, 0, 1 * kCycles, 2 * kCycles}));
}

TEST(SchedWrr, KeepsCurrentPassAcrossRebuild) {
    Dests d({4, 3, 2});
    SchedState a(SchedAlgo::wrr, d.refs());
    // a | a b | a ... : the last pick is in the pass with cw 2.
    EXPECT_EQ(picks(a, 4), (Seq{0, 0, 1, 0}));
    // IPVS restarts the current pass from the head of the list.
    SchedState b(SchedAlgo::wrr, d.refs(), &a);
    EXPECT_EQ(picks(b, 6), (Seq{0, 1, 2, 0, 1, 2}));
    // Now in the last pass (cw 1). Weights 4, 2, 0 make the gcd 2 and mw 3;
    // cw becomes (1 / 2) * 2 + 1 = 1: the new schedule's second pass.
    d.set_weight(1, 2);
    d.set_weight(2, 0);
    SchedState c(SchedAlgo::wrr, d.refs(), &b);
    EXPECT_EQ(c.period(), 3U);
    EXPECT_EQ(picks(c, 4), (Seq{0, 1, 0, 0}));
    // gcd 2: passes run at cw = mw - k * di down to 1 (mw = 4 - 1): after
    // a a, cw is 1 and stays 1 = (1 / 2) * 2 + 1, so a b comes first.
    Dests even({4, 2});
    SchedState g(SchedAlgo::wrr, even.refs());
    EXPECT_EQ(picks(g, 2), (Seq{0, 0}));
    SchedState h(SchedAlgo::wrr, even.refs(), &g);
    EXPECT_EQ(picks(h, 5), (Seq{0, 1, 0, 0, 1}));
    // Nothing picked yet: IPVS's cw is the old mw (1 here), kept when it fits.
    Dests small({1, 1});
    SchedState fresh(SchedAlgo::wrr, small.refs());
    Dests grown({1, 2, 3});
    SchedState e(SchedAlgo::wrr, grown.refs(), &fresh);
    EXPECT_EQ(picks(e, 6), (Seq{0, 1, 2, 2, 1, 2}));
    // ... and capped to the new mw when it does not.
    SchedState f(SchedAlgo::wrr, small.refs(), &e);
    EXPECT_EQ(picks(f, 2), (Seq{0, 1}));
}

TEST(SchedWrr, HugeScheduleFallsBackToExactProportions) {
    // gcd 1, a cycle of 300010 picks: more than the schedule may hold.
    const std::vector<std::int32_t> w = {200003, 0, 100000, 7};
    Dests d(w);
    SchedState s(SchedAlgo::wrr, d.refs());
    EXPECT_FALSE(s.exact_order());
    ASSERT_EQ(s.period(), 300010U);
    std::vector<std::uint64_t> count(w.size());
    for (std::uint64_t i = 0; i < s.period() / 3; ++i) ++count[s.pick(SchedFlow{})];
    // Interleaved, not in blocks: a third of the cycle holds about a third of each.
    EXPECT_NEAR(static_cast<double>(count[0]), 200003.0 / 3, 200003.0 / 300);
    EXPECT_NEAR(static_cast<double>(count[2]), 100000.0 / 3, 100000.0 / 300);
    EXPECT_GE(count[3], 1U);
    EXPECT_EQ(count[1], 0U);
    for (std::uint64_t i = s.period() / 3; i < 2 * s.period(); ++i) ++count[s.pick(SchedFlow{})];
    EXPECT_EQ(count, (std::vector<std::uint64_t>{2 * 200003, 0, 2 * 100000, 2 * 7}));
}

TEST(SchedWrr, LargeWeightsWithSmallCycleStayExact) {
    // Weights at the top of the range but a short cycle thanks to the gcd.
    const std::int32_t big = 1 << 30;
    Dests d({big, big / 2, 0, big / 4});
    SchedState s(SchedAlgo::wrr, d.refs());
    EXPECT_TRUE(s.exact_order());
    EXPECT_EQ(picks(s, 7), (Seq{0, 0, 0, 1, 0, 1, 3}));
}

// --- lc / wlc --------------------------------------------------------------

TEST(SchedLc, LeastOverheadWins) {
    Dests d({1, 1, 1});
    SchedState s(SchedAlgo::lc, d.refs());
    d.set_conns(0, 2, 0);    // 512
    d.set_conns(1, 1, 300);  // 556
    d.set_conns(2, 1, 255);  // 511
    EXPECT_EQ(s.pick(SchedFlow{}), 2U);
    // An active connection weighs 256 inactive ones: 256 + 0 < 0 + 257.
    d.set_conns(0, 1, 0);
    d.set_conns(1, 0, 257);
    d.set_conns(2, 5, 0);
    EXPECT_EQ(s.pick(SchedFlow{}), 0U);
    d.set_conns(1, 0, 255);
    EXPECT_EQ(s.pick(SchedFlow{}), 1U);
}

TEST(SchedLc, TieGoesToFirstAndWeightOnlyGates) {
    Dests d({1, 100, 1});
    SchedState s(SchedAlgo::lc, d.refs());
    d.set_conns(0, 3, 1);
    d.set_conns(1, 0, 769);  // 769 = 3 * 256 + 1
    d.set_conns(2, 0, 769);
    EXPECT_EQ(s.pick(SchedFlow{}), 0U);
    d.set_conns(0, 3, 2);
    EXPECT_EQ(s.pick(SchedFlow{}), 1U);  // lc ignores the weight's size
}

TEST(SchedLc, SkipsWeightZero) {
    Dests d({0, 1, 0, 1});
    SchedState s(SchedAlgo::lc, d.refs());
    d.set_conns(1, 9, 0);
    d.set_conns(3, 8, 0);
    EXPECT_EQ(s.pick(SchedFlow{}), 3U);  // 0 and 2 have no connections but weight 0
    d.set_conns(3, 9, 1);
    EXPECT_EQ(s.pick(SchedFlow{}), 1U);
}

TEST(SchedWlc, LeastOverheadPerWeightWins) {
    Dests d({1, 2, 4});
    SchedState s(SchedAlgo::wlc, d.refs());
    d.set_conns(0, 1, 0);  // 256 / 1
    d.set_conns(1, 2, 0);  // 512 / 2: tie with 0
    d.set_conns(2, 5, 0);  // 1280 / 4 = 320
    EXPECT_EQ(s.pick(SchedFlow{}), 0U);
    d.set_conns(1, 1, 255);  // 511 / 2 < 256
    EXPECT_EQ(s.pick(SchedFlow{}), 1U);
    d.set_conns(2, 3, 0);  // 768 / 4 = 192
    EXPECT_EQ(s.pick(SchedFlow{}), 2U);
    d.set_conns(2, 3, 255);  // 1023 / 4 = 255.75 > 511 / 2 = 255.5
    EXPECT_EQ(s.pick(SchedFlow{}), 1U);
}

TEST(SchedWlc, TiesGoToFirstAndWeightZeroIsSkipped) {
    Dests d({0, 3, 6, 3});
    SchedState s(SchedAlgo::wlc, d.refs());
    d.set_conns(1, 1, 0);  // 256 / 3
    d.set_conns(2, 2, 0);  // 512 / 6, same
    d.set_conns(3, 1, 0);  // same
    EXPECT_EQ(s.pick(SchedFlow{}), 1U);  // dest 0 has nothing but weight 0
    d.set_conns(1, 1, 1);
    EXPECT_EQ(s.pick(SchedFlow{}), 2U);
    // Every dest idle: the first eligible.
    for (std::size_t i = 0; i < 4; ++i) d.set_conns(i, 0, 0);
    EXPECT_EQ(s.pick(SchedFlow{}), 1U);
}

TEST(SchedWlc, ProductsDoNotOverflow) {
    // (2^40 overhead) * 2^24 weight = 2^64: wraps to 0 in 64 bits.
    Dests d({1, 1 << 24});
    SchedState s(SchedAlgo::wlc, d.refs());
    d.set_conns(0, UINT32_MAX, 256);  // overhead 2^40
    d.set_conns(1, 0, 0);
    EXPECT_EQ(s.pick(SchedFlow{}), 1U);
    d.set_conns(1, UINT32_MAX, 256);  // same overhead, 2^24 times the weight
    EXPECT_EQ(s.pick(SchedFlow{}), 1U);
    // The other product: 2^40 overhead times the current choice's 2^24 weight.
    Dests e({1 << 24, 1});
    SchedState t(SchedAlgo::wlc, e.refs());
    e.set_conns(0, 0, 1);
    e.set_conns(1, UINT32_MAX, 256);
    EXPECT_EQ(t.pick(SchedFlow{}), 0U);
}

// --- none ------------------------------------------------------------------

TEST(SchedNone, NoEligibleDestGivesNone) {
    for (SchedAlgo a : {SchedAlgo::rr, SchedAlgo::wrr, SchedAlgo::lc, SchedAlgo::wlc}) {
        Dests zero({0, 0, 0});
        SchedState s(a, zero.refs());
        EXPECT_EQ(s.pick(SchedFlow{}), kNoDest) << sched_name(a);
        EXPECT_EQ(s.pick(SchedFlow{}), kNoDest) << sched_name(a);
        Dests empty({});
        SchedState e(a, empty.refs());
        EXPECT_EQ(e.pick(SchedFlow{}), kNoDest) << sched_name(a);
    }
}

// --- concurrency -----------------------------------------------------------

// kThreads pickers share one state; over whole cycles every dest must get
// exactly cycles * weight / gcd picks (rr: cycles each), however the picks
// interleave.
void expect_exact_under_contention(SchedAlgo algo, const std::vector<std::int32_t>& w,
                                   const std::vector<std::uint64_t>& per_cycle) {
    constexpr unsigned kThreads = 4;
    constexpr std::uint64_t kCycles = 40000;
    Dests d(w);
    SchedState s(algo, d.refs());
    const std::uint64_t per_thread = kCycles * s.period() / kThreads;
    ASSERT_EQ(per_thread * kThreads, kCycles * s.period());
    std::vector<std::vector<std::uint64_t>> counts(kThreads, std::vector<std::uint64_t>(w.size() + 1));
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            std::vector<std::uint64_t>& c = counts[t];
            for (std::uint64_t i = 0; i < per_thread; ++i) {
                const std::uint32_t p = s.pick(SchedFlow{});
                ++c[p < w.size() ? p : w.size()];  // the last slot counts kNoDest / garbage
            }
        });
    }
    go.store(true, std::memory_order_release);
    for (std::thread& t : threads) t.join();
    std::vector<std::uint64_t> total(w.size() + 1);
    for (const auto& c : counts) {
        for (std::size_t i = 0; i < total.size(); ++i) total[i] += c[i];
    }
    std::vector<std::uint64_t> expected;
    for (std::uint64_t x : per_cycle) expected.push_back(x * kCycles);
    expected.push_back(0);
    EXPECT_EQ(total, expected) << sched_name(algo);
}

TEST(SchedConcurrent, RrStaysExact) {
    expect_exact_under_contention(SchedAlgo::rr, {1, 0, 7, 1, 2}, {1, 0, 1, 1, 1});
}

TEST(SchedConcurrent, WrrStaysExact) {
    expect_exact_under_contention(SchedAlgo::wrr, {4, 3, 0, 2, 1}, {4, 3, 0, 2, 1});
    expect_exact_under_contention(SchedAlgo::wrr, {6, 2, 4}, {3, 1, 2});
}

}  // namespace
}  // namespace kadp::dp
