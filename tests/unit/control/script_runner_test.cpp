// Runs on: any (unit test; the main thread plays the control thread; real
// children of /bin/sh; the user and security cases need root). The script
// runner: exit statuses, timeouts (SIGTERM, then SIGKILL), process groups,
// cancellation, concurrency, argv as keepalived splits it, the child's
// environment, user switch and the run-time security check, and no zombie
// left behind.
#include "control/script_runner.h"

#include <linux/capability.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conf/lexer.h"
#include "conf/model.h"

namespace kadp::ctl {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

struct ProcStat {
    pid_t pid;
    char state;
    pid_t ppid;
    pid_t session;
};

std::vector<ProcStat> processes()
{
    std::vector<ProcStat> out;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        const std::string name = e.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(e.path() / "stat");
        std::string line;
        if (!std::getline(in, line)) continue;
        // "pid (comm) state ppid pgrp session ...": comm may hold spaces.
        std::istringstream rest(line.substr(line.rfind(')') + 2));
        ProcStat p{std::stoi(name), 0, 0, 0};
        pid_t pgrp = 0;
        rest >> p.state >> p.ppid >> pgrp >> p.session;
        out.push_back(p);
    }
    return out;
}

std::size_t children_of_us()
{
    std::size_t n = 0;
    for (const auto& p : processes()) n += p.ppid == getpid() ? 1 : 0;
    return n;
}

// Live members of the session a script started (its own setsid()). Those
// the script left behind, once SIGKILLed, are init's zombies for a moment:
// they do not count, and the SIGKILL may take a few ms to land.
std::size_t members_of_session(pid_t sid)
{
    std::size_t n = 0;
    for (int tries = 0; tries < 200; ++tries) {
        n = 0;
        for (const auto& p : processes()) n += p.session == sid && p.state != 'Z' ? 1 : 0;
        if (n == 0) break;
        usleep(10'000);
    }
    return n;
}

std::string slurp(const std::filesystem::path& p)
{
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

ScriptSpec sh(const std::string& command)
{
    ScriptSpec s;
    s.argv = {"/bin/sh", "-c", command};
    s.what = "test";
    return s;
}

class ScriptRunnerTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        block_control_signals();
        char tmpl[] = "/tmp/kadp-scr-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        tmp_ = tmpl;
        chmod(tmp_.c_str(), 0777);  // the scripts run as nobody write here too
    }
    void TearDown() override
    {
        runner_.reset();
        EXPECT_EQ(children_of_us(), 0u) << "a child was left behind";
        std::filesystem::remove_all(tmp_);
        if (!secure_.empty()) std::filesystem::remove_all(secure_);
    }

    ScriptRunner& runner(ScriptSettings s = {})
    {
        s.log = [this](const std::string& line) { logged_.push_back(line); };
        runner_ = std::make_unique<ScriptRunner>(loop_, std::move(s));
        return *runner_;
    }

    // A callback that records results and stops the loop after `want`.
    ScriptRunner::Callback collect(std::size_t want = 1)
    {
        want_ = want;
        return [this](const ScriptResult& r) {
            results_.push_back(r);
            if (results_.size() == want_) kill(getpid(), SIGTERM);
        };
    }

    // Runs the loop until a callback stops it; fails after 5 ticks.
    void run_loop()
    {
        LoopHandlers h;
        int ticks = 0;
        h.on_tick = [&] {
            if (++ticks < 5) return;
            ADD_FAILURE() << "the loop ran for 5 s";
            kill(getpid(), SIGTERM);
        };
        EXPECT_EQ(loop_.run(h), SIGTERM);
    }

    // A directory only root can write to (not under the sticky /tmp).
    std::filesystem::path secure_dir()
    {
        if (secure_.empty()) {
            char tmpl[] = "/run/kadp-scr-XXXXXX";
            if (mkdtemp(tmpl) == nullptr) return {};
            secure_ = tmpl;
            chmod(secure_.c_str(), 0755);
        }
        return secure_;
    }

    std::string write_script(const std::filesystem::path& p, const std::string& body, mode_t mode)
    {
        std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
        chmod(p.c_str(), mode);
        return p.string();
    }

    bool logged(const std::string& text) const
    {
        for (const auto& l : logged_)
            if (l.find(text) != std::string::npos) return true;
        return false;
    }

    EventLoop loop_;
    std::unique_ptr<ScriptRunner> runner_;
    std::vector<ScriptResult> results_;
    std::size_t want_ = 1;
    std::vector<std::string> logged_;
    std::filesystem::path tmp_, secure_;
};

