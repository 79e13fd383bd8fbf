// Runs on: worker lcores (lookup, insert, state updates, expiry, delete) and
// the control thread (create/destroy, occupancy, listing).
//
// The global connection table: one table shared by every worker, lock-free
// for all of them. Each connection has one entry in a preallocated pool and
// one index slot per direction (in: client -> VIP, out: real server ->
// client for NAT), so a reply finds its connection on whichever worker
// receives it.
//
// Memory is bounded and fixed at start-up: create() maps and touches one
// region, nothing is allocated afterwards. The capacity is rounded up to a
// power of two C; per connection, both directions included:
//   entry pool     64 B   one cache line (Conn4)
//   index          32 B   C/2 buckets of 8 slots x 8 B: 2 slots per
//                         connection at <= 50% load
//   free ring       8 B   rte_ring of C 4-byte indices (EXACT_SZ: 2C slots)
//   retire links    4 B   next-index word per entry for the retire lists
//   template cells  0.5 B one 4-byte arbitration cell per 8 entries
// = 108.5 B per connection plus a fixed part (ring head, RCU, ~0.7 KiB per
// worker) that the capacity floors keep under ~6 B: measured 108.5 B at 1M
// connections, 113.7 B at the 1024 minimum with 8 workers.
// stats().bytes / stats().capacity is the exact figure.
//
// Index: buckets of one cache line holding 8 slots {32-bit signature, entry
// index + direction bit}. A key has two candidate buckets: insert takes the
// primary while it has a slot to spare, else the emptier of the two; lookup
// checks the primary, then the alternate. Hash: CRC32-C
// (rte_hash_crc, SSE4.2) of the 13-byte key; the second bucket is derived
// from the hash alone so removal can find both.
//
// Concurrency contract:
// * Index slots are 64-bit words changed only by compare-and-swap; a slot is
//   published with release order after the entry it points at is complete,
//   and readers load it with acquire order.
// * `state` is the lifecycle gate: kDead means "not linked" (free, being
//   filled, or removed). link() publishes the first live state (release)
//   after the slots; remove() is the single CAS of a live state to dead, so
//   exactly one thread frees a connection. Workers change a live state only
//   through set_state() (a CAS that never revives a dead entry); a plain
//   store could resurrect an entry another worker is freeing.
// * Entry memory is never returned to the OS, and an entry index is reused
//   only after every registered worker has passed a quiescent state
//   (rte_rcu_qsbr) since the entry was unlinked. A worker may therefore read
//   any entry it found during the current burst; it must call `quiescent()`
//   between bursts and must not keep Conn pointers to connections it does
//   not own across bursts.
// * The key fields of an entry are immutable while it is linked; `state`,
//   `expires_ms`, `flags` and a template's `n_control` and `tpl_dest` are
//   atomics any worker may update.
// * Two workers inserting the same key at the same moment may both succeed
//   (the index does not serialise them); with RSS a flow's in-direction
//   always reaches one queue, so this only happens for hostile traffic, and
//   the spare entry simply expires. Persistence templates, whose key many
//   queues share, are arbitrated instead (link_template()).
// * Free indices: a worker allocates from its own cache; the cache refills
//   from / spills to the shared MPMC ring (RTS mode, so a preempted thread
//   does not stall the others) in batches of kCacheBatch. Removed indices
//   go to the worker's open retire list; quiescent() closes it with a token
//   from rte_rcu_qsbr_start and returns closed lists to the cache once
//   rte_rcu_qsbr_check passes. The lists are linked through a per-entry
//   next word, so retiring never fails however slow a reader is; a slow
//   reader only delays reuse, and then alloc() returns nullptr (a counted
//   drop), never an early reuse.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

struct rte_ring;
struct rte_rcu_qsbr;

