// Runs on: any. SchedState is built on the control thread and picked from on
// worker lcores; DestStats is written by workers and read by both.
//
// IPVS schedulers for the data plane: which real server ("dest") a new
// connection of a virtual service goes to. One file per algorithm
// (rr.cpp, wrr.cpp, ...), IPVS semantics, no virtual calls on the fast path.
//
// Life cycle:
// * The control thread builds a SchedState for each service snapshot from
//   the service's dests in list order (`SchedState(algo, dests, prev)`):
//   every table an algorithm needs (rr's eligible list, wrr's schedule) is
//   allocated and filled here, never by a worker. `prev` is the state of the
//   snapshot being replaced, so the position carries over a rebuild the way
//   IPVS keeps its mark when a dest changes (see rr.cpp, wrr.cpp).
// * The snapshot is published by pointer (release) and read by every worker;
//   a worker calls pick() for each new connection. pick() is lock-free,
//   allocation-free and does not throw; several workers may pick at once.
// * The fields of a SchedState workers write are its sequence counter
//   `seq_` (rr, wrr) and the slots of the lblc/lblcr locality table
//   (locality_table.h, relaxed atomics, no lock). `seq_` is a relaxed
//   fetch_add on its own cache line: IPVS runs
//   rr/wrr under one lock per service; one global counter mapped onto a
//   precomputed sequence gives the same global order without a lock (each
//   pick takes a unique sequence number, so over k full cycles every dest is
//   picked exactly k*weight/gcd times, however the picks spread over workers).
// * Per-dest connection counts live in DestStats, which belongs to the dest's
//   identity, not to a snapshot: it outlives every snapshot and connection
//   that points at it (the owner frees it only after an RCU grace period
//   following the last snapshot that held it and the last connection that
//   counts on it).
//
// * Overload (IPVS's u_threshold / l_threshold and IP_VS_DEST_F_OVERLOAD):
//   evaluated at pick time, see overload.h.
//
// Adding an algorithm: add X(name) to KADP_SCHED_ALGOS below and write
// sched/name.cpp with sched_build_name() and sched_pick_name().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kadp::dp {

// Connection counts of one dest, as `ipvsadm -Ln` shows them: ActiveConn
// (established TCP) and InActConn (every other state). Written by any worker
// whose connection enters or leaves a state (relaxed atomics: counts, not
// synchronisation); read by lc/wlc on workers and by listings on the control
// thread. One cache line per dest: every worker writes it.
struct alignas(64) DestStats {
    std::atomic<std::uint32_t> active{0};
    std::atomic<std::uint32_t> inactive{0};
    // IPVS's IP_VS_DEST_F_OVERLOAD: 0 when clear, else the u_threshold that
    // set it (so a raised or removed threshold clears it, as IPVS does when
    // the dest is edited). Written by workers at pick time (overload.h).
    std::atomic<std::uint32_t> overload_mark{0};
};

// IPVS's load estimate of a dest (ip_vs_dest_conn_overhead): an active
// connection costs 256 inactive ones. Racy by nature: the counts move while
// workers read them, as they do across CPUs in IPVS. Any thread.
inline std::uint64_t dest_overhead(const DestStats& stats) {
    return (static_cast<std::uint64_t>(stats.active.load(std::memory_order_relaxed)) << 8) +
           stats.inactive.load(std::memory_order_relaxed);
}

// A dest as a scheduler sees it. `weight` is the snapshot's (0..kMaxWeight);
// `stats` is non-null and outlives the SchedState. `u_threshold` /
// `l_threshold` are keepalived's uthreshold / lthreshold (0 = none): the
// connection counts at which IPVS marks the dest overloaded and clears the
// mark again (overload.h). `addr_fold` / `port` (host order; the address
// folded as IPVS folds it, sched_hash.h) matter to mh only: its permutation
// hashes them. 32 bytes: lc/wlc scan these arrays.
struct DestRef {
    std::int32_t weight = 0;
    DestStats* stats = nullptr;
    std::uint32_t u_threshold = 0;
    std::uint32_t l_threshold = 0;
    std::uint32_t addr_fold = 0;
    std::uint16_t port = 0;
};
static_assert(sizeof(DestRef) == 32);

