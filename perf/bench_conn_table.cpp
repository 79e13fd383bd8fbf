// Runs on: any (a development machine; no EAL, no NIC). Plain threads stand
// in for worker lcores: N readers look flows up while one writer removes and
// inserts connections, the way workers share the global table.
//
// kadp-bench-conntable: cost of ConnTable4 lookups (single and bulk of 32)
// and updates under a concurrent writer, for 10K and 1M connections (10M
// with --big). Prints one JSON object per configuration on stdout; figures,
// never pass/fail. Per configuration:
//   * the table holds `size` live NAT connections (two index slots each) in
//     a table created with capacity `size` (rounded up to a power of two, as
//     conn_table_size is);
//   * the writer cycles through a churn set (1/16 of the connections):
//     remove one, insert its successor; the rest never changes;
//   * each reader looks up a precomputed random mix of live keys (stable set)
//     and absent keys (--present-pct, default 80%).
// *_cpu figures divide each thread's CPU time (CLOCK_THREAD_CPUTIME_ID) by
// its operations, so they stay meaningful when threads outnumber cores;
// *_wall and Mops/s figures are what the threads achieved together.
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dataplane/conn_table.h"
#include "bench_util.h"

namespace kadp::perf {
namespace {

using dp::Conn4;
using dp::ConnDir;
using dp::ConnState;
using dp::ConnTable4;
using dp::FlowKey4;

constexpr std::uint8_t kTcp = 6;
constexpr std::uint32_t kBurst = 32;
constexpr std::uint32_t kKeysPerReader = 1U << 16;  // precomputed, so the loop times lookups only
constexpr std::uint32_t kMaxReaders = 4;

struct Options {
    std::vector<std::uint32_t> sizes{10'000, 1'000'000};
    std::vector<std::uint32_t> readers{1, 2, 4};
    std::uint32_t duration_ms = 1000;
    std::uint32_t present_pct = 80;
};

// Addresses are only distinct numbers here (no packet is sent): stable
// clients from 10/8, churned ones from 11/8, absent ones from 12/8, so the
// three sets never collide. The VIP and real servers are 198.18.0.0/15.
constexpr std::uint32_t kVip = (198U << 24) | (18U << 16) | 1;
constexpr std::uint32_t kRealBase = (198U << 24) | (19U << 16);

struct FlowSpec {
    std::uint32_t caddr;
    std::uint16_t cport;
};

FlowSpec stable_flow(std::uint32_t i) { return {(10U << 24) + i, 1024}; }
FlowSpec churn_flow(std::uint32_t slot, std::uint32_t gen) {
    return {(11U << 24) + slot, static_cast<std::uint16_t>(1024 + gen % 60'000)};
}
FlowSpec absent_flow(std::uint32_t i) { return {(12U << 24) + i, 1024}; }

FlowKey4 in_key(const FlowSpec& f) { return {f.caddr, kVip, f.cport, 80, kTcp}; }

Conn4* insert(ConnTable4& t, std::uint32_t worker, const FlowSpec& f) {
    Conn4* c = t.alloc(worker);
    if (c == nullptr) return nullptr;
    c->caddr = f.caddr;
    c->vaddr = kVip;
    c->daddr = kRealBase + (f.caddr & 0x3ff);
    c->cport = f.cport;
    c->vport = 80;
    c->dport = 8080;
    c->proto = kTcp;
    c->two_way = 1;  // NAT: the out-direction slot as well
    c->expires_ms.store(UINT32_MAX / 2, std::memory_order_relaxed);
    return t.link(worker, c, ConnState::established) ? c : nullptr;
}

// One table of `size` live connections, reused for every reader count.
struct Table {
    std::unique_ptr<ConnTable4> table;
    std::uint32_t size = 0;
    std::uint32_t stable = 0;            // flows 0..stable-1 never change
    std::vector<Conn4*> churn;           // the writer's own: live entry per churn slot
    std::vector<std::uint32_t> churn_gen;
    double insert_ns = 0;                // single-threaded fill, per connection
    std::uint32_t writer = kMaxReaders;  // worker id of the writer
};

bool fill(Table& tb) {
    ConnTable4& t = *tb.table;
    const std::uint32_t churn = std::max<std::uint32_t>(tb.size / 16, 64);
    tb.stable = tb.size - churn;
    tb.churn.assign(churn, nullptr);
    tb.churn_gen.assign(churn, 0);
    t.register_worker(tb.writer);
    const std::uint64_t t0 = now_ns();
    for (std::uint32_t i = 0; i < tb.stable; ++i) {
        if (insert(t, tb.writer, stable_flow(i)) == nullptr) return false;
    }
    for (std::uint32_t s = 0; s < churn; ++s) {
        tb.churn[s] = insert(t, tb.writer, churn_flow(s, 0));
        if (tb.churn[s] == nullptr) return false;
    }
    tb.insert_ns = static_cast<double>(now_ns() - t0) / tb.size;
    t.quiescent(tb.writer);
    return true;
}

struct ReaderResult {
    std::uint64_t lookups = 0;
    std::uint64_t hits = 0;
    std::uint64_t cpu_ns = 0;
};

struct WriterResult {
    std::uint64_t updates = 0;  // one remove + one insert
    std::uint64_t alloc_fail = 0;
    std::uint64_t cpu_ns = 0;
};

struct Run {
    std::atomic<bool> go{false};
    std::atomic<bool> stop{false};
    std::atomic<std::uint32_t> ready{0};
};

std::vector<FlowKey4> reader_keys(const Table& tb, std::uint32_t reader, std::uint32_t present_pct) {
    std::mt19937 rng(12345 + reader);
    std::uniform_int_distribution<std::uint32_t> pick_stable(0, tb.stable - 1);
    std::uniform_int_distribution<std::uint32_t> pct(0, 99);
    std::vector<FlowKey4> keys(kKeysPerReader);
    for (auto& k : keys) {
        k = pct(rng) < present_pct ? in_key(stable_flow(pick_stable(rng))) : in_key(absent_flow(rng() & 0xffffff));
    }
    return keys;
}

void reader_loop(ConnTable4& t, std::uint32_t worker, const std::vector<FlowKey4>& keys, bool bulk, Run& run,
                 ReaderResult& out) {
    t.register_worker(worker);
    run.ready.fetch_add(1);
    while (!run.go.load(std::memory_order_acquire)) std::this_thread::yield();
    const std::uint64_t cpu0 = thread_cpu_ns();
    std::uint64_t lookups = 0, hits = 0;
    std::uint32_t pos = 0;
    Conn4* found[kBurst];
    ConnDir dirs[kBurst];
    while (!run.stop.load(std::memory_order_relaxed)) {
        const FlowKey4* burst = &keys[pos];
        if (bulk) {
            t.lookup_bulk(burst, kBurst, found, dirs);
            for (std::uint32_t i = 0; i < kBurst; ++i) hits += found[i] != nullptr;
        } else {
            for (std::uint32_t i = 0; i < kBurst; ++i) {
                ConnDir dir = ConnDir::in;
                hits += t.lookup(burst[i], dir) != nullptr;
            }
        }
        lookups += kBurst;
        pos = (pos + kBurst) & (kKeysPerReader - 1);
        t.quiescent(worker);  // between bursts, as a worker lcore does
    }
    out.cpu_ns = thread_cpu_ns() - cpu0;
    out.lookups = lookups;
    out.hits = hits;
    t.unregister_worker(worker);
}

void writer_loop(Table& tb, Run& run, WriterResult& out) {
    ConnTable4& t = *tb.table;
    run.ready.fetch_add(1);
    while (!run.go.load(std::memory_order_acquire)) std::this_thread::yield();
    const std::uint64_t cpu0 = thread_cpu_ns();
    std::uint64_t updates = 0, alloc_fail = 0;
    std::uint32_t slot = 0;
    const auto churn = static_cast<std::uint32_t>(tb.churn.size());
    while (!run.stop.load(std::memory_order_relaxed)) {
        for (std::uint32_t i = 0; i < kBurst; ++i) {
            Conn4*& c = tb.churn[slot];
            if (c != nullptr) {
                t.remove(tb.writer, c);
                c = nullptr;
                ++tb.churn_gen[slot];
            }
            c = insert(t, tb.writer, churn_flow(slot, tb.churn_gen[slot]));
            if (c == nullptr) {
                // Every free entry waits for a grace period, i.e. for a
                // reader to be scheduled again: give the core away rather
                // than spin (the slot is refilled on the next pass).
                ++alloc_fail;
                t.quiescent(tb.writer);
                std::this_thread::yield();
            } else {
                ++updates;
            }
            slot = slot + 1 == churn ? 0 : slot + 1;
        }
        t.quiescent(tb.writer);
    }
    out.cpu_ns = thread_cpu_ns() - cpu0;
    out.updates = updates;
    out.alloc_fail = alloc_fail;
}

void run_config(Table& tb, std::uint32_t readers, bool bulk, const Options& opt, unsigned cores) {
    std::vector<std::vector<FlowKey4>> keys;
    for (std::uint32_t r = 0; r < readers; ++r) keys.push_back(reader_keys(tb, r, opt.present_pct));
    Run run;
    std::vector<ReaderResult> rres(readers);
    WriterResult wres;
    std::vector<std::thread> threads;
    for (std::uint32_t r = 0; r < readers; ++r) {
        threads.emplace_back(reader_loop, std::ref(*tb.table), r, std::cref(keys[r]), bulk, std::ref(run),
                             std::ref(rres[r]));
    }
    threads.emplace_back(writer_loop, std::ref(tb), std::ref(run), std::ref(wres));
    const double wall_ns = timed_window(threads, run.ready, readers + 1, run.go, run.stop, opt.duration_ms);

    ReaderResult sum;
    for (const auto& r : rres) {
        sum.lookups += r.lookups;
        sum.hits += r.hits;
        sum.cpu_ns += r.cpu_ns;
    }
    const dp::ConnTableStats s = tb.table->stats();
    const auto lookups = static_cast<double>(std::max<std::uint64_t>(sum.lookups, 1));
    const auto updates = static_cast<double>(std::max<std::uint64_t>(wres.updates, 1));
    std::printf(
        "{\"bench\":\"conntable\",\"size\":%u,\"capacity\":%llu,\"readers\":%u,\"writers\":1,\"threads\":%u,"
        "\"cores\":%u,\"oversubscribed\":%s,\"lookup\":\"%s\",\"present_pct\":%u,\"duration_ms\":%.0f,"
        "\"lookups\":%llu,\"hit_ratio\":%.4f,\"lookup_mops\":%.3f,\"lookup_ns_per_op_cpu\":%.2f,"
        "\"lookup_ns_per_op_wall\":%.2f,\"writer_updates\":%llu,\"writer_mops\":%.3f,"
        "\"writer_ns_per_update_cpu\":%.2f,\"writer_alloc_fail\":%llu,\"insert_ns_single_thread\":%.2f,"
        "\"in_use\":%llu,\"bytes\":%llu,\"bytes_per_conn\":%.2f,\"bytes_per_live_conn\":%.2f}\n",
        tb.size, static_cast<unsigned long long>(s.capacity), readers, readers + 1, cores,
        json_bool(readers + 1 > cores), bulk ? "bulk32" : "single", opt.present_pct, wall_ns / 1e6,
        static_cast<unsigned long long>(sum.lookups), static_cast<double>(sum.hits) / lookups,
        lookups / wall_ns * 1e3, static_cast<double>(sum.cpu_ns) / lookups, wall_ns * readers / lookups,
        static_cast<unsigned long long>(wres.updates), static_cast<double>(wres.updates) / wall_ns * 1e3,
        static_cast<double>(wres.cpu_ns) / updates, static_cast<unsigned long long>(wres.alloc_fail), tb.insert_ns,
        static_cast<unsigned long long>(s.in_use), static_cast<unsigned long long>(s.bytes),
        static_cast<double>(s.bytes) / static_cast<double>(s.capacity),
        static_cast<double>(s.bytes) / static_cast<double>(std::max<std::uint64_t>(s.in_use, 1)));
    std::fflush(stdout);
}

void usage() {
    std::fprintf(stderr,
                 "usage: kadp-bench-conntable [--quick] [--big] [--sizes=N,...] [--readers=1,2,4]\n"
                 "                            [--duration-ms=N] [--present-pct=P]\n"
                 "  --quick   10K connections, 1 and 2 readers, 100 ms per run (smoke test)\n"
                 "  --big     add 10M connections (about 1.8 GB)\n");
}

int run_main(int argc, char** argv) {
    Options opt;
    for (const std::string_view a : arguments(argc, argv)) {
        const auto value = [&](std::string_view name) -> std::string_view {
            return a.starts_with(name) ? a.substr(name.size()) : std::string_view{};
        };
        if (a == "--quick") {
            opt.sizes = {10'000};
            opt.readers = {1, 2};
            opt.duration_ms = 100;
        } else if (a == "--big") {
            opt.sizes.push_back(10'000'000);
        } else if (!value("--sizes=").empty()) {
            if (!parse_list(value("--sizes="), opt.sizes)) return usage(), 2;
        } else if (!value("--readers=").empty()) {
            if (!parse_list(value("--readers="), opt.readers)) return usage(), 2;
        } else if (!value("--duration-ms=").empty()) {
            std::vector<std::uint32_t> v;
            if (!parse_list(value("--duration-ms="), v) || v.size() != 1) return usage(), 2;
            opt.duration_ms = v[0];
        } else if (!value("--present-pct=").empty()) {
            std::vector<std::uint32_t> v;
            if (!parse_list(value("--present-pct="), v) || v.size() != 1 || v[0] > 100) return usage(), 2;
            opt.present_pct = v[0];
        } else {
            return help_or_bad_option(a, usage);
        }
    }
    for (std::uint32_t r : opt.readers) {
        if (r > kMaxReaders) {
            std::fprintf(stderr, "kadp-bench-conntable: at most %u readers\n", kMaxReaders);
            return 2;
        }
    }
    for (std::uint32_t s : opt.sizes) {
        if (s < 1024 || s > (1U << 30)) {
            std::fprintf(stderr, "kadp-bench-conntable: sizes from 1024 to 2^30\n");
            return 2;
        }
    }

    const unsigned cores = core_count();
    const std::uint32_t most = *std::max_element(opt.readers.begin(), opt.readers.end()) + 1;
    std::fprintf(stderr, "kadp-bench-conntable: %u cores; each run has its readers plus 1 writer\n", cores);
    if (most > cores) {
        std::fprintf(stderr,
                     "kadp-bench-conntable: warning: runs with more than %u threads oversubscribe the cores "
                     "(\"oversubscribed\":true): their wall-clock figures measure time slicing; "
                     "compare the *_cpu figures\n",
                     cores);
    }

    for (std::uint32_t size : opt.sizes) {
        Table tb;
        tb.size = size;
        tb.table = ConnTable4::create(size, kMaxReaders + 1);
        if (!tb.table) {
            std::fprintf(stderr, "kadp-bench-conntable: no memory for %u connections\n", size);
            return 1;
        }
        if (!fill(tb)) {
            std::fprintf(stderr, "kadp-bench-conntable: filling %u connections failed\n", size);
            return 1;
        }
        for (std::uint32_t readers : opt.readers) {
            for (const bool bulk : {false, true}) run_config(tb, readers, bulk, opt, cores);
        }
    }
    return 0;
}

}  // namespace
}  // namespace kadp::perf

int main(int argc, char** argv) { return kadp::perf::run_main(argc, argv); }
