// Runs on: any (unit test; the main thread plays the control thread).
// ScriptTracker with real scripts on a real EventLoop and ScriptRunner
// (scripts in a 0755 temporary directory): exit codes move the instance's
// priority and FAULT, a script past its timeout (explicit, or the interval
// by default) is killed and logged "timed_out", a run still going is not
// doubled, a script refused by script security or disabled by the
// configuration never succeeds, script_user is honoured. And the link
// seam: parse_link_messages on built netlink messages, NetlinkLinkState's
// first dump (the loopback) and its reports of a veth pair going down, up
// and away in a private network namespace, a LinkState fed into a Tracker.
#include "vrrp/script_tracker.h"

#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "checks/loop_helpers.h"
#include "conf/model.h"
#include "vrrp/link_state.h"
#include "vrrp/track.h"

namespace kadp::vrrp {
namespace {

using chk::testing::logged;
using chk::testing::run_until;
using std::chrono::milliseconds;

struct ScriptDir : chk::testing::ScriptDir {
    ScriptDir() : chk::testing::ScriptDir("kadp-track") {}
};

conf::VrrpScript vscript(const std::string& name, const std::string& path, double interval, int weight)
{
    conf::VrrpScript s;
    s.name = name;
    s.script.argv = {path};
    s.script.command = path;
    s.interval = interval;
    s.weight = weight;
    return s;
}

// One instance on `lo` (known up) tracking `s`.
conf::Config config_with(const conf::VrrpScript& s)
{
    conf::Config c;
    c.vrrp_scripts.push_back(s);
    conf::VrrpInstance vi;
    vi.name = "VI";
    vi.interface = "lo";
    vi.priority = 100;
    vi.virtual_router_id = 1;
    vi.track_script.push_back(conf::TrackedScript{{}, s.name, std::nullopt, false});
    c.vrrp_instances.push_back(vi);
    return c;
}

const std::map<std::string, bool> kLoUp{{"lo", true}};

struct Fixture {
    explicit Fixture(const conf::Config& c, ctl::ScriptSettings settings = {}, milliseconds grace = milliseconds(200))
        : config(c), runner(loop, with_log(std::move(settings), grace)),
          tracker(config, [this](const std::string& l) { log.push_back(l); }, {}, kLoUp),
          scripts(loop, runner, tracker, config, [this](const std::string& l) { log.push_back(l); })
    {
    }
    ctl::ScriptSettings with_log(ctl::ScriptSettings s, milliseconds grace)
    {
        s.kill_grace = grace;
        s.log = [this](const std::string& l) { log.push_back(l); };
        return s;
    }
    long count(const std::string& part) const
    {
        return std::count_if(log.begin(), log.end(), [&](const std::string& l) { return l.find(part) != std::string::npos; });
    }
    const TrackOutcome& vi() const { return *tracker.outcome("VI"); }

