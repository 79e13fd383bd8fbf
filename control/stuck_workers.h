// Runs on: control thread. Finds DPDK workers that stopped polling: each
// worker stores its loop count (dp::Worker::heartbeat()); sample() reads
// every one, and a worker whose count has not moved for the threshold is
// stuck until it moves again. One log line when an episode starts and one
// when it ends; while any worker is stuck kadp stops its systemd watchdog
// pings (control/sd_notify.h), so systemd restarts it. docs/operations.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "control/log_sink.h"

namespace kadp::ctl {

// The default of the dataplane block's stuck_worker_timeout (conf/model.h).
inline constexpr std::chrono::milliseconds kDefaultStuckThreshold{1000};

class StuckWorkerWatch {
public:
    using Clock = std::chrono::steady_clock;
    using Log = LogSink;
    struct Source {
        unsigned lcore = 0;
        std::function<std::uint64_t()> heartbeat;
    };

    StuckWorkerWatch(std::vector<Source> sources, std::chrono::milliseconds threshold, Log log);

    // A new threshold (a reload's dataplane stuck_worker_timeout): counts
    // from the next sample; a worker already stuck stays so until it moves.
    void set_threshold(std::chrono::milliseconds threshold) { threshold_ = threshold; }
    std::chrono::milliseconds threshold() const { return threshold_; }

    // Reads every heartbeat at `now` (the control thread's clock).
    void sample(Clock::time_point now = Clock::now());
    // Workers stuck at the last sample.
    unsigned stuck() const { return stuck_; }
    // One line per worker stuck at the last sample (kadpctl status's
    // `degraded`).
    std::vector<std::string> degraded() const;
    // Episodes seen since start (a worker stuck, then polling again, is one).
    std::uint64_t episodes() const { return episodes_; }

private:
    struct Seen {
        std::uint64_t beat = 0;
        Clock::time_point moved;  // when beat last changed (or the first sample)
        bool stuck = false;
        bool sampled = false;
    };
    std::vector<Source> sources_;
    std::vector<Seen> seen_;
    std::chrono::milliseconds threshold_;
    Log log_;
    unsigned stuck_ = 0;
    std::uint64_t episodes_ = 0;
};

// The test seam for the stuck-worker detection: KADP_TEST_STALL_WORKER=
// "AFTER_MS:FOR_MS" makes the first worker sleep FOR_MS once, AFTER_MS after
// kadp is ready. Unset or malformed: nullopt (kadp stalls nothing).
struct TestStall {
    std::chrono::milliseconds after{0};
    std::uint32_t for_ms = 0;
};
std::optional<TestStall> test_stall_from_environment();

}  // namespace kadp::ctl
