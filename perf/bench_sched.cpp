// Runs on: any (a development machine; no EAL). Plain threads stand in for
// worker lcores picking from one published SchedState.
//
// kadp-bench-sched: cost of SchedState::pick() per algorithm (every one the
// data plane runs: rr, wrr, lc, wlc, sh, dh, mh, sed, nq, lblc, lblcr, fo,
// ovf) for services of 10 and 1,000 real servers, from 1 and 2 threads.
// Weights are 1 for rr/lc and random 1..100 for the others; the
// load-aware ones see random active (0..1000) and inactive (0..5000) counts,
// which stay fixed during a run (the scan costs the same whatever the counts
// are). Flows cycle through 4,096 precomputed ones: random client addresses
// and ports, destination addresses from a pool of 1,000 (what sh/mh and
// dh/lblc/lblcr hash; lblc/lblcr then mostly hit their table). One JSON object
// per configuration on stdout; figures, never pass/fail.
// rr/wrr threads share one sequence counter (sched.h), so the 2-thread
// figures include that cache line bouncing between cores, as it does between
// workers; lblc/lblcr threads likewise share their table's entries.
#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

#include "dataplane/sched/sched.h"
#include "bench_util.h"

namespace kadp::perf {
namespace {

using dp::DestRef;
using dp::DestStats;
using dp::SchedAlgo;
using dp::SchedFlow;
using dp::SchedState;

constexpr std::uint32_t kChunk = 1024;  // picks between two looks at the stop flag

constexpr std::uint32_t kFlows = 4096;  // power of two

struct Options {
    std::vector<SchedAlgo> algos;  // empty: all
    std::vector<std::uint32_t> dest_counts{10, 1000};
    std::vector<std::uint32_t> thread_counts{1, 2};
    std::uint32_t duration_ms = 500;
};

// The dests of one service: their stats (identity) and what the scheduler sees.
struct Service {
    std::vector<DestStats> stats;
    std::vector<DestRef> refs;
    std::unique_ptr<SchedState> sched;