TEST_F(ScriptRunnerTest, ExitStatusIsReported)
{
    auto& r = runner();
    auto h = r.run(sh("exit 3"), 5s, collect());
    EXPECT_TRUE(h.running());
    EXPECT_GT(h.pid(), 0);
    run_loop();
    ASSERT_EQ(results_.size(), 1u);
    EXPECT_EQ(results_[0].status, ScriptResult::Status::exited);
    EXPECT_EQ(results_[0].exit_code, 3);
    EXPECT_FALSE(results_[0].timed_out);
    EXPECT_FALSE(results_[0].succeeded());
    EXPECT_EQ(results_[0].describe(), "exited with status 3");
    EXPECT_FALSE(h.running());
    EXPECT_EQ(r.children(), 0u);
}

TEST_F(ScriptRunnerTest, TimeoutSendsSigtermAndReaps)
{
    auto& r = runner();
    ScriptSpec s;
    s.argv = {"sleep", "10"};  // bare name: found in the script PATH
    auto h = r.run(s, 100ms, collect());
    run_loop();
    ASSERT_EQ(results_.size(), 1u);
    // SIGTERM was enough: the child's signal mask was reset (the test, like
    // the daemon, blocks SIGTERM for its signalfd).
    EXPECT_EQ(results_[0].status, ScriptResult::Status::killed);
    EXPECT_EQ(results_[0].signal, SIGTERM);
    EXPECT_TRUE(results_[0].timed_out);
    EXPECT_LT(results_[0].elapsed, 4s);
    EXPECT_THAT(results_[0].describe(), HasSubstr("SIGTERM"));
}

TEST_F(ScriptRunnerTest, IgnoredSigtermIsFollowedBySigkillForTheWholeGroup)
{
    ScriptSettings st;
    st.kill_grace = 200ms;
    auto& r = runner(st);
    // The shell and its sleep (which inherits the ignored SIGTERM) both stay.
    auto h = r.run(sh("trap '' TERM; sleep 10; exit 0"), 100ms, collect());
    const pid_t sid = h.pid();
    run_loop();
    ASSERT_EQ(results_.size(), 1u);
    EXPECT_EQ(results_[0].status, ScriptResult::Status::killed);
    EXPECT_EQ(results_[0].signal, SIGKILL);
    EXPECT_TRUE(results_[0].timed_out);
    EXPECT_EQ(members_of_session(sid), 0u);
}

TEST_F(ScriptRunnerTest, WhatTheScriptStartedDiesWithIt)
{
    auto& r = runner();
    auto h = r.run(sh("sleep 10 & sleep 10 & wait"), 100ms, collect());
    const pid_t sid = h.pid();
    run_loop();
    ASSERT_EQ(results_.size(), 1u);
    EXPECT_TRUE(results_[0].timed_out);
    EXPECT_EQ(members_of_session(sid), 0u) << "the sleeps outlived their script";
}

