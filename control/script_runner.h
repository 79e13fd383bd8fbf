// Runs on: control thread. Runs the configured scripts (MISC_CHECK paths,
// notify_up/down, quorum_up/down, VRRP notify and track scripts) as child
// processes watched by the control thread's event loop, never blocking it.
//
// * Start: clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD), the way posix_spawn
//   starts a child, plus what posix_spawn cannot do: the user switch. The
//   parent pauses only until the child has exec'd (or failed to); a failed
//   exec is reported in the result, not lost in the child. The child gets
//   default signal dispositions and an empty signal mask (the control
//   thread blocks SIGTERM/SIGINT/SIGHUP for its signalfd), its own session
//   and process group, stdin/stdout/stderr on /dev/null (as keepalived;
//   stdout/stderr may be captured instead, see ScriptSpec::capture_output),
//   no other descriptor, "/" as working directory, parent-death signal
//   SIGTERM, and the environment described at ScriptSpec.
// * Watch: the pidfd is watched in the event loop; the child is reaped
//   (waitid(P_PIDFD, WNOHANG)) only once the pidfd is readable.
// * Timeout: each running child has its own timerfd. On expiry its process
//   group gets SIGTERM, kill_grace later SIGKILL (keepalived's MISC_CHECK:
//   2 s); a leader that ends after our SIGTERM has its group SIGKILLed before
//   it is reaped (the zombie keeps the group id from being reused), so
//   nothing the script started is left behind.
// * Escapes: every run carries a mark in its environment (KADP_SCRIPT_RUN=
//   <kadp pid>.<run id>) that what it starts inherits. When kadp kills a run
//   (timeout, cancel, shutdown) it also signals every process carrying that
//   mark, so a child that left the group (setsid, setpgid) or was orphaned
//   by a double fork dies too; SIGKILL is repeated until a /proc pass finds
//   no marked process alive (catches what forked meanwhile). Logged:
//   "WHAT: killed N process(es) it started outside its process group". A
//   process that also clears its environment is out of reach (no cgroups).
//   A run that ends by itself is not chased: what it left running (a
//   daemon a notify script started) keeps running, as with keepalived.
// * Orphans: the runner makes kadp a child subreaper (PR_SET_CHILD_SUBREAPER,
//   process-wide), so what scripts orphan is reparented to kadp, and reaps
//   them once a second (and at shutdown, briefly waiting for what it
//   killed): no zombie outlives a second.
// * Security: see ScriptRunner::run.
//
// Needs Linux >= 5.4 (CLONE_PIDFD, pollable pidfds, waitid(P_PIDFD)); there
// is no fallback: Debian 11's kernel is 5.10, 12's is 6.1. Not thread-safe:
// every runner of the process lives on the control thread (the orphan reaper
// looks at all of them).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/event_loop.h"
#include "control/log_sink.h"

namespace kadp::conf {
struct GlobalDefs;
struct Script;
}  // namespace kadp::conf

namespace kadp::ctl {

// What runs, as whom. The environment is minimal and fixed, not the
// daemon's (keepalived passes its own on): PATH (conf::kScriptPath), HOME,
// USER and LOGNAME of the user it runs as, SHELL=/bin/sh, then `env`.
struct ScriptSpec {
    std::vector<std::string> argv;  // argv[0]: a path, or a name searched in conf::kScriptPath
    std::string user;               // empty: ScriptSettings::script_user
    std::string group;              // with `user`: empty = that user's own; without: ScriptSettings'
                                    // script_group (empty = the user's own)
    std::vector<std::string> env;   // extra "NAME=value" entries (after KADP_SCRIPT_RUN, the run's mark)
    std::string what;               // for log lines: "MISC_CHECK of 198.18.0.10:80"
    // 0: stdout and stderr go to /dev/null (keepalived). N: both go to a
    // pipe the loop drains; the first N bytes reach ScriptResult::output.
    // The pipe closes when the script ends: a background process it left
    // writing there gets EPIPE (SIGPIPE) - redirect those in the script.
    std::size_t capture_output = 0;

    // From a configured command (argv already split as keepalived splits it;
    // the `user`/`group` words after it).
    static ScriptSpec from(const conf::Script& script, std::string what);
};

struct ScriptSettings {
    bool enable_script_security = false;
    std::string script_user;   // empty: keepalived_script if it exists, else kadp's own user
    std::string script_group;  // empty: the user's primary group
    std::chrono::milliseconds kill_grace{2000};  // SIGTERM -> SIGKILL after a timeout
    LogSink log;  // refusals and failures, one line each

    static ScriptSettings from(const conf::GlobalDefs& globals);
};

struct ScriptResult {
    enum class Status {
        exited,       // exit_code is set
        killed,       // signal is set
        not_started,  // error says why (missing, refused, unknown user, exec failed)
        unkillable,   // timed out and kadp may not signal it (no CAP_KILL): still
                      // running, reaped when it ends; error says why
    };
    Status status = Status::not_started;
    int exit_code = -1;
    int signal = 0;
    // The timeout expired and the runner sent SIGTERM (then SIGKILL): the
    // status says how the child ended nonetheless.
    bool timed_out = false;
    // The refusal was a security violation (enable_script_security).
    bool security_violation = false;
    std::string error;
    std::string output;  // ScriptSpec::capture_output: stdout and stderr, bounded
    std::chrono::steady_clock::duration elapsed{};
    pid_t pid = 0;

