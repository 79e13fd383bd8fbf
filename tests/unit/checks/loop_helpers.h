// Runs on: any (unit test). Shared by the checks/ tests that drive a real
// EventLoop: run it until a condition holds, and look for log lines.
#pragma once

#include <algorithm>
#include <chrono>
#include <csignal>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

#include "control/event_loop.h"

namespace kadp::chk::testing {

// Runs the loop until `done()` holds (checked every 10 ms) or 5 s pass;
// stops it with the SIGTERM its signalfd takes (block_control_signals()
// must have run). Returns whether `done()` held.
inline bool run_until(ctl::EventLoop& loop, const std::function<bool()>& done)
{
    using std::chrono::milliseconds;
    bool ok = false;
    const auto deadline = ctl::EventLoop::Clock::now() + std::chrono::seconds(5);
    ctl::Timer poll(loop);
    std::function<void()> check = [&] {
        if (done()) ok = true;
        if (ok || ctl::EventLoop::Clock::now() > deadline) {
            kill(getpid(), SIGTERM);
            return;
        }
        poll.arm(milliseconds(10), check);
    };
    poll.arm(milliseconds(0), check);
    loop.run({});
    return ok;
}

inline bool logged(const std::vector<std::string>& log, const std::string& line)
{
    return std::find(log.begin(), log.end(), line) != log.end();
}

}  // namespace kadp::chk::testing