// State of `pid` ('Z' zombie, 0 gone), polled up to 2 s for it to go.
char state_after_kill(pid_t pid)
{
    for (int tries = 0; tries < 200; ++tries) {
        char st = 0;
        for (const auto& p : processes())
            if (p.pid == pid) st = p.state;
        if (st == 0 || st == 'Z') return st;
        usleep(10'000);
    }
    return 'R';
}

pid_t pid_in(const std::filesystem::path& p)
{
    for (int tries = 0; tries < 200; ++tries) {
        const std::string s = slurp(p);
        if (!s.empty() && s.back() == '\n') return std::stoi(s);
        usleep(10'000);
    }
    return 0;
}

TEST_F(ScriptRunnerTest, TimedOutRunKillsWhatLeftItsGroupOrWasOrphaned)
{
    auto& r = runner();
    // One child in a session of its own; one orphaned by a double fork
    // (its parent, the subshell, exits at once) and in a new session too.
    const std::string cmd = "setsid sleep 30 & echo $! >" + (tmp_ / "fled").string() +
                            "; (setsid sleep 30 & echo $! >" + (tmp_ / "orphan").string() + "); sleep 10";
    auto h = r.run(sh(cmd), 300ms, collect());
    run_loop();
    ASSERT_EQ(results_.size(), 1u);
    EXPECT_TRUE(results_[0].timed_out);
    const pid_t fled = pid_in(tmp_ / "fled");
    const pid_t orphan = pid_in(tmp_ / "orphan");
    ASSERT_GT(fled, 0);
    ASSERT_GT(orphan, 0);
    EXPECT_NE(state_after_kill(fled), 'R') << "the setsid child outlived its timed-out script";
    EXPECT_NE(state_after_kill(orphan), 'R') << "the orphan outlived its timed-out script";
    EXPECT_GE(r.escapees_killed(), 2u);
    EXPECT_TRUE(logged("test: killed ")) << "no log line for the escapees";
}

TEST_F(ScriptRunnerTest, OrphansOfAFinishedRunAreLeftRunningAndReaped)
{
    auto& r = runner();
    // The run ends at once; its orphan (ours: the runner made us a
    // subreaper) lives 0.3 s more, then is reaped by the runner.
    const std::string cmd = "(setsid sleep 0.3 & echo $! >" + (tmp_ / "orphan").string() + ")";
    std::optional<ScriptResult> result;
    auto h = r.run(sh(cmd), 5s, [&](const ScriptResult& res) { result = res; });
    LoopHandlers lh;
    int ticks = 0;
    lh.on_tick = [&] {
        if (++ticks == 3) kill(getpid(), SIGTERM);
    };
    EXPECT_EQ(loop_.run(lh), SIGTERM);
    ASSERT_TRUE(result.has_value());
    EXPECT_TRUE(result->succeeded()) << result->describe();
    const pid_t orphan = pid_in(tmp_ / "orphan");
    ASSERT_GT(orphan, 0);
    EXPECT_EQ(state_after_kill(orphan), 0) << "the orphan is still there (a zombie?)";
    EXPECT_GE(r.orphans_reaped(), 1u);
    EXPECT_EQ(r.escapees_killed(), 0u);
}

TEST_F(ScriptRunnerTest, DroppedHandleKillsWithoutCallback)
{
    auto& r = runner();
    bool called = false;
    auto h = r.run(sh("sleep 10"), 0ms, [&](const ScriptResult&) { called = true; });
    const pid_t sid = h.pid();
    h.reset();
    EXPECT_FALSE(h.running());
    EXPECT_EQ(r.children(), 1u);  // killed, not reaped yet
    std::size_t left_when_done = 99;
    auto later = r.run(sh("sleep 0.3"), 0ms, [&](const ScriptResult&) {
        left_when_done = r.children();
        kill(getpid(), SIGTERM);
    });
    run_loop();
    EXPECT_FALSE(called);
    EXPECT_EQ(left_when_done, 0u);  // both reaped: the killed one first
    EXPECT_EQ(members_of_session(sid), 0u);
}

TEST_F(ScriptRunnerTest, ManyConcurrentChildren)
{
    auto& r = runner();
    constexpr int kChildren = 64;
    std::vector<ScriptRunner::Handle> handles;
    std::map<pid_t, int> expected;
    auto cb = collect(kChildren);
    for (int i = 0; i < kChildren; ++i) {
        handles.push_back(r.run(sh("sleep 0.0" + std::to_string(i % 10) + "; exit " + std::to_string(i)), 5s, cb));
        expected[handles.back().pid()] = i;
    }
    EXPECT_EQ(r.children(), static_cast<std::size_t>(kChildren));
    run_loop();
    ASSERT_EQ(results_.size(), static_cast<std::size_t>(kChildren));
    for (const auto& res : results_) {
        ASSERT_EQ(res.status, ScriptResult::Status::exited);
        EXPECT_EQ(res.exit_code, expected.at(res.pid));
    }
    EXPECT_EQ(r.children(), 0u);
}

TEST_F(ScriptRunnerTest, ArgumentsAreSplitAsKeepalivedSplitsThem)
{
    auto& r = runner();
    const auto out = tmp_ / "args";
    conf::Script script;
    script.command = "/bin/sh -c 'printf \"[%s]\" \"$@\" > " + out.string() +
                     "' zero \"two words\" 'single \"quoted\"' back\\ slash \"esc\\\"aped\"";
    script.argv = conf::split_command(script.command);
    auto h = r.run(ScriptSpec::from(script, "args"), 5s, collect());
    run_loop();
    ASSERT_EQ(results_.size(), 1u);
    EXPECT_TRUE(results_[0].succeeded()) << results_[0].describe();
    EXPECT_EQ(slurp(out), "[two words][single \"quoted\"][back slash][esc\"aped]");
}

std::string proc_field(pid_t pid, const std::string& file, const std::string& key)
{
    std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/" + file));
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return line;
    return {};
}

TEST_F(ScriptRunnerTest, ChildGetsDevNullNoOtherDescriptorsDefaultSignalsAndAMinimalEnvironment)
{
    auto& r = runner();
    ScriptSpec s;
    s.argv = {"/bin/sleep", "10"};
    s.env = {"KADP_EXTRA=1"};
    auto h = r.run(s, 100ms, collect());
    // run() returns once the child has exec'd: what sleep got is in /proc.
    const std::string proc = "/proc/" + std::to_string(h.pid());
    std::vector<std::string> fds;
    for (const auto& e : std::filesystem::directory_iterator(proc + "/fd"))
        fds.push_back(e.path().filename().string() + "=" + std::filesystem::read_symlink(e.path()).string());
    std::sort(fds.begin(), fds.end());
    EXPECT_EQ(fds, (std::vector<std::string>{"0=/dev/null", "1=/dev/null", "2=/dev/null"}));
    EXPECT_EQ(proc_field(h.pid(), "status", "SigBlk:"), "SigBlk:\t0000000000000000");
    EXPECT_EQ(proc_field(h.pid(), "status", "SigIgn:"), "SigIgn:\t0000000000000000");
    // The vfork parent resumes a moment before exec fills in env_start.
    std::string environ;
    for (int tries = 0; tries < 100 && environ.empty(); ++tries) {
        if (tries > 0) usleep(10'000);
        environ = slurp(proc + "/environ");
    }
    std::replace(environ.begin(), environ.end(), '\0', '\n');
    const std::string home = getpwuid(geteuid())->pw_dir;
    const std::string user = getpwuid(geteuid())->pw_name;
    EXPECT_EQ(environ, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nHOME=" + home +
                           "\nUSER=" + user + "\nLOGNAME=" + user + "\nSHELL=/bin/sh\nKADP_SCRIPT_RUN=" + std::to_string(getpid()) + ".1\nKADP_EXTRA=1\n");
    EXPECT_EQ(std::filesystem::read_symlink(proc + "/cwd"), "/");
    EXPECT_EQ(getsid(h.pid()), h.pid());
    run_loop();
    ASSERT_EQ(results_.size(), 1u);
    EXPECT_TRUE(results_[0].timed_out);
}

TEST_F(ScriptRunnerTest, OutputIsCapturedUpToItsBoundAndDrainedBeyond)
{
    auto& r = runner();
    // 1 MiB after the two lines: far more than a pipe holds, so the script
    // finishes only if the runner keeps reading past the bound.
    ScriptSpec chatty = sh("echo out; echo err >&2; head -c 1048576 /dev/zero | tr '\\0' x; exit 4");
    chatty.capture_output = 16;
    ScriptSpec quiet = sh("echo hidden");  // not captured: /dev/null
    auto cb = collect(2);
    auto h1 = r.run(chatty, 5s, cb);
    const pid_t chatty_pid = h1.pid();
    auto h2 = r.run(quiet, 5s, cb);
    run_loop();
    ASSERT_EQ(results_.size(), 2u);
    for (const auto& res : results_) {
        ASSERT_EQ(res.status, ScriptResult::Status::exited) << res.describe();
        if (res.pid == chatty_pid) {
            EXPECT_EQ(res.exit_code, 4);
            EXPECT_EQ(res.output, "out\nerr\nxxxxxxxx");
        } else {
            EXPECT_EQ(res.output, "");
        }
    }
}

TEST_F(ScriptRunnerTest, MissingAndNonExecutableScriptsAreNotStarted)
{
    auto& r = runner();
    ScriptSpec missing;
    missing.argv = {(tmp_ / "absent.sh").string(), "x"};
    missing.what = "MISC_CHECK of 198.18.0.10:80";
    ScriptSpec plain;
    plain.argv = {write_script(tmp_ / "plain.sh", "exit 0", 0644)};
    ScriptSpec empty;
    auto cb = collect(3);
    auto h1 = r.run(missing, 5s, cb);
    auto h2 = r.run(plain, 5s, cb);
    auto h3 = r.run(empty, 5s, cb);
    EXPECT_TRUE(results_.empty());  // never from inside run()
    run_loop();
    ASSERT_EQ(results_.size(), 3u);
    for (const auto& res : results_) {
        EXPECT_EQ(res.status, ScriptResult::Status::not_started);
        EXPECT_FALSE(res.security_violation);
        EXPECT_FALSE(res.succeeded());
    }
    EXPECT_TRUE(logged("MISC_CHECK of 198.18.0.10:80: script '" + (tmp_ / "absent.sh").string() +
                       "' not found or not accessible for uid:gid "));
    EXPECT_TRUE(logged("script '" + plain.argv[0] + "' is not executable for uid:gid "));
    EXPECT_TRUE(logged("empty command"));
}

TEST_F(ScriptRunnerTest, ExecFailureIsReportedFromTheChild)
{
    auto& r = runner();
    ScriptSpec s;
    s.argv = {(tmp_ / "bad-interpreter.sh").string()};
    std::ofstream(s.argv[0]) << "#!/nonexistent/interpreter\n";
    chmod(s.argv[0].c_str(), 0755);
    auto h = r.run(s, 5s, collect());
    run_loop();
    ASSERT_EQ(results_.size(), 1u);
    EXPECT_EQ(results_[0].status, ScriptResult::Status::not_started);
    EXPECT_THAT(results_[0].error, HasSubstr("execve: No such file or directory"));
    EXPECT_GT(results_[0].pid, 0);
}

TEST_F(ScriptRunnerTest, RunsAsTheScriptUser)
{
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    ScriptSettings st;
    st.script_user = "nobody";
    auto& r = runner(st);
    const auto out = tmp_ / "ids";
    auto cb = collect(2);
    auto h1 = r.run(sh("echo $(id -u):$(id -g):$(id -G):$USER:$HOME > " + out.string()), 5s, cb);
    ScriptSpec as_root = sh("id -u > " + (tmp_ / "root").string());
    as_root.user = "root";  // a per-script `user` wins over script_user
    auto h2 = r.run(as_root, 5s, cb);
    run_loop();
    ASSERT_EQ(results_.size(), 2u);
    for (const auto& res : results_) EXPECT_TRUE(res.succeeded()) << res.describe();
    EXPECT_EQ(slurp(out), "65534:65534:65534:nobody:/nonexistent\n");
    EXPECT_EQ(slurp(tmp_ / "root"), "0\n");
}

// Raises or drops `cap` in this thread's effective set (the runner signals
// from this thread); raw syscalls, as the test needs nothing of libcap.
bool set_effective_cap(int cap, bool on)
{
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &hdr, data) != 0) return false;
    const auto bit = 1u << (cap % 32);
    if (on) data[cap / 32].effective |= bit;
    else data[cap / 32].effective &= ~bit;
    return syscall(SYS_capset, &hdr, data) == 0;
}

// Without CAP_KILL, root may not signal a script that runs as another user:
// the run must still end (as a timed-out failure, logged with the reason)
// instead of holding its checker forever; the process, still our child, is
// reaped by the orphan reaper once it goes.
TEST_F(ScriptRunnerTest, AScriptKadpMayNotSignalEndsItsRunAndIsReapedLater)
{
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    ScriptSettings st;
    st.script_user = "nobody";
    st.kill_grace = 100ms;
    auto& r = runner(st);
    ASSERT_TRUE(set_effective_cap(CAP_KILL, false));
    auto h = r.run(sh("sleep 30"), 100ms, collect());
    const pid_t pid = h.pid();
    run_loop();
    ASSERT_TRUE(set_effective_cap(CAP_KILL, true));
    ASSERT_EQ(results_.size(), 1u);
    EXPECT_EQ(results_[0].status, ScriptResult::Status::unkillable);
    EXPECT_TRUE(results_[0].timed_out);
    EXPECT_FALSE(results_[0].succeeded());
    EXPECT_THAT(results_[0].describe(), HasSubstr("still running after timing out"));
    EXPECT_TRUE(logged("cannot signal the script (pid " + std::to_string(pid) + "): Operation not permitted"));
    EXPECT_EQ(kill(pid, 0), 0) << "the script should still run";
    // Now it goes; the runner's reaper (every second) collects it.
    ASSERT_EQ(kill(-pid, SIGKILL), 0);
    LoopHandlers hs;
    hs.on_tick = [&] {
        if (children_of_us() == 0) kill(getpid(), SIGTERM);
    };
    EXPECT_EQ(loop_.run(hs), SIGTERM);
    EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1) << "reaped already";
}

