// Runs on: control thread (the clone child runs child_main before exec).
#include "control/script_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "conf/model.h"
#include "conf/script_security.h"

namespace kadp::ctl {
namespace {

constexpr std::size_t kStackSize = 64 * 1024;
constexpr const char* kDefaultScriptUser = "keepalived_script";

// Everything the child needs, prepared before clone: between clone and
// exec the child shares our memory and must not allocate, lock or touch
// any state of ours but this struct.
struct ChildArgs {
    const char* path;
    char* const* argv;
    char* const* envp;
    int devnull;
    int output;  // stdout and stderr: a pipe's write end, or devnull
    bool switch_user;
    uid_t uid;
    gid_t gid;
    pid_t parent;
    // Written by the child when a step before exec fails (CLONE_VM: the
    // parent reads them once clone returns).
    const char* failed_step;
    int error;
};

// child_fail and child_main run in the clone child, on stack_ and in our
// memory: not instrumented by ASan, which cannot tell that stack from ours
// (it warned "ignoring requested __asan_handle_no_return" at every _exit)
// and whose stack redzones there would land in the shadow we share.
[[noreturn]] [[gnu::no_sanitize_address]] void child_fail(ChildArgs* a, const char* step)
{
    a->error = errno;
    a->failed_step = step;
    _exit(127);
}

[[gnu::no_sanitize_address]] int child_main(void* arg)
{
    auto* a = static_cast<ChildArgs*>(arg);
    // No CLONE_SIGHAND: this table is the child's own copy. Every signal
    // back to its default (an ignored SIGPIPE would reach the script).
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
    // A group of its own, so a timeout kills what the script started too.
    if (setsid() < 0) child_fail(a, "setsid");
    if (dup2(a->devnull, 0) < 0 || dup2(a->output, 1) < 0 || dup2(a->output, 2) < 0) child_fail(a, "dup2");
    // Belt and braces: our descriptors are close-on-exec, a library's may
    // not be. Failure (kernel < 5.9) leaves just those.
    close_range(3, ~0U, 0);
    if (a->switch_user) {
        // Raw system calls: glibc's set*id() would signal every thread of
        // the process whose memory this child shares.
        if (syscall(SYS_setgroups, 0, nullptr) != 0) child_fail(a, "setgroups");
        if (syscall(SYS_setresgid, a->gid, a->gid, a->gid) != 0) child_fail(a, "setgid");
        if (syscall(SYS_setresuid, a->uid, a->uid, a->uid) != 0) child_fail(a, "setuid");
    }
    // After the id change, which clears it. If kadp died meanwhile, stop.
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) child_fail(a, "prctl");
    if (getppid() != a->parent) _exit(127);
    if (chdir("/") != 0) child_fail(a, "chdir");
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(a->path, a->argv, a->envp);
    child_fail(a, "execve");
}

// <sys/pidfd.h> of glibc 2.36 lacks extern "C": the system call itself.
int pidfd_send_signal(int pidfd, int sig, siginfo_t* info, unsigned int flags)
{
    return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags));
}

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

std::size_t nss_buffer_size()
{
    const long n = sysconf(_SC_GETPW_R_SIZE_MAX);
    const long g = sysconf(_SC_GETGR_R_SIZE_MAX);
    return static_cast<std::size_t>(std::max({n, g, 16384L}));
}

std::optional<ScriptRunner::Identity> lookup_user(const std::string& name)
{
    std::vector<char> buf(nss_buffer_size());
    passwd pw{};
    passwd* found = nullptr;
    if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return std::nullopt;
    return ScriptRunner::Identity{pw.pw_uid, pw.pw_gid, pw.pw_name, pw.pw_dir != nullptr ? pw.pw_dir : "/"};
}

std::optional<gid_t> lookup_group(const std::string& name)
{
    std::vector<char> buf(nss_buffer_size());
    group gr{};
    group* found = nullptr;
    if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr) return std::nullopt;
    return gr.gr_gid;
}

