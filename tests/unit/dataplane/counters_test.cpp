// Runs on: any (unit test). The counter table: names, help, verdict mapping,
// layout, sums, and one writer racing a reader.
#include <gtest/gtest.h>

#include "dataplane/counters.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace kadp::dp {
namespace {

TEST(Counters, NamesAreUniqueNonEmptySnakeCase) {
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < kCounterCount; ++i) {
        const std::string_view name = counter_name(i);
        ASSERT_FALSE(name.empty()) << i;
        EXPECT_FALSE(counter_help(i).empty()) << name;
        for (const char c : name) {
            EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << name;
        }
        EXPECT_TRUE(names.insert(name).second) << "duplicate " << name;
    }
    EXPECT_EQ(names.size(), kCounterCount);
    EXPECT_TRUE(counter_name(kCounterCount).empty());
    EXPECT_TRUE(counter_help(kCounterCount).empty());
    EXPECT_EQ(counter_name(Counter::rx_packets), "rx_packets");
    EXPECT_EQ(counter_name(Counter::nat_reply_no_conn), "nat_reply_no_conn");
    EXPECT_EQ(counter_help(static_cast<std::size_t>(Counter::rx_packets)), "frames received");
}

TEST(Counters, OutcomesTheNatDataPlaneNeedsExist) {
    const std::set<std::string_view> names(detail::kCounterNames.begin(), detail::kCounterNames.end());
    for (const char* n : {"rx_packets", "tx_packets", "tx_full_drop", "drop_not_ip", "arp_request_answered",
                          "arp_reply_learned", "icmp_echo_answered", "route_miss", "neigh_unresolved_held",
                          "neigh_unresolved_dropped", "conn_new", "conn_table_full", "conn_hit_in", "conn_hit_out",
                          "sched_no_dest", "nat_in", "nat_out", "nat_reply_no_conn", "no_service_rst",
                          "no_service_icmp_unreach", "vlan_passed", "not_for_us"}) {
        EXPECT_EQ(names.count(n), 1U) << n;
    }
}

TEST(Counters, EveryParseVerdictMapsToItsOwnCounter) {
    std::set<Counter> used;
    for (std::size_t i = 0; i < kParseVerdictCount; ++i) {
        const auto v = static_cast<ParseVerdict>(i);
        const Counter c = parse_verdict_counter(v);
        ASSERT_LT(static_cast<std::size_t>(c), kCounterCount) << parse_verdict_name(v);
        EXPECT_TRUE(used.insert(c).second) << parse_verdict_name(v) << " shares " << counter_name(c);
        const std::string name(counter_name(c));
        if (parse_malformed(v) || v == ParseVerdict::vlan_qinq) {
            // Dropped frames are visible as drops, named after the verdict.
            EXPECT_EQ(name, "drop_" + std::string(parse_verdict_name(v)));
        } else {
            EXPECT_EQ(name.rfind("rx_", 0), 0U) << name;
        }
    }
    EXPECT_EQ(parse_verdict_counter(ParseVerdict::ok_ipv4_tcp), Counter::rx_ipv4_tcp);
    EXPECT_EQ(parse_verdict_counter(ParseVerdict::ok_ipv4_fragment), Counter::rx_ipv4_fragment);
    EXPECT_EQ(parse_verdict_counter(ParseVerdict::not_ip), Counter::rx_not_ip);
    EXPECT_EQ(parse_verdict_counter(ParseVerdict::truncated_l2), Counter::drop_truncated_l2);
    EXPECT_EQ(parse_verdict_counter(ParseVerdict::bad_total_length), Counter::drop_bad_total_length);
    EXPECT_EQ(parse_verdict_counter(ParseVerdict::bad_arp), Counter::drop_bad_arp);
    static_assert(parse_verdict_counter(ParseVerdict::bad_ihl) == Counter::drop_bad_ihl);
}

