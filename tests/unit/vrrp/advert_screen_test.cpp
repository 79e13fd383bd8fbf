// Runs on: any (tests). Hostile adverts (docs/vrrp.md "Hostile adverts"):
// each is built with the codec, goes through the receive path the
// VrrpService runs (decode, VRID lookup, screen_advert, then the state
// machine) and must be counted under its reason and change no state.
#include "vrrp/advert_screen.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vrrp/codec.h"
#include "vrrp/instance.h"
#include "tests/unit/vrrp/vrrp_test_helpers.h"

namespace kadp::vrrp {
namespace {

using namespace std::chrono_literals;

using test::ip;
using test::t0;
using test::v2_config;

// A peer's advert as the instance would accept it, from `source`.
Advert peer_advert(const InstanceConfig& c, std::uint8_t priority, const char* source = "198.18.0.2")
{
    Advert a = own_advert(c);
    a.priority = priority;
    a.source = ip(source);
    a.destination = c.unicast_peers.empty() ? c.group : c.source;
    return a;
}

std::vector<std::uint8_t> wire(const Advert& a)
{
    auto p = encode_ipv4(a, 7);
    EXPECT_TRUE(p.ok()) << p.text;
    return p.value;
}

// One instance on one socket: the service's receive path
// (receive_advert), then the state machine when it lets the advert through.
struct Receiver {
    explicit Receiver(InstanceConfig c) : inst(c), mine(own_advert(c)) {}
    Instance inst;
    Advert mine;
    DropCounters instance_drops;
    DropCounters service_drops;
    Actions last;
    bool reached = false;  // the last packet got to the state machine
    std::string log;       // what the last packet had logged