ScriptRunner::Identity own_identity()
{
    ScriptRunner::Identity id{geteuid(), getegid(), "root", "/"};
    std::vector<char> buf(nss_buffer_size());
    passwd pw{};
    passwd* found = nullptr;
    if (getpwuid_r(id.uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
        id.name = pw.pw_name;
        id.home = pw.pw_dir != nullptr ? pw.pw_dir : "/";
    } else if (id.uid != 0) {
        id.name = std::to_string(id.uid);
    }
    return id;
}

// Moves a new descriptor above 2 (kadp may run with stdio closed): dup2()
// onto itself in the child would keep close-on-exec set.
int above_stdio(int fd)
{
    if (fd < 0 || fd > 2) return fd;
    const int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return high;
}

bool arm(int timerfd, std::chrono::nanoseconds after)
{
    itimerspec its{};
    if (after.count() > 0) {
        its.it_value.tv_sec = static_cast<time_t>(after.count() / 1'000'000'000);
        its.it_value.tv_nsec = static_cast<long>(after.count() % 1'000'000'000);
    }
    return timerfd_settime(timerfd, 0, &its, nullptr) == 0;
}

std::string signal_name(int sig)
{
    const char* abbrev = sigabbrev_np(sig);
    return std::to_string(sig) + (abbrev != nullptr ? std::string(" (SIG") + abbrev + ")" : std::string());
}

// The mark every run carries in its environment: what it starts inherits
// it, even after leaving the run's process group (setsid) or its parent
// (a double fork). "KADP_SCRIPT_RUN=<kadp's pid>.<run id>".
std::string run_mark(std::uint64_t id)
{
    return "KADP_SCRIPT_RUN=" + std::to_string(getpid()) + "." + std::to_string(id);
}

bool environ_holds(pid_t pid, const std::string& entry)
{
    const Fd fd(open(("/proc/" + std::to_string(pid) + "/environ").c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return false;
    std::string env;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd.get(), buf, sizeof buf)) > 0) env.append(buf, static_cast<std::size_t>(n));
    // Whole NUL-separated entries only.
    for (std::size_t at = env.find(entry); at != std::string::npos; at = env.find(entry, at + 1)) {
        const bool starts = at == 0 || env[at - 1] == '\0';
        const bool ends = at + entry.size() == env.size() || env[at + entry.size()] == '\0';
        if (starts && ends) return true;
    }
    return false;
}

// Sends `sig` to every process (but us) whose environment holds `mark`;
// returns how many, and adds those outside process group `group` to `fled`.
// A zombie's environment reads empty: it is not counted.
std::size_t signal_marked(const std::string& mark, int sig, pid_t group = 0, std::set<pid_t>* fled = nullptr)
{
    DIR* dir = opendir("/proc");
    if (dir == nullptr) return 0;
    std::size_t n = 0;
    const pid_t self = getpid();
    while (const dirent* e = readdir(dir)) {
        char* end = nullptr;
        const long pid = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || pid <= 0 || pid == self) continue;
        // The pidfd first: if the PID is reused after it, the environment
        // read is the newcomer's but the signal goes to the (dead) process
        // the pidfd holds - never to a process that does not carry the mark.
        const Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0)));
        if (pidfd.get() < 0 || !environ_holds(static_cast<pid_t>(pid), mark)) continue;
        const bool outside = getpgid(static_cast<pid_t>(pid)) != group;
        if (pidfd_send_signal(pidfd.get(), sig, nullptr, 0) != 0) continue;
        ++n;
        if (fled != nullptr && outside) fled->insert(static_cast<pid_t>(pid));
    }
    closedir(dir);
    return n;
}

// SIGKILL for what a run started outside its process group: again until
// nothing marked is left alive (what forked just before the signal landed
// shows up on the next pass). Bounded: a pass that finds nothing ends it.
void kill_marked(const std::string& mark, pid_t group, std::set<pid_t>& fled)
{
    for (int pass = 0; pass < 16; ++pass) {
        if (signal_marked(mark, SIGKILL, group, &fled) == 0) break;
        sched_yield();
    }
}

}  // namespace

