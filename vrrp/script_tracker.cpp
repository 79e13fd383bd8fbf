// Runs on: control thread. See script_tracker.h.
#include "vrrp/script_tracker.h"

#include <cmath>
#include <cstdint>
#include <exception>
#include <map>

#include "conf/model.h"

namespace kadp::vrrp {

using Millis = std::chrono::milliseconds;

namespace {

Millis seconds_to_millis(double seconds)
{
    if (!(seconds > 0)) return Millis(0);
    return Millis(static_cast<Millis::rep>(std::llround(seconds * 1000.0)));
}

}  // namespace

struct ScriptTracker::Job {
    explicit Job(ctl::EventLoop& loop) : timer(loop) {}
    std::string name;
    std::string command;
    ctl::ScriptSpec spec;
    Millis interval{1000};
    Millis timeout{1000};
    bool disabled = false;
    bool told = false;  // the disabled script was logged
    ctl::Timer timer;
    // Runs under way, by a number of our own: 2.2.7 lets them overlap.
    std::map<std::uint64_t, ctl::ScriptRunner::Handle> runs;
    std::uint64_t next_run = 1;
    // keepalived's one vscript->state per script: set by every start,
    // cleared by every end, whichever run it was.
    bool busy = false;
    ctl::EventLoop::Clock::time_point started{};
};

ScriptTracker::ScriptTracker(ctl::EventLoop& loop, ctl::ScriptRunner& runner, Tracker& tracker,
                             const conf::Config& config, TrackLogFn log_fn)
    : loop_(loop), runner_(runner), tracker_(tracker), log_(std::move(log_fn))
{
    for (const std::string& name : tracker_.used_scripts()) {
        for (const conf::VrrpScript& s : config.vrrp_scripts) {
            if (s.name != name) continue;
            auto job = std::make_unique<Job>(loop_);
            job->name = s.name;
            job->command = s.script.command;
            job->spec = ctl::ScriptSpec::from(s.script, "VRRP_Script(" + s.name + ")");
            job->interval = seconds_to_millis(s.interval);
            if (job->interval.count() == 0) job->interval = Millis(1000);
            // keepalived: vscript->timeout ? vscript->timeout : vscript->interval
            job->timeout = s.timeout > 0 ? seconds_to_millis(s.timeout) : job->interval;
            job->disabled = s.script.disabled || s.script.empty();
            jobs_.push_back(std::move(job));
            break;  // keepalived finds the first of two same-named scripts
        }
    }
}

ScriptTracker::~ScriptTracker()
{
    for (auto& job : jobs_) {
        job->timer.cancel();
        job->runs.clear();
    }
}

void ScriptTracker::start()
{
    for (auto& job : jobs_) {
        Job* j = job.get();
        j->timer.arm(Millis(0), [this, j] { tick(*j); });
    }
}

std::size_t ScriptTracker::running() const
{
    std::size_t n = 0;
    for (const auto& job : jobs_) n += job->runs.size();
    return n;
}

void ScriptTracker::tick(Job& job)
{
    // The next run is due an interval after this one started, however long
    // this one takes (keepalived registers the next timer first).
    Job* j = &job;
    job.timer.arm(job.interval, [this, j] { tick(*j); });

    if (job.busy) {
        // Said, not done: the 2.2.7 binary logs this and starts the run
        // anyway (checked: a 2.5 s script with interval 1 runs every second).
        const bool timing_out = ctl::EventLoop::Clock::now() - job.started >= job.timeout;
        limited_.warning("Track script " + job.name + " busy", "Track script " + job.name + " is " + (timing_out ? "being timed out" : "already running") +
            ", expect idle - skipping run");
    }
    if (job.disabled) {
        if (!job.told) {
            job.told = true;
            log_.warning("VRRP_Script(" + job.name + "): script [" + job.command +
                "] is disabled (missing or insecure, see the configuration warnings): it never succeeds");
        }
        ctl::ScriptResult r;
        r.error = "disabled by the configuration";
        tracker_.script_result(job.name, r);
        return;
    }
    const std::uint64_t id = job.next_run++;
    try {
        ctl::ScriptRunner::Handle h = runner_.run(job.spec, job.timeout, [this, j, id](const ctl::ScriptResult& r) {
            j->runs.erase(id);  // the runner forgot the child already: nothing to kill
            j->busy = false;
            tracker_.script_result(j->name, r);
        });
        job.runs.emplace(id, std::move(h));
        job.busy = true;
        job.started = ctl::EventLoop::Clock::now();
    } catch (const std::exception& e) {
        limited_.warning("VRRP_Script(" + job.name + ") start", "VRRP_Script(" + job.name + ") could not start: " + e.what());
        ctl::ScriptResult r;
        r.error = e.what();
        tracker_.script_result(job.name, r);
    }
}

void ScriptTracker::log(const std::string& line) const
{
    if (log_) log_(line);
}

}  // namespace kadp::vrrp
