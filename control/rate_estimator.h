// Runs on: control thread. IPVS's rate estimator (net/netfilter/ipvs/
// ip_vs_est.c) for `kadpctl list --rate`: sampled every 2 s, each rate is an
// exponentially weighted moving average with weight 1/4, kept in the same
// fixed point as the kernel (conns and packets x 2^10 per second, bytes
// x 2^5), so kadp's figures move like ipvsadm's do. One estimator per
// service or real server identity; the caller feeds it the running totals.
#pragma once

#include <cstdint>

#include "control/ipvs_model.h"

namespace kadp::ctl {

class RateEstimator {
public:
    static constexpr unsigned kIntervalSeconds = 2;

    // One sample of the totals, taken every kIntervalSeconds. The first one
    // only sets the baseline (rates stay 0), as IPVS starts an estimator.
    void sample(const IpvsStats& totals);
    // Writes cps, in_pps, out_pps, in_bps, out_bps into `stats`.
    void fill(IpvsStats& stats) const;

private:
    bool primed_ = false;
    IpvsStats last_;
    // Scaled averages (see the file comment).
    std::int64_t cps_ = 0, inpps_ = 0, outpps_ = 0, inbps_ = 0, outbps_ = 0;
};

}  // namespace kadp::ctl
