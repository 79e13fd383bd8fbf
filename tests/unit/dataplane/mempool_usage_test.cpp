// Runs on: any (unit test; EAL from pipeline_test_main.cpp). mempool_usage()
// reports every pool of the process with the mbufs it has handed out, lcore
// caches counted as available: what kadpctl status shows and the soak test
// compares before and after traffic.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/mempool_usage.h"

namespace kadp::dp {
namespace {

std::optional<MempoolUsage> find(const std::string& name) {
    for (const auto& u : mempool_usage())
        if (u.name == name) return u;
    return std::nullopt;
}

// Allocations and frees move in_use both ways, with and without a per-lcore
// cache (freed mbufs sit in the cache: still available).
void check_pool(const char* name, unsigned cache) {
    rte_mempool* pool = rte_pktmbuf_pool_create(name, 127, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool, nullptr);
    auto u = find(name);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->size, 127u);
    EXPECT_EQ(u->in_use, 0u);
    EXPECT_EQ(u->available, 127u);
    std::vector<rte_mbuf*> held;
    for (int i = 0; i < 40; ++i) held.push_back(rte_pktmbuf_alloc(pool));
    ASSERT_EQ(std::count(held.begin(), held.end(), nullptr), 0);
    u = find(name);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->in_use, 40u);
    EXPECT_EQ(u->available, 87u);
    for (int i = 0; i < 15; ++i) rte_pktmbuf_free(held[static_cast<std::size_t>(i)]);
    EXPECT_EQ(find(name)->in_use, 25u);
    for (std::size_t i = 15; i < held.size(); ++i) rte_pktmbuf_free(held[i]);
    u = find(name);
    EXPECT_EQ(u->in_use, 0u);
    EXPECT_EQ(u->available, 127u);
    rte_mempool_free(pool);
    EXPECT_FALSE(find(name));
}

TEST(MempoolUsage, CountsMbufsHandedOutWithoutCache) { check_pool("mpu_nocache", 0); }
TEST(MempoolUsage, CountsMbufsHandedOutWithCache) { check_pool("mpu_cache", 16); }

TEST(MempoolUsage, ListsEveryPoolSortedByName) {
    rte_mempool* b = rte_pktmbuf_pool_create("mpu_b", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    rte_mempool* a = rte_pktmbuf_pool_create("mpu_a", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    const auto all = mempool_usage();
    std::vector<std::string> names;
    for (const auto& u : all) names.push_back(u.name);
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
    EXPECT_NE(std::find(names.begin(), names.end(), "pipeline_test"), names.end());  // the binary's own pool
    EXPECT_NE(std::find(names.begin(), names.end(), "mpu_a"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "mpu_b"), names.end());
    rte_mempool_free(a);
    rte_mempool_free(b);
}

}  // namespace
}  // namespace kadp::dp
