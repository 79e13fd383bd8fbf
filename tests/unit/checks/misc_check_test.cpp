// Runs on: any (unit test; the main thread plays the control thread).
// MISC_CHECK and notify_up/notify_down on a real event loop with real
// scripts in a temporary directory (mode 0755, owned by whoever runs the
// test: root in CI, so script security would pass): exit 0 up, exit 1 down
// after retry+1 failures and back, misc_dynamic exit 7 -> weight 5, a
// script sleeping past misc_timeout fails (and is killed), a missing or
// (script security) refused script never succeeds and is logged once, the
// notify scripts run with their configured arguments.
#include "checks/health_checkers.h"
#include "checks/loop_helpers.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kadp::chk {
namespace {

using std::chrono::milliseconds;

struct Recorder final : HealthSink {
    std::vector<std::string> events;
    void server_down(const ctl::RsIdentity&, bool) override { events.push_back("down"); }
    void server_up(const ctl::RsIdentity&) override { events.push_back("up"); }
    void server_weight(const ctl::RsIdentity&, int weight) override { events.push_back("weight " + std::to_string(weight)); }
    void quorum(const ctl::VsIdentity&, bool up) override { quorums.push_back(up); }
    std::vector<bool> quorums;
};

using testing::ScriptDir;

conf::Script script(std::vector<std::string> argv)
{
    conf::Script s;
    s.argv = std::move(argv);
    for (const std::string& a : s.argv) s.command += (s.command.empty() ? "" : " ") + a;
    return s;
}

conf::Checker misc(conf::Script path, int retry, double timeout = 1, bool dynamic = false)
{
    conf::Checker c;
    c.type = conf::CheckerType::misc_check;
    // no connect_ip/connect_port: named after the real server, as the loader leaves a MISC_CHECK
    c.retry.assign(retry);
    c.delay_before_retry.assign(0.02);
    c.delay_loop.assign(0.05);
    c.warmup.assign(0);
    c.alpha.assign(false);
    c.misc_path = std::move(path);
    c.misc_timeout = timeout;
    c.misc_dynamic = dynamic;
    return c;
}

conf::Config config_with(conf::Checker c, conf::Script notify_up = {}, conf::Script notify_down = {})
{
    conf::RealServer rs;
    rs.address = *conf::IpAddr::parse("127.0.0.1");
    rs.port = 8080;
    rs.weight = 3;
    rs.notify_up = std::move(notify_up);
    rs.notify_down = std::move(notify_down);
    rs.checkers.push_back(std::move(c));
    return testing::one_service(std::move(rs));
}

using testing::logged;
using testing::run_until;

bool logged_with(const std::vector<std::string>& log, const std::string& part)
{
    return std::any_of(log.begin(), log.end(), [&](const std::string& l) { return l.find(part) != std::string::npos; });
}

TEST(MiscCheck, ExitCodeTakesTheServerDownAfterRetriesAndBackUp)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    ScriptDir dir("kadp-misc");
    dir.set("code", "0");
    const std::string check = dir.write("check.sh", "echo run >> " + dir.path + "/runs; exit $(cat " + dir.path + "/code)");
    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    checkers.configure(config_with(misc(script({check, "arg"}), 1)));
    EXPECT_EQ(checkers.checkers(), 1u);
    ASSERT_TRUE(run_until(loop, [&] { return logged_with(log, "succeeded."); }));
    EXPECT_TRUE(sink.events.empty());

    const auto runs = [&] {
        const std::string text = dir.read("runs");  // one string: begin() and end() of the same one
        return std::count(text.begin(), text.end(), '\n');
    };
    dir.set("code", "1");
    ASSERT_TRUE(run_until(loop, [&] { return !sink.events.empty(); }));
    EXPECT_EQ(sink.events, std::vector<std::string>{"down"});
    EXPECT_TRUE(logged(log, "MISC_CHECK on service [127.0.0.1]:tcp:8080 failed after 1 retries."));
    EXPECT_TRUE(logged(log, "Misc check for [" + check + " arg] exited with status 1."));
    EXPECT_TRUE(logged(log, "Removing service [127.0.0.1]:tcp:8080 from VS [198.18.0.100]:tcp:80"));
    EXPECT_GE(runs(), 3);