struct ScriptRunner::Child {
    enum class Phase { running, terminating, killing };
    std::uint64_t id = 0;
    pid_t pid = 0;  // 0: never started, result.error says why
    Fd pidfd;
    Fd timer;
    EventLoop::WatchId pid_watch = 0;
    EventLoop::WatchId timer_watch = 0;
    Fd output;  // the capture pipe's read end
    EventLoop::WatchId output_watch = 0;
    std::size_t output_limit = 0;
    Phase phase = Phase::running;
    bool cancelled = false;
    std::string mark;  // run_mark(id), in its environment
    std::string what;  // ScriptSpec::what, for the log
    std::set<pid_t> fled;  // marked processes outside the group that kadp signalled
    bool signal_refused = false;  // the kernel refused our signals (EPERM: no CAP_KILL)
    ScriptResult result;
    Callback callback;
    std::chrono::steady_clock::time_point start;
};

ScriptSpec ScriptSpec::from(const conf::Script& script, std::string what)
{
    ScriptSpec spec;
    spec.argv = script.argv;
    spec.user = script.user;
    spec.group = script.group;
    spec.what = std::move(what);
    return spec;
}

ScriptSettings ScriptSettings::from(const conf::GlobalDefs& globals)
{
    ScriptSettings s;
    s.enable_script_security = globals.enable_script_security;
    s.script_user = globals.script_user;
    s.script_group = globals.script_group;
    return s;
}

std::string ScriptResult::describe() const
{
    std::string s;
    switch (status) {
    case Status::exited: s = "exited with status " + std::to_string(exit_code); break;
    case Status::killed: s = "killed by signal " + signal_name(signal); break;
    case Status::not_started: return "not started: " + error;
    case Status::unkillable: return "still running after timing out: " + error;
    }
    if (timed_out) s += " after timing out";
    return s;
}

ScriptRunner::Handle& ScriptRunner::Handle::operator=(Handle&& o) noexcept
{
    if (this != &o) {
        reset();
        runner_ = o.runner_;
        id_ = o.id_;
        o.runner_ = nullptr;
    }
    return *this;
}

void ScriptRunner::Handle::reset()
{
    if (runner_ != nullptr) runner_->cancel(id_);
    runner_ = nullptr;
}

bool ScriptRunner::Handle::running() const
{
    if (runner_ == nullptr) return false;
    const auto it = runner_->children_.find(id_);
    return it != runner_->children_.end() && !it->second->cancelled;
}

pid_t ScriptRunner::Handle::pid() const
{
    if (runner_ == nullptr) return 0;
    const auto it = runner_->children_.find(id_);
    return it == runner_->children_.end() ? 0 : it->second->pid;
}

ScriptRunner::ScriptRunner(EventLoop& loop, ScriptSettings settings) : loop_(loop), settings_(std::move(settings))
{
    devnull_ = Fd(above_stdio(open("/dev/null", O_RDWR | O_CLOEXEC)));
    if (devnull_.get() < 0) throw_errno("open /dev/null");
    stack_ = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack_ == MAP_FAILED) {
        stack_ = nullptr;
        throw_errno("mmap(script stack)");
    }
    mprotect(stack_, static_cast<std::size_t>(sysconf(_SC_PAGESIZE)), PROT_NONE);  // guard page
    // Whatever a script orphans (a double fork, a daemon) becomes kadp's
    // child rather than init's, so reap_orphans() can reap it: kadp never
    // leaves zombies, and a process that fled its run's group is still
    // found by its mark. The attribute is the whole process's.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    runners().push_back(this);
    arm_reaper();
}

void ScriptRunner::arm_reaper()
{
    reaper_ = loop_.add_timer(std::chrono::seconds(1), [this] {
        reap_orphans();
        arm_reaper();
    });
}

std::vector<ScriptRunner*>& ScriptRunner::runners()
{
    static std::vector<ScriptRunner*> all;  // the control thread's (health checkers', VRRP's)
    return all;
}

std::optional<std::pair<ScriptRunner*, std::uint64_t>> ScriptRunner::tracked(pid_t pid)
{
    for (ScriptRunner* r : runners()) {
        for (const auto& [id, c] : r->children_)
            if (c->pid == pid) return std::make_pair(r, id);
    }
    return std::nullopt;
}

