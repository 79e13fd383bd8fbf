// Runs on: control thread (building a SchedState, name lookups).
#include "dataplane/sched/sched.h"

#include <time.h>

#include <array>
#include <stdexcept>
#include <string>

#include "dataplane/sched/locality_table.h"
#include "dataplane/sched/overload.h"

namespace kadp::dp {

namespace {

struct AlgoEntry {
    std::string_view name;
    SchedAlgo algo;
    void (*build)(SchedState&, const SchedState*);
};

constexpr std::array kAlgos = {
#define KADP_SCHED_ENTRY(name) AlgoEntry{#name, SchedAlgo::name, &sched_build_##name},
    KADP_SCHED_ALGOS(KADP_SCHED_ENTRY)
#undef KADP_SCHED_ENTRY
};

// The table is indexed by the enum: its order is the X-list's.
constexpr bool table_in_enum_order() {
    for (std::size_t i = 0; i < kAlgos.size(); ++i) {
        if (static_cast<std::size_t>(kAlgos[i].algo) != i) return false;
    }
    return true;
}
static_assert(table_in_enum_order());

}  // namespace

std::optional<SchedAlgo> sched_from_name(std::string_view name) {
    for (const AlgoEntry& e : kAlgos) {
        if (e.name == name) return e.algo;
    }
    return std::nullopt;
}

std::string sched_names() {
    std::string out;
    for (const AlgoEntry& e : kAlgos) {
        if (!out.empty()) out += ", ";
        out += e.name;
    }
    return out;
}

std::uint32_t sched_coarse_seconds() {
    // The coarse clock is a vDSO read of the last tick: cheap enough per new
    // connection, and seconds are all lblc/lblcr's expiry needs.
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<std::uint32_t>(ts.tv_sec);
}

std::string_view sched_name(SchedAlgo algo) {
    const auto i = static_cast<std::size_t>(algo);
    return i < kAlgos.size() ? kAlgos[i].name : std::string_view{"?"};
}

SchedState::SchedState(SchedAlgo algo, std::span<const DestRef> dests, const SchedState* prev, std::uint32_t flags,
                       SchedClock clock)
    : algo_(algo), flags_(flags & kSchedFlagMask), clock_(clock), dests_(dests.begin(), dests.end()) {
    if (dests_.size() > kMaxDests) {
        throw std::invalid_argument("scheduler: " + std::to_string(dests_.size()) + " real servers, at most " +
                                    std::to_string(kMaxDests) + " per service");
    }
    for (std::size_t i = 0; i < dests_.size(); ++i) {
        if (dests_[i].weight < 0) {
            throw std::invalid_argument("scheduler: real server " + std::to_string(i) + " has negative weight " +
                                        std::to_string(dests_[i].weight));
        }
        if (dests_[i].stats == nullptr) {
            throw std::invalid_argument("scheduler: real server " + std::to_string(i) + " has no stats");
        }
        if (dests_[i].u_threshold != 0) has_thresholds_ = true;
        clear_stale_overload(dests_[i]);
    }
    if (clock_ == nullptr) throw std::invalid_argument("scheduler: no clock");
    const auto i = static_cast<std::size_t>(algo);
    if (i >= kAlgos.size()) throw std::invalid_argument("scheduler: unknown algorithm");
    // A state built for another algorithm has no position that means anything here.
    kAlgos[i].build(*this, prev != nullptr && prev->algo_ == algo ? prev : nullptr);
}

SchedState::~SchedState() = default;

std::span<const std::uint32_t> SchedState::lookup_table() const {
    if (algo_ == SchedAlgo::sh || algo_ == SchedAlgo::dh || algo_ == SchedAlgo::mh) return table_;
    return {};
}

void SchedState::note_pick(const DestRef& d) {
    // The connection being scheduled brings the count to total + 1: IPVS's
    // bind would set the flag if that reaches u_threshold.
    if (d.u_threshold == 0) return;
    if (dest_total_conns(*d.stats) + 1 >= d.u_threshold &&
        d.stats->overload_mark.load(std::memory_order_relaxed) != d.u_threshold) {
        d.stats->overload_mark.store(d.u_threshold, std::memory_order_relaxed);
    }
}

}  // namespace kadp::dp