    void receive(TimePoint now, const std::vector<std::uint8_t>& packet)
    {
        last.clear();
        const auto find = [this](std::uint8_t vrid) {
            if (vrid != inst.config().vrid) return ScreenTarget{};
            return ScreenTarget{&inst.config(), &mine, &instance_drops};
        };
        const Reception r = receive_advert(packet, "lan", find, service_drops);
        reached = r.accepted;
        log = r.log;
        if (r.accepted) last = inst.on_advert(now, r.advert);
    }
};

TimePoint make_master(Instance& inst)
{
    inst.start(t0);
    const TimePoint at = *inst.next_deadline();
    inst.on_timer(at);
    EXPECT_EQ(inst.state(), State::master);
    return at;
}

template <class T>
bool has(const Actions& actions)
{
    for (const Action& a : actions)
        if (std::holds_alternative<T>(a)) return true;
    return false;
}

// Control: the receive path is live, so the drops below are the checks'.
TEST(VrrpHostileAdvert, ValidHigherPriorityAdvertMakesTheMasterStepDown)
{
    Receiver rx(v2_config());
    const TimePoint t = make_master(rx.inst);
    rx.receive(t + 100ms, wire(peer_advert(rx.inst.config(), 200)));
    EXPECT_TRUE(rx.reached);
    EXPECT_EQ(rx.inst.state(), State::backup);
    EXPECT_TRUE(has<ReleaseVips>(rx.last));
    EXPECT_TRUE(rx.service_drops.by_reason().empty());
}

TEST(VrrpHostileAdvert, TtlBelow255IsCountedAndTheMasterStays)
{
    Receiver rx(v2_config());
    const TimePoint t = make_master(rx.inst);
    const auto deadline = rx.inst.next_deadline();
    Advert a = peer_advert(rx.inst.config(), 200);
    a.ttl = 254;
    rx.receive(t + 100ms, wire(a));
    EXPECT_FALSE(rx.reached);
    EXPECT_EQ(rx.instance_drops.of("bad_ttl"), 1u);
    EXPECT_EQ(rx.service_drops.of("bad_ttl"), 1u);
    EXPECT_EQ(rx.inst.state(), State::master);
    EXPECT_TRUE(rx.inst.owns_vips());
    EXPECT_EQ(rx.inst.next_deadline(), deadline);
    const Status s = screen_advert(a, rx.inst.config(), rx.mine);
    EXPECT_EQ(s.text, "invalid TTL/HL. Received 254 and expect 255");
}

TEST(VrrpHostileAdvert, TtlIsNotCheckedForUnicastInstances)
{
    InstanceConfig c = v2_config();
    c.unicast_peers = {ip("198.18.0.2")};
    Receiver rx(c);
    const TimePoint t = make_master(rx.inst);
    Advert a = peer_advert(c, 200);
    a.ttl = 64;  // routed: keepalived accepts it without unicast_ttl
    rx.receive(t + 100ms, wire(a));
    EXPECT_TRUE(rx.reached);
    EXPECT_EQ(rx.inst.state(), State::backup);
}

TEST(VrrpHostileAdvert, BadChecksumIsCountedByTheServiceAndTheMasterStays)
{
    Receiver rx(v2_config());
    const TimePoint t = make_master(rx.inst);
    std::vector<std::uint8_t> p = wire(peer_advert(rx.inst.config(), 200));
    p[kIpv4HeaderSize + 6] ^= 0x01;  // the VRRP checksum's first byte
    rx.receive(t + 100ms, p);
    EXPECT_FALSE(rx.reached);
    EXPECT_EQ(rx.service_drops.of("bad_checksum"), 1u);
    EXPECT_TRUE(rx.instance_drops.by_reason().empty());  // no VRID to trust yet
    EXPECT_EQ(rx.inst.state(), State::master);
    EXPECT_TRUE(rx.inst.owns_vips());
}

TEST(VrrpHostileAdvert, UnknownVridIsCountedByTheServiceAndTheMasterStays)
{
    Receiver rx(v2_config());
    const TimePoint t = make_master(rx.inst);
    Advert a = peer_advert(rx.inst.config(), 200);
    a.vrid = 52;
    rx.receive(t + 100ms, wire(a));
    EXPECT_FALSE(rx.reached);
    EXPECT_EQ(rx.service_drops.of("vrid_mismatch"), 1u);
    EXPECT_EQ(rx.inst.state(), State::master);
    // The state machine itself ignores another VRID too.
    EXPECT_TRUE(rx.inst.on_advert(t + 200ms, a).empty());
    EXPECT_EQ(rx.inst.state(), State::master);
}

TEST(VrrpHostileAdvert, WrongPasswordIsCountedAndTheMasterStays)
{
    InstanceConfig c = v2_config();
    c.auth_type = AuthType::pass;
    c.auth_data = pass_auth_data("s3cret");
    Receiver rx(c);
    const TimePoint t = make_master(rx.inst);
    Advert a = peer_advert(c, 200);
    a.auth_data = pass_auth_data("guess");
    rx.receive(t + 100ms, wire(a));
    EXPECT_FALSE(rx.reached);
    EXPECT_EQ(rx.instance_drops.of("bad_password"), 1u);
    EXPECT_EQ(screen_advert(a, c, rx.mine).text, "received an invalid passwd!");
    EXPECT_EQ(rx.inst.state(), State::master);
    EXPECT_TRUE(rx.inst.owns_vips());
    // No auth at all against a PASS instance: the auth type is wrong.
    a.auth_type = AuthType::none;
    a.auth_data = {};
    rx.receive(t + 200ms, wire(a));
    EXPECT_EQ(rx.instance_drops.of("auth_type_mismatch"), 1u);
    EXPECT_EQ(screen_advert(a, c, rx.mine).text, "received a 0 auth, expecting 1!");
    EXPECT_EQ(rx.inst.state(), State::master);
    // The right password goes through.
    rx.receive(t + 300ms, wire(peer_advert(c, 200)));
    EXPECT_TRUE(rx.reached);
    EXPECT_EQ(rx.inst.state(), State::backup);
}

TEST(VrrpHostileAdvert, ForgedHigherPriorityFromAnUnlistedSourceDoesNotMakeTheMasterStepDown)
{
    InstanceConfig c = v2_config();
    c.unicast_peers = {ip("198.18.0.2"), ip("198.18.0.3")};
    Receiver rx(c);
    const TimePoint t = make_master(rx.inst);
    rx.receive(t + 100ms, wire(peer_advert(c, 254, "198.18.0.66")));
    EXPECT_FALSE(rx.reached);
    EXPECT_EQ(rx.instance_drops.of("not_unicast_peer"), 1u);
    EXPECT_EQ(rx.inst.state(), State::master);
    EXPECT_TRUE(rx.inst.owns_vips());
    const Status s = screen_advert(peer_advert(c, 254, "198.18.0.66"), c, rx.mine);
    EXPECT_EQ(s.text, "unicast source address 198.18.0.66 not a unicast peer");
    // A listed peer is heard.
    rx.receive(t + 200ms, wire(peer_advert(c, 200, "198.18.0.3")));
    EXPECT_TRUE(rx.reached);
    EXPECT_EQ(rx.inst.state(), State::backup);
}

TEST(VrrpHostileAdvert, ForgedAdvertsFromAnUnlistedSourceDoNotHoldABackupBack)
{
    InstanceConfig c = v2_config();
    c.unicast_peers = {ip("198.18.0.2")};
    Receiver rx(c);
    rx.inst.start(t0);
    ASSERT_EQ(rx.inst.state(), State::backup);
    const TimePoint down = *rx.inst.next_deadline();
    // Forged higher-priority adverts would restart the down timer if heard.
    // Down interval 3 x 1 s + skew 0.609375 s: seven adverts at 0.5 s steps.
    for (auto at = t0 + 500ms; at < down; at += 500ms) rx.receive(at, wire(peer_advert(c, 254, "198.18.0.66")));
    EXPECT_EQ(rx.instance_drops.of("not_unicast_peer"), 7u);
    EXPECT_EQ(rx.inst.next_deadline(), down);
    rx.inst.on_timer(down);
    EXPECT_EQ(rx.inst.state(), State::master);
}

TEST(VrrpHostileAdvert, ForgedLowerPriorityFromAnUnlistedSourceDoesNotMakeABackupPreempt)
{
    InstanceConfig c = v2_config();
    c.unicast_peers = {ip("198.18.0.2")};
    Receiver rx(c);
    rx.inst.start(t0);
    rx.receive(t0 + 100ms, wire(peer_advert(c, 1, "198.18.0.66")));
    EXPECT_FALSE(rx.reached);
    EXPECT_EQ(rx.inst.state(), State::backup);
    EXPECT_FALSE(rx.inst.owns_vips());
}

// What the receive path logs: keepalived's line with the instance's name,
// the decode error with the interface's, nothing for another router's VRID,
// and one line per reason and 1,000 packets in a flood.
TEST(VrrpHostileAdvert, ReceivePathLogsOneLinePerReasonAndThousandPackets)
{
    Receiver rx(v2_config());
    const TimePoint t = make_master(rx.inst);
    Advert a = peer_advert(rx.inst.config(), 200);
    a.ttl = 254;
    rx.receive(t + 100ms, wire(a));
    EXPECT_EQ(rx.log, "(VI_1) invalid TTL/HL. Received 254 and expect 255");
    for (int i = 1; i < 1000; ++i) {
        rx.receive(t + 100ms, wire(a));
        ASSERT_EQ(rx.log, "") << i;
    }
    rx.receive(t + 100ms, wire(a));
    EXPECT_EQ(rx.log, "(VI_1) invalid TTL/HL. Received 254 and expect 255");
    EXPECT_EQ(rx.instance_drops.of("bad_ttl"), 1001u);
    EXPECT_EQ(rx.service_drops.of("bad_ttl"), 1001u);

    std::vector<std::uint8_t> p = wire(peer_advert(rx.inst.config(), 200));
    p.resize(10);
    rx.receive(t + 200ms, p);
    EXPECT_FALSE(rx.reached);
    EXPECT_EQ(rx.log.rfind("VRRP packet on lan dropped: ", 0), 0u) << rx.log;
    EXPECT_EQ(rx.service_drops.of("too_short"), 1u);

    Advert other = peer_advert(rx.inst.config(), 200);
    other.vrid = 52;
    rx.receive(t + 300ms, wire(other));
    EXPECT_EQ(rx.log, "");
    EXPECT_EQ(rx.service_drops.of("vrid_mismatch"), 1u);
    EXPECT_EQ(rx.instance_drops.of("vrid_mismatch"), 0u);
    EXPECT_EQ(rx.inst.state(), State::master);
}

// A VRID matched on the socket leads to that instance, whatever the others.
TEST(VrrpHostileAdvert, ReceivePathHandsTheAdvertToTheInstanceItsVridNames)
{
    InstanceConfig c51 = v2_config();
    InstanceConfig c52 = v2_config();
    c52.name = "VI_2";
    c52.vrid = 52;
    c52.auth_type = AuthType::pass;
    c52.auth_data = pass_auth_data("s3cret");
    const Advert mine51 = own_advert(c51), mine52 = own_advert(c52);
    DropCounters d51, d52, service;
    const auto find = [&](std::uint8_t vrid) {
        if (vrid == 51) return ScreenTarget{&c51, &mine51, &d51};
        if (vrid == 52) return ScreenTarget{&c52, &mine52, &d52};
        return ScreenTarget{};
    };
    Reception r = receive_advert(wire(peer_advert(c52, 200)), "lan", find, service);
    EXPECT_TRUE(r.accepted);
    EXPECT_EQ(r.advert.vrid, 52);
    EXPECT_EQ(r.advert.priority, 200);
    EXPECT_EQ(r.log, "");
    Advert bad = peer_advert(c52, 200);
    bad.auth_data = pass_auth_data("guess");
    r = receive_advert(wire(bad), "lan", find, service);
    EXPECT_FALSE(r.accepted);
    EXPECT_EQ(r.log, "(VI_2) received an invalid passwd!");
    EXPECT_EQ(d52.of("bad_password"), 1u);
    EXPECT_TRUE(d51.by_reason().empty());
    EXPECT_EQ(service.of("bad_password"), 1u);
}

TEST(VrrpHostileAdvert, DropCountersLogTheFirstOfEveryThousand)
{
    DropCounters d;
    EXPECT_TRUE(d.count("bad_ttl"));
    for (int i = 1; i < 1000; ++i) EXPECT_FALSE(d.count("bad_ttl"));
    EXPECT_TRUE(d.count("bad_ttl"));
    EXPECT_TRUE(d.count("bad_password"));  // per reason
    EXPECT_EQ(d.of("bad_ttl"), 1001u);
    EXPECT_EQ(d.of("bad_password"), 1u);
    EXPECT_EQ(d.of("not_unicast_peer"), 0u);
}

}  // namespace
}  // namespace kadp::vrrp
