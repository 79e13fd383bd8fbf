// Runs on: control thread. Runs every vrrp_script a Tracker uses
// (Tracker::used_scripts()) through the shared ctl::ScriptRunner, as
// keepalived 2.2.7's vrrp_script_thread does: the first run at start(),
// then one every `interval` counted from the previous start; each run is
// killed after `timeout` (default: the interval) - SIGTERM, then SIGKILL
// after the runner's kill_grace - and counts as "timed_out". A run still
// going when the next is due: "Track script NAME is already running,
// expect idle - skipping run" (or "being timed out"), and - as the 2.2.7
// binary does despite the words - the next run starts anyway, so at most
// timeout/interval runs of a script overlap. The user,
// group and script security come from the script and the runner's
// ScriptSettings. A script the configuration disabled (missing, insecure)
// never runs and counts as failed (said once).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "control/event_loop.h"
#include "control/script_runner.h"
#include "vrrp/track.h"

namespace kadp::conf {
struct Config;
}

namespace kadp::vrrp {

class ScriptTracker {
public:
    // `runner` and `tracker` must outlive this. Nothing runs before start().
    ScriptTracker(ctl::EventLoop& loop, ctl::ScriptRunner& runner, Tracker& tracker, const conf::Config& config,
                  TrackLogFn log_fn);
    // Kills what still runs (their results are not delivered).
    ~ScriptTracker();
    ScriptTracker(const ScriptTracker&) = delete;
    ScriptTracker& operator=(const ScriptTracker&) = delete;

    void start();
    // Runs under way.
    [[nodiscard]] std::size_t running() const;
    [[nodiscard]] std::size_t scripts() const { return jobs_.size(); }

private:
    struct Job;
    void tick(Job& job);
    void log(const std::string& line) const;

    ctl::EventLoop& loop_;
    ctl::ScriptRunner& runner_;
    Tracker& tracker_;
    TrackLogFn log_;
    ctl::LogLimiter limited_{log_};  // lines that come at every interval while a script hangs or cannot start
    std::vector<std::unique_ptr<Job>> jobs_;
};

}  // namespace kadp::vrrp
