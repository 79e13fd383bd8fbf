// Runs on: control thread (sched_build_wrr) and worker lcores (sched_pick_wrr).
//
// Weighted round robin, IPVS's interleaved order (ip_vs_wrr.c): with
// di = gcd of the positive weights and mw = max weight - (di - 1), IPVS makes
// passes over the list with a current weight cw = mw, mw - di, ..., down to 1,
// and in each pass picks, in list order, every dest whose weight >= cw.
// Weights 4,3,2 give a | a b | a b c | a b c; a cycle is sum(weight / di)
// picks, and dests of weight 0 are never picked.
//
// IPVS walks that order under the service's lock. Here the control thread
// writes one whole cycle into table_ (aux_[j] = where pass j starts) and
// pick number s takes table_[s % period_]: the same global order, lock-free.
//
// Fallback: when a cycle is longer than kWrrMaxSchedule entries (large,
// coprime weights), no schedule is stored. table_ lists the eligible dests,
// aux_ their cumulative weight / di, and pick number s takes the dest whose
// range holds (s * stride) % period_, stride being coprime to period_ and
// near period_ / golden ratio. That is a permutation of the cycle, so every
// full cycle still gives each dest exactly weight / di picks, and the
// golden-ratio stride spreads them evenly (low discrepancy) - but the order
// is not IPVS's. exact_order() says which mode a state runs.
//
// Overloaded dests are skipped like IPVS skips them: the walk goes on, each
// step taking a sequence number.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "dataplane/sched/overload.h"

