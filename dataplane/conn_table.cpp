// Runs on: worker lcores and the control thread (see conn_table.h).
#include "dataplane/conn_table.h"

#include "dataplane/conn_state.h"  // state_timeout_ms, state_is_half_open
#include "dataplane/rcu_grace.h"

#include <sys/mman.h>

#include <rte_hash_crc.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <new>

namespace kadp::dp {

namespace {

constexpr std::uint32_t kSlotsPerBucket = 8;
constexpr std::uint32_t kNil = UINT32_MAX;           // end of a retire list
// Floors that keep the fixed part (ring head, RCU, per-worker state, ~0.7 KiB
// per worker) under ~6 B per connection, so the total stays <= 128 B.
constexpr std::uint32_t kMinCapacity = 1024;
constexpr std::uint32_t kMinCapacityPerWorker = 128;
constexpr std::uint32_t kMaxWorkers = 1024;
constexpr std::uint32_t kMaxCapacity = 1U << 30;
constexpr std::uint32_t kHashSeed = 0x6b616470;       // "kadp"
constexpr std::uint32_t kClosedLists = 8;             // per-worker lists waiting for a grace period
constexpr std::size_t kAlign = 128;                   // DPDK ring/RCU and adjacent-line prefetch
constexpr auto kDead = static_cast<std::uint8_t>(ConnState::dead);
constexpr std::uint32_t kEntriesPerCell = 8;         // template arbitration cells: 0.5 B per entry

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint8_t>::is_always_lock_free);

std::size_t align_up(std::size_t n) { return (n + kAlign - 1) & ~(kAlign - 1); }

// The table's memory, populated now so workers never take a page fault, let
// alone an allocation. Large tables ask for transparent huge pages: a lookup
// at millions of connections misses the cache anyway, and with 4 KiB pages
// it also misses the TLB (a page walk per bucket and per entry). The region
// is 2 MiB-aligned for that and trimmed back to `bytes`. nullptr on failure.
void* map_region(std::size_t bytes) {
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    constexpr std::size_t kHugeFrom = 4 * kHuge;  // smaller tables: plain pages
    bytes = (bytes + 4095) & ~std::size_t{4095};
    if (bytes < kHugeFrom) {
        void* r = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        return r == MAP_FAILED ? nullptr : r;
    }
    void* raw = mmap(nullptr, bytes + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const auto start = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = (start + kHuge - 1) & ~std::uintptr_t{kHuge - 1};
    if (aligned != start) munmap(raw, aligned - start);
    const std::size_t tail = (start + bytes + kHuge) - (aligned + bytes);
    if (tail != 0) munmap(reinterpret_cast<void*>(aligned + bytes), tail);
    auto* region = reinterpret_cast<std::byte*>(aligned);
    // Advice only: without THP (or with it off) the pages stay 4 KiB.
    (void)madvise(region, bytes, MADV_HUGEPAGE);
    for (std::size_t off = 0; off < bytes; off += 4096) region[off] = std::byte{0};
    return region;
}

// A slot: signature in the high half; (entry index + 1) << 1 | direction in
// the low half, so a used slot is never 0 (the empty value).
constexpr std::uint64_t make_slot(std::uint32_t sig, std::uint32_t idx, ConnDir dir) {
    return (std::uint64_t{sig} << 32) | (std::uint64_t{idx + 1} << 1) | static_cast<std::uint64_t>(dir);
}
constexpr std::uint32_t slot_sig(std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32); }
constexpr std::uint32_t slot_index(std::uint64_t v) { return (static_cast<std::uint32_t>(v) >> 1) - 1; }
constexpr ConnDir slot_dir(std::uint64_t v) { return static_cast<ConnDir>(v & 1); }

FlowKey4 in_key(const Conn4& c) { return {c.caddr, c.vaddr, c.cport, c.vport, c.proto, c.kind}; }
FlowKey4 out_key(const Conn4& c) { return {c.daddr, c.caddr, c.dport, c.cport, c.proto, c.kind}; }

bool key_matches(const Conn4& c, const FlowKey4& k, ConnDir dir) {
    if (c.proto != k.proto || c.kind != k.kind) return false;
    if (dir == ConnDir::in) {
        return c.caddr == k.saddr && c.vaddr == k.daddr && c.cport == k.sport && c.vport == k.dport;
    }
    return c.daddr == k.saddr && c.caddr == k.daddr && c.dport == k.sport && c.cport == k.dport;
}

}  // namespace

struct alignas(64) ConnTable4::Bucket {
    std::array<std::atomic<std::uint64_t>, kSlotsPerBucket> slot;
};

// Indices linked through next_, pushed at the head; `token` is valid once closed.
struct ConnTable4::RetireList {
    std::uint64_t token = 0;
    std::uint32_t head = kNil;
    std::uint32_t tail = kNil;
    std::uint32_t count = 0;
};