namespace kadp::dp {

// What an entry is. A persistence template's key has kind kConnKindTemplate,
// which no packet's key has, so a packet lookup never matches a template.
inline constexpr std::uint8_t kConnKindFlow = 0;
inline constexpr std::uint8_t kConnKindTemplate = 1;

// A flow as a packet carries it (network byte order), for lookups.
struct FlowKey4 {
    std::uint32_t saddr;
    std::uint32_t daddr;
    std::uint16_t sport;
    std::uint16_t dport;
    std::uint8_t proto;  // IPPROTO_TCP / IPPROTO_UDP
    std::uint8_t kind = kConnKindFlow;  // packets: always a flow
};

enum class ConnDir : std::uint8_t { in = 0, out = 1 };

// IPVS connection states (TCP, plus UDP's single state), in IPVS order.
// `dead` is the table's own: not linked (see the contract above).
enum class ConnState : std::uint8_t {
    none = 0, established, syn_sent, syn_recv, fin_wait, time_wait, close, close_wait, last_ack, listen,
    synack, udp, dead,
};
inline constexpr std::uint8_t kConnStateCount = 13;

struct alignas(64) Conn4 {
    // Set by the inserting worker before the entry is linked; immutable while linked.
    std::uint32_t caddr;     // client
    std::uint32_t vaddr;     // virtual address
    std::uint32_t daddr;     // real server (destination)
    std::uint16_t cport;
    std::uint16_t vport;
    std::uint16_t dport;
    std::uint8_t proto;
    std::uint8_t fwd;        // forwarding method, dataplane's enum value
    std::uint32_t svc_id;    // service slot in the published snapshot
    std::uint32_t dest_id;   // real-server slot in the published snapshot
    std::uint8_t two_way;    // 1 when an out-direction slot exists (NAT)
    std::uint8_t pad_[3];
    // Written by any worker that sees a packet of the connection.
    std::atomic<std::uint8_t> state;        // ConnState; change only via set_state()
    std::atomic<std::uint8_t> flags;        // kConnSeenReply, ...
    std::atomic<std::uint32_t> expires_ms;  // coarse clock, wrap-safe comparisons
    // Persistence (persistence.h). `kind` is part of the key (immutable
    // while linked); `control` is set before the flow is linked.
    std::uint8_t kind;                      // kConnKindFlow / kConnKindTemplate
    std::uint8_t pad2_[3];
    std::uint32_t control;                  // flow: its template's entry index + 1; 0: none
    std::atomic<std::uint32_t> n_control;   // template: flows it controls; kTemplateGone once expiring
    std::atomic<std::uint32_t> tpl_dest;    // template: dest_id of its real server (replaced when it goes)
    std::uint32_t persist_ms;               // template: the service's persistence timeout
};
static_assert(sizeof(Conn4) == 64, "a connection entry is one cache line");

inline constexpr std::uint8_t kConnSeenReply = 0x1;
inline constexpr std::uint8_t kConnTemplateSettled = 0x2;  // template: its creation race is over
inline constexpr std::uint32_t kTemplateGone = UINT32_MAX;  // n_control of a template being removed

// Wrap-safe "a is at or after b" on a 32-bit millisecond clock (valid while
// the two are less than ~24.8 days apart).
constexpr bool ms_reached(std::uint32_t now, std::uint32_t deadline) {
    return static_cast<std::int32_t>(now - deadline) >= 0;
}

struct ConnTableStats {
    std::uint64_t capacity = 0;
    std::uint64_t in_use = 0;      // linked entries
    std::uint64_t free = 0;        // in the shared ring or a worker's cache
    std::uint64_t retired = 0;     // unlinked, waiting for a grace period
    std::uint64_t bytes = 0;       // everything allocated at create
};

class ConnTable4 {
public:
    // Free-index cache per worker; the shared ring is touched kCacheBatch at a time.
    static constexpr std::uint32_t kCacheSize = 64;
    static constexpr std::uint32_t kCacheBatch = 32;
    static constexpr std::uint32_t kMaxBulk = 64;

    // At least `capacity` connections (<= 2^30; rounded up to a power of
    // two, at least 1024 and 128 per worker), `max_workers` (1..1024)
    // threads that will call quiescent(). Maps and
    // touches everything now; nullptr when memory runs out. Control thread.
    static std::unique_ptr<ConnTable4> create(std::uint32_t capacity, std::uint32_t max_workers);
    ~ConnTable4();
    ConnTable4(const ConnTable4&) = delete;
    ConnTable4& operator=(const ConnTable4&) = delete;

    // Registers worker `worker` (0 <= worker < max_workers) for the grace
    // period machinery and puts it online. Call once, from the worker, before
    // its first lookup. unregister_worker() takes it out (at shutdown, or
    // before it blocks); its cached and retired indices stay with it.
    void register_worker(std::uint32_t worker);
    void unregister_worker(std::uint32_t worker);

    // --- worker fast path ---------------------------------------------
    // Finds the live connection a packet belongs to; `dir` tells which of
    // its keys matched. nullptr on a miss. Lock-free, any thread; safe
    // against concurrent insert/delete by other workers.
    Conn4* lookup(const FlowKey4& key, ConnDir& dir) const;
    // Bulk form: prefetches every candidate bucket of the burst, then the
    // entries, then compares; out[i] is nullptr on a miss. n <= kMaxBulk.
    void lookup_bulk(const FlowKey4* keys, std::uint32_t n, Conn4** out, ConnDir* dirs) const;

