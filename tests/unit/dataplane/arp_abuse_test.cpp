// Runs on: any (unit test; binary unit_hostile). ARP abuse against the
// neighbour table's poisoning policy (dataplane/neigh_table.h "ARP poisoning
// policy") and arp_input (dataplane/arp.h): first on the table and the
// classifier alone, then through the whole NatPipeline with an established
// connection that must keep going to its real server's MAC
// (hostile_fixture.h). ARP for a VIP this node does not own is left
// unanswered: nat_pipeline_test.cpp AReleasedVipIsNeitherAnsweredNorGivenNewConnections.
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/arp.h"
#include "dataplane/neigh_table.h"
#include "dataplane/packet_parse.h"
#include "hostile_fixture.h"

namespace kadp::dp {
namespace {

using namespace pipetest;

const MacAddr kEvilMac = {0x02, 0xee, 0xee, 0xee, 0xee, 0x01};
const std::vector<MacAddr> kNotAStation = {
    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},  // broadcast
    {0x01, 0x00, 0x5e, 0x00, 0x00, 0x12},  // IPv4 multicast
    {0x33, 0x33, 0x00, 0x00, 0x00, 0x01},  // IPv6 multicast
    {0x03, 0x00, 0x00, 0x00, 0x00, 0x00},  // group bit with the local bit
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // zero
};

MacAddr evil(std::uint32_t i)
{
    return {0x02, 0xee, static_cast<std::uint8_t>(i >> 24), static_cast<std::uint8_t>(i >> 16),
            static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
}

// (port 1, ip) made reachable with `mac` at `now`, as after an answered request.
void make_reachable(NeighTable4& t, std::uint32_t ip, const MacAddr& mac, std::uint32_t now)
{
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(t.resolve(1, wire(ip), m, now).verdict, ResolveVerdict::held_request);
    const NeighLearn l = t.learn(1, wire(ip), mac, ArpSource::reply, now);
    ASSERT_EQ(l.verdict, LearnVerdict::learned);
    ASSERT_EQ(l.n_held, 1U);
    rte_pktmbuf_free(l.held[0]);
}

// --- the table and the classifier ------------------------------------------------------

TEST(ArpAbuse, SenderMacsThatAreNoStationsAreNeverAnsweredNorLearned)
{
    const auto answer_for = [](std::uint32_t ip) { return ip == wire(kVip); };
    for (const MacAddr& sha : kNotAStation) {
        const std::vector<Bytes> frames = {
            eth(kBroadcastMac, kClientMac, 0x0806, arp(1, sha, kClient, MacAddr{}, kVip)),  // request to us
            eth(kLanMac, kClientMac, 0x0806, arp(2, sha, kClient, kLanMac, kLanIp)),        // reply
            eth(kBroadcastMac, kClientMac, 0x0806, arp(1, sha, kClient, kBroadcastMac, kClient)),  // gratuitous
        };
        for (Bytes f : frames) {
            const Bytes before = f;
            PacketMeta meta;
            ASSERT_EQ(parse_frame(f.data(), static_cast<std::uint16_t>(f.size()), meta), ParseVerdict::ok_arp);
            bool learn = true;
            EXPECT_EQ(arp_input(f.data(), meta, kLanMac, answer_for, &learn), ArpRx::bad_sender);
            EXPECT_FALSE(learn);
            EXPECT_EQ(f, before) << "not turned into a reply";
        }
    }
}

TEST(ArpAbuse, AGratuitousStormCannotMoveAReachableNeighbour)
{
    auto t = NeighTable4::create(NeighConfig{});
    ASSERT_NE(t, nullptr);
    const std::uint32_t t0 = 1000;
    make_reachable(*t, kSrv1, kSrv1Mac, t0);
    for (std::uint32_t i = 0; i < 1000; ++i) {
        const ArpSource src = i % 2 == 0 ? ArpSource::gratuitous : ArpSource::reply;
        EXPECT_EQ(t->learn(1, wire(kSrv1), evil(i), src, t0 + i).verdict, LearnVerdict::conflict);
    }
    NeighView v = t->lookup(1, wire(kSrv1), t0 + 1000);
    EXPECT_EQ(v.state, NeighState::reachable);
    EXPECT_EQ(v.mac, kSrv1Mac);
    EXPECT_EQ(t->size(), 1U);
    // Once the entry went stale (no confirmation for reachable_ms) a forged
    // announcement moves it (the documented price), but only as `stale`:
    // repeating it does not make it fresh, and the real owner's next ARP
    // takes it back at once.
    const std::uint32_t stale = t0 + NeighConfig{}.reachable_ms;
    EXPECT_EQ(t->lookup(1, wire(kSrv1), stale).state, NeighState::stale);
    EXPECT_EQ(t->learn(1, wire(kSrv1), kEvilMac, ArpSource::gratuitous, stale).verdict, LearnVerdict::changed);
    EXPECT_EQ(t->learn(1, wire(kSrv1), kEvilMac, ArpSource::gratuitous, stale + 1).verdict, LearnVerdict::refreshed);
    EXPECT_EQ(t->learn(1, wire(kSrv1), kEvilMac, ArpSource::reply, stale + 2).verdict, LearnVerdict::refreshed);
    v = t->lookup(1, wire(kSrv1), stale + 2);
    EXPECT_EQ(v.state, NeighState::stale);
    EXPECT_EQ(v.mac, kEvilMac);
    EXPECT_EQ(t->learn(1, wire(kSrv1), kSrv1Mac, ArpSource::gratuitous, stale + 3).verdict, LearnVerdict::changed);
    v = t->lookup(1, wire(kSrv1), stale + 3);
    EXPECT_EQ(v.state, NeighState::stale);
    EXPECT_EQ(v.mac, kSrv1Mac);
    // Its next use probes; the answer to that probe makes it fresh again.
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    ASSERT_NE(m, nullptr);
    const NeighResolve r = t->resolve(1, wire(kSrv1), m, stale + 4);
    EXPECT_EQ(r.verdict, ResolveVerdict::hit_probe);
    EXPECT_EQ(r.mac(), kSrv1Mac);
    rte_pktmbuf_free(m);
    EXPECT_EQ(t->learn(1, wire(kSrv1), kSrv1Mac, ArpSource::reply, stale + 5).verdict, LearnVerdict::refreshed);
    EXPECT_EQ(t->lookup(1, wire(kSrv1), stale + 5).state, NeighState::reachable);
    EXPECT_EQ(t->learn(1, wire(kSrv1), kEvilMac, ArpSource::gratuitous, stale + 6).verdict, LearnVerdict::conflict);
}

TEST(ArpAbuse, RepliesNobodyAskedForCreateNothing)
{
    auto t = NeighTable4::create(NeighConfig{.capacity = 64});
    ASSERT_NE(t, nullptr);
    for (std::uint32_t i = 0; i < 5000; ++i) {
        const ArpSource src = i % 2 == 0 ? ArpSource::gratuitous : ArpSource::reply;
        EXPECT_EQ(t->learn(1, wire(0xc6130000 + i), evil(i), src, 1000).verdict, LearnVerdict::unsolicited);
    }
    EXPECT_EQ(t->size(), 0U);
}

// Requests to us from spoofed senders each create a stale entry (as
// Linux's neigh_event_ns does) until the table's probe windows are full;
// then new neighbours are refused (table_full), never evicted: an entry in
// use stays, with its MAC, until it is unused for gc_unused_ms.
TEST(ArpAbuse, ARequestFloodStaysBoundedAndNeverEvictsANeighbourInUse)
{
    const NeighConfig cfg{.capacity = 64};
    auto t = NeighTable4::create(cfg);
    ASSERT_NE(t, nullptr);
    std::uint32_t now = 1000;
    make_reachable(*t, kSrv1, kSrv1Mac, now);
    std::uint32_t learned = 0, full = 0;
    for (std::uint32_t i = 1; i <= 10000; ++i) {
        const LearnVerdict v = t->learn(1, wire(0xc6130000 + 0x100 + i), evil(i), ArpSource::request_to_us, now).verdict;
        ASSERT_TRUE(v == LearnVerdict::learned || v == LearnVerdict::table_full);
        (v == LearnVerdict::learned ? learned : full) += 1;
    }
    EXPECT_LE(t->size(), t->capacity());
    EXPECT_EQ(learned + 1, t->size());
    EXPECT_GT(full, 0U);
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    ASSERT_NE(m, nullptr);
    NeighResolve r = t->resolve(1, wire(kSrv1), m, now);
    EXPECT_EQ(r.verdict, ResolveVerdict::hit);
    EXPECT_EQ(r.mac(), kSrv1Mac);
    // The real server keeps being used; the spoofed entries are not. After
    // gc_unused_ms one sweep of the table removes them all, and it stays.
    now += cfg.gc_unused_ms;
    r = t->resolve(1, wire(kSrv1), m, now);
    EXPECT_TRUE(r.verdict == ResolveVerdict::hit || r.verdict == ResolveVerdict::hit_probe);
    EXPECT_EQ(r.mac(), kSrv1Mac);
    NeighSweep sweep;
    t->sweep(NeighSweep::kMaxSlice, now, sweep);
    EXPECT_EQ(sweep.removed, learned);
    EXPECT_EQ(sweep.n_dropped, 0U);
    EXPECT_EQ(t->size(), 1U);
    EXPECT_EQ(t->lookup(1, wire(kSrv1), now).mac, kSrv1Mac);
    rte_pktmbuf_free(m);
}

// --- through the pipeline ------------------------------------------------------------------

Bytes garp(const MacAddr& sha, std::uint32_t ip, std::uint16_t op)
{
    return eth(kBroadcastMac, sha, 0x0806, arp(op, sha, ip, op == 1 ? MacAddr{} : kBroadcastMac, ip));
}

TEST_F(HostileTest, AGratuitousArpStormForARealServerIsRefusedAndItsTrafficStaysOnItsMac)
{
    const std::uint32_t size_before = neigh_->size();
    std::vector<Bytes> storm;
    for (std::uint32_t i = 0; i < 20; ++i) {  // bursts of 60 (kRxBurst is 64)
        storm.push_back(garp(evil(i), kSrv1, 1));                                               // gratuitous request
        storm.push_back(garp(evil(i), kSrv1, 2));                                               // gratuitous reply
        storm.push_back(eth(kSrvMac, evil(i), 0x0806, arp(2, evil(i), kSrv1, kSrvMac, kSrvIp)));  // "reply" to us
    }
    const auto before = counters_now();
    for (int round = 0; round < 15; ++round) rx_burst(1, storm);
    EXPECT_TRUE(sent(0).empty());
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(changes_since(before), (Changes{{"rx_packets", 900}, {"rx_arp", 900}, {"arp_conflict", 900}}));
    const NeighView v = neigh_->lookup(1, wire(kSrv1), g_now);
    EXPECT_EQ(v.state, NeighState::reachable);
    EXPECT_EQ(v.mac, kSrv1Mac);
    EXPECT_EQ(neigh_->size(), size_before);
    // Someone claiming our own addresses: a conflict too, never learned.
    // (The VIP is answered for on the port whose prefix holds it.)
    for (auto [port, ip] : {std::pair<std::uint16_t, std::uint32_t>{1, kSrvIp}, {0, kLanIp}, {0, kVip}}) {
        expect_dropped(port, garp(kEvilMac, ip, 1), {{"rx_packets", 1}, {"rx_arp", 1}, {"arp_conflict", 1}},
                       "claims ours");
    }
    expect_connection_intact();  // to kSrv1Mac, byte for byte
}

// With the kernel's exception TAPs: what the data plane refused as a
// conflict is not copied to the kernel either (Linux would let a gratuitous
// ARP, or a reply past its 1 s locktime, override its reachable entry, and
// its health checks would follow the forged MAC); the real server's own
// announcement still is.
TEST_F(HostileTest, ARefusedGratuitousArpIsNotCopiedToTheKernel)
{
    make_pipeline(0, /*exception=*/true);
    rx(1, garp(kEvilMac, kSrv1, 1));
    rx(1, garp(kEvilMac, kSrv1, 2));
    rx(1, eth(kSrvMac, kEvilMac, 0x0806, arp(2, kEvilMac, kSrv1, kSrvMac, kSrvIp)));
    loop_end();
    EXPECT_TRUE(to_tap(1).empty());
    EXPECT_EQ(count(Counter::arp_conflict), 3U);
    EXPECT_EQ(count(Counter::exception_arp_to_kernel), 0U);
    const Bytes own = garp(kSrv1Mac, kSrv1, 1);
    rx(1, own);
    const Bytes unknown = garp(kEvilMac, 0xc6130077, 1);  // the kernel may know it, the data plane does not
    rx(1, unknown);
    loop_end();
    const auto out = to_tap(1);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[0], own);
    EXPECT_EQ(out[1], unknown);
    EXPECT_EQ(count(Counter::exception_arp_to_kernel), 2U);
    EXPECT_TRUE(sent(0).empty());
    EXPECT_TRUE(sent(1).empty());
    expect_connection_intact();
}

TEST_F(HostileTest, RepliesForAddressesNeverAskedAboutAreIgnored)
{
    const std::uint32_t size_before = neigh_->size();
    for (std::uint32_t i = 10; i < 110; ++i) {
        expect_dropped(1, eth(kSrvMac, kEvilMac, 0x0806, arp(2, kEvilMac, 0xc6130000 + i, kSrvMac, kSrvIp)),
                       {{"rx_packets", 1}, {"rx_arp", 1}, {"arp_reply_unsolicited", 1}}, "reply " + std::to_string(i));
        expect_dropped(1, garp(kEvilMac, 0xc6130000 + i, 2),
                       {{"rx_packets", 1}, {"rx_arp", 1}, {"arp_reply_unsolicited", 1}}, "garp " + std::to_string(i));
        EXPECT_EQ(neigh_->lookup(1, wire(0xc6130000 + i), g_now).state, NeighState::free);
    }
    EXPECT_EQ(neigh_->size(), size_before);
    expect_connection_intact();
}

// Requests to the port address from spoofed senders: every one answered
// (as Linux does), only on-link senders learned (arp_request_offlink for
// the rest), so the table holds at most the port's prefix; the real
// servers' entries keep their MACs and states.
TEST_F(HostileTest, ARequestFloodFromSpoofedSendersIsAnsweredBoundedAndLeavesRealServersAlone)
{
    constexpr std::uint32_t kFlood = 6000;
    const std::uint32_t size_before = neigh_->size();
    std::uint32_t replies = 0;
    for (std::uint32_t i = 0; i < kFlood; i += 32) {
        std::vector<Bytes> burst;
        for (std::uint32_t j = i; j < i + 32 && j < kFlood; ++j) {
            // Even: off-link 198.19.1.0 onwards; odd: on-link 198.19.0.10 - .249.
            const std::uint32_t spa = j % 2 == 0 ? 0xc6130100 + j : 0xc613000a + (j / 2) % 240;
            burst.push_back(eth(kBroadcastMac, evil(j), 0x0806, arp(1, evil(j), spa, MacAddr{}, kSrvIp)));
        }
        rx_burst(1, burst);
        replies += static_cast<std::uint32_t>(sent(1).size());
    }
    EXPECT_TRUE(sent(0).empty());
    EXPECT_EQ(replies, kFlood);
    EXPECT_EQ(count(Counter::arp_request_answered), kFlood);
    EXPECT_EQ(count(Counter::arp_request_offlink), kFlood / 2);
    EXPECT_EQ(count(Counter::arp_request_learned), kFlood / 2);
    EXPECT_EQ(neigh_->size(), size_before + 240);
    EXPECT_EQ(neigh_->lookup(1, wire(0xc6130100), g_now).state, NeighState::free);
    EXPECT_EQ(neigh_->lookup(1, wire(0xc613000a), g_now).state, NeighState::stale);
    for (auto [ip, mac] : {std::pair{kSrv1, kSrv1Mac}, std::pair{kSrv2, kSrv2Mac}, std::pair{kSrv3, kSrv3Mac}}) {
        const NeighView v = neigh_->lookup(1, wire(ip), g_now);
        EXPECT_EQ(v.state, NeighState::reachable);
        EXPECT_EQ(v.mac, mac);
    }
    expect_connection_intact();
}

TEST_F(HostileTest, ABroadcastOrMulticastSenderMacNeitherGetsAnAnswerNorCompletesAResolution)
{
    for (const MacAddr& sha : kNotAStation) {
        expect_dropped(0, eth(kBroadcastMac, kClientMac, 0x0806, arp(1, sha, kClient, MacAddr{}, kVip)),
                       {{"rx_packets", 1}, {"rx_arp", 1}, {"arp_bad_sender", 1}}, "request for the VIP");
    }
    // A next hop being resolved: a reply with a group MAC leaves it waiting,
    // the real reply completes it and its held packet goes to that MAC.
    constexpr std::uint32_t kRouter = 0xc6130009;
    const MacAddr router_mac = {0x02, 0, 0, 0, 1, 0x09};
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    ASSERT_NE(m, nullptr);
    std::memset(rte_pktmbuf_append(m, 60), 0, 60);
    ASSERT_EQ(neigh_->resolve(1, wire(kRouter), m, g_now).verdict, ResolveVerdict::held_request);
    for (const MacAddr& sha : kNotAStation) {
        const auto before = counters_now();
        rx(1, eth(kSrvMac, router_mac, 0x0806, arp(2, sha, kRouter, kSrvMac, kSrvIp)));
        EXPECT_EQ(changes_since(before), (Changes{{"rx_packets", 1}, {"rx_arp", 1}, {"arp_bad_sender", 1}}));
        EXPECT_EQ(neigh_->lookup(1, wire(kRouter), g_now).state, NeighState::incomplete);
    }
    EXPECT_TRUE(sent(1).empty());
    rx(1, eth(kSrvMac, router_mac, 0x0806, arp(2, router_mac, kRouter, kSrvMac, kSrvIp)));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(Bytes(out[0].begin(), out[0].begin() + 6), Bytes(router_mac.begin(), router_mac.end()));
    EXPECT_EQ(count(Counter::neigh_held_sent), 1U);
    expect_connection_intact();
}

}  // namespace
}  // namespace kadp::dp