// The new connection, for the hashing and locality schedulers (sh, dh, mh,
// lblc, lblcr); the others ignore it. Addresses in network byte order; IPv4 uses
// word 0 and leaves the rest zero.
struct SchedFlow {
    std::uint32_t saddr[4] = {};
    std::uint32_t daddr[4] = {};
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    std::uint8_t family = 0;  // AF_INET / AF_INET6
    std::uint8_t proto = 0;
};

// X(name): the algorithms kadp's data plane implements, by keepalived's
// lb_algo name.
#define KADP_SCHED_ALGOS(X) \
    X(rr)                   \
    X(wrr)                  \
    X(lc)                   \
    X(wlc)                  \
    X(sh)                   \
    X(dh)                   \
    X(mh)                   \
    X(sed)                  \
    X(nq)                   \
    X(lblc)                 \
    X(lblcr)                \
    X(fo)                   \
    X(ovf)

enum class SchedAlgo : std::uint8_t {
#define KADP_SCHED_ENUM(name) name,
    KADP_SCHED_ALGOS(KADP_SCHED_ENUM)
#undef KADP_SCHED_ENUM
};

// The lb_algo names kadp can run; nullopt for any other name so
// configuration checking can reject it. Case-sensitive, like IPVS.
std::optional<SchedAlgo> sched_from_name(std::string_view name);
std::string_view sched_name(SchedAlgo algo);
// Every name sched_from_name() knows, comma separated, for error messages.
std::string sched_names();

// Scheduler flags: the bit values of IPVS's IP_VS_SVC_F_SCHED1..3 (what
// keepalived's sh-fallback/mh-fallback = flag-1, sh-port/mh-port = flag-2
// and flag-3 set), so control passes the IPVS service flags through.
inline constexpr std::uint32_t kSchedFlag1 = 0x0008;
inline constexpr std::uint32_t kSchedFlag2 = 0x0010;
inline constexpr std::uint32_t kSchedFlag3 = 0x0020;
inline constexpr std::uint32_t kSchedFallback = kSchedFlag1;  // sh, mh
inline constexpr std::uint32_t kSchedPort = kSchedFlag2;      // sh, mh
inline constexpr std::uint32_t kSchedFlagMask = kSchedFlag1 | kSchedFlag2 | kSchedFlag3;

// Seconds on a monotonic clock: lblc/lblcr's notion of time (a seam so tests
// can drive it). Any thread; must not block.
using SchedClock = std::uint32_t (*)();
std::uint32_t sched_coarse_seconds();

// pick() result when no dest may take a new connection (weights 0, overloaded,
// or the hashed / remembered dest unavailable).
inline constexpr std::uint32_t kNoDest = UINT32_MAX;
// Weights are IPVS's (a non-negative int); dests per service are bounded so
// that tables can hold indices and sequence arithmetic cannot overflow.
inline constexpr std::int32_t kMaxWeight = INT32_MAX;
inline constexpr std::uint32_t kMaxDests = 1U << 16;

class SchedState;
struct LocalityTable;
using SchedPickFn = std::uint32_t (*)(const SchedState&, const SchedFlow&);

#define KADP_SCHED_DECLARE(name)                                            \
    void sched_build_##name(SchedState& state, const SchedState* prev);     \
    std::uint32_t sched_pick_##name(const SchedState& state, const SchedFlow& flow);
KADP_SCHED_ALGOS(KADP_SCHED_DECLARE)
#undef KADP_SCHED_DECLARE