// Written by its worker only; the atomics are also read by stats() on the
// control thread (relaxed: a snapshot), so the worker updates them with
// plain load + store, no locked instruction.
struct alignas(64) ConnTable4::WorkerState {
    std::array<std::uint32_t, kCacheSize> cache{};
    RetireList open;
    std::array<RetireList, kClosedLists> closed{};   // FIFO, oldest at closed_head
    std::uint32_t closed_head = 0;
    std::uint32_t closed_count = 0;
    std::uint32_t sweep_begin = 0;                    // this worker's share of the pool
    std::uint32_t sweep_end = 0;
    std::uint32_t sweep_cursor = 0;
    std::atomic<std::uint32_t> cached{0};             // valid entries in `cache`
    std::atomic<std::int64_t> linked{0};              // links minus removes by this worker
    std::atomic<std::uint64_t> retired{0};            // in open + closed lists
};

namespace {
template <class T>
void add_relaxed(std::atomic<T>& counter, T delta) {
    counter.store(counter.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}
}  // namespace

// --- create / destroy -----------------------------------------------------

std::unique_ptr<ConnTable4> ConnTable4::create(std::uint32_t capacity, std::uint32_t max_workers) {
    static_assert(sizeof(Bucket) == 64, "a bucket is one cache line");
    if (capacity == 0 || capacity > kMaxCapacity || max_workers == 0 || max_workers > kMaxWorkers) return nullptr;
    const std::uint32_t cap = std::bit_ceil(std::max({capacity, kMinCapacity, kMinCapacityPerWorker * max_workers}));
    const std::uint32_t nbuckets = cap / 2;   // 2 slots per connection in 8-slot buckets: 50% load
    const std::uint32_t ring_count = cap;     // every index can be free at once
    const std::uint32_t rcu_threads = max_workers + 1;  // + the control thread's listings

    const ssize_t ring_bytes = rte_ring_get_memsize_elem(sizeof(std::uint32_t), std::bit_ceil(ring_count + 1));
    const std::size_t rcu_bytes = rte_rcu_qsbr_get_memsize(rcu_threads);
    if (ring_bytes < 0 || rcu_bytes <= 1) return nullptr;

    std::size_t off = 0;
    const std::size_t entries_off = off;  off += align_up(std::size_t{cap} * sizeof(Conn4));
    const std::size_t buckets_off = off;  off += align_up(std::size_t{nbuckets} * sizeof(Bucket));
    const std::size_t next_off = off;     off += align_up(std::size_t{cap} * sizeof(std::uint32_t));
    const std::uint32_t ncells = cap / kEntriesPerCell;
    const std::size_t cells_off = off;    off += align_up(std::size_t{ncells} * sizeof(std::atomic<std::uint32_t>));
    const std::size_t ring_off = off;     off += align_up(static_cast<std::size_t>(ring_bytes));
    const std::size_t rcu_off = off;      off += align_up(rcu_bytes);
    const std::size_t workers_off = off;  off += align_up(std::size_t{max_workers} * sizeof(WorkerState));
    const std::size_t total = off;

    void* region = map_region(total);
    if (region == nullptr) return nullptr;
    auto* base = static_cast<std::byte*>(region);

    std::unique_ptr<ConnTable4> t(new (std::nothrow) ConnTable4());
    if (!t) {
        munmap(region, total);
        return nullptr;
    }
    t->region_ = region;
    t->region_bytes_ = total;
    t->capacity_ = cap;
    t->bucket_mask_ = nbuckets - 1;
    t->max_workers_ = max_workers;

    t->entries_ = reinterpret_cast<Conn4*>(base + entries_off);
    for (std::uint32_t i = 0; i < cap; ++i) {
        Conn4* c = new (&t->entries_[i]) Conn4{};
        c->state.store(kDead, std::memory_order_relaxed);
    }
    t->buckets_ = reinterpret_cast<Bucket*>(base + buckets_off);
    for (std::uint32_t i = 0; i < nbuckets; ++i) new (&t->buckets_[i]) Bucket{};
    t->next_ = reinterpret_cast<std::uint32_t*>(base + next_off);
    std::fill_n(t->next_, cap, kNil);
    t->cells_ = reinterpret_cast<std::atomic<std::uint32_t>*>(base + cells_off);
    for (std::uint32_t i = 0; i < ncells; ++i) new (&t->cells_[i]) std::atomic<std::uint32_t>(0);
    t->cell_mask_ = ncells - 1;

    // RTS: a thread preempted inside an enqueue/dequeue does not make the
    // others spin on its tail update (workers may share cores in tests).
    t->free_ring_ = reinterpret_cast<rte_ring*>(base + ring_off);
    if (rte_ring_init(t->free_ring_, "kadp_conn_free", ring_count,
                      RING_F_EXACT_SZ | RING_F_MP_RTS_ENQ | RING_F_MC_RTS_DEQ) != 0) {
        return nullptr;  // ~ConnTable4 unmaps
    }
    std::array<std::uint32_t, 256> chunk{};
    for (std::uint32_t i = 0; i < cap; i += chunk.size()) {
        const std::uint32_t n = std::min<std::uint32_t>(chunk.size(), cap - i);
        for (std::uint32_t j = 0; j < n; ++j) chunk[j] = i + j;
        rte_ring_enqueue_bulk_elem(t->free_ring_, chunk.data(), sizeof(std::uint32_t), n, nullptr);
    }

    t->rcu_ = reinterpret_cast<rte_rcu_qsbr*>(base + rcu_off);
    if (rte_rcu_qsbr_init(t->rcu_, rcu_threads) != 0) return nullptr;
    // The control thread's id; offline (not waited for) except inside for_each.
    if (rte_rcu_qsbr_thread_register(t->rcu_, max_workers) != 0) return nullptr;

    t->workers_ = reinterpret_cast<WorkerState*>(base + workers_off);
    for (std::uint32_t w = 0; w < max_workers; ++w) {
        WorkerState* ws = new (&t->workers_[w]) WorkerState{};
        ws->sweep_begin = static_cast<std::uint32_t>(std::uint64_t{cap} * w / max_workers);
        ws->sweep_end = static_cast<std::uint32_t>(std::uint64_t{cap} * (w + 1) / max_workers);
        ws->sweep_cursor = ws->sweep_begin;
    }
    return t;
}

ConnTable4::~ConnTable4() {
    // Every object placed in the region is trivially destructible.
    if (region_ != nullptr) munmap(region_, region_bytes_);
}

void ConnTable4::register_worker(std::uint32_t worker) {
    assert(worker < max_workers_);
    rte_rcu_qsbr_thread_register(rcu_, worker);
    rte_rcu_qsbr_thread_online(rcu_, worker);
}

void ConnTable4::unregister_worker(std::uint32_t worker) {
    assert(worker < max_workers_);
    rte_rcu_qsbr_thread_offline(rcu_, worker);
    rcu_unregister(rcu_, worker);
}

void ConnTable4::listing_online() const { rte_rcu_qsbr_thread_online(rcu_, max_workers_); }
void ConnTable4::listing_offline() const { rte_rcu_qsbr_thread_offline(rcu_, max_workers_); }

// --- hashing and the index ---------------------------------------------------

std::uint32_t ConnTable4::hash(const FlowKey4& key) {
    const std::uint64_t addrs = (std::uint64_t{key.saddr} << 32) | key.daddr;
    const std::uint64_t rest = (std::uint64_t{key.sport} << 32) | (std::uint64_t{key.dport} << 16) |
                               (std::uint64_t{key.kind} << 8) | key.proto;
    return rte_hash_crc_8byte(rest, rte_hash_crc_8byte(addrs, kHashSeed));
}

// Derived from the hash alone (remove() recomputes it from the entry), mixed
// so keys sharing a primary bucket spread over different alternates, and
// never equal to the primary.
std::uint32_t ConnTable4::alt_bucket(std::uint32_t h) const {
    const std::uint32_t tag = std::rotr(h, 16) * 0x9e3779b1U;
    return (h ^ (tag | 1U)) & bucket_mask_;
}

int ConnTable4::bucket_choice(const FlowKey4& key) const {
    const std::uint32_t h = hash(key);
    const std::array<std::uint32_t, 2> cand{h & bucket_mask_, alt_bucket(h)};
    for (std::size_t b = 0; b < cand.size(); ++b) {
        for (const auto& s : buckets_[cand[b]].slot) {
            const std::uint64_t v = s.load(std::memory_order_relaxed);
            if (v != 0 && slot_sig(v) == h && key_matches(entries_[slot_index(v)], key, slot_dir(v))) {
                return static_cast<int>(b);
            }
        }
    }
    return -1;
}

std::uint32_t ConnTable4::find_slot(std::uint32_t bucket, std::uint64_t value) const {
    const Bucket& b = buckets_[bucket];
    for (std::uint32_t i = 0; i < kSlotsPerBucket; ++i) {
        if (b.slot[i].load(std::memory_order_relaxed) == value) return i;
    }
    return kSlotsPerBucket;
}

Conn4* ConnTable4::match_bucket(std::uint32_t bucket, const FlowKey4& key, std::uint32_t sig, ConnDir& dir) const {
    const Bucket& b = buckets_[bucket];
    for (std::uint32_t i = 0; i < kSlotsPerBucket; ++i) {
        // Acquire: pairs with the release CAS in insert_slot(), so the
        // entry's key fields are complete before we compare them.
        const std::uint64_t v = b.slot[i].load(std::memory_order_acquire);
        if (v == 0 || slot_sig(v) != sig) continue;
        Conn4& c = entries_[slot_index(v)];
        if (!key_matches(c, key, slot_dir(v))) continue;
        // Acquire: pairs with the release store in link(); dead = not yet
        // live or already removed, which is a miss.
        if (c.state.load(std::memory_order_acquire) == kDead) continue;
        dir = slot_dir(v);
        return &c;
    }
    return nullptr;
}

Conn4* ConnTable4::resolve(const FlowKey4& key, std::uint32_t h, ConnDir& dir) const {
    Conn4* c = match_bucket(h & bucket_mask_, key, h, dir);
    return c != nullptr ? c : match_bucket(alt_bucket(h), key, h, dir);
}

// The primary bucket while it has room to spare, else the emptier of the
// two. A key then sits in its primary bucket (> 99% of keys with the table
// half full, ~89% when full), so a lookup usually touches one bucket line,
// not two: lookup_bulk prefetches the alternate only when the primary has
// no candidate. Keeping the last primary slot for the two-choice fallback
// keeps inserts from failing until the table is nearly full (measured on
// 2^20 connections: no failure up to 75% of capacity, 3 while filling the
// last quarter; pure primary-first failed 515).
bool ConnTable4::insert_slot(const FlowKey4& key, std::uint32_t idx, ConnDir dir) {
    const std::uint32_t h = hash(key);
    const std::uint64_t value = make_slot(h, idx, dir);
    const std::array<std::uint32_t, 2> cand{h & bucket_mask_, alt_bucket(h)};
    auto used = [this](std::uint32_t bucket) {
        std::uint32_t n = 0;
        for (const auto& s : buckets_[bucket].slot) n += s.load(std::memory_order_relaxed) != 0 ? 1 : 0;
        return n;
    };
    auto claim = [this, value](std::uint32_t bucket) {
        for (auto& s : buckets_[bucket].slot) {
            std::uint64_t expected = 0;
            // Release: pairs with the acquire load in match_bucket(); the
            // entry was filled before this publication.
            if (s.load(std::memory_order_relaxed) == 0 &&
                s.compare_exchange_strong(expected, value, std::memory_order_release, std::memory_order_relaxed)) {
                return true;
            }
        }
        return false;  // other inserters took the free slots we saw
    };
    for (;;) {
        const std::uint32_t u0 = used(cand[0]);
        if (u0 + 1 < kSlotsPerBucket && claim(cand[0])) return true;
        const std::uint32_t u1 = used(cand[1]);
        if (u0 == kSlotsPerBucket && u1 == kSlotsPerBucket) return false;
        if (claim(u0 <= u1 ? cand[0] : cand[1])) return true;
    }
}

// Only the thread that won the entry calls this, so nobody else clears its
// slots. Relaxed: rte_rcu_qsbr_start()'s release orders the clear before the
// grace-period token that guards the entry's reuse.
void ConnTable4::erase_slot(const FlowKey4& key, std::uint32_t idx, ConnDir dir) {
    const std::uint32_t h = hash(key);
    const std::uint64_t value = make_slot(h, idx, dir);
    for (const std::uint32_t bucket : {h & bucket_mask_, alt_bucket(h)}) {
        const std::uint32_t i = find_slot(bucket, value);
        if (i == kSlotsPerBucket) continue;
        buckets_[bucket].slot[i].store(0, std::memory_order_relaxed);
        return;
    }
    assert(false && "a linked entry has its slot");
}

// --- lookups ---------------------------------------------------------------

Conn4* ConnTable4::lookup(const FlowKey4& key, ConnDir& dir) const {
    return resolve(key, hash(key), dir);
}

void ConnTable4::lookup_bulk(const FlowKey4* keys, std::uint32_t n, Conn4** out, ConnDir* dirs) const {
    assert(n <= kMaxBulk);
    std::array<std::uint32_t, kMaxBulk> h;
    // 1. Hash and prefetch the primary bucket of every key.
    for (std::uint32_t i = 0; i < n; ++i) {
        h[i] = hash(keys[i]);
        rte_prefetch0(&buckets_[h[i] & bucket_mask_]);
    }
    std::uint64_t alt = 0;  // keys whose primary bucket has no candidate
    // 2. Prefetch the entry of the first signature match of every key; no
    //    candidate in the primary bucket (a key that overflowed, or a new
    //    flow): prefetch the alternate bucket instead.
    for (std::uint32_t i = 0; i < n; ++i) {
        const auto& slots = buckets_[h[i] & bucket_mask_].slot;
        const auto hit = std::find_if(slots.begin(), slots.end(), [&](const auto& s) {
            const std::uint64_t v = s.load(std::memory_order_relaxed);
            return v != 0 && slot_sig(v) == h[i];
        });
        if (hit != slots.end()) {
            rte_prefetch0(&entries_[slot_index(hit->load(std::memory_order_relaxed))]);
        } else {
            rte_prefetch0(&buckets_[alt_bucket(h[i])]);
            alt |= std::uint64_t{1} << i;
        }
    }
    // 3. Compare, with the lines now (mostly) in cache: the keys with a
    //    candidate first, then those waiting for their alternate bucket.
    static_assert(kMaxBulk <= 64, "one bit per key");
    for (std::uint32_t i = 0; i < n; ++i) {
        if ((alt & (std::uint64_t{1} << i)) == 0) out[i] = resolve(keys[i], h[i], dirs[i]);
    }
    for (; alt != 0; alt &= alt - 1) {
        const auto i = static_cast<std::uint32_t>(std::countr_zero(alt));
        out[i] = resolve(keys[i], h[i], dirs[i]);
    }
}

void ConnTable4::prefetch_insert(const FlowKey4& key) const {
    __builtin_prefetch(&buckets_[hash(key) & bucket_mask_], 1, 3);  // for writing, all cache levels
}

// --- free indices and reclamation ------------------------------------------

bool ConnTable4::refill(WorkerState& ws) {
    // The ring's RTS tail update releases the producer's writes and its
    // dequeue acquires them (pairs with the enqueue in free_now()).
    const unsigned n = rte_ring_dequeue_burst_elem(free_ring_, ws.cache.data(), sizeof(std::uint32_t), kCacheBatch,
                                                   nullptr);
    ws.cached.store(n, std::memory_order_relaxed);
    return n != 0;
}

void ConnTable4::free_now(WorkerState& ws, std::uint32_t idx) {
    std::uint32_t n = ws.cached.load(std::memory_order_relaxed);
    if (n == kCacheSize) {
        // Cannot fail: the ring holds every index of the table.
        n -= kCacheBatch;
        rte_ring_enqueue_bulk_elem(free_ring_, &ws.cache[n], sizeof(std::uint32_t), kCacheBatch, nullptr);
    }
    ws.cache[n] = idx;
    ws.cached.store(n + 1, std::memory_order_relaxed);
}

void ConnTable4::retire(WorkerState& ws, std::uint32_t idx) {
    next_[idx] = ws.open.head;
    if (ws.open.count == 0) ws.open.tail = idx;
    ws.open.head = idx;
    ++ws.open.count;
    add_relaxed(ws.retired, std::uint64_t{1});
}

// Takes the grace-period token for everything retired so far. With every
// closed slot waiting, the open list just keeps growing (it is linked through
// next_, so it cannot overflow) and is closed once the oldest is reclaimed.
// (Re-taking a newer token for a closed list instead would starve it: its
// token would move on before the slowest reader caught up.)
void ConnTable4::close_open_list(WorkerState& ws) {
    if (ws.open.count == 0 || ws.closed_count == kClosedLists) return;
    ws.open.token = rte_rcu_qsbr_start(rcu_);
    ws.closed[(ws.closed_head + ws.closed_count) % kClosedLists] = ws.open;
    ++ws.closed_count;
    ws.open = RetireList{};
}

// Tokens grow along the FIFO, so the first list still in its grace period
// ends the scan.
void ConnTable4::reclaim(WorkerState& ws) {
    while (ws.closed_count != 0) {
        RetireList& list = ws.closed[ws.closed_head];
        // Non-blocking; its acquire loads of the readers' counters pair with
        // the release store in their rte_rcu_qsbr_quiescent() (rcu_grace.h).
        if (!rcu_grace_passed(rcu_, list.token)) return;
        for (std::uint32_t idx = list.head; idx != kNil;) {
            const std::uint32_t next = next_[idx];
            free_now(ws, idx);
            idx = next;
        }
        ws.retired.store(ws.retired.load(std::memory_order_relaxed) - list.count, std::memory_order_relaxed);
        list = RetireList{};
        ws.closed_head = (ws.closed_head + 1) % kClosedLists;
        --ws.closed_count;
    }
}

void ConnTable4::quiescent(std::uint32_t worker) {
    WorkerState& ws = workers_[worker];
    // Close first, so this very report already counts for our own token;
    // reclaiming may free a closed slot, so try closing once more after it.
    close_open_list(ws);
    rte_rcu_qsbr_quiescent(rcu_, worker);
    reclaim(ws);
    close_open_list(ws);
}

// --- insert / delete ---------------------------------------------------------

Conn4* ConnTable4::alloc(std::uint32_t worker) {
    WorkerState& ws = workers_[worker];
    if (ws.cached.load(std::memory_order_relaxed) == 0) {
        reclaim(ws);
        if (ws.cached.load(std::memory_order_relaxed) == 0 && !refill(ws)) return nullptr;
    }
    const std::uint32_t n = ws.cached.load(std::memory_order_relaxed) - 1;
    ws.cached.store(n, std::memory_order_relaxed);
    Conn4& c = entries_[ws.cache[n]];
    // Still dead: nobody but us touches it until link() makes it live.
    c.caddr = c.vaddr = c.daddr = 0;
    c.cport = c.vport = c.dport = 0;
    c.proto = c.fwd = c.two_way = 0;
    c.svc_id = c.dest_id = 0;
    c.flags.store(0, std::memory_order_relaxed);
    c.expires_ms.store(0, std::memory_order_relaxed);
    c.kind = kConnKindFlow;
    c.control = 0;
    c.persist_ms = 0;
    c.n_control.store(0, std::memory_order_relaxed);
    c.tpl_dest.store(0, std::memory_order_relaxed);
    return &c;
}

bool ConnTable4::link(std::uint32_t worker, Conn4* conn, ConnState state) {
    return link_entry(workers_[worker], conn, state, false);
}

// `announced`: a template other workers may already read through its
// arbitration cell, so a failure retires it instead of reusing it at once.
bool ConnTable4::link_entry(WorkerState& ws, Conn4* conn, ConnState state, bool announced) {
    assert(state != ConnState::dead);
    const std::uint32_t idx = index_of(conn);
    if (!insert_slot(in_key(*conn), idx, ConnDir::in)) {
        if (announced) {
            retire(ws, idx);
        } else {
            free_now(ws, idx);  // never published: reusable at once
        }
        return false;
    }
    if (conn->two_way != 0 && !insert_slot(out_key(*conn), idx, ConnDir::out)) {
        erase_slot(in_key(*conn), idx, ConnDir::in);
        retire(ws, idx);    // a reader may have seen the in slot
        return false;
    }
    // Release: pairs with the acquire loads of `state` in lookups, expiry,
    // remove() and for_each(). Live only after both slots exist, so a
    // remover always finds what it must unlink.
    conn->state.store(static_cast<std::uint8_t>(state), std::memory_order_release);
    add_relaxed(ws.linked, std::int64_t{1});
    return true;
}

bool ConnTable4::remove(std::uint32_t worker, Conn4* conn) {
    ConnState last;
    return remove(worker, conn, &last);
}

bool ConnTable4::remove(std::uint32_t worker, Conn4* conn, ConnState* last) {
    std::uint8_t s = conn->state.load(std::memory_order_relaxed);
    do {
        if (s == kDead) return false;
        // Acquire on success: pairs with link()'s release, so the key
        // fields hashed below are this connection's.
    } while (!conn->state.compare_exchange_weak(s, kDead, std::memory_order_acquire, std::memory_order_relaxed));
    *last = static_cast<ConnState>(s);
    unlink_dead(workers_[worker], conn);
    return true;
}

// After the CAS to dead that made this thread the connection's remover.
void ConnTable4::unlink_dead(WorkerState& ws, Conn4* conn) {
    const std::uint32_t idx = index_of(conn);
    erase_slot(in_key(*conn), idx, ConnDir::in);
    if (conn->two_way != 0) erase_slot(out_key(*conn), idx, ConnDir::out);
    if (conn->kind == kConnKindTemplate) {
        // Before the retire: a cell never names an entry that may be reused.
        std::uint32_t mine = idx + 1;
        template_cell(*conn).compare_exchange_strong(mine, 0, std::memory_order_relaxed);
    } else if (conn->control != 0) {
        release_control(*conn);
    }
    retire(ws, idx);
    add_relaxed(ws.linked, std::int64_t{-1});
}

bool ConnTable4::set_state(Conn4& conn, ConnState next) {
    assert(next != ConnState::dead);
    std::uint8_t s = conn.state.load(std::memory_order_relaxed);
    do {
        if (s == kDead) return false;
    } while (!conn.state.compare_exchange_weak(s, static_cast<std::uint8_t>(next), std::memory_order_relaxed));
    return true;
}

bool ConnTable4::set_state(Conn4& conn, ConnState from, ConnState next) {
    assert(next != ConnState::dead && from != ConnState::dead);
    auto expected = static_cast<std::uint8_t>(from);
    return conn.state.compare_exchange_strong(expected, static_cast<std::uint8_t>(next), std::memory_order_relaxed);
}

// --- persistence templates ----------------------------------------------------

namespace {
// Moves a deadline later, never earlier (several workers may push it).
void push_deadline(std::atomic<std::uint32_t>& expires, std::uint32_t target) {
    std::uint32_t cur = expires.load(std::memory_order_relaxed);
    while (!ms_reached(cur, target) &&
           !expires.compare_exchange_weak(cur, target, std::memory_order_relaxed, std::memory_order_relaxed)) {
    }
}
}  // namespace

// Other bits of the hash than the bucket index's, so the templates of one
// bucket spread over the cells.
std::atomic<std::uint32_t>& ConnTable4::template_cell(const Conn4& tpl) const {
    return cells_[std::rotr(hash(in_key(tpl)), 13) & cell_mask_];
}

ConnTable4::TemplateLink ConnTable4::link_template(std::uint32_t worker, Conn4* tpl, std::uint32_t now_ms) {
    assert(tpl->kind == kConnKindTemplate && tpl->two_way == 0);
    WorkerState& ws = workers_[worker];
    const std::uint32_t idx = index_of(tpl);
    const FlowKey4 key = in_key(*tpl);
    std::atomic<std::uint32_t>& cell = template_cell(*tpl);
    // Acquire: pairs with the release CAS below of the worker that filled
    // the entry the cell names, so its key and tpl_dest are complete. The
    // cell never names an entry that may be reused: remove() and a failed
    // link clear it before the entry is retired.
    std::uint32_t c = cell.load(std::memory_order_acquire);
    for (;;) {
        if (c != 0) {
            Conn4& w = entries_[c - 1];
            if (!key_matches(w, key, ConnDir::in)) {
                // Busy with another key's creation: not waited for.
                if (!link_entry(ws, tpl, ConnState::none, false)) return {};
                return {tpl, true};
            }
            if (w.state.load(std::memory_order_acquire) != kDead) {
                // A racing worker's template won and is linked.
                if (acquire_template(w, now_ms)) {
                    free_now(ws, idx);  // never published
                    return {&w, true};
                }
                // Expiring (a stale cell): take the cell over.
            } else if (w.n_control.load(std::memory_order_acquire) != kTemplateGone) {
                // Won, not linked yet: its real server is decided already.
                free_now(ws, idx);
                return {&w, false};
            }
        }
        if (cell.compare_exchange_weak(c, idx + 1, std::memory_order_acq_rel, std::memory_order_acquire)) break;
    }
    if (!link_entry(ws, tpl, ConnState::none, true)) {
        // Retired, not reused before a grace period: adopters that read it
        // meanwhile only took its tpl_dest.
        tpl->n_control.store(kTemplateGone, std::memory_order_relaxed);
        std::uint32_t mine = idx + 1;
        cell.compare_exchange_strong(mine, 0, std::memory_order_relaxed);
        return {};
    }
    return {tpl, true};
}

bool ConnTable4::acquire_template(Conn4& tpl, std::uint32_t now_ms) {
    std::uint32_t n = tpl.n_control.load(std::memory_order_relaxed);
    do {
        if (n == kTemplateGone) return false;
    } while (!tpl.n_control.compare_exchange_weak(n, n + 1, std::memory_order_acquire, std::memory_order_relaxed));
    push_deadline(tpl.expires_ms, now_ms + tpl.persist_ms);
    return true;
}

// Deadline first, then the release decrement: the sweep that sees the count
// at 0 (acquire) also sees the deadline this flow pushed.
void ConnTable4::release_template(Conn4& tpl, std::uint32_t now_ms) {
    push_deadline(tpl.expires_ms, now_ms + tpl.persist_ms);
    tpl.n_control.fetch_sub(1, std::memory_order_release);
}

// A removed flow's reference: the template outlives it by the persistence
// timeout. The flow's deadline stands for "now" (the sweep removes it at
// most a sweep period late; an RST-closed flow's is a few seconds ahead).
void ConnTable4::release_control(const Conn4& flow) {
    Conn4& tpl = entries_[flow.control - 1];  // live: it controls this flow
    release_template(tpl, flow.expires_ms.load(std::memory_order_relaxed));
}

// A template's turn in the sweep; true lets the sweep remove it. Expired
// and controlling nothing: marked gone first, so no worker can take a
// reference any more. Not expired: its arbitration cell is released on the
// second visit (a sweep period after its creation race, long over).
bool ConnTable4::expire_template(std::uint32_t /*worker*/, Conn4& tpl, std::uint32_t now_ms) {
    if (!ms_reached(now_ms, tpl.expires_ms.load(std::memory_order_relaxed))) {
        if ((tpl.flags.load(std::memory_order_relaxed) & kConnTemplateSettled) == 0) {
            tpl.flags.fetch_or(kConnTemplateSettled, std::memory_order_relaxed);
        } else {
            std::atomic<std::uint32_t>& cell = template_cell(tpl);
            std::uint32_t mine = index_of(&tpl) + 1;
            if (cell.load(std::memory_order_relaxed) == mine) {
                cell.compare_exchange_strong(mine, 0, std::memory_order_relaxed);
            }
        }
        return false;
    }
    // Acquire: pairs with release_template()'s release decrement.
    std::uint32_t n = tpl.n_control.load(std::memory_order_acquire);
    if (n != 0 || !ms_reached(now_ms, tpl.expires_ms.load(std::memory_order_relaxed))) return false;
    // A 0 -> 1 -> 0 in between would need a flow created and removed
    // within these instructions; flows live at least a sweep tick.
    return tpl.n_control.compare_exchange_strong(n, kTemplateGone, std::memory_order_acq_rel,
                                                 std::memory_order_relaxed);
}

// --- expiry ------------------------------------------------------------------

std::uint32_t ConnTable4::expire_step(std::uint32_t worker, std::uint32_t now_ms, std::uint32_t budget) {
    return expire_step(worker, now_ms, budget, nullptr, nullptr);
}

std::uint32_t ConnTable4::expire_step(std::uint32_t worker, std::uint32_t now_ms, std::uint32_t budget,
                                      ExpireHook hook, void* ctx) {
    return sweep_step(worker, now_ms, budget, 0, hook, ctx).expired;
}

ConnTable4::SweepCounts ConnTable4::sweep_step(std::uint32_t worker, std::uint32_t now_ms, std::uint32_t budget,
                                               std::uint32_t half_open_idle_ms, ExpireHook hook, void* ctx) {
    WorkerState& ws = workers_[worker];
    const std::uint32_t steps = std::min(budget, ws.sweep_end - ws.sweep_begin);
    SweepCounts counts;
    for (std::uint32_t n = 0; n < steps; ++n) {
        Conn4& c = entries_[ws.sweep_cursor];
        if (++ws.sweep_cursor == ws.sweep_end) ws.sweep_cursor = ws.sweep_begin;
        // Acquire: pairs with link()'s release, so expires_ms is at least
        // the value set before the connection went live.
        const std::uint8_t s = c.state.load(std::memory_order_acquire);
        if (s == kDead) continue;
        if (c.kind == kConnKindTemplate && !expire_template(worker, c, now_ms)) continue;
        const std::uint32_t expires = c.expires_ms.load(std::memory_order_relaxed);
        if (ms_reached(now_ms, expires)) {
            ConnState last;
            if (remove(worker, &c, &last)) {
                ++counts.expired;
                if (hook != nullptr) hook(ctx, c, last);
            }
            continue;
        }
        // The defense (conn_defense.h); off at level 0, one branch per entry.
        if (half_open_idle_ms == 0 || c.kind != kConnKindFlow) continue;
        const auto st = static_cast<ConnState>(s);
        if (!state_is_half_open(st)) continue;
        // A half-open state's timeout is not configurable (ConnTimeouts),
        // so this is when a packet last pushed the deadline.
        const std::uint32_t last_touch = expires - state_timeout_ms(st);
        if (!ms_reached(now_ms, last_touch + half_open_idle_ms)) continue;
        std::uint8_t expected = s;
        // Exactly from the state judged: a connection a packet has just
        // established (or moved on) is not half-open any more and stays.
        // Acquire on success, as in remove().
        if (!c.state.compare_exchange_strong(expected, kDead, std::memory_order_acquire, std::memory_order_relaxed)) {
            continue;
        }
        unlink_dead(ws, &c);
        ++counts.evicted;
        if (hook != nullptr) hook(ctx, c, st);
    }
    return counts;
}

std::uint32_t ConnTable4::sweep_share(std::uint32_t worker) const {
    return workers_[worker].sweep_end - workers_[worker].sweep_begin;
}

std::uint64_t ConnTable4::linked() const {
    std::int64_t n = 0;
    for (std::uint32_t w = 0; w < max_workers_; ++w) n += workers_[w].linked.load(std::memory_order_relaxed);
    return static_cast<std::uint64_t>(std::max<std::int64_t>(n, 0));
}

// --- control thread ------------------------------------------------------------

ConnTableStats ConnTable4::stats() const {
    ConnTableStats s;
    s.capacity = capacity_;
    s.bytes = region_bytes_ + sizeof(*this);
    s.free = rte_ring_count(free_ring_);
    std::int64_t linked = 0;
    for (std::uint32_t w = 0; w < max_workers_; ++w) {
        const WorkerState& ws = workers_[w];
        linked += ws.linked.load(std::memory_order_relaxed);
        s.free += ws.cached.load(std::memory_order_relaxed);
        s.retired += ws.retired.load(std::memory_order_relaxed);
    }
    s.in_use = static_cast<std::uint64_t>(std::max<std::int64_t>(linked, 0));
    return s;
}

}  // namespace kadp::dp
