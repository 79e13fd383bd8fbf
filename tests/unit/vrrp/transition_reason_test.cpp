// Runs on: any (tests). Why and when a VRRP instance last changed state, and
// whom it takes for master (kadpctl vrrp), on simulated time: startup,
// the master down timer, a priority-0 advert, preemption of a lower
// priority master, a higher priority advert, a fault and its end, the
// address owner, a sync group, stop.
#include "vrrp/instance.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/vrrp/vrrp_test_helpers.h"

namespace kadp::vrrp {
namespace {

using namespace std::chrono_literals;

using test::ip;
using test::t0;

InstanceConfig config(std::uint8_t priority = 100)
{
    InstanceConfig c = test::v2_config();
    c.priority = priority;
    c.initial_master = priority == 255;
    return c;
}

Advert peer(std::uint8_t priority, const char* source = "198.18.0.2")
{
    Advert a;
    a.version = 2;
    a.vrid = 51;
    a.priority = priority;
    a.interval_cs = 100;
    a.addresses = {ip("198.18.0.100")};
    a.source = ip(source);
    a.destination = ip("224.0.0.18");
    return a;
}

// Runs the timer until the deadline passes `until` (or there is none).
void run_timers(Instance& i, TimePoint until)
{
    while (auto d = i.next_deadline()) {
        if (*d > until) break;
        i.on_timer(*d);
    }
}

TEST(VrrpTransitionReason, StartupThenMasterDownTimerWithoutAnyAdvert)
{
    Instance i(config());
    EXPECT_STREQ(i.transition_reason(), "");
    EXPECT_FALSE(i.transition_time());
    EXPECT_FALSE(i.master_address());
    i.start(t0);
    EXPECT_EQ(i.state(), State::backup);
    EXPECT_STREQ(i.transition_reason(), "startup");
    EXPECT_EQ(i.transition_time(), t0);
    EXPECT_FALSE(i.master_address());  // nobody heard yet
    const TimePoint due = *i.next_deadline();
    i.on_timer(due);
    EXPECT_EQ(i.state(), State::master);
    EXPECT_STREQ(i.transition_reason(), "master down timer expired (no advert since we became backup)");
    EXPECT_EQ(i.transition_time(), due);
    EXPECT_EQ(i.master_address(), ip("198.18.0.1"));  // ourselves
    EXPECT_EQ(i.base_priority(), 100);
}

TEST(VrrpTransitionReason, BackupKnowsItsMasterThenTheMasterFallsSilent)
{
    Instance i(config());
    i.start(t0);
    i.on_advert(t0 + 1s, peer(150));
    EXPECT_EQ(i.state(), State::backup);
    EXPECT_EQ(i.master_address(), ip("198.18.0.2"));
    EXPECT_EQ(i.transition_time(), t0);  // an advert is no transition
    const TimePoint due = *i.next_deadline();
    i.on_timer(due);
    EXPECT_EQ(i.state(), State::master);
    EXPECT_STREQ(i.transition_reason(), "master down timer expired (the master stopped advertising)");
    EXPECT_EQ(i.transition_time(), due);
}

TEST(VrrpTransitionReason, PriorityZeroFromTheMaster)
{
    Instance i(config());
    i.start(t0);
    i.on_advert(t0 + 1s, peer(150));
    i.on_advert(t0 + 2s, peer(0));
    EXPECT_EQ(i.master_address(), ip("198.18.0.2"));  // until we take over
    run_timers(i, t0 + 3s);
    EXPECT_EQ(i.state(), State::master);
    EXPECT_STREQ(i.transition_reason(), "priority 0 advert from the master (it is shutting down)");
}

TEST(VrrpTransitionReason, PreemptsALowerPriorityMaster)
{
    Instance i(config());
    i.start(t0);
    i.on_advert(t0 + 1s, peer(50));
    EXPECT_EQ(i.state(), State::backup);
    EXPECT_EQ(i.master_address(), ip("198.18.0.2"));
    run_timers(i, t0 + 10s);
    EXPECT_EQ(i.state(), State::master);
    EXPECT_STREQ(i.transition_reason(), "preempt (the master's priority is lower than ours)");
}

// nopreempt: a lower priority master is accepted; taking over then means it fell silent.
TEST(VrrpTransitionReason, NopreemptTakesOverOnlyWhenTheLowerMasterFallsSilent)
{
    InstanceConfig c = config();
    c.nopreempt = true;
    Instance i(c);
    i.start(t0);
    i.on_advert(t0 + 1s, peer(50));
    EXPECT_EQ(i.master_address(), ip("198.18.0.2"));
    i.on_advert(t0 + 2s, peer(50));
    EXPECT_EQ(i.state(), State::backup);
    run_timers(i, t0 + 10s);
    EXPECT_EQ(i.state(), State::master);
    EXPECT_STREQ(i.transition_reason(), "master down timer expired (the master stopped advertising)");
}

TEST(VrrpTransitionReason, MasterStepsDownOnHigherPriorityAndOnAHigherAddress)
{
    Instance i(config());
    i.start(t0);
    run_timers(i, t0 + 10s);
    ASSERT_EQ(i.state(), State::master);
    i.on_advert(t0 + 11s, peer(200, "198.18.0.7"));
    EXPECT_EQ(i.state(), State::backup);
    EXPECT_STREQ(i.transition_reason(), "higher priority advert");
    EXPECT_EQ(i.transition_time(), t0 + 11s);
    EXPECT_EQ(i.master_address(), ip("198.18.0.7"));

    Instance j(config());
    j.start(t0);
    run_timers(j, t0 + 10s);
    j.on_advert(t0 + 11s, peer(100, "198.18.0.9"));  // same priority, higher address
    EXPECT_EQ(j.state(), State::backup);
    EXPECT_STREQ(j.transition_reason(), "equal priority advert from a higher address");
    EXPECT_EQ(j.master_address(), ip("198.18.0.9"));
}

TEST(VrrpTransitionReason, FaultAndRecovery)
{
    Instance i(config());
    i.start(t0);
    run_timers(i, t0 + 10s);
    i.set_fault(t0 + 12s, true);
    EXPECT_EQ(i.state(), State::fault);
    EXPECT_STREQ(i.transition_reason(), "fault (a tracked script or interface failed)");
    EXPECT_EQ(i.transition_time(), t0 + 12s);
    EXPECT_FALSE(i.master_address());
    i.set_fault(t0 + 13s, false);
    EXPECT_EQ(i.state(), State::backup);
    EXPECT_STREQ(i.transition_reason(), "fault cleared");
    EXPECT_FALSE(i.master_address());  // not heard since

    Instance f(config());
    f.set_fault(t0, true);
    f.start(t0);
    EXPECT_EQ(f.state(), State::fault);
    EXPECT_STREQ(f.transition_reason(), "startup in fault (a tracked script or interface is down)");
}

TEST(VrrpTransitionReason, AddressOwnerSyncGroupAndStop)
{
    Instance o(config(255));
    o.start(t0);
    run_timers(o, t0 + 1s);
    EXPECT_EQ(o.state(), State::master);
    EXPECT_STREQ(o.transition_reason(), "address owner (priority 255) at startup");

    Instance s(config());
    s.start(t0);
    s.sync_to_master(t0 + 1s);
    EXPECT_EQ(s.state(), State::master);
    EXPECT_STREQ(s.transition_reason(), "sync group");
    s.stop(t0 + 2s);
    EXPECT_EQ(s.state(), State::stop);
    EXPECT_STREQ(s.transition_reason(), "stopped");
    EXPECT_EQ(s.transition_time(), t0 + 2s);
    EXPECT_FALSE(s.master_address());
}

}  // namespace
}  // namespace kadp::vrrp
