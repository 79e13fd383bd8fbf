// Runs on: any (unit tests). Dests and flows for the scheduler tests: each
// dest has its own DestStats (its identity) and an address 198.18.1.<n>:80
// (198.18.1.0 + n, so 198.18.2.x and on beyond 255).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dataplane/sched/sched.h"

namespace kadp::dp::test {

inline std::uint32_t ip4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return htonl((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d);
}

class SchedDests {
public:
    explicit SchedDests(std::vector<std::int32_t> weights) {
        for (std::int32_t w : weights) add(w);
    }
    void add(std::int32_t weight) {
        stats_.push_back(std::make_unique<DestStats>());
        DestRef r{weight, stats_.back().get()};
        r.addr_fold = 0xc6120100U + static_cast<std::uint32_t>(stats_.size());  // host order
        r.port = 80;
        refs_.push_back(r);
        index_.push_back(stats_.size() - 1);
    }
    std::span<const DestRef> refs() const { return refs_; }
    DestRef& ref(std::size_t i) { return refs_[i]; }
    // By position in refs() (which erase() shifts).
    void set_weight(std::size_t i, std::int32_t w) { refs_[i].weight = w; }
    void set_thresholds(std::size_t i, std::uint32_t u, std::uint32_t l) {
        refs_[i].u_threshold = u;
        refs_[i].l_threshold = l;
    }
    void erase(std::size_t i) {
        refs_.erase(refs_.begin() + static_cast<std::ptrdiff_t>(i));
        index_.erase(index_.begin() + static_cast<std::ptrdiff_t>(i));
    }
    DestStats& stats(std::size_t i) { return *refs_[i].stats; }
    void set_conns(std::size_t i, std::uint32_t active, std::uint32_t inactive = 0) {
        refs_[i].stats->active.store(active);
        refs_[i].stats->inactive.store(inactive);
    }
    void add_active(std::size_t i) { refs_[i].stats->active.fetch_add(1); }

private:
    std::vector<std::unique_ptr<DestStats>> stats_;
    std::vector<DestRef> refs_;
    std::vector<std::size_t> index_;
};

inline SchedFlow flow4(std::uint32_t saddr_be, std::uint16_t sport = 0, std::uint32_t daddr_be = 0,
                       std::uint8_t proto = IPPROTO_TCP) {
    SchedFlow f;
    f.saddr[0] = saddr_be;
    f.daddr[0] = daddr_be;
    f.sport = htons(sport);
    f.dport = htons(80);
    f.family = AF_INET;
    f.proto = proto;
    return f;
}

// A clock tests move by hand (lblc, lblcr). One per test binary is enough:
// tests run one at a time.
inline std::uint32_t g_test_now = 1000;
inline std::uint32_t test_clock() { return g_test_now; }

}  // namespace kadp::dp::test