    [[nodiscard]] bool succeeded() const { return status == Status::exited && exit_code == 0 && !timed_out; }
    // "exited with status 3", "killed by signal 9 (timed out)", "not started: ..."
    [[nodiscard]] std::string describe() const;
};

class ScriptRunner {
public:
    using Callback = std::function<void(const ScriptResult&)>;

    // Owns one run: destroying (or reset()ting) it before the callback ran
    // SIGKILLs the script's process group; the runner still reaps it when
    // its pidfd says so, and the callback is never called. Must not outlive
    // its runner.
    class Handle {
    public:
        Handle() = default;
        Handle(Handle&& o) noexcept : runner_(o.runner_), id_(o.id_) { o.runner_ = nullptr; }
        Handle& operator=(Handle&& o) noexcept;
        Handle(const Handle&) = delete;
        Handle& operator=(const Handle&) = delete;
        ~Handle() { reset(); }
        void reset();
        // Its callback is still to come (started, or a refusal not yet delivered).
        [[nodiscard]] bool running() const;
        [[nodiscard]] pid_t pid() const;

    private:
        friend class ScriptRunner;
        Handle(ScriptRunner* runner, std::uint64_t id) : runner_(runner), id_(id) {}
        ScriptRunner* runner_ = nullptr;
        std::uint64_t id_ = 0;
    };

    // Throws std::system_error when the child stack cannot be mapped.
    ScriptRunner(EventLoop& loop, ScriptSettings settings);
    // SIGKILLs what still runs and waits for it: at shutdown only.
    ~ScriptRunner();
    ScriptRunner(const ScriptRunner&) = delete;
    ScriptRunner& operator=(const ScriptRunner&) = delete;

    // Starts `spec`; `callback` runs exactly once, from the event loop,
    // never from inside run() (unless the handle is dropped first). A zero
    // timeout means none (keepalived's notify scripts).
    //
    // Before starting, on every run (files change after the load): the user
    // (and group) must exist; with enable_script_security the user must be
    // configured or keepalived_script must exist (never root by default).
    // Then conf::check_script(), the same check `kadp -t` makes: the program
    // must be found and be executable by that user, and with
    // enable_script_security a script that runs with root privileges must
    // not be changeable by anyone but root: else "Unsafe permissions found
    // for script ..." is logged and the result is not_started with
    // security_violation set. What runs is the real path that was checked.
    // Throws std::system_error only when kadp itself runs out of
    // descriptors for the run's timerfd or its epoll registration.
    Handle run(const ScriptSpec& spec, std::chrono::milliseconds timeout, Callback callback);

    // A new configuration (reload): also forgets the users and groups
    // looked up so far. Like keepalived, kadp resolves them once per
    // configuration, not on every run (NSS lookups cost more than the
    // spawn).
    void set_settings(ScriptSettings settings);
    // Children not reaped yet (running, or killed and not yet gone).
    [[nodiscard]] std::size_t children() const { return children_.size(); }
    // Processes scripts orphaned that kadp (their subreaper) reaped, and
    // processes killed because a run they descend from was killed although
    // they had left its process group.
    [[nodiscard]] std::uint64_t orphans_reaped() const { return orphans_reaped_; }
    [[nodiscard]] std::uint64_t escapees_killed() const { return escapees_killed_; }

    // A user as resolved for runs (cached until set_settings()).
    struct Identity {
        uid_t uid;
        gid_t gid;
        std::string name;
        std::string home;
    };

private:
    struct Child;
    std::optional<Identity> cached_user(const std::string& name);
    std::optional<gid_t> cached_group(const std::string& name);
    // The checks before a start: a refusal (logged), or the program's path
    // and the identity it runs as.
    std::optional<ScriptResult> check(const ScriptSpec& spec, std::string& path, Identity& who);
    void finish(Child& child);  // unwatches, forgets, then calls back
    void on_exit(std::uint64_t id);
    void on_timer(std::uint64_t id);
    void on_output(std::uint64_t id);
    bool read_output(Child& child);  // drains the pipe; true at EOF
    void cancel(std::uint64_t id);
    void kill_run(Child& child, int sig);  // its group, then whatever carries its mark
    void tell_fled(Child& child);          // logs and counts what kill_run found outside the group
    void arm_reaper();
    void reap_orphans();
    // Every runner of the process (the reaper must tell their runs from
    // orphans), and which of them ran `pid`.
    static std::vector<ScriptRunner*>& runners();
    static std::optional<std::pair<ScriptRunner*, std::uint64_t>> tracked(pid_t pid);
    [[nodiscard]] bool any_marked_alive() const;
    void log(LogLevel level, const std::string& line) const;
    ScriptResult refuse(const ScriptSpec& spec, std::string error, bool violation) const;

    EventLoop& loop_;
    ScriptSettings settings_;
    Fd devnull_;
    void* stack_ = nullptr;  // the clone child's stack (one child starts at a time)
    std::map<std::uint64_t, std::unique_ptr<Child>> children_;
    std::map<std::string, std::optional<Identity>> users_;  // by name, until set_settings()
    std::map<std::string, std::optional<gid_t>> groups_;
    std::optional<Identity> own_;
    std::uint64_t next_id_ = 1;
    EventLoop::TimerId reaper_ = 0;
    std::uint64_t orphans_reaped_ = 0;
    std::uint64_t escapees_killed_ = 0;
};

}  // namespace kadp::ctl