    dir.set("code", "0");
    ASSERT_TRUE(run_until(loop, [&] { return sink.events.size() == 2; }));
    EXPECT_EQ(sink.events[1], "up");
}

TEST(MiscCheck, DynamicExitSevenSetsWeightFive)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    ScriptDir dir("kadp-misc");
    dir.set("code", "7");
    const std::string check = dir.write("check.sh", "exit $(cat " + dir.path + "/code)");
    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    checkers.configure(config_with(misc(script({check}), 0, 1, true)));
    ASSERT_TRUE(run_until(loop, [&] { return !sink.events.empty(); }));
    EXPECT_EQ(sink.events, std::vector<std::string>{"weight 5"});
    EXPECT_TRUE(logged(log, "Setting weight of service [127.0.0.1]:tcp:8080 of VS [198.18.0.100]:tcp:80 to 5 (misc_dynamic)"));

    // Down (exit 1), then back with exit 0: the dynamic weight stays.
    dir.set("code", "1");
    ASSERT_TRUE(run_until(loop, [&] { return sink.events.size() == 2; }));
    EXPECT_EQ(sink.events[1], "down");
    dir.set("code", "0");
    ASSERT_TRUE(run_until(loop, [&] { return sink.events.size() == 3; }));
    EXPECT_EQ(sink.events[2], "weight 5");
    // Exit 2: weight 0 while up.
    dir.set("code", "2");
    ASSERT_TRUE(run_until(loop, [&] { return sink.events.size() == 4; }));
    EXPECT_EQ(sink.events[3], "weight 0");
    EXPECT_EQ(checkers.alive(ctl::RsIdentity{ctl::vs_identity(config_with({}).virtual_servers[0]),
                                             *conf::IpAddr::parse("127.0.0.1"), 8080}),
              true);
}

TEST(MiscCheck, ScriptSleepingPastMiscTimeoutFails)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    ScriptDir dir("kadp-misc");
    const std::string check = dir.write("slow.sh", "sleep 30");
    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    checkers.configure(config_with(misc(script({check}), 0, 0.2)));
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until(loop, [&] { return !sink.events.empty(); }));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
    EXPECT_EQ(sink.events, std::vector<std::string>{"down"});
    EXPECT_TRUE(logged(log, "Misc check for [" + check + "] timed out."));
}

TEST(MiscCheck, MissingScriptNeverSucceeds)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    ScriptDir dir("kadp-misc");
    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    checkers.configure(config_with(misc(script({dir.path + "/nope.sh"}), 0)));
    ASSERT_TRUE(run_until(loop, [&] { return !sink.events.empty(); }));
    EXPECT_EQ(sink.events, std::vector<std::string>{"down"});
    // Give it several more runs: the runner's refusal is logged once.
    const auto until = ctl::EventLoop::Clock::now() + milliseconds(300);
    run_until(loop, [&] { return ctl::EventLoop::Clock::now() > until; });
    EXPECT_EQ(sink.events.size(), 1u);
    EXPECT_EQ(std::count_if(log.begin(), log.end(), [&](const std::string& l) {
                  return l.starts_with("MISC_CHECK of [127.0.0.1]:tcp:8080: ");
              }),
              1);
}

