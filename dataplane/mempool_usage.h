// Runs on: control thread (kadpctl status). How many mbufs each DPDK mempool
// of this process has handed out: what a soak test compares before and after
// traffic to find leaked mbufs (tests/scripts/soak_netns.sh).
//
// The figures are read while the workers run: a pool's available count is
// its ring's count plus every lcore cache's length (rte_mempool_avail_count),
// read without a lock, so under traffic it is a recent approximation; once
// traffic stops it is exact. in_use = size - available.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kadp::dp {

struct MempoolUsage {
    std::string name;         // rte_mempool's name ("kadp_pool_s0", "kadp_exc", ...)
    std::uint64_t size = 0;   // elements the pool was created with
    std::uint64_t available = 0;
    std::uint64_t in_use = 0;
};

// Every mempool of this process (rte_mempool_walk), sorted by name. Needs
// an initialised EAL.
std::vector<MempoolUsage> mempool_usage();

}  // namespace kadp::dp