namespace kadp::dp {

namespace {

// 1 MiB of schedule per service at most: 2^18 4-byte dest indices.
constexpr std::uint64_t kWrrMaxSchedule = 1U << 18;

__extension__ using Uint128 = unsigned __int128;

// IPVS's cw after a dest change (ip_vs_wrr_dest_changed): keep the pass,
// rounded onto the new weight step, or start over at mw when it no longer fits.
std::int64_t carried_weight(std::int64_t cw, std::int64_t mw, std::int64_t di) {
    if (cw > mw || cw <= 0) return mw;
    if (di > 1) return (cw / di) * di + 1;
    return cw;
}

std::uint64_t coprime_stride(std::uint64_t period) {
    constexpr double kInvPhi = 0.6180339887498949;
    auto stride = static_cast<std::uint64_t>(std::llround(static_cast<double>(period) * kInvPhi));
    stride = std::clamp<std::uint64_t>(stride, 1, period - 1);
    while (std::gcd(stride, period) != 1) stride = stride + 1 < period ? stride + 1 : 1;
    return stride;
}

}  // namespace

void sched_build_wrr(SchedState& state, const SchedState* prev) {
    state.pick_ = &sched_pick_wrr;
    std::int64_t di = 0;
    std::int64_t max = 0;
    for (const DestRef& d : state.dests_) {
        if (d.weight <= 0) continue;
        di = std::gcd(di, static_cast<std::int64_t>(d.weight));
        max = std::max(max, static_cast<std::int64_t>(d.weight));
    }
    if (max == 0) return;  // period_ 0: nothing eligible
    state.gcd_ = di;
    state.max_weight_ = max - (di - 1);
    for (const DestRef& d : state.dests_) {
        if (d.weight > 0) state.period_ += static_cast<std::uint64_t>(d.weight / di);
    }

    if (state.period_ > kWrrMaxSchedule) {
        state.exact_order_ = false;
        std::uint64_t sum = 0;
        for (std::uint32_t i = 0; i < state.dests_.size(); ++i) {
            if (state.dests_[i].weight <= 0) continue;
            sum += static_cast<std::uint64_t>(state.dests_[i].weight / di);
            state.table_.push_back(i);
            state.aux_.push_back(sum);
        }
        state.param_ = coprime_stride(state.period_);
        // No pass to keep: any starting point is as good, so keep counting.
        if (prev != nullptr) state.seq_.store(prev->seq_.load(std::memory_order_relaxed), std::memory_order_relaxed);
        return;
    }

    // A pass's dests are those with weight >= cw, in list order. The set only
    // grows as cw falls: merge in the newcomers (heaviest first) instead of
    // rescanning every dest per pass, so building costs O(period + n log n).
    std::vector<std::uint32_t> by_weight;
    for (std::uint32_t i = 0; i < state.dests_.size(); ++i) {
        if (state.dests_[i].weight > 0) by_weight.push_back(i);
    }
    std::stable_sort(by_weight.begin(), by_weight.end(), [&state](std::uint32_t a, std::uint32_t b) {
        return state.dests_[a].weight > state.dests_[b].weight;
    });
    std::vector<std::uint32_t> pass_dests;
    pass_dests.reserve(by_weight.size());
    std::size_t joined = 0;
    state.table_.reserve(state.period_);
    state.aux_.reserve(static_cast<std::size_t>(max / di));
    for (std::int64_t cw = state.max_weight_; cw > 0; cw -= di) {
        const std::size_t old_size = pass_dests.size();
        while (joined < by_weight.size() && state.dests_[by_weight[joined]].weight >= cw) {
            pass_dests.push_back(by_weight[joined++]);
        }
        // The newcomers of one pass share one weight (the only multiple of
        // di in (cw - di, cw]), so the stable sort left them in list order.
        if (pass_dests.size() != old_size) {
            std::inplace_merge(pass_dests.begin(), pass_dests.begin() + static_cast<std::ptrdiff_t>(old_size),
                               pass_dests.end());
        }
        state.aux_.push_back(state.table_.size());
        state.table_.insert(state.table_.end(), pass_dests.begin(), pass_dests.end());
    }

    // Like IPVS after a dest change: keep the current pass (its cw, adjusted
    // to the new weights) and restart it from the head of the list. Picks
    // workers still make from `prev` meanwhile are not seen here.
    if (prev == nullptr || prev->period_ == 0 || !prev->exact_order_) return;
    const std::uint64_t taken = prev->seq_.load(std::memory_order_relaxed);
    std::int64_t cw = prev->max_weight_;
    if (taken > 0) {
        const std::uint64_t last = (taken - 1) % prev->period_;
        const auto pass = std::upper_bound(prev->aux_.begin(), prev->aux_.end(), last) - prev->aux_.begin() - 1;
        cw = prev->max_weight_ - pass * prev->gcd_;
    }
    cw = carried_weight(cw, state.max_weight_, di);
    state.seq_.store(state.aux_[static_cast<std::size_t>((state.max_weight_ - cw) / di)], std::memory_order_relaxed);
}

std::uint32_t sched_pick_wrr(const SchedState& state, const SchedFlow&) {
    if (state.period_ == 0) return kNoDest;
    const auto wrr_step = [](const SchedState& st, std::uint64_t s) -> std::uint32_t {
        if (st.exact_order_) return st.table_[s];
        const auto p = static_cast<std::uint64_t>(static_cast<Uint128>(s) * st.param_ % st.period_);
        // aux_ is cumulative: the dest whose range [aux_[i-1], aux_[i]) holds p.
        const auto i = std::upper_bound(st.aux_.begin(), st.aux_.end(), p) - st.aux_.begin();
        return st.table_[static_cast<std::size_t>(i)];
    };
    const std::uint32_t first = wrr_step(state, state.seq_.fetch_add(1, std::memory_order_relaxed) % state.period_);
    if (!state.has_thresholds_ || !dest_overloaded(state.dests_[first])) return first;
    // A cycle can be long: walk it only when some dest can take the connection.
    if (std::none_of(state.dests_.begin(), state.dests_.end(), [](const DestRef& d) { return dest_available(d); })) {
        return kNoDest;
    }
    for (std::uint64_t step = 1; step < state.period_; ++step) {
        const std::uint32_t i = wrr_step(state, state.seq_.fetch_add(1, std::memory_order_relaxed) % state.period_);
        if (!dest_overloaded(state.dests_[i])) return i;
    }
    return kNoDest;
}

}  // namespace kadp::dp