TEST(Counters, LayoutKeepsWorkersOnSeparateLines) {
    EXPECT_EQ(alignof(WorkerCounters), 64U);
    EXPECT_EQ(sizeof(WorkerCounters) % 64, 0U);
    EXPECT_GE(sizeof(WorkerCounters), kCounterCount * sizeof(std::uint64_t));
    auto workers = std::make_unique<WorkerCounters[]>(3);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&workers[i]) % 64, 0U);
    }
}

TEST(Counters, StartAtZeroAddGetClear) {
    WorkerCounters w;
    for (std::size_t i = 0; i < kCounterCount; ++i) {
        EXPECT_EQ(w.get(i), 0U) << counter_name(i);
    }
    w.inc(Counter::conn_new);
    w.inc(Counter::conn_new);
    w.add(Counter::rx_bytes, 1500);
    w.add(Counter::frag_needed_sent);  // the last counter
    EXPECT_EQ(w.get(Counter::conn_new), 2U);
    EXPECT_EQ(w.get(Counter::rx_bytes), 1500U);
    EXPECT_EQ(w.get(Counter::frag_needed_sent), 1U);
    EXPECT_EQ(w.get(Counter::rx_packets), 0U);
    w.clear();
    EXPECT_EQ(w.get(Counter::rx_bytes), 0U);
    EXPECT_EQ(w.get(Counter::conn_new), 0U);
}

TEST(Counters, SumOverWorkers) {
    auto workers = std::make_unique<WorkerCounters[]>(4);
    for (std::size_t w = 0; w < 4; ++w) {
        for (std::size_t i = 0; i < kCounterCount; ++i) {
            // Distinct per worker and per counter, so a missed or doubled
            // worker or a shifted index shows.
            workers[w].add(static_cast<Counter>(i), (w + 1) * 1000 + i);
        }
    }
    const std::span<const WorkerCounters> all(workers.get(), 4);
    const CounterTotals totals = sum_counters(all);
    for (std::size_t i = 0; i < kCounterCount; ++i) {
        EXPECT_EQ(totals[i], 10000 + 4 * i) << counter_name(i);
        EXPECT_EQ(sum_counter(all, static_cast<Counter>(i)), 10000 + 4 * i);
    }
    // Workers that are not contiguous (two of the four).
    const WorkerCounters* some[] = {&workers[3], &workers[1]};
    const CounterTotals part = sum_counters(std::span<const WorkerCounters* const>(some));
    EXPECT_EQ(part[0], 4000U + 2000U);
    EXPECT_EQ(part[kCounterCount - 1], 6000 + 2 * (kCounterCount - 1));
    EXPECT_EQ(sum_counters(std::span<const WorkerCounters>()), CounterTotals{});
}

TEST(Counters, ReaderRacesOneWriter) {
    // The owner bumps with relaxed load+store while the control thread
    // reads: the reader never sees a value go back or a torn value, and no
    // bump is lost.
    constexpr std::uint64_t kBumps = 2'000'000;
    WorkerCounters w;
    std::atomic<bool> started{false};
    std::atomic<bool> done{false};
    std::thread writer([&] {
        while (!started.load(std::memory_order_acquire)) {
        }
        for (std::uint64_t i = 0; i < kBumps; ++i) {
            w.inc(Counter::rx_packets);
            w.add(Counter::rx_bytes, 64);
        }
        done.store(true, std::memory_order_release);
    });
    std::uint64_t last = 0;
    bool monotonic = true;
    started.store(true, std::memory_order_release);
    // How many reads overlap the writer depends on scheduling; the checks
    // hold for every one of them.
    do {
        const std::uint64_t now = w.get(Counter::rx_packets);
        monotonic = monotonic && now >= last && now <= kBumps;
        last = now;
    } while (!done.load(std::memory_order_acquire));
    writer.join();
    EXPECT_TRUE(monotonic);
    EXPECT_EQ(w.get(Counter::rx_packets), kBumps);
    EXPECT_EQ(w.get(Counter::rx_bytes), 64 * kBumps);
}

}  // namespace
}  // namespace kadp::dp