    // Prefetches (for writing) the index line an insert of `key` will use
    // first. Any thread; a hint only.
    void prefetch_insert(const FlowKey4& key) const;

    // Takes a free entry for `worker` (its own cache, then the shared ring);
    // nullptr when none is free (the caller counts the drop). The entry is
    // dead; fill the key fields and expires_ms, then call link().
    Conn4* alloc(std::uint32_t worker);
    // Publishes the entry's in key (and, when two_way, its out key), then
    // makes it live in `state`. Returns false (and frees the entry) when both
    // candidate buckets of a key are full. Only the allocating worker.
    bool link(std::uint32_t worker, Conn4* conn, ConnState state);
    // Unlinks and frees (after a grace period) a connection. Returns false
    // when it is not live: another thread already removed it. Any worker.
    bool remove(std::uint32_t worker, Conn4* conn);
    // The same, and *last = the live state the removal replaced (what the
    // caller's per-state counts must drop).
    bool remove(std::uint32_t worker, Conn4* conn, ConnState* last);
    // Moves a live connection to `next` (not dead); false if it is dead.
    static bool set_state(Conn4& conn, ConnState next);
    // Moves it from exactly `from` to `next` (one CAS); false when the state
    // is no longer `from` (another worker moved it, or it died): reload and
    // decide again. Lets per-state counts follow every transition exactly.
    static bool set_state(Conn4& conn, ConnState from, ConnState next);

    // Expires live connections with expires_ms at or before now_ms
    // (ms_reached): scans up to `budget` entries of this worker's share of
    // the pool, continuing where it stopped last time, so the whole table is
    // swept without pausing. Returns how many it removed. Each registered
    // worker sweeps its own share.
    std::uint32_t expire_step(std::uint32_t worker, std::uint32_t now_ms, std::uint32_t budget);
    // The same, calling hook(ctx, conn, last state) for each connection it
    // removed (still readable: it is only retired), so the caller can drop
    // the connection from its dest's active/inactive counts.
    using ExpireHook = void (*)(void* ctx, const Conn4& conn, ConnState last);
    std::uint32_t expire_step(std::uint32_t worker, std::uint32_t now_ms, std::uint32_t budget, ExpireHook hook,
                              void* ctx);
    // What one sweep_step removed: connections past their deadline, and
    // half-open ones removed early by the SYN-flood defense (conn_defense.h).
    struct SweepCounts {
        std::uint32_t expired = 0;
        std::uint32_t evicted = 0;
    };
    // expire_step, and with half_open_idle_ms != 0 also removes each
    // half-open TCP connection (state_is_half_open) it visits that has been
    // idle that long: its deadline minus its state's timeout is when it was
    // last touched. The removal is a CAS from exactly the state it judged,
    // so a connection that became established meanwhile is kept. hook is
    // called for both kinds (it may be null).
    SweepCounts sweep_step(std::uint32_t worker, std::uint32_t now_ms, std::uint32_t budget,
                           std::uint32_t half_open_idle_ms, ExpireHook hook, void* ctx);
    // How many entries worker `worker`'s expire_step sweeps in one round.
    std::uint32_t sweep_share(std::uint32_t worker) const;

    // Between bursts: reports a quiescent state and recycles entries whose
    // grace period has passed. Only worker `worker`.
    void quiescent(std::uint32_t worker);

    // --- persistence templates (persistence.h) ---------------------------
    // A template is an entry of kind kConnKindTemplate: in key only (no out
    // slot), state `none`, never matched by a packet. n_control counts the
    // flows it controls (Conn4::control); while it is not 0 the expiry
    // sweep keeps the template, and when a controlled flow is removed the
    // template's deadline moves to at least that flow's deadline plus the
    // persistence timeout (IPVS: n_control and ip_vs_conn_expire).
    //
    // Creation race: workers that missed the same template key at the same
    // moment agree through an arbitration cell per key hash. The first to
    // claim the cell links its template; the others adopt it (and free
    // theirs unpublished). A cell is released when its template is removed
    // or has been seen by two sweeps; a cell busy with another key is not
    // waited for (the template is linked unarbitrated, as IPVS always does).
    struct TemplateLink {
        Conn4* tpl = nullptr;     // the template to use; nullptr: none could be linked
        bool referenced = false;  // the caller holds one of its n_control references
    };
    // `tpl`: from alloc(), key and values filled, kind template, n_control
    // 1 (the caller's reference), tpl_dest decided. Returns it linked, or
    // the racing worker's template that won (then `tpl` is freed, and
    // referenced is false only while the winner is still being linked: use
    // its tpl_dest without a reference). Only the allocating worker.
    TemplateLink link_template(std::uint32_t worker, Conn4* tpl, std::uint32_t now_ms);
    // Takes a reference for a new flow and pushes the deadline to now +
    // persist_ms (the template's timer is re-armed by every use). False
    // when the template is being removed. Any worker.
    static bool acquire_template(Conn4& tpl, std::uint32_t now_ms);
    // Drops a reference taken for a flow that was then not linked.
    static void release_template(Conn4& tpl, std::uint32_t now_ms);

