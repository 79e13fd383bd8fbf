// Runs on: worker lcores (pick time); the control thread when it builds a
// SchedState (clear_stale_overload).
//
// IPVS's dest overload (IP_VS_DEST_F_OVERLOAD, ip_vs_conn.c): with
// u_threshold set, binding a connection that brings the dest's connection
// count (active + inactive) to u_threshold sets the flag; unbinding one
// clears it once the count is below l_threshold, or below 3/4 of
// u_threshold when l_threshold is 0 (hysteresis). Every scheduler skips a
// flagged dest (lblc/lblcr's cached dests excepted, see lblc.cpp).
//
// kadp evaluates the flag where schedulers look at it, at pick time, instead
// of where connections are counted: the counting code (connection table,
// pipeline) stays unaware of thresholds, and no lock or control-thread write
// is needed on the fast path. The flag lives in DestStats::overload_mark
// (written only when it changes, relaxed): it is set when a pick finds the
// count at u_threshold or takes the dest to it (the connection being
// scheduled is the one IPVS would bind), and cleared when a pick finds the
// count below the low mark. Because every connection the scheduler creates
// passes a pick, this is IPVS's state machine exactly, except for counts
// that move without a pick (persistence templates, synced connections):
// a dest that falls below the low mark and climbs back between l and u
// without any pick looking at it stays flagged here, where IPVS cleared it.
#pragma once

#include "dataplane/sched/sched.h"

namespace kadp::dp {

inline std::uint64_t dest_total_conns(const DestStats& s) {
    return std::uint64_t{s.active.load(std::memory_order_relaxed)} + s.inactive.load(std::memory_order_relaxed);
}

// Whether IPVS's flag is set for `d` now, updating the mark as IPVS's unbind
// (clear) and bind (set) would have.
inline bool dest_overloaded(const DestRef& d) {
    if (d.u_threshold == 0) return false;
    const std::uint64_t total = dest_total_conns(*d.stats);
    const std::uint32_t mark = d.stats->overload_mark.load(std::memory_order_relaxed);
    // A mark set under a lower threshold than today's was cleared by the edit.
    if (mark != 0 && mark >= d.u_threshold) {
        const bool below_low = d.l_threshold != 0 ? total < d.l_threshold
                                                  : total * 4 < std::uint64_t{d.u_threshold} * 3;
        if (!below_low) return true;
        d.stats->overload_mark.store(0, std::memory_order_relaxed);
        return false;
    }
    if (total >= d.u_threshold) {
        d.stats->overload_mark.store(d.u_threshold, std::memory_order_relaxed);
        return true;
    }
    return false;
}

// IPVS's weight > 0 and not IP_VS_DEST_F_OVERLOAD: may take a new connection.
inline bool dest_available(const DestRef& d) { return d.weight > 0 && !dest_overloaded(d); }

// Control thread, building a SchedState: IPVS clears the flag when a dest is
// edited to no u_threshold or a higher one (__ip_vs_update_dest).
inline void clear_stale_overload(const DestRef& d) {
    const std::uint32_t mark = d.stats->overload_mark.load(std::memory_order_relaxed);
    if (mark != 0 && (d.u_threshold == 0 || d.u_threshold > mark)) {
        d.stats->overload_mark.store(0, std::memory_order_relaxed);
    }
}

}  // namespace kadp::dp
