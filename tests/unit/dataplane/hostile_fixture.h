// Runs on: any (unit tests). What the hostile-traffic tests of unit_hostile
// share (hostile_packets_test.cpp, arp_abuse_test.cpp): a NatPipelineTest
// with an established connection set up before the abuse, and checks that
// one abusive frame moved exactly the counters it should, transmitted
// nothing, left the mbuf pool full, and that the connection still forwards
// byte-exact with its entry unchanged.
#pragma once

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "pipeline_fixture.h"

namespace kadp::dp::pipetest {

// The established connection: client:40000 -> VIP:80 -> server 1:80.
inline constexpr std::uint16_t kEstPort = 40000;

class HostileTest : public NatPipelineTest {
protected:
    using Changes = std::map<std::string, std::uint64_t>;

    HostileTest()
    {
        all_neighbours();
        rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, kEstPort, 80, 1000, 0, kSyn));
        rx(1, tcp_frame(kSrvMac, kSrv1Mac, kSrv1, kClient, 80, kEstPort, 5000, 1001, kSyn | kAck));
        rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, kEstPort, 80, 1001, 5001, kAck));
        drain_all();
        ConnDir dir;
        conn_ = find(kClient, kVip, kEstPort, 80, 6, dir);
        EXPECT_NE(conn_, nullptr);
        if (conn_ != nullptr) {
            EXPECT_EQ(state_of(conn_), ConnState::established);
        }
        conn_before_ = conn_image();
        pool_before_ = rte_mempool_avail_count(g_pool);
    }
    ~HostileTest() override
    {
        drain_all();
        EXPECT_EQ(rte_mempool_avail_count(g_pool), pool_before_) << "mbufs leaked or still held";
    }

    // Everything of the connection's entry a packet could move.
    std::array<std::uint64_t, 14> conn_image() const
    {
        if (conn_ == nullptr) return {};
        const Conn4& c = *conn_;
        return {c.caddr, c.vaddr, c.daddr, c.cport, c.vport, c.dport, c.proto, c.fwd, c.svc_id, c.dest_id,
                c.two_way, c.state.load(), c.flags.load(), c.expires_ms.load()};
    }

    std::array<std::uint64_t, kCounterCount> counters_now() const
    {
        std::array<std::uint64_t, kCounterCount> v{};
        for (std::size_t i = 0; i < kCounterCount; ++i) v[i] = pipeline_->counters().get(i);
        return v;
    }
    // The counters that moved since `before`, by name (rx_bytes left out:
    // it moves by the frame's length).
    Changes changes_since(const std::array<std::uint64_t, kCounterCount>& before) const
    {
        Changes out;
        const auto now = counters_now();
        for (std::size_t i = 0; i < kCounterCount; ++i) {
            if (now[i] != before[i] && counter_name(i) != "rx_bytes") out[std::string(counter_name(i))] = now[i] - before[i];
        }
        return out;
    }

    // Receives `frame` on `port`; expects nothing transmitted on either port
    // and exactly `want` among the counters.
    void expect_dropped(std::uint16_t port, const Bytes& frame, const Changes& want, const std::string& what)
    {
        const auto before = counters_now();
        rx(port, frame);
        EXPECT_TRUE(sent(0).empty()) << what;
        EXPECT_TRUE(sent(1).empty()) << what;
        EXPECT_EQ(changes_since(before), want) << what;
        EXPECT_EQ(rte_mempool_avail_count(g_pool), pool_before_) << what;
    }

    // The connection forwards a segment each way byte-exact, and its entry
    // is what it was before the abuse.
    void expect_connection_intact()
    {
        EXPECT_EQ(conn_image(), conn_before_) << "the connection's entry changed";
        rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, kEstPort, 80, 1001, 5001, kAck | kPsh, kHello));
        auto out = sent(1);
        ASSERT_EQ(out.size(), 1U);
        EXPECT_EQ(out[0], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, kEstPort, 80, 1001, 5001, kAck | kPsh, kHello,
                                    {.ttl = 63}));
        rx(1, tcp_frame(kSrvMac, kSrv1Mac, kSrv1, kClient, 80, kEstPort, 5001, 1006, kAck | kPsh, kHello));
        out = sent(0);
        ASSERT_EQ(out.size(), 1U);
        EXPECT_EQ(out[0], tcp_frame(kClientMac, kLanMac, kVip, kClient, 80, kEstPort, 5001, 1006, kAck | kPsh, kHello,
                                    {.ttl = 63}));
        EXPECT_EQ(state_of(conn_), ConnState::established);
        EXPECT_EQ(rte_mempool_avail_count(g_pool), pool_before_);
    }

    Conn4* conn_ = nullptr;
    std::array<std::uint64_t, 14> conn_before_{};
    unsigned pool_before_ = 0;
};

// A frame's first `n` bytes.
inline Bytes cut(const Bytes& b, std::size_t n) { return Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n)); }

// Sets an untagged frame's IPv4 header checksum right again after an edit.
inline void fix_ip_checksum(Bytes& f)
{
    const std::size_t ihl = (f[14] & 0x0f) * 4U;
    put16(f, 24, 0);
    if (ihl < 20 || 14 + ihl > f.size()) {
        put16(f, 24, ref_csum(Bytes(f.begin() + 14, f.begin() + 34)));
        return;
    }
    put16(f, 24, ref_csum(Bytes(f.begin() + 14, f.begin() + 14 + static_cast<std::ptrdiff_t>(ihl))));
}

}  // namespace kadp::dp::pipetest
