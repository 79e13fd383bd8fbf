// Runs on: any (unit test, in the unit_nat_pipeline binary: its EAL and
// net_ring ports). A SYN flood with spoofed sources through NatPipeline on
// real mbufs, the clock moved by the test (the clock seam): the flood fills
// the 1024-entry table, established connections keep forwarding both ways,
// the defense (conn_defense.h) removes the idle half-open entries, a
// legitimate SYN is admitted again, the dest active/inactive counts stay
// exact, the table's memory does not move, and the level falls back.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "dataplane/conn_defense.h"
#include "pipeline_fixture.h"

namespace kadp::dp {
namespace {

using namespace pipetest;

class SynFloodTest : public NatPipelineTest {
protected:
    // A spoofed SYN from 198.18.128.0/17 (source n), to VIP:80.
    static Bytes spoofed_syn(std::uint32_t n)
    {
        return tcp_frame(kLanMac, kClientMac, 0xc6128000 + n, kVip, static_cast<std::uint16_t>(1024 + n % 60000), 80,
                         n, 0, kSyn);
    }
    // Sends `count` spoofed SYNs (numbered from `first`) in bursts of 32, all
    // at the current clock; what the servers got is discarded.
    void flood(std::uint32_t first, std::uint32_t count)
    {
        std::vector<Bytes> burst;
        for (std::uint32_t i = 0; i < count; ++i) {
            burst.push_back(spoofed_syn(first + i));
            if (burst.size() == 32 || i + 1 == count) {
                rx_burst(0, burst);
                burst.clear();
                sent(1);
            }
        }
        EXPECT_TRUE(sent(0).empty());
    }
    // Client kClient:sport opens a connection; rr gives it server `srv`
    // (0..2), whose SYN-ACK and the client's ACK establish it.
    void establish(std::uint16_t sport, int srv)
    {
        const std::uint32_t addrs[3] = {kSrv1, kSrv2, kSrv3};
        const MacAddr macs[3] = {kSrv1Mac, kSrv2Mac, kSrv3Mac};
        rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, sport, 80, 1000, 0, kSyn));
        const auto syn = sent(1);
        ASSERT_EQ(syn.size(), 1U);
        ASSERT_EQ(syn[0], tcp_frame(macs[srv], kSrvMac, kClient, addrs[srv], sport, kDestPorts[srv], 1000, 0, kSyn,
                                    {}, {.ttl = 63}));
        rx(1, tcp_frame(kSrvMac, macs[srv], addrs[srv], kClient, kDestPorts[srv], sport, 5000, 1001, kSyn | kAck));
        ASSERT_EQ(sent(0).size(), 1U);
        rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, sport, 80, 1001, 5001, kAck));
        ASSERT_EQ(sent(1).size(), 1U);
        ConnDir dir;
        Conn4* c = find(kClient, kVip, sport, 80, 6, dir);
        ASSERT_NE(c, nullptr);
        ASSERT_EQ(state_of(c), ConnState::established);
    }
    // One data segment each way on the established connection kClient:sport
    // <-> server `srv`, checked byte for byte as it comes out.
    void data_both_ways(std::uint16_t sport, int srv, std::uint32_t seq)
    {
        const std::uint32_t addrs[3] = {kSrv1, kSrv2, kSrv3};
        const MacAddr macs[3] = {kSrv1Mac, kSrv2Mac, kSrv3Mac};
        rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, sport, 80, seq, 5001, kAck | kPsh, kHello));
        const auto in = sent(1);
        ASSERT_EQ(in.size(), 1U) << "client -> server " << srv << " at " << g_now;
        EXPECT_EQ(in[0], tcp_frame(macs[srv], kSrvMac, kClient, addrs[srv], sport, kDestPorts[srv], seq, 5001,
                                   kAck | kPsh, kHello, {.ttl = 63}));
        expect_checksums_valid(in[0]);
        rx(1, tcp_frame(kSrvMac, macs[srv], addrs[srv], kClient, kDestPorts[srv], sport, 5001, seq + 5,
                        kAck | kPsh, kHello));
        const auto out = sent(0);
        ASSERT_EQ(out.size(), 1U) << "server " << srv << " -> client at " << g_now;
        EXPECT_EQ(out[0],
                  tcp_frame(kClientMac, kLanMac, kVip, kClient, 80, sport, 5001, seq + 5, kAck | kPsh, kHello,
                            {.ttl = 63}));
        expect_checksums_valid(out[0]);
    }
    // One worker loop at the next ms: timers, then the quiescent state the
    // worker loop reports (removed entries become reusable after it).
    void tick(std::uint32_t ms = 1)
    {
        g_now += ms;
        loop_end();
        conns_->quiescent(0);
    }
    std::uint64_t active_total() const
    {
        return dest_[0]->conns.active.load() + dest_[1]->conns.active.load() + dest_[2]->conns.active.load();
    }
    std::uint64_t inactive_total() const
    {
        return dest_[0]->conns.inactive.load() + dest_[1]->conns.inactive.load() + dest_[2]->conns.inactive.load();
    }
    // Packets dropped for any reason a flowing connection could suffer.
    std::uint64_t drops() const
    {
        return count(Counter::conn_not_syn) + count(Counter::nat_reply_no_conn) + count(Counter::route_miss) +
               count(Counter::neigh_unresolved_dropped) + count(Counter::tx_full_drop);
    }
};