void ScriptRunner::reap_orphans()
{
    // Peek (WNOWAIT) at any child that ended: a run of any runner goes
    // through its on_exit (its status matters), anything else is an orphan.
    for (int n = 0; n < 4096; ++n) {
        siginfo_t info{};
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
        if (const auto run = tracked(info.si_pid)) {
            const std::size_t before = run->first->children_.size();
            run->first->on_exit(run->second);
            if (run->first->children_.size() == before) return;  // not reaped after all: next time
            continue;
        }
        siginfo_t gone{};
        waitid(P_PID, static_cast<id_t>(info.si_pid), &gone, WEXITED | WNOHANG);
        ++orphans_reaped_;
    }
}

void ScriptRunner::kill_run(Child& c, int sig)
{
    // The group first: it takes the script's own children too; then what
    // left the group but kept the mark.
    if (kill(-c.pid, sig) != 0 && pidfd_send_signal(c.pidfd.get(), sig, nullptr, 0) != 0 && errno == EPERM &&
        !c.signal_refused) {
        c.signal_refused = true;
        log(LogLevel::warning, (c.what.empty() ? std::string() : c.what + ": ") + "cannot signal the script (pid " +
            std::to_string(c.pid) + "): Operation not permitted; kadp needs CAP_KILL to stop scripts that run as "
            "another user (docs/security.md)");
    }
    // (The group's members carry the mark too: only those outside count.)
    if (sig == SIGKILL) kill_marked(c.mark, c.pid, c.fled);
    else signal_marked(c.mark, sig, c.pid, &c.fled);
}

void ScriptRunner::tell_fled(Child& c)
{
    if (c.fled.empty()) return;
    escapees_killed_ += c.fled.size();
    log(LogLevel::warning, (c.what.empty() ? std::string() : c.what + ": ") + "killed " + std::to_string(c.fled.size()) +
        " process(es) it started outside its process group");
    c.fled.clear();
}

ScriptRunner::~ScriptRunner()
{
    loop_.cancel_timer(reaper_);
    for (auto& [id, c] : children_) {
        if (c->timer_watch != 0) loop_.unwatch(c->timer_watch);
        if (c->pid_watch != 0) loop_.unwatch(c->pid_watch);
        if (c->output_watch != 0) loop_.unwatch(c->output_watch);
        if (c->pid == 0) continue;
        kill_run(*c, SIGKILL);  // (not logged: the log may be gone with our owner)
        // Shutdown: a SIGKILLed child goes at once; waiting here is what
        // keeps it from outliving us as a zombie of init's.
        siginfo_t info{};
        while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(c->pidfd.get()), &info, WEXITED) != 0 &&
               errno == EINTR) {
        }
    }
    // What we killed and was reparented to us: reaped before we go (a
    // short, bounded wait for the SIGKILLs to land; a live orphan we did
    // not kill - a daemon a notify script started - is left to init).
    // Another runner's run is left to that runner.
    runners().erase(std::find(runners().begin(), runners().end(), this));
    for (int i = 0; i < 20; ++i) {
        siginfo_t info{};
        int rc = 0;
        while ((rc = waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT)) == 0 && info.si_pid != 0 &&
               !tracked(info.si_pid)) {
            waitid(P_PID, static_cast<id_t>(info.si_pid), &info, WEXITED | WNOHANG);
            info = {};
        }
        if ((rc != 0 && errno == ECHILD) || !any_marked_alive()) break;
        usleep(10'000);
    }
    if (stack_ != nullptr) munmap(stack_, kStackSize);
}

bool ScriptRunner::any_marked_alive() const
{
    for (const auto& [id, c] : children_)
        if (c->pid != 0 && signal_marked(c->mark, 0) > 0) return true;
    return false;
}

void ScriptRunner::set_settings(ScriptSettings settings)
{
    settings_ = std::move(settings);
    users_.clear();
    groups_.clear();
    own_.reset();
}

std::optional<ScriptRunner::Identity> ScriptRunner::cached_user(const std::string& name)
{
    auto it = users_.find(name);
    if (it == users_.end()) it = users_.emplace(name, lookup_user(name)).first;
    return it->second;
}