    // Linked entries, summed over the workers' link counts (relaxed loads:
    // a recent value, not a snapshot). Any thread; the SYN-flood defense's
    // occupancy, read once per ms tick.
    [[nodiscard]] std::uint64_t linked() const;

    // --- control thread ---------------------------------------------------
    [[nodiscard]] ConnTableStats stats() const;
    // Calls fn(const Conn4&) for every live entry: a racy snapshot for
    // listings. The control thread is an RCU reader while it runs, so an
    // entry it visits is not recycled under it. One caller at a time.
    template <class Fn>
    void for_each(Fn&& fn) const;

    std::uint32_t capacity() const { return capacity_; }
    std::uint32_t index_of(const Conn4* conn) const { return static_cast<std::uint32_t>(conn - entries_); }
    static std::uint32_t hash(const FlowKey4& key);

private:
    struct Bucket;
    struct WorkerState;
    struct RetireList;

    ConnTable4() = default;

    std::uint32_t find_slot(std::uint32_t bucket, std::uint64_t value) const;
    Conn4* match_bucket(std::uint32_t bucket, const FlowKey4& key, std::uint32_t sig, ConnDir& dir) const;
    Conn4* resolve(const FlowKey4& key, std::uint32_t h, ConnDir& dir) const;
    bool insert_slot(const FlowKey4& key, std::uint32_t idx, ConnDir dir);
    void erase_slot(const FlowKey4& key, std::uint32_t idx, ConnDir dir);
    void free_now(WorkerState& ws, std::uint32_t idx);
    void unlink_dead(WorkerState& ws, Conn4* conn);
    void retire(WorkerState& ws, std::uint32_t idx);
    void close_open_list(WorkerState& ws);
    void reclaim(WorkerState& ws);
    bool refill(WorkerState& ws);
    void listing_online() const;
    void listing_offline() const;
    std::uint32_t alt_bucket(std::uint32_t h) const;
    bool link_entry(WorkerState& ws, Conn4* conn, ConnState state, bool announced);
    std::atomic<std::uint32_t>& template_cell(const Conn4& tpl) const;
    void release_control(const Conn4& flow);
    bool expire_template(std::uint32_t worker, Conn4& tpl, std::uint32_t now_ms);
    // Which of its buckets holds a key's slot: 0 primary, 1 alternate, -1
    // none (ConnTableTestPeer checks the placement policy with it).
    int bucket_choice(const FlowKey4& key) const;

    Conn4* entries_ = nullptr;
    Bucket* buckets_ = nullptr;
    std::uint32_t* next_ = nullptr;     // retire-list links, one per entry
    std::atomic<std::uint32_t>* cells_ = nullptr;  // template arbitration: entry index + 1, 0: free
    std::uint32_t cell_mask_ = 0;
    rte_ring* free_ring_ = nullptr;
    rte_rcu_qsbr* rcu_ = nullptr;
    WorkerState* workers_ = nullptr;
    void* region_ = nullptr;
    std::size_t region_bytes_ = 0;
    std::uint32_t capacity_ = 0;
    std::uint32_t bucket_mask_ = 0;
    std::uint32_t max_workers_ = 0;
    friend struct ConnTableTestPeer;
};

template <class Fn>
void ConnTable4::for_each(Fn&& fn) const {
    listing_online();
    for (std::uint32_t i = 0; i < capacity_; ++i) {
        const Conn4& conn = entries_[i];
        // Acquire: pairs with the release in link(), so the key fields are complete.
        if (conn.state.load(std::memory_order_acquire) != static_cast<std::uint8_t>(ConnState::dead)) {
            fn(conn);
        }
    }
    listing_offline();
}

}  // namespace kadp::dp