TEST_F(SynFloodTest, EstablishedFlowsKeepForwardingAndALegitimateSynGetsInOnceTheHalfOpenAreDropped)
{
    all_neighbours();
    establish(40000, 0);
    establish(40001, 1);
    establish(40002, 2);
    const ConnTableStats before = conns_->stats();
    ASSERT_EQ(before.capacity, 1024U);

    // 1100 spoofed SYNs at t0: the table takes 1021 of them, the rest are
    // dropped as full. Every linked one is in its dest's active count.
    const std::uint32_t t0 = g_now;
    flood(0, 1100);
    const std::uint64_t flooded = count(Counter::conn_new) - 3;
    EXPECT_GE(flooded, 1000U);
    EXPECT_EQ(flooded + count(Counter::conn_table_full) + count(Counter::conn_bucket_full), 1100U);
    EXPECT_GT(count(Counter::conn_table_full), 0U);
    EXPECT_EQ(conns_->linked(), 3 + flooded);
    EXPECT_EQ(active_total(), 3 + flooded);
    EXPECT_EQ(inactive_total(), 0U);
    // Memory: the same mapping, nothing grew; in use never above capacity.
    EXPECT_EQ(conns_->stats().bytes, before.bytes);
    EXPECT_LE(conns_->stats().in_use, before.capacity);

    // The established connections flow both ways, and the first tick sees
    // the table above the 90% mark: level 2.
    data_both_ways(40000, 0, 1001);
    tick();
    EXPECT_EQ(count(Counter::conn_defense_level), 2U);
    EXPECT_EQ(count(Counter::conn_defense_raised), 1U);
    // A legitimate SYN now finds no room yet.
    const std::uint64_t full = count(Counter::conn_table_full);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 41000, 80, 1, 0, kSyn));
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::conn_table_full), full + 1);

    // Nothing is removed before the flood's entries are drop_age_ms (1 s)
    // idle -- a real handshake has that long to finish. The established
    // connections keep flowing throughout, with no drop.
    const ConnDefenseConfig dcfg;
    const std::uint64_t drops0 = drops();
    std::uint32_t seq = 1006;
    auto run_until = [&](std::uint32_t since_t0) {
        while (g_now - t0 < since_t0) {
            tick();
            if ((g_now - t0) % 100 == 0) {
                for (int i = 0; i < 3; ++i) data_both_ways(static_cast<std::uint16_t>(40000 + i), i, seq);
                seq += 5;
            }
        }
    };
    run_until(dcfg.drop_age_ms - 1);
    EXPECT_EQ(count(Counter::conn_evicted_half_open), 0U);
    EXPECT_EQ(count(Counter::conn_defense_level), 2U);
    // Within one level-2 sweep (250 ms) after that age, level 2 has removed
    // half-open entries until the table fell below its 80% exit mark (now
    // level 1): a legitimate SYN gets in, and completes its handshake.
    run_until(dcfg.drop_age_ms + 1000 / dcfg.sweep_speedup + 1);
    const std::uint64_t evicted2 = count(Counter::conn_evicted_half_open);
    EXPECT_GT(evicted2, 0U);
    EXPECT_EQ(count(Counter::conn_defense_level), 1U);
    EXPECT_LT(conns_->linked() * 100, 1024U * (dcfg.full_pct - dcfg.hysteresis_pct));
    EXPECT_EQ(active_total(), conns_->linked());
    const std::uint64_t created = count(Counter::conn_new);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 41001, 80, 1, 0, kSyn));
    EXPECT_EQ(count(Counter::conn_new), created + 1);
    const auto legit = sent(1);
    ASSERT_EQ(legit.size(), 1U);
    ConnDir dir;
    Conn4* c = find(kClient, kVip, 41001, 80, 6, dir);
    ASSERT_NE(c, nullptr);
    int srv = -1;
    for (int i = 0; i < 3; ++i) srv = c->daddr == wire(std::array{kSrv1, kSrv2, kSrv3}[i]) ? i : srv;
    ASSERT_GE(srv, 0);
    {
        const std::uint32_t addrs[3] = {kSrv1, kSrv2, kSrv3};
        const MacAddr macs[3] = {kSrv1Mac, kSrv2Mac, kSrv3Mac};
        EXPECT_EQ(legit[0], tcp_frame(macs[srv], kSrvMac, kClient, addrs[srv], 41001, kDestPorts[srv], 1, 0, kSyn, {},
                                      {.ttl = 63}));
        rx(1, tcp_frame(kSrvMac, macs[srv], addrs[srv], kClient, kDestPorts[srv], 41001, 5000, 2, kSyn | kAck));
        ASSERT_EQ(sent(0).size(), 1U);
        rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 41001, 80, 2, 5001, kAck));
        ASSERT_EQ(sent(1).size(), 1U);
        EXPECT_EQ(state_of(c), ConnState::established);
    }

    // Level 1 takes more flood entries once they are half_open_ms (5 s)
    // idle, within a sweep period (1 s), until the table is below its 65%
    // exit mark; the level is 0 again (the rest keep the 60 s syn_recv
    // timeout: AtLevelOne... below).
    run_until(dcfg.half_open_ms + 1000 + 1);
    EXPECT_GT(count(Counter::conn_evicted_half_open), evicted2);
    EXPECT_EQ(count(Counter::conn_expired), 0U);
    EXPECT_EQ(count(Counter::conn_defense_level), 0U);
    EXPECT_LT(conns_->linked() * 100, 1024U * (dcfg.high_pct - dcfg.hysteresis_pct));
    EXPECT_EQ(conns_->linked(), 3 + flooded + 1 - count(Counter::conn_evicted_half_open));
    EXPECT_EQ(drops(), drops0);
    // Exact dest counts: every entry left is syn_recv or established (active).
    EXPECT_EQ(active_total(), conns_->linked());
    EXPECT_EQ(inactive_total(), 0U);
    for (int i = 0; i < 3; ++i) {
        Conn4* e = find(kClient, kVip, static_cast<std::uint16_t>(40000 + i), 80, 6, dir);
        ASSERT_NE(e, nullptr);
        EXPECT_EQ(state_of(e), ConnState::established);
        EXPECT_GE(dest_[i]->conns.active.load(), i == srv ? 2U : 1U) << i;
    }
    EXPECT_EQ(state_of(c), ConnState::established);
    EXPECT_EQ(conns_->stats().bytes, before.bytes);
    // The rise was reported to the control thread, once.
    std::uint64_t raised = 0;
    for (WorkerEvent ev; channel_->events.pop(ev);) {
        if (ev.counter == Counter::conn_defense_raised) raised += ev.delta;
    }
    EXPECT_EQ(raised, 1U);
}