    Service(SchedAlgo algo, std::uint32_t n, std::uint32_t seed) : stats(n) {
        std::mt19937 rng(seed);
        const bool weighted = algo != SchedAlgo::rr && algo != SchedAlgo::lc;
        const bool counted = algo != SchedAlgo::rr && algo != SchedAlgo::wrr;
        std::uniform_int_distribution<std::int32_t> weight(1, 100);
        std::uniform_int_distribution<std::uint32_t> active(0, 1000), inactive(0, 5000);
        for (std::uint32_t i = 0; i < n; ++i) {
            if (counted) {
                stats[i].active.store(active(rng), std::memory_order_relaxed);
                stats[i].inactive.store(inactive(rng), std::memory_order_relaxed);
            }
            DestRef r{weighted ? weight(rng) : 1, &stats[i]};
            r.addr_fold = 0xc6120000U + i;  // 198.18.x.y: mh hashes dest addresses
            r.port = 80;
            refs.push_back(r);
        }
        sched = std::make_unique<SchedState>(algo, refs);
    }
};

struct ThreadResult {
    std::uint64_t picks = 0;
    std::uint64_t cpu_ns = 0;
    std::uint64_t checksum = 0;  // keeps the picks observable
};

std::vector<SchedFlow> make_flows(std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<SchedFlow> flows(kFlows);
    for (SchedFlow& f : flows) {
        f.family = 2;  // AF_INET
        f.proto = 6;
        f.saddr[0] = htonl(0xc6130000U | (rng() & 0xffffU));  // 198.19.x.y
        f.daddr[0] = htonl(0xc6140000U + rng() % 1000);       // 198.20.x.y
        f.sport = htons(static_cast<std::uint16_t>(1024 + rng() % 60000));
        f.dport = htons(80);
    }
    return flows;
}

void pick_loop(const SchedState& s, const std::atomic<bool>& go, const std::atomic<bool>& stop,
               std::atomic<std::uint32_t>& ready, ThreadResult& out, std::uint32_t seed) {
    const std::vector<SchedFlow> flows = make_flows(seed);
    ready.fetch_add(1);
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    const std::uint64_t cpu0 = thread_cpu_ns();
    std::uint64_t picks = 0, sum = 0;
    std::uint32_t next = 0;
    while (!stop.load(std::memory_order_relaxed)) {
        for (std::uint32_t i = 0; i < kChunk; ++i) {
            sum += s.pick(flows[next]);
            next = (next + 1) & (kFlows - 1);
        }
        picks += kChunk;
    }
    out.cpu_ns = thread_cpu_ns() - cpu0;
    out.picks = picks;
    out.checksum = sum;
}

void run_config(SchedAlgo algo, std::uint32_t dests, std::uint32_t threads, const Options& opt, unsigned cores) {
    Service svc(algo, dests, 1000 + dests);
    std::atomic<bool> go{false}, stop{false};
    std::atomic<std::uint32_t> ready{0};
    std::vector<ThreadResult> res(threads);
    std::vector<std::thread> pool;
    for (std::uint32_t t = 0; t < threads; ++t) {
        pool.emplace_back(pick_loop, std::cref(*svc.sched), std::cref(go), std::cref(stop), std::ref(ready),
                          std::ref(res[t]), 77 + t);
    }
    const double wall_ns = timed_window(pool, ready, threads, go, stop, opt.duration_ms);

    ThreadResult sum;
    for (const auto& r : res) {
        sum.picks += r.picks;
        sum.cpu_ns += r.cpu_ns;
        sum.checksum += r.checksum;
    }
    const auto picks = static_cast<double>(std::max<std::uint64_t>(sum.picks, 1));
    std::printf(
        "{\"bench\":\"sched\",\"algo\":\"%.*s\",\"dests\":%u,\"threads\":%u,\"cores\":%u,"
        "\"oversubscribed\":%s,\"exact_order\":%s,\"period\":%llu,\"duration_ms\":%.0f,\"picks\":%llu,"
        "\"pick_mops\":%.3f,\"pick_ns_per_op_cpu\":%.2f,\"pick_ns_per_op_wall\":%.2f,\"checksum\":%llu}\n",
        static_cast<int>(dp::sched_name(algo).size()), dp::sched_name(algo).data(), dests, threads, cores,
        json_bool(threads > cores), json_bool(svc.sched->exact_order()),
        static_cast<unsigned long long>(svc.sched->period()), wall_ns / 1e6,
        static_cast<unsigned long long>(sum.picks), picks / wall_ns * 1e3, static_cast<double>(sum.cpu_ns) / picks,
        wall_ns * threads / picks, static_cast<unsigned long long>(sum.checksum));
    std::fflush(stdout);
}

void usage() {
    std::fprintf(stderr,
                 "usage: kadp-bench-sched [--quick] [--algos=rr,mh,...] [--dests=10,1000] [--threads=1,2] "
                 "[--duration-ms=N]\n"
                 "  --quick   20 ms per configuration (smoke test)\n");
}

int run_main(int argc, char** argv) {
    Options opt;
    for (const std::string_view a : arguments(argc, argv)) {
        if (a == "--quick") {
            opt.duration_ms = 20;
        } else if (a.starts_with("--algos=")) {
            std::string_view rest = a.substr(8);
            while (!rest.empty()) {
                const std::size_t comma = rest.find(',');
                const auto algo = dp::sched_from_name(rest.substr(0, comma));
                if (!algo) return usage(), 2;
                opt.algos.push_back(*algo);
                rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            }
        } else if (a.starts_with("--dests=")) {
            if (!parse_list(a.substr(8), opt.dest_counts)) return usage(), 2;
        } else if (a.starts_with("--threads=")) {
            if (!parse_list(a.substr(10), opt.thread_counts)) return usage(), 2;
        } else if (a.starts_with("--duration-ms=")) {
            std::vector<std::uint32_t> v;
            if (!parse_list(a.substr(14), v) || v.size() != 1) return usage(), 2;
            opt.duration_ms = v[0];
        } else {
            return help_or_bad_option(a, usage);
        }
    }
    for (std::uint32_t d : opt.dest_counts) {
        if (d > dp::kMaxDests) {
            std::fprintf(stderr, "kadp-bench-sched: at most %u dests\n", dp::kMaxDests);
            return 2;
        }
    }
    const unsigned cores = core_count();
    std::fprintf(stderr, "kadp-bench-sched: %u cores\n", cores);
    if (*std::max_element(opt.thread_counts.begin(), opt.thread_counts.end()) > cores) {
        std::fprintf(stderr,
                     "kadp-bench-sched: warning: more threads than cores oversubscribe (\"oversubscribed\":true); "
                     "compare the *_cpu figures\n");
    }
    if (opt.algos.empty()) {
#define KADP_BENCH_ALGO(name) opt.algos.push_back(SchedAlgo::name);
        KADP_SCHED_ALGOS(KADP_BENCH_ALGO)
#undef KADP_BENCH_ALGO
    }
    for (const SchedAlgo algo : opt.algos) {
        for (std::uint32_t dests : opt.dest_counts) {
            for (std::uint32_t threads : opt.thread_counts) run_config(algo, dests, threads, opt, cores);
        }
    }
    return 0;
}

}  // namespace
}  // namespace kadp::perf

int main(int argc, char** argv) { return kadp::perf::run_main(argc, argv); }