std::optional<gid_t> ScriptRunner::cached_group(const std::string& name)
{
    auto it = groups_.find(name);
    if (it == groups_.end()) it = groups_.emplace(name, lookup_group(name)).first;
    return it->second;
}

void ScriptRunner::log(LogLevel level, const std::string& line) const
{
    settings_.log.at(level, line);
}

ScriptResult ScriptRunner::refuse(const ScriptSpec& spec, std::string error, bool violation) const
{
    ScriptResult r;
    r.status = ScriptResult::Status::not_started;
    r.security_violation = violation;
    r.error = std::move(error);
    log(LogLevel::warning, (spec.what.empty() ? std::string() : spec.what + ": ") + r.error);
    return r;
}

std::optional<ScriptResult> ScriptRunner::check(const ScriptSpec& spec, std::string& path, Identity& who)
{
    if (spec.argv.empty()) return refuse(spec, "empty command", false);
    const std::string& name = spec.argv.front();

    // Who runs it comes first: the path search, the access to the file and
    // whether it needs protecting all depend on that user.
    const std::string user = spec.user.empty() ? settings_.script_user : spec.user;
    const std::string group = spec.user.empty() ? settings_.script_group : spec.group;
    std::optional<Identity> found;
    if (!user.empty()) {
        found = cached_user(user);
        if (!found) return refuse(spec, "script user '" + user + "' does not exist - script " + name + " not run", false);
    } else {
        found = cached_user(kDefaultScriptUser);
        if (!found && settings_.enable_script_security)
            return refuse(spec, "SECURITY VIOLATION - script " + name + " not run: no script_user set and no user " +
                                    kDefaultScriptUser + " (it would run as root)", true);
        if (!found) {
            if (!own_) own_ = own_identity();
            found = own_;
        }
    }
    if (!group.empty()) {
        const auto gid = cached_group(group);
        if (!gid) return refuse(spec, "script group '" + group + "' does not exist - script " + name + " not run", false);
        found->gid = *gid;
    }
    who = *found;
    const std::string ids = std::to_string(who.uid) + ":" + std::to_string(who.gid);

    const conf::ScriptCheck c = conf::check_script(name, who.uid, who.gid);
    switch (c.verdict) {
    case conf::ScriptCheck::Verdict::ok: break;
    case conf::ScriptCheck::Verdict::not_found:
        return refuse(spec, "script '" + name + "' not found or not accessible for uid:gid " + ids + " - not run",
                      false);
    case conf::ScriptCheck::Verdict::not_executable:
        return refuse(spec, "script '" + c.path + "' is not executable for uid:gid " + ids + " - not run", false);
    case conf::ScriptCheck::Verdict::insecure:
        // Without enable_script_security keepalived runs it (`-t` said so).
        if (settings_.enable_script_security)
            return refuse(spec, "Unsafe permissions found for script '" + c.path + "' - not run: " + c.unsafe +
                                    " can be changed by a user other than root", true);
        break;
    }
    // The checked file, not a name that could now lead elsewhere.
    path = c.path;
    return std::nullopt;
}

