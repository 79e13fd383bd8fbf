// Runs on: worker lcores (once per ms tick, in end_of_loop; pure functions,
// also used by tests).
//
// The connection table's defense against SYN floods, in the spirit of
// IPVS's defense strategies (update_defense_level in ip_vs_ctl.c,
// ip_vs_random_dropentry in ip_vs_conn.c). IPVS reacts to low system
// memory; kadp's table has a fixed capacity, so the trigger is its
// occupancy (linked entries / capacity), computed by each worker from the
// table's per-worker link counts at every ms tick (a handful of relaxed
// loads, nothing on the per-packet path). The level has hysteresis:
//   level 0  occupancy below high_pct: nothing changes.
//   level 1  from high_pct: a half-open TCP connection (SYN_RECV, SYNACK,
//            SYN_SENT) idle for half_open_ms is removed by the expiry
//            sweep instead of after its 60/120 s state timeout (IPVS's
//            secure_tcp idea: shorter lives for half-open entries).
//   level 2  from full_pct: half-open connections idle for drop_age_ms are
//            removed (IPVS's drop_entry), and the sweep runs sweep_speedup
//            times faster so they go soon after that age.
// A level is left when the occupancy falls hysteresis_pct below its mark.
// Established connections (and every other state, UDP, templates) are
// never removed early: when the table is full of them, new flows are
// dropped as before (conn_table_full). Unlike IPVS's drop_entry, which
// also drops ESTABLISHED entries with few packets, kadp keeps them.
//
// Bound: under a flood of R spoofed SYNs per second, level 2 keeps each
// half-open entry at most ~drop_age_ms + sweep period / sweep_speedup, so
// the flood holds about R x that many entries; a table bigger than that
// always has room for legitimate SYNs.
#pragma once

#include <cstdint>

#include "dataplane/conn_table.h"

namespace kadp::dp {

struct ConnDefenseConfig {
    std::uint32_t high_pct = 75;         // level 1 from this occupancy (percent of capacity)
    std::uint32_t full_pct = 90;         // level 2 from this occupancy
    std::uint32_t hysteresis_pct = 10;   // a level is left this far below its mark
    std::uint32_t half_open_ms = 5'000;  // level 1: idle time after which a half-open entry goes
    std::uint32_t drop_age_ms = 1'000;   // level 2: the same, shorter (room for a real handshake's RTT)
    std::uint32_t sweep_speedup = 4;     // level 2: the sweep's period is divided by this
};

inline constexpr std::uint8_t kDefenseMaxLevel = 2;

// The level after `current` for `in_use` linked entries out of `capacity`.
std::uint8_t next_defense_level(std::uint8_t current, std::uint64_t in_use, std::uint64_t capacity,
                                const ConnDefenseConfig& cfg);

// How long a half-open connection may stay idle at `level`; 0: its normal
// state timeout (level 0).
std::uint32_t half_open_idle_limit_ms(std::uint8_t level, const ConnDefenseConfig& cfg);

// The expiry sweep's period at `level`, from the configured one (>= 1).
std::uint32_t defense_sweep_period_ms(std::uint8_t level, std::uint32_t period_ms, const ConnDefenseConfig& cfg);

}  // namespace kadp::dp
