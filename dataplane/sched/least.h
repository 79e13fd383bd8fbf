// Runs on: worker lcores (called from pick functions).
//
// The weighted-least-load walk IPVS's wlc, sed, lblc and lblcr share: among
// the available dests (weight > 0, not overloaded), the one with the least
// overhead / weight, compared without division (replace the choice L by D
// when overhead(L) * weight(D) > overhead(D) * weight(L)); ties go to the
// first in list order.
#pragma once

#include <span>

#include "dataplane/sched/overload.h"
#include "dataplane/sched/sched.h"

namespace kadp::dp {

namespace detail {
// Overheads reach 2^41 and weights 2^31: the products need more than 64 bits.
__extension__ using SchedUint128 = unsigned __int128;

inline bool heavier(std::uint64_t oh_a, std::int32_t w_a, std::uint64_t oh_b, std::int32_t w_b) {
    // oh_a / w_a > oh_b / w_b
    return static_cast<SchedUint128>(oh_a) * static_cast<std::uint32_t>(w_b) >
           static_cast<SchedUint128>(oh_b) * static_cast<std::uint32_t>(w_a);
}
}  // namespace detail

// `overhead(const DestRef&)` -> std::uint64_t is the algorithm's load estimate.
template <class Overhead>
std::uint32_t least_weighted(std::span<const DestRef> dests, Overhead overhead) {
    std::uint32_t least = kNoDest;
    std::uint64_t least_overhead = 0;
    for (std::uint32_t i = 0; i < dests.size(); ++i) {
        const DestRef& d = dests[i];
        if (!dest_available(d)) continue;
        const std::uint64_t oh = overhead(d);
        if (least == kNoDest || detail::heavier(least_overhead, dests[least].weight, oh, d.weight)) {
            least = i;
            least_overhead = oh;
        }
    }
    return least;
}

}  // namespace kadp::dp
