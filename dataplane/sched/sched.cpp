// Runs on: control thread (building a SchedState, name lookups).
#include "dataplane/sched/sched.h"

#include <array>
#include <stdexcept>
#include <string>

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

std::string_view sched_name(SchedAlgo algo) {
    const auto i = static_cast<std::size_t>(algo);
    return i < kAlgos.size() ? kAlgos[i].name : std::string_view{"?"};
}

SchedState::SchedState(SchedAlgo algo, std::span<const DestRef> dests, const SchedState* prev)
    : algo_(algo), dests_(dests.begin(), dests.end()) {
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
    }
    const auto i = static_cast<std::size_t>(algo);
    if (i >= kAlgos.size()) throw std::invalid_argument("scheduler: unknown algorithm");
    // A state built for another algorithm has no position that means anything here.
    kAlgos[i].build(*this, prev != nullptr && prev->algo_ == algo ? prev : nullptr);
}

}  // namespace kadp::dp
