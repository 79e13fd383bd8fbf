// Runs on: control thread.
#include "control/stuck_workers.h"

#include <cstdlib>
#include <utility>

namespace kadp::ctl {

StuckWorkerWatch::StuckWorkerWatch(std::vector<Source> sources, std::chrono::milliseconds threshold, Log log)
    : sources_(std::move(sources)), seen_(sources_.size()), threshold_(threshold), log_(std::move(log))
{
}

void StuckWorkerWatch::sample(Clock::time_point now)
{
    unsigned stuck = 0;
    for (std::size_t i = 0; i < sources_.size(); ++i) {
        Seen& s = seen_[i];
        const std::uint64_t beat = sources_[i].heartbeat();
        const std::string lcore = std::to_string(sources_[i].lcore);
        if (!s.sampled || beat != s.beat) {
            if (s.stuck) {
                const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - s.moved).count();
                log_.warning("worker on lcore " + lcore + " polls again after " + std::to_string(ms) + " ms");
            }
            s = {beat, now, false, true};
            continue;
        }
        const auto still = std::chrono::duration_cast<std::chrono::milliseconds>(now - s.moved);
        if (still >= threshold_) {
            if (!s.stuck) {
                log_.warning("worker on lcore " + lcore + " stopped polling for " + std::to_string(still.count()) + " ms");
                ++episodes_;
            }
            s.stuck = true;
            ++stuck;
        }
    }
    stuck_ = stuck;
}

std::vector<std::string> StuckWorkerWatch::degraded() const
{
    std::vector<std::string> out;
    for (std::size_t i = 0; i < sources_.size(); ++i) {
        if (seen_[i].stuck) {
            out.push_back("worker on lcore " + std::to_string(sources_[i].lcore) +
                          " stopped polling (systemd watchdog pings withheld)");
        }
    }
    return out;
}

std::optional<TestStall> test_stall_from_environment()
{
    const char* const v = std::getenv("KADP_TEST_STALL_WORKER");
    if (v == nullptr) return std::nullopt;
    char* end = nullptr;
    const unsigned long after = std::strtoul(v, &end, 10);
    if (end == v || *end != ':') return std::nullopt;
    const char* const rest = end + 1;
    const unsigned long for_ms = std::strtoul(rest, &end, 10);
    if (end == rest || *end != '\0' || for_ms == 0 || for_ms > 600000) return std::nullopt;
    return TestStall{std::chrono::milliseconds(after), static_cast<std::uint32_t>(for_ms)};
}

}  // namespace kadp::ctl