// A service's scheduler: the dests it chooses among plus whatever the
// algorithm precomputed. Written by the control thread while it is built,
// read-only afterwards except `seq_`. Lives inside (or beside) the service
// snapshot and dies with it.
class SchedState {
public:
    // Control thread. Copies `dests` (list order = IPVS's destination list
    // order) and builds the algorithm's tables; `prev` (may be null) is the
    // replaced snapshot's state, still alive under RCU, whose position is
    // carried over when it runs the same algorithm. `flags` are
    // kSchedFlag* bits (others are ignored). `clock` is lblc/lblcr's time
    // source. Throws std::invalid_argument for a weight out of
    // 0..kMaxWeight, a null stats pointer or more than kMaxDests dests;
    // std::bad_alloc when memory runs out.
    SchedState(SchedAlgo algo, std::span<const DestRef> dests, const SchedState* prev = nullptr,
               std::uint32_t flags = 0, SchedClock clock = &sched_coarse_seconds);
    SchedState(const SchedState&) = delete;
    SchedState& operator=(const SchedState&) = delete;
    ~SchedState();

    // Worker lcore (any thread). The index in `dests` of the dest for a new
    // connection, or kNoDest. Lock-free, allocation-free, no exceptions.
    // A dest with thresholds is marked overloaded here when this connection
    // brings it to u_threshold (IPVS marks it when it binds the connection).
    std::uint32_t pick(const SchedFlow& flow) const {
        const std::uint32_t i = pick_(*this, flow);
        if (has_thresholds_ && i != kNoDest) note_pick(dests_[i]);
        return i;
    }

    SchedAlgo algo() const { return algo_; }
    std::span<const DestRef> dests() const { return dests_; }
    // Length of the rr/wrr sequence (picks per full cycle); 0 when nothing is eligible.
    std::uint64_t period() const { return period_; }
    // Whether wrr runs IPVS's exact order (a precomputed schedule) or the
    // fallback for weight sets whose schedule would be too large (wrr.cpp).
    bool exact_order() const { return exact_order_; }
    std::uint32_t flags() const { return flags_; }
    // sh/dh/mh: the dest index of each bucket (kNoDest: none); empty otherwise.
    std::span<const std::uint32_t> lookup_table() const;

private:
#define KADP_SCHED_FRIEND(name)                                                  \
    friend void sched_build_##name(SchedState& state, const SchedState* prev);   \
    friend std::uint32_t sched_pick_##name(const SchedState& state, const SchedFlow& flow);
    KADP_SCHED_ALGOS(KADP_SCHED_FRIEND)
#undef KADP_SCHED_FRIEND

    static void note_pick(const DestRef& d);

    // What each field holds is the algorithm's business (see its file).
    SchedAlgo algo_;
    bool exact_order_ = true;
    bool has_thresholds_ = false;
    std::uint32_t flags_ = 0;
    SchedClock clock_ = nullptr;
    SchedPickFn pick_ = nullptr;
    std::vector<DestRef> dests_;
    std::vector<std::uint32_t> table_;  // dest indices: rr eligible list, wrr schedule, sh/dh/mh buckets
    std::vector<std::uint64_t> aux_;    // wrr: pass starts, or cumulative weights (fallback); mh: last weights
    std::uint64_t period_ = 0;          // rr/wrr sequence length
    std::uint64_t param_ = 0;           // wrr fallback stride
    std::int64_t max_weight_ = 0;       // wrr: IPVS's mw (max weight - (gcd - 1))
    std::int64_t gcd_ = 1;              // wrr: IPVS's di
    std::unique_ptr<LocalityTable> locality_;  // lblc, lblcr
    // Picks taken so far (rr, wrr). Every worker fetch_adds it (relaxed: it
    // orders nothing, it only hands out unique numbers); the control thread
    // seeds it before publishing and reads it when building the successor.
    // Last member and 64-byte aligned, so it shares its line with nothing
    // workers read (the class is 64-aligned, its size a multiple of 64).
    alignas(64) mutable std::atomic<std::uint64_t> seq_{0};
};

}  // namespace kadp::dp
