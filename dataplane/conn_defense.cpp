// Runs on: worker lcores (once per ms tick). See conn_defense.h.
#include "dataplane/conn_defense.h"

#include <algorithm>

namespace kadp::dp {

namespace {
// in_use >= pct% of capacity, without overflow for any table size.
bool at_least(std::uint64_t in_use, std::uint64_t capacity, std::uint32_t pct) {
    return in_use * 100 >= capacity * pct;
}
std::uint32_t below(std::uint32_t mark, std::uint32_t hysteresis) { return mark > hysteresis ? mark - hysteresis : 0; }
}  // namespace

std::uint8_t next_defense_level(std::uint8_t current, std::uint64_t in_use, std::uint64_t capacity,
                                const ConnDefenseConfig& cfg) {
    if (capacity == 0) return 0;
    const std::uint32_t marks[kDefenseMaxLevel] = {cfg.high_pct, cfg.full_pct};
    std::uint8_t level = 0;
    for (std::uint8_t l = 1; l <= kDefenseMaxLevel; ++l) {
        const std::uint32_t mark = marks[l - 1];
        // Entered at its mark; kept (once reached) down to the mark minus the hysteresis.
        const std::uint32_t need = current >= l ? below(mark, cfg.hysteresis_pct) : mark;
        if (mark <= 100 && at_least(in_use, capacity, need)) level = l;
    }
    return level;
}

std::uint32_t half_open_idle_limit_ms(std::uint8_t level, const ConnDefenseConfig& cfg) {
    switch (level) {
    case 0: return 0;
    case 1: return std::max<std::uint32_t>(cfg.half_open_ms, 1);
    default: return std::max<std::uint32_t>(cfg.drop_age_ms, 1);
    }
}

std::uint32_t defense_sweep_period_ms(std::uint8_t level, std::uint32_t period_ms, const ConnDefenseConfig& cfg) {
    const std::uint32_t p = std::max<std::uint32_t>(period_ms, 1);
    if (level < kDefenseMaxLevel || cfg.sweep_speedup <= 1) return p;
    return std::max<std::uint32_t>(p / cfg.sweep_speedup, 1);
}

}  // namespace kadp::dp