TEST_F(SynFloodTest, AtLevelOneHalfOpenEntriesLiveHalfOpenMsFromTheirLastPacket)
{
    all_neighbours();
    establish(40000, 0);
    // 80% full: above the 75% mark, below 90%.
    const std::uint32_t t0 = g_now;
    flood(0, 818);
    ASSERT_EQ(conns_->linked(), 819U);
    tick();
    EXPECT_EQ(count(Counter::conn_defense_level), 1U);
    // One of them retransmits its SYN at t0 + 3 s: idle from then.
    const ConnDefenseConfig dcfg;
    while (g_now - t0 < 3000) tick();
    rx(0, spoofed_syn(7));
    ASSERT_EQ(sent(1).size(), 1U);
    // Just before half_open_ms, after several whole sweeps: none removed.
    while (g_now - t0 < dcfg.half_open_ms - 1) tick();
    EXPECT_EQ(count(Counter::conn_evicted_half_open), 0U);
    // Within one sweep period (1 s at level 1) after half_open_ms, level 1
    // has removed idle half-open entries until the table fell below its 65%
    // exit mark; the level is 0 again. The retransmitter (idle 3 s less) and
    // the established connection are still there.
    while (g_now - t0 < dcfg.half_open_ms + 1000) tick();
    const std::uint64_t evicted = count(Counter::conn_evicted_half_open);
    EXPECT_EQ(count(Counter::conn_defense_level), 0U);
    EXPECT_LT(conns_->linked() * 100, 1024U * (dcfg.high_pct - dcfg.hysteresis_pct));
    // (at most one tick's sweep slice, 2 entries at level 1, below it)
    EXPECT_GE((conns_->linked() + 2) * 100, 1024U * (dcfg.high_pct - dcfg.hysteresis_pct));
    EXPECT_EQ(evicted, 819 - conns_->linked());
    EXPECT_EQ(active_total(), conns_->linked());
    ConnDir dir;
    const FlowKey4 retransmitter{wire(0xc6128000 + 7), wire(kVip), wire16(1024 + 7), wire16(80), 6};
    EXPECT_NE(conns_->lookup(retransmitter, dir), nullptr);
    // Below the marks, half-open entries keep IPVS's 60 s syn_recv timeout:
    // nothing more goes until then; then the ordinary expiry takes them,
    // the retransmitter 3 s later.
    while (g_now - t0 < 60'000 - 1) tick(100);
    EXPECT_EQ(count(Counter::conn_evicted_half_open), evicted);
    EXPECT_EQ(count(Counter::conn_expired), 0U);
    while (g_now - t0 < 61'100) tick(100);
    EXPECT_EQ(count(Counter::conn_expired), conns_->stats().capacity == 1024 ? 819 - evicted - 2 : 0U);
    EXPECT_NE(conns_->lookup(retransmitter, dir), nullptr);
    while (g_now - t0 < 64'100) tick(100);
    EXPECT_EQ(conns_->lookup(retransmitter, dir), nullptr);
    EXPECT_EQ(conns_->linked(), 1U);
    EXPECT_EQ(active_total(), 1U);
    Conn4* e = find(kClient, kVip, 40000, 80, 6, dir);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(state_of(e), ConnState::established);
}

TEST_F(SynFloodTest, ATableFullOfEstablishedConnectionsIsNeverEvictedNewFlowsAreDropped)
{
    all_neighbours();
    // 1024 clients' SYN then ACK (syn_recv -> established on the client's ACK).
    std::uint32_t n = 0;
    while (conns_->linked() < 1024 && n < 1100) {
        std::vector<Bytes> syns, acks;
        for (int i = 0; i < 32; ++i, ++n) {
            const std::uint32_t src = 0xc6128000 + n;
            syns.push_back(tcp_frame(kLanMac, kClientMac, src, kVip, 2000, 80, 1, 0, kSyn));
            acks.push_back(tcp_frame(kLanMac, kClientMac, src, kVip, 2000, 80, 2, 1, kAck));
        }
        rx_burst(0, syns);
        rx_burst(0, acks);
        sent(1);
    }
    const std::uint64_t linked = conns_->linked();
    ASSERT_GE(linked, 1000U);
    EXPECT_EQ(active_total(), linked);
    tick();
    EXPECT_EQ(count(Counter::conn_defense_level), 2U);
    // Seconds at level 2 evict nothing; a new SYN is dropped as full.
    for (int i = 0; i < 3000; ++i) tick();
    EXPECT_EQ(count(Counter::conn_evicted_half_open), 0U);
    EXPECT_EQ(conns_->linked(), linked);
    EXPECT_EQ(active_total(), linked);
    const std::uint64_t full = count(Counter::conn_table_full) + count(Counter::conn_bucket_full);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 41000, 80, 1, 0, kSyn));
    EXPECT_TRUE(sent(1).empty());
    EXPECT_EQ(count(Counter::conn_table_full) + count(Counter::conn_bucket_full), full + 1);
}

}  // namespace
}  // namespace kadp::dp