    std::vector<std::string> log;
    conf::Config config;
    ctl::EventLoop loop;
    ctl::ScriptRunner runner;
    Tracker tracker;
    ScriptTracker scripts;
};

TEST(ScriptTracker, ExitCodesMoveThePriorityEveryInterval)
{
    ctl::block_control_signals();
    ScriptDir dir;
    dir.set("code", "0");
    const std::string chk =
        dir.write("chk.sh", "echo run >> " + dir.path + "/runs; exit $(cat " + dir.path + "/code)");
    Fixture f(config_with(vscript("chk", chk, 0.05, 10)));
    EXPECT_EQ(f.scripts.scripts(), 1u);
    EXPECT_EQ(dir.lines("runs"), 0);  // nothing before start()
    f.scripts.start();
    ASSERT_TRUE(run_until(f.loop, [&] { return f.vi().effective_priority == 110; }));
    EXPECT_TRUE(logged(f.log, "VRRP_Script(chk) succeeded"));
    EXPECT_TRUE(logged(f.log, "(VI) Changing effective priority from 100 to 110"));

    dir.set("code", "1");
    ASSERT_TRUE(run_until(f.loop, [&] { return f.vi().effective_priority == 100; }));
    EXPECT_TRUE(logged(f.log, "Script `chk` now returning 1"));
    EXPECT_TRUE(logged(f.log, "VRRP_Script(chk) failed (exited with status 1)"));

    // It keeps running every interval (50 ms): several more runs in 300 ms.
    const long before = dir.lines("runs");
    const auto until = ctl::EventLoop::Clock::now() + milliseconds(300);
    run_until(f.loop, [&] { return ctl::EventLoop::Clock::now() > until; });
    EXPECT_GE(dir.lines("runs") - before, 3);
    EXPECT_LE(dir.lines("runs") - before, 8);
}

TEST(ScriptTracker, ScriptPastItsTimeoutIsKilledAndTimedOut)
{
    ctl::block_control_signals();
    ScriptDir dir;
    conf::VrrpScript s = vscript("slow", dir.write("slow.sh", "sleep 30"), 5, 0);
    s.timeout = 0.2;
    Fixture f(config_with(s));
    f.scripts.start();
    const auto start = ctl::EventLoop::Clock::now();
    ASSERT_TRUE(run_until(f.loop, [&] { return f.vi().fault; }));
    EXPECT_LT(ctl::EventLoop::Clock::now() - start, std::chrono::seconds(2));
    EXPECT_TRUE(logged(f.log, "VRRP_Script(slow) timed_out"));
    EXPECT_EQ(f.vi().reasons, std::vector<std::string>{"script slow failed"});
    ASSERT_TRUE(run_until(f.loop, [&] { return f.runner.children() == 0; }));  // killed, reaped
}

TEST(ScriptTracker, TimeoutDefaultsToTheInterval)
{
    ctl::block_control_signals();
    ScriptDir dir;
    Fixture f(config_with(vscript("slow", dir.write("slow.sh", "sleep 30"), 0.3, 0)));
    f.scripts.start();
    const auto start = ctl::EventLoop::Clock::now();
    ASSERT_TRUE(run_until(f.loop, [&] { return f.vi().fault; }));
    const auto took = ctl::EventLoop::Clock::now() - start;
    EXPECT_GE(took, milliseconds(280));
    EXPECT_LT(took, milliseconds(2000));
    EXPECT_TRUE(logged(f.log, "VRRP_Script(slow) timed_out"));
}

// keepalived 2.2.7 logs "skipping run" and runs anyway (a 2.5 s script
// with interval 1 ran every second, the line logged while one was going).
TEST(ScriptTracker, RunStillGoingIsLoggedAndRunAnywayAs227Does)
{
    ctl::block_control_signals();
    ScriptDir dir;
    conf::VrrpScript s = vscript("long", dir.write("long.sh", "echo run >> " + dir.path + "/runs; sleep 0.5"), 0.1, 0);
    s.timeout = 3;
    Fixture f(config_with(s));
    f.scripts.start();
    ASSERT_TRUE(run_until(f.loop, [&] { return !f.vi().waiting; }));
    EXPECT_FALSE(f.vi().fault);
    EXPECT_GE(f.count("Track script long is already running, expect idle - skipping run"), 3);
    EXPECT_GE(dir.lines("runs"), 4);
    EXPECT_GE(f.scripts.running(), 2u);
}

TEST(ScriptTracker, RunIgnoringItsSigtermIsBeingTimedOut)
{
    // SIGTERM at 0.3 s is ignored, the next run is due at 0.5 s, SIGKILL
    // comes at 1.3 s.
    ctl::block_control_signals();
    ScriptDir dir;
    conf::VrrpScript h = vscript("hung", dir.write("hung.sh", "trap '' TERM; sleep 5"), 0.5, 0);
    h.timeout = 0.3;
    Fixture f(config_with(h), {}, milliseconds(1000));
    f.scripts.start();
    ASSERT_TRUE(run_until(f.loop, [&] { return f.vi().fault; }));
    EXPECT_TRUE(logged(f.log, "Track script hung is being timed out, expect idle - skipping run"));
    EXPECT_TRUE(logged(f.log, "VRRP_Script(hung) timed_out"));
}

TEST(ScriptTracker, ScriptRefusedBySecurityNeverSucceeds)
{
    ctl::block_control_signals();
    ScriptDir dir;
    // A world-writable directory without the sticky bit: insecure for a
    // script run as root (keepalived 2.2.7's rule, docs/scripts.md).
    std::filesystem::create_directory(dir.path + "/w");
    chmod((dir.path + "/w").c_str(), 0777);
    ctl::ScriptSettings settings;
    settings.enable_script_security = true;
    settings.script_user = "root";
    Fixture f(config_with(vscript("chk", dir.write("w/chk.sh", "exit 0"), 0.05, 0)), settings);
    f.scripts.start();
    ASSERT_TRUE(run_until(f.loop, [&] { return f.vi().fault; }));
    EXPECT_TRUE(logged(f.log, "VRRP_Script(chk) failed"));
    const auto until = ctl::EventLoop::Clock::now() + milliseconds(200);
    run_until(f.loop, [&] { return ctl::EventLoop::Clock::now() > until; });
    EXPECT_TRUE(f.vi().fault);
    EXPECT_GE(f.count("Unsafe permissions found for script"), 1);
    EXPECT_EQ(f.count("VRRP_Script(chk) failed"), 1);  // the crossing only
}

TEST(ScriptTracker, DisabledScriptCountsAsFailedAndIsSaidOnce)
{
    ctl::block_control_signals();
    ScriptDir dir;
    conf::VrrpScript s = vscript("gone", dir.path + "/missing.sh", 0.05, -20);
    s.script.disabled = true;
    Fixture f(config_with(s));
    f.scripts.start();
    ASSERT_TRUE(run_until(f.loop, [&] { return f.vi().effective_priority == 80; }));
    const auto until = ctl::EventLoop::Clock::now() + milliseconds(200);
    run_until(f.loop, [&] { return ctl::EventLoop::Clock::now() > until; });
    EXPECT_EQ(f.count("is disabled (missing or insecure"), 1);
    EXPECT_EQ(f.runner.children(), 0u);
}

TEST(ScriptTracker, RunsAsTheScriptsUser)
{
    if (geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
    ctl::block_control_signals();
    ScriptDir dir;
    std::filesystem::create_directory(dir.path + "/out");
    chmod((dir.path + "/out").c_str(), 0777);
    conf::VrrpScript s = vscript("who", dir.write("who.sh", "id -un > " + dir.path + "/out/who"), 5, 0);
    s.script.user = "nobody";
    Fixture f(config_with(s));
    f.scripts.start();
    ASSERT_TRUE(run_until(f.loop, [&] { return !f.vi().waiting; }));
    std::ifstream in(dir.path + "/out/who");
    std::string who;
    in >> who;
    EXPECT_EQ(who, "nobody");
}

TEST(ScriptTracker, UnusedScriptsDoNotRun)
{
    ctl::block_control_signals();
    ScriptDir dir;
    conf::Config c = config_with(vscript("chk", dir.write("chk.sh", "exit 0"), 0.05, 0));
    c.vrrp_scripts.push_back(vscript("idle", dir.write("idle.sh", "echo run >> " + dir.path + "/idle"), 0.05, 0));
    Fixture f(c);
    EXPECT_EQ(f.scripts.scripts(), 1u);
    EXPECT_TRUE(logged(f.log, "Warning - script idle is not used"));
    f.scripts.start();
    ASSERT_TRUE(run_until(f.loop, [&] { return !f.vi().waiting; }));
    const auto until = ctl::EventLoop::Clock::now() + milliseconds(150);
    run_until(f.loop, [&] { return ctl::EventLoop::Clock::now() > until; });
    EXPECT_EQ(dir.lines("idle"), 0);
}

// --------------------------------------------------------------- links

// One rtnetlink link message: `type`, ifindex, flags, IFLA_IFNAME.
void append_link(std::vector<std::uint8_t>& buf, std::uint16_t type, int index, unsigned flags, const std::string& name)
{
    const std::size_t name_attr = NLA_ALIGN(sizeof(rtattr) + name.size() + 1);
    const std::size_t len = NLMSG_ALIGN(sizeof(nlmsghdr)) + NLMSG_ALIGN(sizeof(ifinfomsg)) + name_attr;
    const std::size_t off = buf.size();
    buf.resize(off + len, 0);
    nlmsghdr h{};
    h.nlmsg_len = static_cast<std::uint32_t>(len);
    h.nlmsg_type = type;
    std::memcpy(buf.data() + off, &h, sizeof(h));
    ifinfomsg ifi{};
    ifi.ifi_index = index;
    ifi.ifi_flags = flags;
    std::memcpy(buf.data() + off + NLMSG_ALIGN(sizeof(nlmsghdr)), &ifi, sizeof(ifi));
    rtattr rta{};
    rta.rta_len = static_cast<unsigned short>(sizeof(rtattr) + name.size() + 1);
    rta.rta_type = IFLA_IFNAME;
    const std::size_t a = off + NLMSG_ALIGN(sizeof(nlmsghdr)) + NLMSG_ALIGN(sizeof(ifinfomsg));
    std::memcpy(buf.data() + a, &rta, sizeof(rta));
    std::memcpy(buf.data() + a + sizeof(rtattr), name.c_str(), name.size() + 1);
}

TEST(LinkState, ParsesNewAndDelLinkUpMeaningUpAndRunning)
{
    std::vector<std::uint8_t> buf;
    append_link(buf, RTM_NEWLINK, 3, IFF_UP | IFF_RUNNING | IFF_BROADCAST, "eth1");
    append_link(buf, RTM_NEWLINK, 4, IFF_UP, "eth2");  // admin up, no carrier
    append_link(buf, RTM_DELLINK, 5, IFF_UP | IFF_RUNNING, "eth3");
    bool done = false;
    std::vector<LinkEvent> ev = parse_link_messages(buf, &done);
    EXPECT_FALSE(done);
    ASSERT_EQ(ev.size(), 3u);
    EXPECT_EQ(ev[0].name, "eth1");
    EXPECT_EQ(ev[0].ifindex, 3);
    EXPECT_TRUE(ev[0].up);
    EXPECT_EQ(ev[1].name, "eth2");
    EXPECT_FALSE(ev[1].up);
    EXPECT_TRUE(ev[2].deleted);
    EXPECT_FALSE(ev[2].up);

    nlmsghdr d{};
    d.nlmsg_len = sizeof(nlmsghdr) + 4;
    d.nlmsg_type = NLMSG_DONE;
    std::vector<std::uint8_t> end(d.nlmsg_len, 0);
    std::memcpy(end.data(), &d, sizeof(d));
    EXPECT_TRUE(parse_link_messages(end, &done).empty());
    EXPECT_TRUE(done);
    // A truncated message is not read past its end.
    buf.resize(buf.size() - 3);
    EXPECT_EQ(parse_link_messages(buf).size(), 2u);
}

TEST(LinkState, NetlinkDumpKnowsTheLoopback)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    std::vector<std::string> log;
    NetlinkLinkState links(loop, [&](const std::string& l) { log.push_back(l); });
    const auto snap = links.snapshot();
    ASSERT_TRUE(snap.contains("lo"));
    EXPECT_EQ(snap.at("lo"), true);
    EXPECT_TRUE(log.empty());  // the first dump is not news
}

// A link going down and up in a private network namespace (a forked child:
// unshare(CLONE_NEWNET) must not move the rest of the test binary): a veth
// pair, whose peer going down takes the carrier (IFF_RUNNING) away too.
// Exit codes say which step failed.
int netns_child()
{
    if (unshare(CLONE_NEWNET) != 0) return 10;
    if (std::system("ip link add kta type veth peer name ktb && ip link set kta up && ip link set ktb up") != 0)
        return 11;
    ctl::EventLoop loop;
    std::vector<std::string> log;
    NetlinkLinkState links(loop, [&](const std::string& l) { log.push_back(l); });
    if (!links.snapshot().contains("kta")) return 12;
    std::map<std::string, bool> seen;
    links.subscribe([&](const std::string& n, bool up) { seen[n] = up; });
    // The carrier may come up just after the dump: wait for it.
    if (!links.snapshot().at("kta") && !run_until(loop, [&] { return seen.contains("kta") && seen["kta"]; }))
        return 13;
    if (std::system("ip link set ktb down") != 0) return 14;
    if (!run_until(loop, [&] { return seen.contains("kta") && !seen["kta"] && seen.contains("ktb") && !seen["ktb"]; }))
        return 15;
    if (!logged(log, "Netlink reports kta down") || !logged(log, "Netlink reports ktb down")) return 16;
    if (std::system("ip link set ktb up") != 0) return 17;
    if (!run_until(loop, [&] { return seen["kta"] && seen["ktb"]; })) return 18;
    if (std::system("ip link del kta") != 0) return 19;
    if (!run_until(loop, [&] { return !seen["kta"] && !links.snapshot().contains("kta"); })) return 20;
    return 0;
}

TEST(LinkState, NetlinkReportsLinkChanges)
{
    if (geteuid() != 0 || std::system("command -v ip >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "needs root and iproute2 for a network namespace";
    ctl::block_control_signals();
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(netns_child());
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 10 || WEXITSTATUS(status) == 11) GTEST_SKIP() << "no network namespace or veth here";
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

// The DPDK backend's side of the seam, as a test double.
struct FakeLinks final : LinkState {
    std::map<std::string, bool> state;
    Callback cb;
    std::map<std::string, bool> snapshot() const override { return state; }
    void subscribe(Callback c) override { cb = std::move(c); }
    void set(const std::string& n, bool up)
    {
        state[n] = up;
        if (cb) cb(n, up);
    }
};

TEST(LinkState, FeedsTheTracker)
{
    conf::Config c;
    conf::VrrpInstance vi;
    vi.name = "VI";
    vi.interface = "dpdk0";
    vi.priority = 100;
    vi.track_interface.push_back(conf::TrackedInterface{{}, "dpdk1", -30, false});
    c.vrrp_instances.push_back(vi);
    FakeLinks links;
    links.state = {{"dpdk0", true}, {"dpdk1", true}};
    Tracker t(c, {}, {}, links.snapshot());
    feed_link_states(links, t);
    EXPECT_EQ(t.outcome("VI")->effective_priority, 100);
    links.set("dpdk1", false);
    EXPECT_EQ(t.outcome("VI")->effective_priority, 70);
    links.set("dpdk0", false);
    EXPECT_TRUE(t.outcome("VI")->fault);
    links.set("dpdk0", true);
    links.set("dpdk1", true);
    EXPECT_FALSE(t.outcome("VI")->fault);
    EXPECT_EQ(t.outcome("VI")->effective_priority, 100);
}

}  // namespace
}  // namespace kadp::vrrp