TEST_F(ScriptRunnerTest, UnknownUserOrGroupIsNotStarted)
{
    ScriptSettings st;
    st.script_user = "kadp-no-such-user";
    auto& r = runner(st);
    ScriptSpec bad_group = sh("exit 0");
    bad_group.user = "root";
    bad_group.group = "kadp-no-such-group";
    auto cb = collect(2);
    auto h1 = r.run(sh("exit 0"), 5s, cb);
    auto h2 = r.run(bad_group, 5s, cb);
    run_loop();
    ASSERT_EQ(results_.size(), 2u);
    EXPECT_EQ(results_[0].status, ScriptResult::Status::not_started);
    EXPECT_EQ(results_[1].status, ScriptResult::Status::not_started);
    EXPECT_TRUE(logged("script user 'kadp-no-such-user' does not exist"));
    EXPECT_TRUE(logged("script group 'kadp-no-such-group' does not exist"));
}

TEST_F(ScriptRunnerTest, ScriptSecurityRefusesWhatANonRootUserCouldChange)
{
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    const auto dir = secure_dir();
    ASSERT_FALSE(dir.empty());
    ScriptSettings st;
    st.enable_script_security = true;
    st.script_user = "root";
    auto& r = runner(st);

    // keepalived's rule, as `kadp -t` applies it (conf::check_script).
    const auto w777 = dir / "w777";
    std::filesystem::create_directory(w777);
    chmod(w777.c_str(), 0777);
    const auto sticky = dir / "sticky";
    std::filesystem::create_directory(sticky);
    chmod(sticky.c_str(), 01777);
    struct Row {
        const char* what;
        std::string path;
        bool refused;
    };
    // Straight in /tmp (tmp_ is 0777, not sticky: see the 0777 row).
    const auto in_tmp = std::filesystem::path("/tmp") / ("kadp-scr-" + std::to_string(getpid()) + ".sh");
    std::vector<Row> rows = {
        {"under /tmp (sticky)", write_script(in_tmp, "exit 7", 0755), false},
        {"in a sticky 1777 directory", write_script(sticky / "s.sh", "exit 7", 0755), false},
        {"root's, group-writable by root", write_script(dir / "gw.sh", "exit 7", 0775), false},
        {"in a 0777 directory", write_script(w777 / "s.sh", "exit 7", 0755), true},
        {"world-writable", write_script(dir / "ww.sh", "exit 7", 0777), true},
        {"nobody's", write_script(dir / "owned.sh", "exit 7", 0755), true},
        {"a link in a 0777 directory to a secure script", (w777 / "link-ok.sh").string(), false},
        {"a link in a secure directory into a 0777 one", (dir / "link-in.sh").string(), true},
    };
    ASSERT_EQ(chown(rows[5].path.c_str(), 65534, 65534), 0);
    std::filesystem::create_symlink(rows[2].path, rows[6].path);
    std::filesystem::create_symlink(rows[3].path, rows[7].path);

    std::vector<ScriptRunner::Handle> hs;
    auto cb = collect(rows.size());
    for (const auto& row : rows) {
        ScriptSpec s;
        s.argv = {row.path};
        s.what = row.what;
        hs.push_back(r.run(s, 5s, cb));
    }
    run_loop();
    ASSERT_EQ(results_.size(), rows.size());
    std::size_t refused = 0;
    for (const auto& res : results_) {
        if (res.status == ScriptResult::Status::not_started) {
            ++refused;
            EXPECT_TRUE(res.security_violation) << res.error;
            EXPECT_THAT(res.error, HasSubstr("Unsafe permissions found for script '"));
        } else {
            EXPECT_EQ(res.exit_code, 7);
        }
    }
    EXPECT_EQ(refused, 4u);
    for (const auto& row : rows) {
        const std::string real = std::filesystem::canonical(row.path).string();
        EXPECT_EQ(logged(std::string(row.what) + ": Unsafe permissions found for script '" + real + "'"), row.refused)
            << row.what;
    }
    EXPECT_TRUE(logged("Unsafe permissions found for script '" + rows[3].path + "' - not run: " + w777.string() +
                       " can be changed by a user other than root"));
    std::filesystem::remove(in_tmp);
}