TEST(MiscCheck, ScriptRefusedBySecurityNeverSucceedsAndIsLoggedOnce)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    ScriptDir dir("kadp-misc");
    // A root script in a world-writable directory without the sticky bit:
    // insecure by keepalived's rule (/tmp itself, sticky, would pass).
    std::filesystem::create_directory(dir.path + "/w777");
    chmod((dir.path + "/w777").c_str(), 0777);
    const std::string check = dir.write("w777/check.sh", "exit 0");
    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    conf::Config config = config_with(misc(script({check}), 0));
    config.global_defs.enable_script_security = true;
    config.global_defs.script_user = "root";
    checkers.configure(config);
    ASSERT_TRUE(run_until(loop, [&] { return !sink.events.empty(); }));
    EXPECT_EQ(sink.events, std::vector<std::string>{"down"});
    const auto until = ctl::EventLoop::Clock::now() + milliseconds(300);
    run_until(loop, [&] { return ctl::EventLoop::Clock::now() > until; });
    EXPECT_EQ(sink.events.size(), 1u);
    const auto count = [&](const std::string& part) {
        return std::count_if(log.begin(), log.end(), [&](const std::string& l) { return l.find(part) != std::string::npos; });
    };
    // The runner's line (once per configuration) and the first failure's
    // reason (the checker was up), not one per run.
    EXPECT_EQ(count("Unsafe permissions found for script '" + check + "'"), 2);
    EXPECT_EQ(count("Misc check for [" + check + "] not started: "), 1);
}

TEST(MiscCheck, NotifyScriptsRunWithTheirArguments)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    ScriptDir dir("kadp-misc");
    dir.set("code", "0");
    const std::string check = dir.write("check.sh", "exit $(cat " + dir.path + "/code)");
    const std::string notify = dir.write("notify.sh", "echo \"$*\" >> " + dir.path + "/marker");
    Recorder sink;
    std::vector<std::string> log;
    // Every level: a notify script's successful run is logged at debug.
    HealthCheckers checkers(loop, sink, [&log](ctl::LogLevel level, const std::string& l) {
        log.push_back(std::string(ctl::to_string(level)) + ": " + l);
    });
    checkers.configure(config_with(misc(script({check}), 0), script({notify, "UP", "rs one"}),
                                   script({notify, "DOWN", "rs1"})));
    dir.set("code", "1");
    ASSERT_TRUE(run_until(loop, [&] { return dir.read("marker") == "DOWN rs1\n"; }));
    dir.set("code", "0");
    ASSERT_TRUE(run_until(loop, [&] { return dir.read("marker") == "DOWN rs1\nUP rs one\n"; }));
    ASSERT_TRUE(run_until(loop, [&] { return checkers.notifies_running() == 0; }));
    EXPECT_TRUE(logged(log, "debug: notify_up of service [127.0.0.1]:tcp:8080 of VS [198.18.0.100]:tcp:80: [" + notify +
                                " UP rs one] exited with status 0"));
    EXPECT_EQ(sink.events, (std::vector<std::string>{"down", "up"}));
}

}  // namespace
}  // namespace kadp::chk

namespace kadp::chk {
namespace {

// Two real servers of weight 2 judged by MISC_CHECKs, quorum 3 with
// hysteresis 1 (lost below 2, regained at 4), a sorry server, and scripts
// that record the quorum changes.
TEST(MiscCheck, QuorumWithHysteresisBringsInTheSorryServerAndRunsItsScripts)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    ScriptDir dir("kadp-misc");
    dir.set("a", "0");
    dir.set("b", "0");
    conf::Config config = config_with(misc(script({dir.write("a.sh", "exit $(cat " + dir.path + "/a)")}), 0));
    conf::VirtualServer& vs = config.virtual_servers[0];
    vs.real_servers[0].weight = 2;
    conf::RealServer b = vs.real_servers[0];
    b.address = *conf::IpAddr::parse("127.0.0.2");
    b.checkers[0].misc_path = script({dir.write("b.sh", "exit $(cat " + dir.path + "/b)")});
    vs.real_servers.push_back(b);
    vs.quorum = 3;
    vs.hysteresis = 1;
    vs.sorry_server = conf::SorryServer{*conf::IpAddr::parse("198.18.9.9"), 8080, std::nullopt, {}};
    vs.quorum_up = script({dir.write("up.sh", "echo up >> " + dir.path + "/quorum")});
    vs.quorum_down = script({dir.write("down.sh", "echo down >> " + dir.path + "/quorum")});
    const std::string name = "VS [198.18.0.100]:tcp:80";
    const ctl::VsIdentity id = ctl::vs_identity(vs);

    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    checkers.configure(config);
    EXPECT_EQ(checkers.quorum_up(id), true);  // 4 >= 3 + 1
    EXPECT_EQ(sink.quorums, std::vector<bool>{true});

