// Runs on: any (benchmarks). Small helpers the micro benchmarks share
// (kadp-bench-conntable, kadp-bench-sched, kadp-bench-control): option
// values, clocks, core count, the timed window of a threaded run and JSON
// booleans. Header-only; no EAL, no DPDK.
#pragma once

#include <time.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace kadp::perf {

// One positive decimal number, the whole of `text`.
inline bool parse_u32(std::string_view text, std::uint32_t& v) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return ec == std::errc() && end == text.data() + text.size() && v > 0;
}

// Comma-separated positive numbers ("1,2,4"); false on an empty list or a
// bad item. `out` is replaced.
inline bool parse_list(std::string_view text, std::vector<std::uint32_t>& out) {
    out.clear();
    while (!text.empty()) {
        const auto comma = text.find(',');
        std::uint32_t v = 0;
        if (!parse_u32(text.substr(0, comma), v)) return false;
        out.push_back(v);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return !out.empty();
}

// argv[1..argc-1], for a range-for over the options.
inline std::vector<std::string_view> arguments(int argc, char** argv) {
    if (argc < 2) return {};
    return {argv + 1, argv + argc};
}

// The end of a benchmark's option loop: an option no branch took. Prints the
// usage; exit status 0 for --help / -h, 2 for anything else.
inline int help_or_bad_option(std::string_view arg, void (*usage)()) {
    usage();
    return arg == "--help" || arg == "-h" ? 0 : 2;
}

// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), in ns.
inline std::uint64_t thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Monotonic wall clock (steady_clock), in ns.
inline std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

// Hardware threads of this machine, at least 1.
inline unsigned core_count() { return std::max(1U, std::thread::hardware_concurrency()); }

// The timed window of a threaded run: waits until `expected` threads have
// counted themselves `ready`, releases them (`go`), lets them run for
// `duration_ms`, raises `stop` and joins them all. Returns the wall-clock
// ns from release to the last join.
inline double timed_window(std::vector<std::thread>& threads, const std::atomic<std::uint32_t>& ready,
                           std::uint32_t expected, std::atomic<bool>& go, std::atomic<bool>& stop,
                           std::uint32_t duration_ms) {
    while (ready.load() != expected) std::this_thread::yield();
    const std::uint64_t t0 = now_ns();
    go.store(true, std::memory_order_release);
    std::this_thread::sleep_for(std::chrono::milliseconds(duration_ms));
    stop.store(true);
    for (auto& th : threads) th.join();
    return static_cast<double>(now_ns() - t0);
}

// A JSON boolean literal, for printf's %s.
constexpr const char* json_bool(bool b) { return b ? "true" : "false"; }

}  // namespace kadp::perf
