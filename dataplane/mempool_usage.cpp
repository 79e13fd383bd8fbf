// Runs on: control thread. See mempool_usage.h.
#include "dataplane/mempool_usage.h"

#include <rte_mempool.h>

#include <algorithm>

namespace kadp::dp {

namespace {

void add_pool(rte_mempool* mp, void* arg) {
    auto* out = static_cast<std::vector<MempoolUsage>*>(arg);
    MempoolUsage u;
    u.name = mp->name;
    u.size = mp->size;
    u.available = rte_mempool_avail_count(mp);
    // Racy reads under traffic may sum to more than the size for an instant.
    u.in_use = u.available < u.size ? u.size - u.available : 0;
    out->push_back(std::move(u));
}

}  // namespace

std::vector<MempoolUsage> mempool_usage() {
    std::vector<MempoolUsage> pools;
    rte_mempool_walk(add_pool, &pools);
    std::sort(pools.begin(), pools.end(), [](const MempoolUsage& a, const MempoolUsage& b) { return a.name < b.name; });
    return pools;
}

}  // namespace kadp::dp