ScriptRunner::Handle ScriptRunner::run(const ScriptSpec& spec, std::chrono::milliseconds timeout, Callback callback)
{
    auto child = std::make_unique<Child>();
    Child& c = *child;
    c.id = next_id_++;
    c.callback = std::move(callback);
    c.start = std::chrono::steady_clock::now();
    c.timer = Fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (c.timer.get() < 0) throw_errno("timerfd_create");
    const std::uint64_t id = c.id;

    // Everything that can refuse comes first; a refusal is delivered from
    // the loop like any result.
    std::string path;
    Identity who{};
    std::optional<ScriptResult> refused = check(spec, path, who);
    if (refused) {
        c.result = std::move(*refused);
        arm(c.timer.get(), std::chrono::nanoseconds(1));
        c.timer_watch = loop_.watch(c.timer.get(), EPOLLIN, [this, id](std::uint32_t) { on_timer(id); });
        children_.emplace(id, std::move(child));
        return Handle(this, id);
    }

    c.mark = run_mark(id);
    c.what = spec.what;
    std::vector<std::string> env = {"PATH=" + std::string(conf::kScriptPath), "HOME=" + who.home, "USER=" + who.name,
                                    "LOGNAME=" + who.name, "SHELL=/bin/sh", c.mark};
    env.insert(env.end(), spec.env.begin(), spec.env.end());
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = spec.argv;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    Fd output_write;
    if (spec.capture_output > 0) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2");
        c.output = Fd(above_stdio(fds[0]));
        output_write = Fd(above_stdio(fds[1]));
        if (c.output.get() < 0 || output_write.get() < 0) throw_errno("fcntl(F_DUPFD_CLOEXEC)");
        // Our end only: the script's stdout stays blocking, as scripts expect.
        if (fcntl(c.output.get(), F_SETFL, O_NONBLOCK) != 0) throw_errno("fcntl(O_NONBLOCK)");
        c.output_limit = spec.capture_output;
    }
    const bool switch_user = who.uid != geteuid() || who.gid != getegid();
    ChildArgs a{path.c_str(), argv.data(), envp.data(), devnull_.get(),
                output_write.get() >= 0 ? output_write.get() : devnull_.get(),
                switch_user, who.uid, who.gid, getpid(), nullptr, 0};
    // Blocked across clone: a handler must not run in the child on our
    // memory before it has reset the dispositions.
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int pidfd = -1;
    const pid_t pid = clone(child_main, static_cast<char*>(stack_) + kStackSize,
                            CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &a, &pidfd);
    const int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    output_write = Fd();  // the child's copy is the only writer left
    if (pid < 0) {
        c.result = refuse(spec, std::string("cannot start ") + path + ": clone: " + std::strerror(clone_errno), false);
        arm(c.timer.get(), std::chrono::nanoseconds(1));
        c.timer_watch = loop_.watch(c.timer.get(), EPOLLIN, [this, id](std::uint32_t) { on_timer(id); });
        children_.emplace(id, std::move(child));
        return Handle(this, id);
    }
    c.pid = pid;
    c.pidfd = Fd(pidfd);
    c.result.pid = pid;
    if (a.failed_step != nullptr) {
        // The child has exited (127); the result says why once it is reaped.
        c.result = refuse(spec, "cannot run " + path + ": " + a.failed_step + ": " + std::strerror(a.error), false);
        c.result.pid = pid;
    } else {
        c.result.status = ScriptResult::Status::exited;
        if (timeout.count() > 0) arm(c.timer.get(), timeout);
    }
    try {
        c.pid_watch = loop_.watch(c.pidfd.get(), EPOLLIN, [this, id](std::uint32_t) { on_exit(id); });
        c.timer_watch = loop_.watch(c.timer.get(), EPOLLIN, [this, id](std::uint32_t) { on_timer(id); });
        if (c.output.get() >= 0)
            c.output_watch = loop_.watch(c.output.get(), EPOLLIN, [this, id](std::uint32_t) { on_output(id); });
    } catch (...) {
        if (c.pid_watch != 0) loop_.unwatch(c.pid_watch);
        if (c.timer_watch != 0) loop_.unwatch(c.timer_watch);
        kill(-pid, SIGKILL);
        pidfd_send_signal(c.pidfd.get(), SIGKILL, nullptr, 0);
        siginfo_t info{};
        while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(c.pidfd.get()), &info, WEXITED) != 0 &&
               errno == EINTR) {
        }
        throw;
    }
    children_.emplace(id, std::move(child));
    return Handle(this, id);
}

void ScriptRunner::on_timer(std::uint64_t id)
{
    const auto it = children_.find(id);
    if (it == children_.end()) return;
    Child& c = *it->second;
    std::uint64_t expirations = 0;
    if (read(c.timer.get(), &expirations, sizeof expirations) <= 0) return;
    if (c.pid == 0) {
        finish(c);
        return;
    }
    int sig = SIGKILL;
    if (c.phase == Child::Phase::running) {
        c.phase = Child::Phase::terminating;
        c.result.timed_out = true;
        sig = SIGTERM;
        arm(c.timer.get(), settings_.kill_grace);
    } else {
        c.phase = Child::Phase::killing;
    }
    kill_run(c, sig);
    if (c.phase == Child::Phase::killing && c.signal_refused) {
        // It cannot be stopped: the run ends now as a failure (a checker or
        // tracker must not wait on it forever); the process stays our child
        // and the orphan reaper collects it when it ends.
        c.result.status = ScriptResult::Status::unkillable;
        c.result.error = "kadp may not signal it (no CAP_KILL)";
        loop_.unwatch(c.pid_watch);
        c.pid_watch = 0;
        finish(c);
    }
}

