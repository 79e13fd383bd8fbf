// Runs on: any (tests). The VRRP state machine on simulated time: every
// expected deadline is computed by hand from keepalived 2.2.7's formulas.
#include "vrrp/instance.h"
#include "vrrp/sync_group.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>
#include "tests/unit/vrrp/vrrp_test_helpers.h"

namespace kadp::vrrp {
namespace {

using namespace std::chrono_literals;

using test::ip;
using test::t0;
using test::vip;

// The helpers' v2 instance with an excluded VIP and gratuitous ARP repeats.
InstanceConfig v2_config()
{
    InstanceConfig c = test::v2_config();
    c.owned.push_back(vip("198.18.9.9/32"));  // virtual_ipaddress_excluded
    c.garp_master_delay = 5s;
    c.garp_master_repeat = 5;
    return c;
}

InstanceConfig v3_config(Micros interval)
{
    InstanceConfig c = v2_config();
    c.version = 3;
    c.advert_interval = interval;
    return c;
}

Advert advert_from(const InstanceConfig& c, std::uint8_t priority, const char* source,
                   std::uint16_t interval_cs)
{
    Advert a;
    a.version = static_cast<std::uint8_t>(c.version);
    a.vrid = c.vrid;
    a.priority = priority;
    a.interval_cs = interval_cs;
    a.addresses = c.advert_addresses;
    a.source = ip(source);
    a.destination = ip("224.0.0.18");
    return a;
}

// A peer's advert with our interval.
Advert peer(const InstanceConfig& c, std::uint8_t priority, const char* source = "198.18.0.2")
{
    return advert_from(c, priority, source, static_cast<std::uint16_t>(c.advert_interval.count() / 10'000));
}

template <class T>
std::vector<T> all(const Actions& actions)
{
    std::vector<T> found;
    for (const Action& a : actions)
        if (const T* t = std::get_if<T>(&a)) found.push_back(*t);
    return found;
}

std::vector<std::string> logs(const Actions& actions)
{
    std::vector<std::string> lines;
    for (const Log& l : all<Log>(actions)) lines.push_back(l.line);
    return lines;
}

bool logged(const Actions& actions, const std::string& line)
{
    for (const std::string& l : logs(actions))
        if (l == line) return true;
    return false;
}

// The kinds of the actions, in order: "advert(100)", "log", "own", "garp(5)", ...
std::vector<std::string> kinds(const Actions& actions)
{
    std::vector<std::string> k;
    for (const Action& a : actions) {
        if (const auto* s = std::get_if<SendAdvert>(&a)) k.push_back("advert(" + std::to_string(s->advert.priority) + ")");
        else if (std::holds_alternative<OwnVips>(a)) k.push_back("own");
        else if (std::holds_alternative<ReleaseVips>(a)) k.push_back("release");
        else if (const auto* g = std::get_if<SendGarp>(&a)) k.push_back("garp(" + std::to_string(g->repeat) + ")");
        else if (const auto* n = std::get_if<Notify>(&a)) k.push_back(std::string("notify ") + to_string(n->state));
        else if (const auto* l = std::get_if<Log>(&a); l && !l->detail) k.push_back("log");
    }
    return k;
}

// Starts `inst` at t0 and lets its master-down timer expire; returns when it became master.
TimePoint make_master(Instance& inst)
{
    inst.start(t0);
    const TimePoint at = *inst.next_deadline();
    inst.on_timer(at);
    EXPECT_EQ(inst.state(), State::master);
    return at;
}

// v2 skew (256 - 100)/256 s = 609375 us, whatever the interval.
constexpr Micros kSkew100{609'375};

// ------------------------------------------------------------- start-up

TEST(VrrpInstance, StartsBackupAndTakesOverAfterExactlyMasterDownIntervalV2)
{
    Instance inst(v2_config());
    const Actions started = inst.start(t0);
    EXPECT_EQ(inst.state(), State::backup);
    EXPECT_EQ(logs(started), std::vector<std::string>{"(VI_1) Entering BACKUP STATE (init)"});
    EXPECT_EQ(all<Notify>(started).size(), 1u);
    EXPECT_EQ(all<Notify>(started)[0].state, State::backup);

    const TimePoint down = t0 + 3s + kSkew100;
    ASSERT_EQ(inst.next_deadline(), down);
    EXPECT_TRUE(inst.on_timer(down - 1us).empty());
    EXPECT_EQ(inst.state(), State::backup);

    const Actions took = inst.on_timer(down);
    EXPECT_EQ(inst.state(), State::master);
    // Advert first (the old master must drop the addresses before our ARPs), then addresses, ARP, notify.
    EXPECT_EQ(kinds(took), (std::vector<std::string>{"advert(100)", "log", "own", "garp(5)", "notify MASTER"}));
    EXPECT_TRUE(logged(took, "(VI_1) Entering MASTER STATE"));
    EXPECT_TRUE(logged(took, "(VI_1) Receive advertisement timeout"));  // a -D line
    const Advert sent = all<SendAdvert>(took)[0].advert;
    EXPECT_EQ(sent.version, 2);
    EXPECT_EQ(sent.vrid, 51);
    EXPECT_EQ(sent.interval_cs, 100);
    EXPECT_EQ(sent.source, ip("198.18.0.1"));
    EXPECT_EQ(sent.destination, ip("224.0.0.18"));
    EXPECT_EQ(sent.ttl, 255);
    EXPECT_EQ(sent.addresses, std::vector<conf::IpAddr>{ip("198.18.0.100")});
    EXPECT_EQ(all<OwnVips>(took)[0].addresses.size(), 2u);  // virtual_ipaddress_excluded too

    // Then one advert per interval.
    EXPECT_EQ(inst.next_deadline(), down + 1s);
    EXPECT_EQ(kinds(inst.on_timer(down + 1s)), std::vector<std::string>{"advert(100)"});
    EXPECT_EQ(inst.next_deadline(), down + 2s);
}

TEST(VrrpInstance, V3WithTenthSecondIntervalTakesOverAfterThreeIntervalsPlusScaledSkew)
{
    Instance inst(v3_config(100ms));
    inst.start(t0);
    // skew = (256 - 100) x 10 cs x 625 / 16 us = 60937 us (integer division, as keepalived).
    const TimePoint down = t0 + 300ms + 60'937us;
    ASSERT_EQ(inst.next_deadline(), down);
    inst.on_timer(down - 1us);
    EXPECT_EQ(inst.state(), State::backup);
    const Actions took = inst.on_timer(down);
    EXPECT_EQ(inst.state(), State::master);
    EXPECT_EQ(all<SendAdvert>(took)[0].advert.interval_cs, 10);
    EXPECT_EQ(all<SendAdvert>(took)[0].advert.version, 3);
    EXPECT_EQ(inst.next_deadline(), down + 100ms);
}

TEST(VrrpInstance, StateMasterBelow255StartsAsBackupWithTheFullDownTimer)
{
    InstanceConfig c = v2_config();
    c.initial_master = true;
    Instance inst(c);
    const Actions started = inst.start(t0);
    EXPECT_EQ(inst.state(), State::backup);
    EXPECT_TRUE(logged(started, "(VI_1) Entering BACKUP STATE (init)"));
    EXPECT_EQ(inst.next_deadline(), t0 + 3s + kSkew100);
}

TEST(VrrpInstance, AddressOwnerBecomesMasterAtOnce)
{
    InstanceConfig c = v2_config();
    c.priority = 255;
    c.initial_master = true;
    Instance inst(c);
    const Actions started = inst.start(t0);
    EXPECT_TRUE(logs(started).empty());  // keepalived's 1 us timeout: no BACKUP state logged
    ASSERT_EQ(inst.next_deadline(), t0 + 1us);
    const Actions took = inst.on_timer(t0 + 1us);
    EXPECT_EQ(inst.state(), State::master);
    EXPECT_EQ(kinds(took), (std::vector<std::string>{"advert(255)", "log", "own", "garp(5)", "notify MASTER"}));
}

TEST(VrrpInstance, FromModelTakesPriority255AsWantingMaster)
{
    conf::VrrpInstance vi;
    vi.name = "VI_9";
    vi.virtual_router_id = 9;
    vi.priority = 255;
    vi.version = 3;
    vi.advert_int = 0.25;
    vi.virtual_ipaddress = {vip("192.0.2.1/24")};
    vi.virtual_ipaddress_excluded = {vip("192.0.2.77/32")};
    vi.garp_master_delay = 2.5;
    vi.garp_master_repeat = 3;
    const InstanceConfig c = InstanceConfig::from_model(vi, ip("192.0.2.10"), ip("224.0.0.18"));
    EXPECT_TRUE(c.initial_master);
    EXPECT_EQ(c.priority, 255);
    EXPECT_EQ(c.advert_interval, 250ms);
    EXPECT_EQ(c.source, ip("192.0.2.10"));
    EXPECT_EQ(c.advert_addresses, std::vector<conf::IpAddr>{ip("192.0.2.1")});
    EXPECT_EQ(c.owned.size(), 2u);
    EXPECT_EQ(c.garp_master_delay, 2500ms);
    EXPECT_EQ(c.garp_master_repeat, 3u);

    vi.priority = 100;
    vi.version = 2;
    vi.advert_int = 2;
    vi.unicast_src_ip = ip("192.0.2.11");
    vi.auth_type = conf::AuthType::pass;
    vi.auth_pass = "secret";
    const InstanceConfig d = InstanceConfig::from_model(vi, ip("192.0.2.10"), ip("224.0.0.18"));
    EXPECT_FALSE(d.initial_master);
    EXPECT_EQ(d.advert_interval, 2s);
    EXPECT_EQ(d.source, ip("192.0.2.11"));
    EXPECT_EQ(d.auth_type, AuthType::pass);
    EXPECT_EQ(d.auth_data[0], 's');
    EXPECT_EQ(d.auth_data[6], 0);
}

// --------------------------------------------------------------- backup

TEST(VrrpInstance, PriorityZeroAdvertShortensTheTimerToTheSkew)
{
    const InstanceConfig c = v2_config();
    Instance inst(c);
    inst.start(t0);
    inst.on_advert(t0 + 1s, peer(c, 200));  // a master is there
    EXPECT_EQ(inst.next_deadline(), t0 + 1s + 3s + kSkew100);
    const Actions got = inst.on_advert(t0 + 2s, peer(c, 0));
    EXPECT_TRUE(logged(got, "(VI_1) Backup received priority 0 advertisement"));
    ASSERT_EQ(inst.next_deadline(), t0 + 2s + kSkew100);
    inst.on_timer(t0 + 2s + kSkew100);
    EXPECT_EQ(inst.state(), State::master);
}

TEST(VrrpInstance, BackupHigherOrEqualPriorityAdvertRestartsTheDownTimer)
{
    const InstanceConfig c = v2_config();
    Instance inst(c);
    inst.start(t0);
    for (int i = 1; i <= 10; ++i) inst.on_advert(t0 + i * 1s, peer(c, i % 2 ? 150 : 100));
    EXPECT_EQ(inst.state(), State::backup);
    EXPECT_EQ(inst.next_deadline(), t0 + 10s + 3s + kSkew100);
}

TEST(VrrpInstance, BackupDiscardsLowerPriorityAdvertAndPreempts)
{
    const InstanceConfig c = v2_config();
    Instance inst(c);
    inst.start(t0);
    const TimePoint down = t0 + 3s + kSkew100;
    const Actions got = inst.on_advert(t0 + 1s, peer(c, 50));
    EXPECT_EQ(logs(got), std::vector<std::string>{"(VI_1) received lower priority (50) advert from 198.18.0.2 - discarding"});
    inst.on_advert(t0 + 2s, peer(c, 50));
    EXPECT_EQ(inst.next_deadline(), down);  // the timer was not restarted
    inst.on_timer(down);
    EXPECT_EQ(inst.state(), State::master);
}

TEST(VrrpInstance, NopreemptAcceptsLowerPriorityMaster)
{
    InstanceConfig c = v2_config();
    c.nopreempt = true;
    Instance inst(c);
    inst.start(t0);
    for (int i = 1; i <= 10; ++i) {
        const Actions got = inst.on_advert(t0 + i * 1s, peer(c, 50));
        EXPECT_TRUE(logs(got).empty());
        inst.on_timer(t0 + i * 1s);
    }
    EXPECT_EQ(inst.state(), State::backup);
    EXPECT_EQ(inst.next_deadline(), t0 + 10s + 3s + kSkew100);
}

TEST(VrrpInstance, PreemptDelayHoldsBackUntilItRunsOutThenTheDownTimer)
{
    InstanceConfig c = v2_config();
    c.preempt_delay = 2s;
    Instance inst(c);
    inst.start(t0);
    // The first lower-priority advert starts the delay and is accepted.
    const Actions first = inst.on_advert(t0 + 1s, peer(c, 50));
    EXPECT_TRUE(logged(first, "(VI_1) start preempt delay (2.000000)"));
    EXPECT_EQ(inst.next_deadline(), t0 + 1s + 3s + kSkew100);
    // Still within the delay: accepted.
    EXPECT_TRUE(logs(inst.on_advert(t0 + 2s, peer(c, 50))).empty());
    EXPECT_EQ(inst.next_deadline(), t0 + 2s + 3s + kSkew100);
    // The delay has run out (t0 + 3s is not before it ends): discarded from now on.
    EXPECT_TRUE(logged(inst.on_advert(t0 + 3s, peer(c, 50)),
                       "(VI_1) received lower priority (50) advert from 198.18.0.2 - discarding"));
    inst.on_advert(t0 + 4s, peer(c, 50));
    const TimePoint takeover = t0 + 2s + 3s + kSkew100;
    ASSERT_EQ(inst.next_deadline(), takeover);
    inst.on_timer(takeover - 1us);
    EXPECT_EQ(inst.state(), State::backup);
    inst.on_timer(takeover);
    EXPECT_EQ(inst.state(), State::master);
}

TEST(VrrpInstance, PreemptDelayStopsWhenAHigherPriorityMasterAppears)
{
    InstanceConfig c = v2_config();
    c.preempt_delay = 2s;
    Instance inst(c);
    inst.start(t0);
    inst.on_advert(t0 + 1s, peer(c, 50));
    EXPECT_TRUE(logged(inst.on_advert(t0 + 2s, peer(c, 200)), "(VI_1) stop preempt delay"));
    // The delay starts afresh with the next lower-priority advert.
    EXPECT_TRUE(logged(inst.on_advert(t0 + 5s, peer(c, 50)), "(VI_1) start preempt delay (2.000000)"));
    EXPECT_TRUE(logs(inst.on_advert(t0 + 6s, peer(c, 50))).empty());
}

TEST(VrrpInstance, V3BackupAdoptsTheMastersInterval)
{
    const InstanceConfig c = v3_config(1s);
    Instance inst(c);
    inst.start(t0);
    const Actions got = inst.on_advert(t0 + 1s, advert_from(c, 200, "198.18.0.2", 50));
    EXPECT_TRUE(logged(got, "(VI_1) advertisement interval updated from 1000ms to 500ms by master"));
    EXPECT_EQ(inst.master_advert_interval(), 500ms);
    // 3 x 0.5 s + (256 - 100) x 50 cs x 625 / 16 us.
    EXPECT_EQ(inst.next_deadline(), t0 + 1s + 1500ms + 304'687us);
    // Our own adverts keep our interval once we are master, and the down
    // timer falls back to it.
    inst.on_timer(*inst.next_deadline());
    ASSERT_EQ(inst.state(), State::master);
    EXPECT_EQ(inst.master_advert_interval(), 1s);
}

TEST(VrrpInstance, V2DropsAdvertWithAnotherInterval)
{
    const InstanceConfig c = v2_config();
    Instance inst(c);
    inst.start(t0);
    const Actions got = inst.on_advert(t0 + 1s, advert_from(c, 200, "198.18.0.2", 200));
    EXPECT_EQ(logs(got), std::vector<std::string>{"(VI_1) advertisement interval mismatch mine=1 sec rcv'd=2 sec"});
    EXPECT_EQ(inst.next_deadline(), t0 + 3s + kSkew100);  // as if nothing was received
    inst.on_timer(t0 + 3s + kSkew100);
    EXPECT_EQ(inst.state(), State::master);
}

TEST(VrrpInstance, AdvertWithOtherAddressesIsDropped)
{
    const InstanceConfig c = v2_config();
    Instance inst(c);
    inst.start(t0);
    Advert a = peer(c, 200);
    a.addresses = {ip("198.18.0.101")};
    EXPECT_EQ(logs(inst.on_advert(t0 + 1s, a)),
              std::vector<std::string>{"(VI_1) ip address associated with VRID 51 not present in MASTER advert: 198.18.0.100"});
    a.addresses = {ip("198.18.0.100"), ip("198.18.0.101")};
    EXPECT_EQ(logs(inst.on_advert(t0 + 2s, a)),
              std::vector<std::string>{"(VI_1) received an unexpected ip number count 2, expected 1!"});
    EXPECT_EQ(inst.next_deadline(), t0 + 3s + kSkew100);
}

// --------------------------------------------------------------- master

TEST(VrrpInstance, MasterStepsDownOnHigherPriorityAndReleasesTheAddresses)
{
    const InstanceConfig c = v2_config();
    Instance inst(c);
    const TimePoint m = make_master(inst);
    const Actions got = inst.on_advert(m + 500ms, peer(c, 150));
    EXPECT_EQ(inst.state(), State::backup);
    EXPECT_FALSE(inst.owns_vips());
    EXPECT_EQ(kinds(got), (std::vector<std::string>{"log", "log", "release", "notify BACKUP"}));
    EXPECT_EQ(logs(got), (std::vector<std::string>{
                             "(VI_1) Master received advert from 198.18.0.2 with higher priority 150, ours 100",
                             "(VI_1) Entering BACKUP STATE"}));
    EXPECT_EQ(all<ReleaseVips>(got)[0].addresses.size(), 2u);
    EXPECT_EQ(inst.next_deadline(), m + 500ms + 3s + kSkew100);
    // The pending second gratuitous ARP burst (due at m + 5 s) is gone with the addresses.
    for (int i = 1; i <= 5; ++i) inst.on_advert(m + 500ms + i * 1s, peer(c, 150));
    EXPECT_TRUE(inst.on_timer(m + 5s).empty());
    EXPECT_EQ(inst.next_deadline(), m + 5500ms + 3s + kSkew100);
}

TEST(VrrpInstance, EqualPriorityTieGoesToTheHigherSourceAddress)
{
    const InstanceConfig c = v2_config();  // we are 198.18.0.1
    Instance low_peer(c);
    const TimePoint m = make_master(low_peer);
    const Actions kept = low_peer.on_advert(m + 100ms, peer(c, 100, "198.18.0.0"));
    EXPECT_EQ(low_peer.state(), State::master);
    EXPECT_EQ(kinds(kept), (std::vector<std::string>{"log", "advert(100)"}));
    EXPECT_EQ(logs(kept), std::vector<std::string>{
                              "(VI_1) Received advert from 198.18.0.0 with lower priority 100, ours 100, forcing new election"});

    Instance high_peer(c);
    const TimePoint n = make_master(high_peer);
    const Actions lost = high_peer.on_advert(n + 100ms, peer(c, 100, "198.18.0.2"));
    EXPECT_EQ(high_peer.state(), State::backup);
    EXPECT_TRUE(logged(lost, "(VI_1) Master received advert from 198.18.0.2 with same priority 100 but higher IP "
                             "address than ours"));
}

TEST(VrrpInstance, TwoAddressOwnersTheLocalOneGivesWay)
{
    InstanceConfig c = v2_config();
    c.priority = 255;
    c.initial_master = true;
    Instance inst(c);
    const TimePoint m = make_master(inst);
    const Actions got = inst.on_advert(m + 100ms, peer(c, 255, "198.18.0.0"));  // lower address, still 255
    EXPECT_TRUE(logged(got, "(VI_1) CONFIGURATION ERROR: local instance and a remote instance are both configured "
                            "as address owner, please fix - reducing local priority"));
    EXPECT_EQ(inst.effective_priority(), 254);
    EXPECT_EQ(inst.state(), State::backup);
}

TEST(VrrpInstance, MasterAnswersLowerPriorityAdvertAtOnceAndRestartsItsTimer)
{
    const InstanceConfig c = v2_config();
    Instance inst(c);
    const TimePoint m = make_master(inst);
    const Actions got = inst.on_advert(m + 300ms, peer(c, 50));
    EXPECT_EQ(inst.state(), State::master);
    EXPECT_EQ(all<SendAdvert>(got).size(), 1u);
    EXPECT_EQ(all<SendAdvert>(got)[0].advert.priority, 100);
    EXPECT_EQ(inst.next_deadline(), m + 1s + 300ms);
}

TEST(VrrpInstance, MasterAnswersPriorityZeroAndStaysMaster)
{
    const InstanceConfig c = v2_config();
    Instance inst(c);
    const TimePoint m = make_master(inst);
    const Actions got = inst.on_advert(m + 300ms, peer(c, 0));
    EXPECT_EQ(inst.state(), State::master);
    EXPECT_EQ(kinds(got), std::vector<std::string>{"advert(100)"});
    EXPECT_EQ(inst.next_deadline(), m + 1300ms);
    // Another VRID's advert does not touch this instance (not even its timer).
    Advert other = peer(c, 0);
    other.vrid = 52;
    EXPECT_TRUE(inst.on_advert(m + 600ms, other).empty());
    EXPECT_EQ(inst.next_deadline(), m + 1300ms);
}

TEST(VrrpInstance, UnicastSendsOneAdvertPerPeer)
{
    InstanceConfig c = v2_config();
    c.unicast_peers = {ip("198.18.0.2"), ip("198.18.0.3")};
    Instance inst(c);
    inst.start(t0);
    const Actions took = inst.on_timer(*inst.next_deadline());
    const auto sent = all<SendAdvert>(took);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].advert.destination, ip("198.18.0.2"));
    EXPECT_EQ(sent[1].advert.destination, ip("198.18.0.3"));
}

TEST(VrrpInstance, StopSendsPriorityZeroOnlyFromMaster)
{
    const InstanceConfig c = v2_config();
    Instance master(c);
    const TimePoint m = make_master(master);
    const Actions stopped = master.stop(m + 200ms);
    EXPECT_EQ(kinds(stopped), (std::vector<std::string>{"advert(0)", "release", "notify STOP"}));
    EXPECT_EQ(master.state(), State::stop);
    EXPECT_FALSE(master.next_deadline());

    Instance backup(c);
    backup.start(t0);
    EXPECT_EQ(kinds(backup.stop(t0 + 1s)), std::vector<std::string>{"notify STOP"});
}

// ------------------------------------------------------ gratuitous ARP

TEST(VrrpInstance, GarpBurstThenAgainAfterTheDelay)
{
    InstanceConfig c = v2_config();
    c.garp_master_repeat = 3;
    c.garp_master_delay = 5s;
    Instance inst(c);
    const TimePoint m = make_master(inst);
    std::vector<std::pair<Micros, unsigned>> bursts;  // (time since master, repeat)
    for (TimePoint now = m; now <= m + 20s; now = *inst.next_deadline()) {
        for (const SendGarp& g : all<SendGarp>(inst.on_timer(now))) {
            bursts.emplace_back(std::chrono::duration_cast<Micros>(now - m), g.repeat);
            EXPECT_EQ(g.addresses, (std::vector<conf::IpAddr>{ip("198.18.0.100"), ip("198.18.9.9")}));
        }
    }
    EXPECT_EQ(bursts, (std::vector<std::pair<Micros, unsigned>>{{5s, 3}}));
}

TEST(VrrpInstance, GarpRefreshWhileMasterAtAdvertTicks)
{
    InstanceConfig c = v2_config();
    c.garp_master_delay = 0s;  // no second burst
    c.garp_master_refresh = 10s;
    c.garp_master_refresh_repeat = 2;
    Instance inst(c);
    const TimePoint m = make_master(inst);
    std::vector<Micros> refreshes;
    for (TimePoint now = m + 1s; now <= m + 30s; now = *inst.next_deadline()) {
        for (const SendGarp& g : all<SendGarp>(inst.on_timer(now))) {
            EXPECT_EQ(g.repeat, 2u);
            refreshes.push_back(std::chrono::duration_cast<Micros>(now - m));
        }
    }
    // Checked when advertising, once the refresh time has passed (strictly).
    EXPECT_EQ(refreshes, (std::vector<Micros>{11s, 22s}));
}

// ------------------------------------------------------------ trackers

TEST(VrrpInstance, EffectivePriorityIsBasePlusWeightsClamped)
{
    const InstanceConfig c = v2_config();
    Instance inst(c);
    inst.start(t0);
    const Actions up = inst.set_priority_adjustment(t0, 50);
    EXPECT_EQ(logs(up), std::vector<std::string>{"(VI_1) Changing effective priority from 100 to 150"});
    EXPECT_EQ(inst.effective_priority(), 150);
    // The pending down timer shrinks with the skew: (256 - 150)/256 s = 414062 us.
    EXPECT_EQ(inst.next_deadline(), t0 + 3s + 414'062us);

    inst.set_priority_adjustment(t0, 500);
    EXPECT_EQ(inst.effective_priority(), 254);
    inst.set_priority_adjustment(t0, -500);
    EXPECT_EQ(inst.effective_priority(), 1);
    EXPECT_TRUE(inst.set_priority_adjustment(t0, -499).empty());  // still 1: nothing to say

    inst.set_priority_adjustment(t0, 20);
    inst.on_timer(*inst.next_deadline());
    ASSERT_EQ(inst.state(), State::master);
    EXPECT_EQ(all<SendAdvert>(inst.on_timer(*inst.next_deadline()))[0].advert.priority, 120);
}

TEST(VrrpInstance, AddressOwnerPriorityIsNeverAdjusted)
{
    InstanceConfig c = v2_config();
    c.priority = 255;
    Instance inst(c);
    inst.start(t0);
    EXPECT_TRUE(inst.set_priority_adjustment(t0, -100).empty());
    EXPECT_EQ(inst.effective_priority(), 255);
}

TEST(VrrpInstance, LoweredMasterStepsDownWhenTheBackupOutbidsIt)
{
    const InstanceConfig c = v2_config();
    Instance inst(c);
    const TimePoint m = make_master(inst);
    inst.set_priority_adjustment(m, -30);
    EXPECT_EQ(all<SendAdvert>(inst.on_timer(m + 1s))[0].advert.priority, 70);
    inst.on_advert(m + 1500ms, peer(c, 90));
    EXPECT_EQ(inst.state(), State::backup);
}

TEST(VrrpInstance, FaultFromMasterSendsPriorityZeroAndRecoversToBackup)
{
    const InstanceConfig c = v2_config();
    Instance inst(c);
    const TimePoint m = make_master(inst);
    const Actions fault = inst.set_fault(m + 100ms, true);
    EXPECT_EQ(inst.state(), State::fault);
    // keepalived's down_instance sends the priority-0 advert twice.
    EXPECT_EQ(kinds(fault), (std::vector<std::string>{"log", "advert(0)", "advert(0)", "release", "notify FAULT"}));
    EXPECT_TRUE(logged(fault, "(VI_1) Entering FAULT STATE"));
    EXPECT_FALSE(inst.next_deadline());
    EXPECT_TRUE(inst.on_advert(m + 1s, peer(c, 50)).empty());  // adverts are ignored in FAULT
    EXPECT_TRUE(inst.set_fault(m + 1s, true).empty());

    const Actions up = inst.set_fault(m + 2s, false);
    EXPECT_EQ(inst.state(), State::backup);
    EXPECT_EQ(kinds(up), (std::vector<std::string>{"log", "notify BACKUP"}));
    EXPECT_TRUE(logged(up, "(VI_1) Entering BACKUP STATE"));
    EXPECT_EQ(inst.next_deadline(), m + 2s + 3s + kSkew100);
}

TEST(VrrpInstance, FaultBeforeStartEntersFaultAtInit)
{
    Instance inst(v2_config());
    EXPECT_TRUE(inst.set_fault(t0, true).empty());
    const Actions started = inst.start(t0);
    EXPECT_EQ(inst.state(), State::fault);
    EXPECT_EQ(logs(started), std::vector<std::string>{"(VI_1) Entering FAULT STATE (init)"});
    inst.set_fault(t0 + 1s, false);
    EXPECT_EQ(inst.state(), State::backup);
}

TEST(VrrpInstance, OwnerRecoveringFromFaultGoesStraightToMaster)
{
    InstanceConfig c = v2_config();
    c.priority = 255;
    c.initial_master = true;
    Instance inst(c);
    make_master(inst);
    inst.set_fault(t0 + 5s, true);
    const Actions up = inst.set_fault(t0 + 6s, false);
    EXPECT_EQ(inst.state(), State::master);
    EXPECT_EQ(kinds(up), (std::vector<std::string>{"advert(255)", "log", "own", "garp(5)", "notify MASTER"}));
}

// ----------------------------------------------------------- sync groups

struct Pair {
    InstanceConfig a_cfg = v2_config();
    InstanceConfig b_cfg = [] {
        InstanceConfig c = v2_config();
        c.name = "VI_2";
        c.vrid = 52;
        c.priority = 90;
        c.advert_addresses = {ip("198.18.1.100")};
        c.owned = {vip("198.18.1.100/24")};
        return c;
    }();
    Instance a{a_cfg};
    Instance b{b_cfg};
    SyncGroup group{"G1", {&a, &b}};
};

TEST(VrrpSyncGroup, BecomesMasterOnlyTogether)
{
    Pair p;
    p.group.start(t0);
    EXPECT_EQ(p.group.state(), State::backup);
    const TimePoint a_down = t0 + 3s + kSkew100;
    const TimePoint b_down = t0 + 3s + Micros(166 * 1'000'000 / 256);
    ASSERT_LT(a_down, b_down);
    // VI_1 times out first but VI_2 does not want MASTER yet: VI_1 waits.
    EXPECT_TRUE(all<SendAdvert>([&] {
                    Actions flat;
                    for (auto& m : p.group.on_timer(p.a, a_down)) flat.push_back(m.action);
                    return flat;
                }()).empty());
    EXPECT_EQ(p.a.state(), State::backup);
    EXPECT_TRUE(p.a.wants_master());
    // VI_2 times out: both go MASTER at once.
    const MemberActions both = p.group.on_timer(p.b, b_down);
    EXPECT_EQ(p.a.state(), State::master);
    EXPECT_EQ(p.b.state(), State::master);
    EXPECT_EQ(p.group.state(), State::master);
    bool group_log = false;
    for (const MemberAction& m : both)
        if (const auto* l = std::get_if<Log>(&m.action); l && m.instance == nullptr)
            group_log = l->line == "VRRP_Group(G1) Syncing instances to MASTER state";
    EXPECT_TRUE(group_log);
}

TEST(VrrpSyncGroup, OneMemberBackToBackupTakesTheOthers)
{
    Pair p;
    p.group.start(t0);
    p.group.on_timer(p.a, t0 + 3s + kSkew100);
    p.group.on_timer(p.b, *p.b.next_deadline());
    ASSERT_EQ(p.group.state(), State::master);
    const MemberActions got = p.group.on_advert(p.b, t0 + 5s, peer(p.b_cfg, 200));
    EXPECT_EQ(p.a.state(), State::backup);
    EXPECT_EQ(p.b.state(), State::backup);
    EXPECT_FALSE(p.a.owns_vips());
    EXPECT_EQ(p.group.state(), State::backup);
    int released = 0;
    for (const MemberAction& m : got) released += std::holds_alternative<ReleaseVips>(m.action);
    EXPECT_EQ(released, 2);
}

TEST(VrrpSyncGroup, AFaultyMemberPutsAllInFaultUntilItRecovers)
{
    Pair p;
    p.group.start(t0);
    p.group.on_timer(p.a, t0 + 3s + kSkew100);
    p.group.on_timer(p.b, *p.b.next_deadline());
    ASSERT_EQ(p.a.state(), State::master);
    p.group.set_fault(p.b, t0 + 6s, true);
    EXPECT_EQ(p.a.state(), State::fault);
    EXPECT_EQ(p.b.state(), State::fault);
    EXPECT_EQ(p.group.state(), State::fault);
    // A second fault and the first one clearing: still FAULT.
    p.group.set_fault(p.a, t0 + 7s, true);
    p.group.set_fault(p.b, t0 + 8s, false);
    EXPECT_EQ(p.a.state(), State::fault);
    EXPECT_EQ(p.b.state(), State::fault);
    // The last one clears: all come back as BACKUP.
    p.group.set_fault(p.a, t0 + 9s, false);
    EXPECT_EQ(p.a.state(), State::backup);
    EXPECT_EQ(p.b.state(), State::backup);
    EXPECT_EQ(p.group.state(), State::backup);
}

TEST(VrrpSyncGroup, OwnerHeldByTheGroupWaitsAFullDownIntervalNotOneMicrosecond)
{
    InstanceConfig owner_cfg = v2_config();
    owner_cfg.priority = 255;
    owner_cfg.initial_master = true;
    InstanceConfig other_cfg = v2_config();
    other_cfg.name = "VI_2";
    other_cfg.vrid = 52;
    Instance owner(owner_cfg);
    Instance other(other_cfg);
    SyncGroup group("G1", {&owner, &other});
    group.start(t0);
    ASSERT_EQ(owner.next_deadline(), t0 + 1us);
    group.on_timer(owner, t0 + 1us);
    EXPECT_EQ(owner.state(), State::backup);  // VI_2 does not want MASTER yet
    // (256 - 255)/256 s = 3906 us of skew.
    EXPECT_EQ(owner.next_deadline(), t0 + 1us + 3s + 3906us);
    // VI_2's own timeout brings both up.
    group.on_timer(other, t0 + 3s + kSkew100);
    EXPECT_EQ(owner.state(), State::master);
    EXPECT_EQ(other.state(), State::master);
}

}  // namespace
}  // namespace kadp::vrrp