TEST_F(ScriptRunnerTest, ScriptSecurityProtectsOnlyWhatRunsWithRootPrivileges)
{
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    const auto dir = secure_dir();
    ASSERT_FALSE(dir.empty());
    ScriptSettings st;
    st.enable_script_security = true;
    st.script_user = "nobody";
    auto& r = runner(st);
    // nobody's own script, which nobody could change: keepalived runs it.
    ScriptSpec own;
    own.argv = {write_script(dir / "own.sh", "exit 7", 0755)};
    ASSERT_EQ(chown(own.argv[0].c_str(), 65534, 65534), 0);
    // The same as root's group: root privileges, so refused.
    ScriptSpec root_group = own;
    root_group.user = "nobody";
    root_group.group = "root";
    auto cb = collect(2);
    auto h1 = r.run(own, 5s, cb);
    auto h2 = r.run(root_group, 5s, cb);
    run_loop();
    ASSERT_EQ(results_.size(), 2u);
    std::size_t ran = 0;
    for (const auto& res : results_) {
        if (res.status == ScriptResult::Status::exited) {
            ++ran;
            EXPECT_EQ(res.exit_code, 7);
        } else {
            EXPECT_TRUE(res.security_violation) << res.error;
        }
    }
    EXPECT_EQ(ran, 1u);
}