void ScriptRunner::on_output(std::uint64_t id)
{
    const auto it = children_.find(id);
    if (it == children_.end()) return;
    read_output(*it->second);
}

bool ScriptRunner::read_output(Child& c)
{
    char buf[4096];
    for (;;) {
        const ssize_t n = read(c.output.get(), buf, sizeof buf);
        if (n > 0) {
            // Past the limit the pipe is still drained: a chatty script
            // must not block on a full pipe.
            const std::size_t room = c.output_limit - std::min(c.output_limit, c.result.output.size());
            c.result.output.append(buf, std::min(room, static_cast<std::size_t>(n)));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        const bool eof = n == 0;
        if (eof && c.output_watch != 0) {
            loop_.unwatch(c.output_watch);  // EOF stays readable: stop watching
            c.output_watch = 0;
        }
        return eof;
    }
}

void ScriptRunner::finish(Child& c)
{
    tell_fled(c);
    auto node = children_.extract(c.id);
    if (c.timer_watch != 0) loop_.unwatch(c.timer_watch);
    if (c.output_watch != 0) loop_.unwatch(c.output_watch);
    Callback cb = std::move(c.callback);
    ScriptResult result = std::move(c.result);
    result.elapsed = std::chrono::steady_clock::now() - c.start;
    if (settings_.log.enabled(LogLevel::debug)) {  // every run's end: detail
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(result.elapsed).count();
        log(LogLevel::debug, (c.what.empty() ? std::string("script") : c.what) + ": pid " + std::to_string(c.pid) + " " +
                                 result.describe() + " in " + std::to_string(ms) + " ms");
    }
    const bool cancelled = c.cancelled;
    node = {};  // closes the descriptors before the callback, which may start the next run
    if (!cancelled && cb) cb(result);
}

void ScriptRunner::on_exit(std::uint64_t id)
{
    const auto it = children_.find(id);
    if (it == children_.end()) return;
    Child& c = *it->second;
    // Killed by us: its group goes too, while the unreaped leader still
    // holds the group id.
    if (c.phase != Child::Phase::running) kill_run(c, SIGKILL);
    siginfo_t info{};
    if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(c.pidfd.get()), &info, WEXITED | WNOHANG) != 0) {
        if (errno == EINTR) return;
        // Reaped by someone else (SIGCHLD ignored?): the status is lost.
        c.result.status = ScriptResult::Status::not_started;
        c.result.error = std::string("lost its exit status: waitid: ") + std::strerror(errno);
        log(LogLevel::warning, c.result.error);
    } else if (info.si_pid == 0) {
        return;  // not gone yet
    } else if (c.result.status != ScriptResult::Status::not_started) {
        if (info.si_code == CLD_EXITED) {
            c.result.status = ScriptResult::Status::exited;
            c.result.exit_code = info.si_status;
        } else {
            c.result.status = ScriptResult::Status::killed;
            c.result.signal = info.si_status;
        }
    }
    // What the script wrote before it ended; what its leftovers write
    // later is lost with the pipe (they get EPIPE).
    if (c.output.get() >= 0) read_output(c);
    loop_.unwatch(c.pid_watch);
    c.pid_watch = 0;
    finish(c);
}

void ScriptRunner::cancel(std::uint64_t id)
{
    const auto it = children_.find(id);
    if (it == children_.end() || it->second->cancelled) return;
    Child& c = *it->second;
    c.cancelled = true;
    c.callback = nullptr;
    if (c.pid == 0) {
        loop_.unwatch(c.timer_watch);
        children_.erase(it);
        return;
    }
    arm(c.timer.get(), std::chrono::nanoseconds(0));
    c.phase = Child::Phase::killing;
    kill_run(c, SIGKILL);
}

}  // namespace kadp::ctl