    // One down: 2 is not below 3 - 1, the quorum holds.
    dir.set("b", "1");
    ASSERT_TRUE(run_until(loop, [&] { return sink.events.size() == 1; }));
    EXPECT_EQ(checkers.quorum_up(id), true);
    EXPECT_EQ(sink.quorums.size(), 1u);

    // Both down: lost, the sorry server comes in, quorum_down runs.
    dir.set("a", "1");
    ASSERT_TRUE(run_until(loop, [&] { return sink.quorums.size() == 2 && dir.read("quorum") == "down\n"; }));
    EXPECT_FALSE(sink.quorums[1]);
    EXPECT_TRUE(logged(log, "Lost quorum 3-1=2 > 0 for " + name));
    EXPECT_TRUE(logged(log, "Adding sorry server [198.18.9.9]:tcp:8080 to " + name));
    EXPECT_TRUE(logged(log, "Removing alive servers from the pool for " + name));

    // One back: 2 is below 3 + 1, still lost.
    dir.set("a", "0");
    ASSERT_TRUE(run_until(loop, [&] { return sink.events.size() == 3; }));
    EXPECT_EQ(checkers.quorum_up(id), false);
    EXPECT_EQ(sink.quorums.size(), 2u);

    // Both back: 4, regained; the sorry server goes, quorum_up runs.
    dir.set("b", "0");
    ASSERT_TRUE(run_until(loop, [&] { return sink.quorums.size() == 3 && dir.read("quorum") == "down\nup\n"; }));
    EXPECT_TRUE(sink.quorums[2]);
    EXPECT_TRUE(logged(log, "Gained quorum 3+1=4 <= 4 for " + name));
    EXPECT_TRUE(logged(log, "Removing sorry server [198.18.9.9]:tcp:8080 from " + name));

    // A reload that raises the quorum above the live weight: "Starting with
    // quorum down", the sorry server back in.
    vs.quorum = 9;
    checkers.configure(config);
    EXPECT_EQ(checkers.quorum_up(id), false);
    EXPECT_TRUE(logged(log, "Starting with quorum down 9-1=8 > 4 for " + name));
    EXPECT_FALSE(sink.quorums.back());
}

// Without a sorry server, starting below the quorum changes nothing and
// runs nothing (keepalived is silent too); gaining it later runs quorum_up.
TEST(MiscCheck, StartingBelowQuorumWithoutSorryServerIsSilent)
{
    ctl::block_control_signals();
    ctl::EventLoop loop;
    ScriptDir dir("kadp-misc");
    dir.set("a", "0");
    conf::Config config = config_with(misc(script({dir.write("a.sh", "exit $(cat " + dir.path + "/a)")}), 0, 1, true));
    conf::VirtualServer& vs = config.virtual_servers[0];
    vs.quorum = 5;
    vs.quorum_up = script({dir.write("up.sh", "echo up >> " + dir.path + "/quorum")});
    vs.quorum_down = script({dir.write("down.sh", "echo down >> " + dir.path + "/quorum")});
    Recorder sink;
    std::vector<std::string> log;
    HealthCheckers checkers(loop, sink, [&log](const std::string& l) { log.push_back(l); });
    checkers.configure(config);  // weight 3 < 5
    EXPECT_EQ(checkers.quorum_up(ctl::vs_identity(vs)), false);
    EXPECT_FALSE(logged_with(log, "quorum"));
    // misc_dynamic exit 9: weight 7 >= 5.
    dir.set("a", "9");
    ASSERT_TRUE(run_until(loop, [&] { return dir.read("quorum") == "up\n"; }));
    EXPECT_TRUE(logged(log, "Gained quorum 5+0=5 <= 7 for VS [198.18.0.100]:tcp:80"));
    EXPECT_FALSE(logged_with(log, "sorry server"));
}

}  // namespace
}  // namespace kadp::chk
