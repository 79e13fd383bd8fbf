// Runs on: control thread.
#include "control/rate_estimator.h"

namespace kadp::ctl {
namespace {

// avg += (rate - avg) / 4 (floored), with rate = delta << shift over 2 s (so << 9 is
// "per second x 2^10" and << 4 is "per second x 2^5"). Counters only grow;
// a total that went down (never, short of a restart) counts as 0.
void update(std::int64_t& avg, std::uint64_t now, std::uint64_t last, int shift) {
    const std::uint64_t delta = now >= last ? now - last : 0;
    const auto rate = static_cast<std::int64_t>(delta << shift);
    avg += (rate - avg) >> 2;  // arithmetic shift, as the kernel (floor, not truncation)
}

}  // namespace

void RateEstimator::sample(const IpvsStats& t) {
    if (primed_) {
        update(cps_, t.conns, last_.conns, 9);
        update(inpps_, t.in_packets, last_.in_packets, 9);
        update(outpps_, t.out_packets, last_.out_packets, 9);
        update(inbps_, t.in_bytes, last_.in_bytes, 4);
        update(outbps_, t.out_bytes, last_.out_bytes, 4);
    }
    primed_ = true;
    last_ = t;
}

void RateEstimator::fill(IpvsStats& s) const {
    // Rounded as ip_vs_read_estimator does.
    s.cps = static_cast<std::uint64_t>((cps_ + 0x1FF) >> 10);
    s.in_pps = static_cast<std::uint64_t>((inpps_ + 0x1FF) >> 10);
    s.out_pps = static_cast<std::uint64_t>((outpps_ + 0x1FF) >> 10);
    s.in_bps = static_cast<std::uint64_t>((inbps_ + 0xF) >> 5);
    s.out_bps = static_cast<std::uint64_t>((outbps_ + 0xF) >> 5);
}

}  // namespace kadp::ctl
