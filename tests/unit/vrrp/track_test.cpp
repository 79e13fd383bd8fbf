// Runs on: any (unit test). The pure tracking layer against the behaviour
// of the keepalived 2.2.7 binary (run in a network namespace with veth
// pairs to settle each case; docs/vrrp_tracking.md): the rise/fall counter
// and its log lines, weights (script, override, reverse, clamping,
// address owner), weight-0 FAULT and the wait for a first result,
// track_interface, and sync groups.
#include "vrrp/track.h"

#include <algorithm>
#include <csignal>
#include <optional>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "conf/load.h"
#include "conf/model.h"
#include "control/script_runner.h"

namespace kadp::vrrp {
namespace {

ctl::ScriptResult exited(int code)
{
    ctl::ScriptResult r;
    r.status = ctl::ScriptResult::Status::exited;
    r.exit_code = code;
    return r;
}

ctl::ScriptResult killed(int sig, bool timed_out)
{
    ctl::ScriptResult r;
    r.status = ctl::ScriptResult::Status::killed;
    r.signal = sig;
    r.timed_out = timed_out;
    return r;
}

struct Log {
    std::vector<std::string> lines;
    TrackLogFn fn() { return [this](const std::string& l) { lines.push_back(l); }; }
    std::vector<std::string> take()
    {
        std::vector<std::string> out;
        out.swap(lines);
        return out;
    }
};

using Lines = std::vector<std::string>;

TEST(ScriptState, RiseAndFallCountAsKeepalivedDoes)
{
    Log log;
    ScriptState s("chk", 2, 3);
    EXPECT_EQ(s.result(), 1);  // rise - 1: one success is enough
    EXPECT_EQ(s.status(), ScriptState::Status::init);

    EXPECT_TRUE(s.feed(exited(0), log.fn()));
    EXPECT_EQ(s.result(), 4);  // rise + fall - 1
    EXPECT_EQ(s.status(), ScriptState::Status::ok);
    EXPECT_EQ(log.take(), Lines{"VRRP_Script(chk) succeeded"});

    // Three failures to fall: 4 -> 3 -> 2 (still OK, silent) -> 0.
    EXPECT_FALSE(s.feed(exited(1), log.fn()));
    EXPECT_EQ(s.result(), 3);
    EXPECT_EQ(log.take(), Lines{"Script `chk` now returning 1"});
    EXPECT_FALSE(s.feed(exited(1), log.fn()));
    EXPECT_EQ(s.result(), 2);
    EXPECT_TRUE(s.ok());
    EXPECT_TRUE(log.take().empty());
    EXPECT_TRUE(s.feed(exited(1), log.fn()));
    EXPECT_EQ(s.result(), 0);
    EXPECT_EQ(s.status(), ScriptState::Status::failed);
    EXPECT_EQ(log.take(), Lines{"VRRP_Script(chk) failed (exited with status 1)"});

    // A failure while failed stays at 0 silently.
    EXPECT_FALSE(s.feed(exited(1), log.fn()));
    EXPECT_TRUE(log.take().empty());

    // Two successes to rise: 0 -> 1 (silent) -> 4.
    EXPECT_FALSE(s.feed(exited(0), log.fn()));
    EXPECT_EQ(s.result(), 1);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(log.take(), Lines{"Script `chk` now returning 0"});
    EXPECT_TRUE(s.feed(exited(0), log.fn()));
    EXPECT_EQ(s.result(), 4);
    EXPECT_EQ(log.take(), Lines{"VRRP_Script(chk) succeeded"});

    // A failure in between resets the climb: OK at 4, 3, then success -> 4 silently.
    EXPECT_FALSE(s.feed(exited(2), log.fn()));
    EXPECT_FALSE(s.feed(exited(0), log.fn()));
    EXPECT_EQ(s.result(), 4);
    EXPECT_EQ(log.take(), (Lines{"Script `chk` now returning 2", "Script `chk` now returning 0"}));
}

TEST(ScriptState, FirstFailureDecidesAndIsLogged)
{
    Log log;
    ScriptState s("chk", 3, 1);
    EXPECT_TRUE(s.feed(exited(3), log.fn()));
    EXPECT_EQ(s.status(), ScriptState::Status::failed);
    EXPECT_EQ(s.result(), 0);
    EXPECT_EQ(log.take(), (Lines{"Script `chk` now returning 3", "VRRP_Script(chk) failed (exited with status 3)"}));
    // The same status again is not "now returning".
    EXPECT_FALSE(s.feed(exited(3), log.fn()));
    EXPECT_TRUE(log.take().empty());
}

TEST(ScriptState, TimeoutAndSignals)
{
    Log log;
    ScriptState s("slow", 1, 1);
    EXPECT_TRUE(s.feed(killed(SIGTERM, true), log.fn()));
    EXPECT_EQ(log.take(), Lines{"VRRP_Script(slow) timed_out"});
    EXPECT_FALSE(s.ok());

    ScriptState k("hard", 1, 1);
    EXPECT_TRUE(k.feed(killed(SIGKILL, true), log.fn()));  // ignored SIGTERM, killed after the grace
    EXPECT_EQ(log.take(), Lines{"VRRP_Script(hard) timed_out"});

    ScriptState g("sig", 1, 1);
    EXPECT_TRUE(g.feed(killed(SIGUSR1, false), log.fn()));
    EXPECT_EQ(log.take(), Lines{"VRRP_Script(sig) failed (due to signal 10)"});

    // A script that exits 0 on its SIGTERM is judged by its status.
    ScriptState t("trap", 1, 1);
    ctl::ScriptResult r = exited(0);
    r.timed_out = true;
    EXPECT_TRUE(t.feed(r, log.fn()));
    EXPECT_TRUE(t.ok());

    // A run the runner refused (it logged why) is a failure.
    ScriptState n("gone", 1, 1);
    EXPECT_TRUE(n.feed(ctl::ScriptResult{}, log.fn()));
    EXPECT_FALSE(n.ok());
    EXPECT_EQ(log.take(), (Lines{"VRRP_Script(trap) succeeded", "VRRP_Script(gone) failed"}));
}

// ----------------------------------------------------------------- Tracker

conf::VrrpScript vscript(const std::string& name, int weight, int rise = 1, int fall = 1)
{
    conf::VrrpScript s;
    s.name = name;
    s.script.argv = {"/bin/true"};
    s.script.command = "/bin/true";
    s.weight = weight;
    s.rise = rise;
    s.fall = fall;
    return s;
}

conf::VrrpInstance instance(const std::string& name, int priority, const std::string& ifname = "eth0")
{
    conf::VrrpInstance v;
    v.name = name;
    v.priority = priority;
    v.interface = ifname;
    v.virtual_router_id = 1;
    return v;
}

conf::TrackedScript track(const std::string& name, std::optional<int> weight = std::nullopt, bool reverse = false)
{
    return conf::TrackedScript{{}, name, weight, reverse};
}

conf::TrackedInterface track_if(const std::string& name, int weight = 0, bool reverse = false)
{
    return conf::TrackedInterface{{}, name, weight, reverse};
}

struct Changes {
    std::vector<std::pair<std::string, TrackOutcome>> seen;
    Tracker::ChangeFn fn()
    {
        return [this](const std::string& n, const TrackOutcome& o) { seen.emplace_back(n, o); };
    }
};

const std::map<std::string, bool> kUp{{"eth0", true}, {"eth1", true}};

TEST(Tracker, PositiveWeightAddsWhileOkFromTheFirstSuccess)
{
    conf::Config c;
    c.vrrp_scripts.push_back(vscript("chk", 10));
    c.vrrp_instances.push_back(instance("VI", 100));
    c.vrrp_instances[0].track_script.push_back(track("chk"));
    Log log;
    Changes ch;
    Tracker t(c, log.fn(), ch.fn(), kUp);
    // Before the first result: no adjustment either way, no wait (weighted).
    ASSERT_NE(t.outcome("VI"), nullptr);
    EXPECT_EQ(t.outcome("VI")->effective_priority, 100);
    EXPECT_FALSE(t.outcome("VI")->waiting);
    EXPECT_TRUE(log.take().empty());

    t.script_result("chk", exited(0));
    EXPECT_EQ(t.outcome("VI")->adjustment, 10);
    EXPECT_EQ(t.outcome("VI")->effective_priority, 110);
    EXPECT_EQ(log.take(), (Lines{"VRRP_Script(chk) succeeded", "(VI) Changing effective priority from 100 to 110"}));
    ASSERT_EQ(ch.seen.size(), 1u);
    EXPECT_EQ(ch.seen[0].first, "VI");
    EXPECT_EQ(ch.seen[0].second.effective_priority, 110);
    EXPECT_EQ(ch.seen[0].second.reasons, Lines{"script chk succeeded (+10)"});

    t.script_result("chk", exited(0));  // nothing changes, nobody is told
    EXPECT_EQ(ch.seen.size(), 1u);

    t.script_result("chk", exited(1));
    EXPECT_EQ(t.outcome("VI")->effective_priority, 100);
    EXPECT_FALSE(t.outcome("VI")->fault);
    EXPECT_EQ(ch.seen.size(), 2u);
}

TEST(Tracker, NegativeWeightSubtractsWhileFailing)
{
    conf::Config c;
    c.vrrp_scripts.push_back(vscript("chk", -10));
    c.vrrp_instances.push_back(instance("VI", 100));
    c.vrrp_instances[0].track_script.push_back(track("chk"));
    Log log;
    Tracker t(c, log.fn(), {}, kUp);
    t.script_result("chk", exited(0));
    EXPECT_EQ(t.outcome("VI")->effective_priority, 100);
    t.script_result("chk", exited(3));
    EXPECT_EQ(t.outcome("VI")->effective_priority, 90);
    EXPECT_EQ(t.outcome("VI")->reasons, Lines{"script chk failed (-10)"});
}

TEST(Tracker, InitFailChangesNothingAsIn227)
{
    // keepalived 2.2.7: rise 3 + init_fail is OK after its first success,
    // and a negative weight applies only once the first run failed.
    conf::Config c;
    c.vrrp_scripts.push_back(vscript("up", 10, 3));
    c.vrrp_scripts.back().init_fail = true;
    c.vrrp_scripts.push_back(vscript("down", -10));
    c.vrrp_scripts.back().init_fail = true;
    c.vrrp_instances.push_back(instance("VI", 100));
    c.vrrp_instances[0].track_script = {track("up"), track("down")};
    Log log;
    Tracker t(c, log.fn(), {}, kUp);
    EXPECT_EQ(t.outcome("VI")->effective_priority, 100);
    t.script_result("up", exited(0));
    EXPECT_EQ(t.outcome("VI")->effective_priority, 110);
    t.script_result("down", exited(1));
    EXPECT_EQ(t.outcome("VI")->effective_priority, 100);
}

TEST(Tracker, TrackScriptWeightOverridesAndReverses)
{
    conf::Config c;
    c.vrrp_scripts.push_back(vscript("chk", 10));
    c.vrrp_scripts.push_back(vscript("rev", 10));
    c.vrrp_scripts.back().weight_reverse = true;
    c.vrrp_instances.push_back(instance("OVR", 100));
    c.vrrp_instances.back().track_script.push_back(track("chk", -7));  // OK: nothing; failing: -7
    c.vrrp_instances.push_back(instance("REV", 100));
    c.vrrp_instances.back().track_script.push_back(track("chk", 10, true));  // OK: -10
    c.vrrp_instances.push_back(instance("NREV", 100));
    c.vrrp_instances.back().track_script.push_back(track("chk", -10, true));  // failing: +10
    c.vrrp_instances.push_back(instance("SREV", 100));
    c.vrrp_instances.back().track_script.push_back(track("rev"));  // the script's own reverse
    Log log;
    Tracker t(c, log.fn(), {}, kUp);
    t.script_result("chk", exited(0));
    t.script_result("rev", exited(0));
    EXPECT_EQ(t.outcome("OVR")->effective_priority, 100);
    EXPECT_EQ(t.outcome("REV")->effective_priority, 90);
    EXPECT_EQ(t.outcome("NREV")->effective_priority, 100);
    EXPECT_EQ(t.outcome("SREV")->effective_priority, 90);
    t.script_result("chk", exited(1));
    EXPECT_EQ(t.outcome("OVR")->effective_priority, 93);
    EXPECT_EQ(t.outcome("REV")->effective_priority, 100);
    EXPECT_EQ(t.outcome("NREV")->effective_priority, 110);
}

TEST(Tracker, WeightZeroWaitsForTheFirstResultThenFaultsOnFailure)
{
    conf::Config c;
    c.vrrp_scripts.push_back(vscript("chk", 0, 1, 2));
    c.vrrp_instances.push_back(instance("VI", 100));
    c.vrrp_instances[0].track_script.push_back(track("chk"));
    c.vrrp_instances.push_back(instance("REV", 100));
    c.vrrp_instances[1].track_script.push_back(track("chk", 0, true));
    Log log;
    Changes ch;
    Tracker t(c, log.fn(), ch.fn(), kUp);
    EXPECT_TRUE(t.outcome("VI")->waiting);
    EXPECT_FALSE(t.outcome("VI")->fault);
    EXPECT_EQ(t.outcome("VI")->reasons, Lines{"script chk has no result yet"});

    t.script_result("chk", exited(0));
    EXPECT_FALSE(t.outcome("VI")->waiting);
    EXPECT_FALSE(t.outcome("VI")->fault);
    EXPECT_TRUE(t.outcome("REV")->fault);  // reverse: FAULT while the script succeeds
    EXPECT_EQ(t.outcome("REV")->reasons, Lines{"script chk succeeded (reverse)"});
    EXPECT_EQ(t.outcome("VI")->effective_priority, 100);

    t.script_result("chk", exited(1));  // fall 2: still OK
    EXPECT_FALSE(t.outcome("VI")->fault);
    t.script_result("chk", exited(1));
    EXPECT_TRUE(t.outcome("VI")->fault);
    EXPECT_FALSE(t.outcome("REV")->fault);
    EXPECT_EQ(t.outcome("VI")->reasons, Lines{"script chk failed"});
    EXPECT_EQ(t.outcome("VI")->effective_priority, 100);  // FAULT, not a priority change
    ASSERT_GE(ch.seen.size(), 2u);
    EXPECT_EQ(ch.seen[ch.seen.size() - 2].first, "VI");
    EXPECT_TRUE(ch.seen[ch.seen.size() - 2].second.fault);
    EXPECT_EQ(ch.seen.back().first, "REV");
    EXPECT_FALSE(ch.seen.back().second.fault);

    t.script_result("chk", exited(0));
    EXPECT_FALSE(t.outcome("VI")->fault);
}

TEST(Tracker, EffectivePriorityIsClampedAndOwnersAreLeftAlone)
{
    conf::Config c;
    c.vrrp_scripts.push_back(vscript("ok", 10));
    c.vrrp_scripts.push_back(vscript("bad", -20));
    c.vrrp_scripts.push_back(vscript("zero", 0));
    c.vrrp_instances.push_back(instance("HIGH", 250));
    c.vrrp_instances.back().track_script.push_back(track("ok"));
    c.vrrp_instances.push_back(instance("LOW", 5));
    c.vrrp_instances.back().track_script.push_back(track("bad"));
    c.vrrp_instances.push_back(instance("OWNER", 255));
    c.vrrp_instances.back().track_script = {track("ok"), track("zero")};
    c.vrrp_instances.back().track_interface.push_back(track_if("eth1", 5));
    Log log;
    Tracker t(c, log.fn(), {}, kUp);
    EXPECT_EQ(log.take(), (Lines{"(OWNER) ignoring eth1 tracked interface due to address owner",
                                 "(OWNER) ignoring tracked script ok with weights due to address_owner"}));
    t.script_result("ok", exited(0));
    t.script_result("bad", exited(1));
    t.script_result("zero", exited(0));
    EXPECT_EQ(t.outcome("HIGH")->effective_priority, 254);
    EXPECT_EQ(t.outcome("HIGH")->adjustment, 10);
    EXPECT_EQ(t.outcome("LOW")->effective_priority, 1);
    EXPECT_EQ(t.outcome("OWNER")->effective_priority, 255);
    EXPECT_EQ(t.outcome("OWNER")->adjustment, 0);
    EXPECT_TRUE(t.outcome("OWNER")->reasons.empty());
    const Lines l = log.take();
    EXPECT_NE(std::find(l.begin(), l.end(), "(HIGH) Changing effective priority from 250 to 254"), l.end());
    EXPECT_NE(std::find(l.begin(), l.end(), "(LOW) Changing effective priority from 5 to 1"), l.end());
    // An owner's weight-0 tracking still means FAULT.
    t.script_result("zero", exited(1));
    EXPECT_TRUE(t.outcome("OWNER")->fault);
}

TEST(Tracker, TrackInterfaceWeightsAndFault)
{
    conf::Config c;
    c.vrrp_instances.push_back(instance("W", 100));
    c.vrrp_instances.back().track_interface = {track_if("eth1", 7), track_if("eth0", 3)};
    c.vrrp_instances.push_back(instance("R", 100));
    c.vrrp_instances.back().track_interface = {track_if("eth1", -7, true)};
    c.vrrp_instances.push_back(instance("Z", 100));
    c.vrrp_instances.back().track_interface = {track_if("eth1")};
    c.vrrp_instances.push_back(instance("NOPRIMARY", 100, "eth2"));
    c.vrrp_instances.back().dont_track_primary = true;
    Log log;
    Changes ch;
    Tracker t(c, log.fn(), ch.fn(), kUp);
    // Known at start: the weight applies at once (keepalived logs it at startup).
    EXPECT_EQ(log.take(), (Lines{"(W) Ignoring track_interface eth0 since own interface",
                                 "(W) Changing effective priority from 100 to 107"}));
    EXPECT_EQ(t.outcome("W")->effective_priority, 107);
    EXPECT_EQ(t.outcome("R")->effective_priority, 100);
    EXPECT_FALSE(t.outcome("Z")->fault);
    EXPECT_FALSE(t.outcome("NOPRIMARY")->fault);  // eth2 unknown, but not tracked

    t.interface_state("eth1", false);
    EXPECT_EQ(t.outcome("W")->effective_priority, 100);
    EXPECT_EQ(t.outcome("R")->effective_priority, 107);
    EXPECT_TRUE(t.outcome("Z")->fault);
    EXPECT_EQ(t.outcome("Z")->reasons, Lines{"interface eth1 down"});
    EXPECT_EQ(log.take(), (Lines{"(W) Changing effective priority from 107 to 100",
                                 "(R) Changing effective priority from 100 to 107"}));
    EXPECT_EQ(ch.seen.size(), 3u);
    t.interface_state("eth1", false);  // no news
    EXPECT_EQ(ch.seen.size(), 3u);

    // The instance's own interface: weight 0.
    t.interface_state("eth0", false);
    EXPECT_TRUE(t.outcome("W")->fault);
    EXPECT_EQ(t.outcome("W")->reasons, Lines{"interface eth0 down"});

    t.interface_state("eth1", true);
    t.interface_state("eth0", true);
    EXPECT_FALSE(t.outcome("Z")->fault);
    EXPECT_FALSE(t.outcome("W")->fault);
    EXPECT_EQ(t.outcome("W")->effective_priority, 107);
    EXPECT_EQ(t.interfaces(), (Lines{"eth0", "eth1"}));
}

TEST(Tracker, InterfacesNotReportedAreDown)
{
    conf::Config c;
    c.vrrp_instances.push_back(instance("VI", 100));
    c.vrrp_instances.back().track_interface = {track_if("eth1")};
    Log log;
    Tracker t(c, log.fn(), {}, {{"eth0", true}});
    EXPECT_TRUE(t.outcome("VI")->fault);
    EXPECT_EQ(log.take(), Lines{"(VI): entering FAULT state (interface eth1 down)"});
    t.interface_state("eth1", true);
    EXPECT_FALSE(t.outcome("VI")->fault);
}

TEST(Tracker, SyncGroupTrackingAppliesToEveryMember)
{
    conf::Config c;
    c.vrrp_scripts.push_back(vscript("grp0", 0));
    c.vrrp_scripts.push_back(vscript("grpw", 5));
    c.vrrp_scripts.push_back(vscript("own", 10));
    c.vrrp_instances.push_back(instance("A", 100));
    c.vrrp_instances.back().sync_group = "G";
    c.vrrp_instances.back().track_script = {track("own")};          // weighted: dropped
    c.vrrp_instances.back().track_interface = {track_if("eth2", 4)};  // "ignored", applied anyway
    c.vrrp_instances.push_back(instance("B", 200));
    c.vrrp_instances.back().sync_group = "G";
    c.vrrp_instances.back().track_script = {track("grp0")};  // also the group's: the group's wins
    conf::VrrpSyncGroup g;
    g.name = "G";
    g.group = {"A", "B"};
    g.track_script = {track("grp0"), track("grpw")};
    g.track_interface = {track_if("eth1", 3)};
    c.vrrp_sync_groups.push_back(g);
    Log log;
    Changes ch;
    std::map<std::string, bool> links = kUp;
    links["eth2"] = true;
    Tracker t(c, log.fn(), ch.fn(), links);
    EXPECT_EQ(log.take(),
              (Lines{"(A) ignoring eth2 tracked interface weight due to SYNC group",
                     "(A) ignoring tracked script own with weights due to SYNC group",
                     "(B) track_script grp0 is configured on VRRP instance and sync group. Remove vrrp instance config",
                     "Warning - script own is not used", "(A) Changing effective priority from 100 to 107",
                     "(B) Changing effective priority from 200 to 203"}));
    EXPECT_EQ(t.used_scripts(), (Lines{"grp0", "grpw"}));
    EXPECT_TRUE(t.outcome("A")->waiting);
    EXPECT_TRUE(t.outcome("B")->waiting);

    t.script_result("grp0", exited(0));
    t.script_result("grpw", exited(0));
    EXPECT_EQ(t.outcome("A")->effective_priority, 112);  // 100 + 3 (eth1) + 4 (eth2) + 5 (grpw)
    EXPECT_EQ(t.outcome("B")->effective_priority, 208);
    EXPECT_FALSE(t.outcome("A")->waiting);

    t.script_result("grp0", exited(1));
    EXPECT_TRUE(t.outcome("A")->fault);
    EXPECT_TRUE(t.outcome("B")->fault);
    t.interface_state("eth2", false);
    EXPECT_EQ(t.outcome("A")->effective_priority, 108);  // the member's weight still applies
    t.script_result("grp0", exited(0));
    t.interface_state("eth1", false);
    EXPECT_FALSE(t.outcome("A")->fault);
    EXPECT_EQ(t.outcome("A")->effective_priority, 105);
    EXPECT_EQ(t.outcome("B")->effective_priority, 205);
}

// global_tracking: the members keep their own weighted scripts.
TEST(Tracker, GlobalTrackingKeepsMembersWeightedScripts)
{
    conf::Config c;
    c.vrrp_scripts.push_back(vscript("own", -10));
    c.vrrp_instances.push_back(instance("A", 100));
    c.vrrp_instances.back().sync_group = "G";
    c.vrrp_instances.back().track_script = {track("own")};
    c.vrrp_instances.push_back(instance("B", 100));
    c.vrrp_instances.back().sync_group = "G";
    conf::VrrpSyncGroup g;
    g.name = "G";
    g.group = {"A", "B"};
    g.global_tracking = true;
    c.vrrp_sync_groups.push_back(g);
    Log log;
    Tracker t(c, log.fn(), {}, kUp);
    EXPECT_EQ(log.take(), Lines{});
    t.script_result("own", exited(1));
    EXPECT_EQ(t.outcome("A")->effective_priority, 90);
    EXPECT_EQ(t.outcome("B")->effective_priority, 100);
}

TEST(Tracker, SyncGroupWeightsAreClearedWithAnOwnerMember)
{
    conf::Config c;
    c.vrrp_scripts.push_back(vscript("grpw", 5));
    c.vrrp_instances.push_back(instance("A", 100));
    c.vrrp_instances.back().sync_group = "G";
    c.vrrp_instances.push_back(instance("O", 255));
    c.vrrp_instances.back().sync_group = "G";
    conf::VrrpSyncGroup g;
    g.name = "G";
    g.group = {"A", "O"};
    g.track_script = {track("grpw")};
    g.track_interface = {track_if("eth1", 3)};
    c.vrrp_sync_groups.push_back(g);
    Log log;
    Tracker t(c, log.fn(), {}, kUp);
    EXPECT_EQ(log.take(),
              (Lines{"(G) Cannot have weighted track interface 'eth1' with member having priority 255 - clearing weight",
                     "(G) Cannot have weighted track script 'grpw' with member having priority 255 - clearing weight"}));
    // Weight 0 now: the group waits for the script, and its failure is FAULT.
    EXPECT_TRUE(t.outcome("A")->waiting);
    t.script_result("grpw", exited(1));
    EXPECT_TRUE(t.outcome("A")->fault);
    EXPECT_TRUE(t.outcome("O")->fault);
    EXPECT_EQ(t.outcome("A")->effective_priority, 100);
}

// The configuration keepalived 2.2.7 was run with (in a network namespace,
// va/vb a veth pair), through conf::load, fed the results its scripts gave:
// the effective priorities are the ones the binary logged.
TEST(Tracker, FromAKeepalivedConfAsThe227BinaryRanIt)
{
    const char* text = R"(
vrrp_script okp { script "/bin/true"
  weight 10 }
vrrp_script okr { script "/bin/true"
  weight 10 reverse }
vrrp_script badn { script "/bin/false"
  weight -10 }
vrrp_script badnr { script "/bin/false"
  weight -10 reverse }
vrrp_script okpif { script "/bin/true"
  weight 10
  init_fail }
vrrp_instance P { interface va
  virtual_router_id 1
  track_script { okp } }
vrrp_instance PR { interface va
  virtual_router_id 2
  track_script { okr } }
vrrp_instance N { interface va
  virtual_router_id 3
  track_script { badn } }
vrrp_instance NR { interface va
  virtual_router_id 4
  track_script { badnr } }
vrrp_instance PIF { interface va
  virtual_router_id 6
  track_script { okpif } }
vrrp_instance CLAMP { interface va
  virtual_router_id 7
  priority 250
  track_script { okp } }
vrrp_instance CLAMPLO { interface va
  virtual_router_id 8
  priority 5
  track_script { badn weight -20 } }
vrrp_instance OVR { interface va
  virtual_router_id 12
  track_script { okp weight -7 } }
vrrp_instance IFW { interface va
  virtual_router_id 13
  track_interface { vb weight 7
  va weight -3 reverse } }
)";
    conf::Diagnostics diags;
    conf::LoadOptions opts;
    opts.check_host = false;
    const conf::Config c = conf::load_text(text, "k.conf", opts, diags);
    ASSERT_FALSE(diags.has_errors());
    Log log;
    Tracker t(c, log.fn(), {}, {{"va", true}, {"vb", true}});
    EXPECT_EQ(log.take(), (Lines{"(IFW) Ignoring track_interface va since own interface",
                                 "(IFW) Changing effective priority from 100 to 107"}));
    for (const char* ok : {"okp", "okr", "okpif"}) t.script_result(ok, exited(0));
    for (const char* bad : {"badn", "badnr"}) t.script_result(bad, exited(3));
    const std::map<std::string, int> expected{{"P", 110},   {"PR", 90},    {"N", 90},   {"NR", 110}, {"PIF", 110},
                                              {"CLAMP", 254}, {"CLAMPLO", 1}, {"OVR", 100}, {"IFW", 107}};
    for (const auto& [name, prio] : expected) {
        ASSERT_NE(t.outcome(name), nullptr) << name;
        EXPECT_EQ(t.outcome(name)->effective_priority, prio) << name;
        EXPECT_FALSE(t.outcome(name)->fault) << name;
    }
    const Lines l = log.take();
    for (const char* line : {"VRRP_Script(okp) succeeded", "Script `badn` now returning 3",
                             "VRRP_Script(badn) failed (exited with status 3)", "(N) Changing effective priority from 100 to 90",
                             "(CLAMPLO) Changing effective priority from 5 to 1", "(NR) Changing effective priority from 100 to 110"})
        EXPECT_NE(std::find(l.begin(), l.end(), line), l.end()) << line;
}

}  // namespace
}  // namespace kadp::vrrp