TEST_F(ScriptRunnerTest, WithoutScriptSecurityAnInsecureScriptRuns)
{
    auto& r = runner();
    ScriptSpec s;
    s.argv = {write_script(tmp_ / "check.sh", "exit 5", 0777)};
    auto h = r.run(s, 5s, collect());
    run_loop();
    ASSERT_EQ(results_.size(), 1u);
    EXPECT_EQ(results_[0].status, ScriptResult::Status::exited);
    EXPECT_EQ(results_[0].exit_code, 5);
}

TEST_F(ScriptRunnerTest, ScriptSecurityWithoutAnyScriptUserRefuses)
{
    if (getpwnam("keepalived_script") != nullptr) GTEST_SKIP() << "keepalived_script exists here";
    ScriptSettings st;
    st.enable_script_security = true;
    auto& r = runner(st);
    auto h = r.run(sh("exit 0"), 5s, collect());
    run_loop();
    ASSERT_EQ(results_.size(), 1u);
    EXPECT_TRUE(results_[0].security_violation);
    EXPECT_TRUE(logged("SECURITY VIOLATION - script /bin/sh not run: no script_user set"));
}

TEST_F(ScriptRunnerTest, ConfiguredUserAndSettingsComeFromTheModel)
{
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    conf::GlobalDefs globals;
    globals.script_user = "kadp-no-such-user";
    auto& r = runner(ScriptSettings::from(globals));
    conf::Script script;
    script.command = "/bin/sh -c 'id -u > " + (tmp_ / "uid").string() + "'";
    script.argv = conf::split_command(script.command);
    auto h1 = r.run(ScriptSpec::from(script, "notify_up"), 5s, collect());
    run_loop();
    ASSERT_EQ(results_.size(), 1u);
    EXPECT_EQ(results_[0].status, ScriptResult::Status::not_started);
    // A reload brings a user that exists: looked up afresh.
    globals.script_user = "nobody";
    auto settings = ScriptSettings::from(globals);
    settings.log = [this](const std::string& line) { logged_.push_back(line); };
    r.set_settings(settings);
    auto h2 = r.run(ScriptSpec::from(script, "notify_up"), 5s, collect(2));
    run_loop();
    ASSERT_EQ(results_.size(), 2u);
    EXPECT_TRUE(results_[1].succeeded()) << results_[1].describe();
    EXPECT_EQ(slurp(tmp_ / "uid"), "65534\n");
}

TEST_F(ScriptRunnerTest, DestroyingTheRunnerKillsAndReaps)
{
    auto& r = runner();
    auto h = r.run(sh("sleep 10"), 0ms, [](const ScriptResult&) { ADD_FAILURE() << "called back"; });
    const pid_t sid = h.pid();
    h = ScriptRunner::Handle();  // dropped first: a handle must not outlive its runner
    runner_.reset();
    EXPECT_EQ(children_of_us(), 0u);
    EXPECT_EQ(members_of_session(sid), 0u);
}

}  // namespace
}  // namespace kadp::ctl
