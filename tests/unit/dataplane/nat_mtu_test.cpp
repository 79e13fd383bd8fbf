// Runs on: any (unit tests). NAT and the egress MTU, as IPVS and Linux
// forward: a packet too big for the port it leaves by gets, with DF, an ICMP
// fragmentation needed back to its sender quoting it as received (IPVS's
// ensure_mtu_is_adequate() before the dnat; Linux's ip_forward() before
// IPVS's snat on the way out); without DF it leaves as fragments of the
// rewritten packet. Fragmentation needed is not under the ICMP error budget
// (Linux's icmpv4_mask_allow()).
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "pipeline_fixture.h"

namespace kadp::dp::pipetest {
namespace {

// What kadp sends back about `frame`: from `from` to the frame's source, on
// the frame's port with the MACs swapped, next-hop MTU `mtu`.
Bytes frag_needed(const Bytes& frame, std::uint32_t from, std::uint16_t mtu)
{
    const Bytes quote(frame.begin() + 14, frame.begin() + 14 + 28);
    Mac dst{};
    Mac src{};
    std::copy(frame.begin() + 6, frame.begin() + 12, dst.begin());
    std::copy(frame.begin(), frame.begin() + 6, src.begin());
    return eth(dst, src, 0x0800,
               ipv4(from, get32(frame, 14 + 12), 1, icmp_msg(3, 4, mtu, quote),
                    {.ttl = 64, .id = 0, .df = false, .tos = 0xc0}));
}

TEST_F(NatPipelineTest, InboundTooBigWithDfGetsFragmentationNeededFromTheVip)
{
    make_pipeline(0, false, 1500, 576);
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn));
    ASSERT_EQ(sent(1).size(), 1U);
    const Bytes big = tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 2, 1, kAck, Bytes(600, 0x5a));
    rx(0, big);
    EXPECT_TRUE(sent(1).empty());
    const auto back = sent(0);
    ASSERT_EQ(back.size(), 1U);
    EXPECT_EQ(back[0], frag_needed(big, kVip, 576));
    expect_checksums_valid(back[0]);
    EXPECT_EQ(count(Counter::frag_needed_sent), 1U);
    EXPECT_EQ(count(Counter::nat_in), 1U);  // the SYN
    // Exactly at the MTU: forwarded.
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 2, 1, kAck, Bytes(576 - 40, 0x5a)));
    const auto fwd = sent(1);
    ASSERT_EQ(fwd.size(), 1U);
    EXPECT_EQ(fwd[0], tcp_frame(kSrv1Mac, kSrvMac, kClient, kSrv1, 40000, 80, 2, 1, kAck, Bytes(576 - 40, 0x5a),
                                {.ttl = 63}));
    EXPECT_EQ(count(Counter::nat_in), 2U);
}

TEST_F(NatPipelineTest, OutboundTooBigWithDfGetsFragmentationNeededFromTheServerSidePort)
{
    make_pipeline(0, false, 576, 1500);
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn));
    ASSERT_EQ(sent(1).size(), 1U);
    const Bytes big = tcp_frame(kSrvMac, kSrv1Mac, kSrv1, kClient, 80, 40000, 100, 2, kAck, Bytes(1000, 0x66));
    rx(1, big);
    EXPECT_TRUE(sent(0).empty());
    const auto back = sent(1);
    ASSERT_EQ(back.size(), 1U);
    EXPECT_EQ(back[0], frag_needed(big, kSrvIp, 576)) << "from kadp's srv address, not the client's";
    expect_checksums_valid(back[0]);
    EXPECT_EQ(count(Counter::frag_needed_sent), 1U);
    EXPECT_EQ(count(Counter::conn_hit_out), 1U);
    EXPECT_EQ(count(Counter::nat_out), 0U);
}

TEST_F(NatPipelineTest, TooBigWithoutDfLeavesAsFragmentsOfTheRewrittenPacket)
{
    make_pipeline(0, false, 1500, 576);
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn, {}, {.df = false}));
    ASSERT_EQ(sent(1).size(), 1U);
    Bytes payload(700);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 13);
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 2, 1, kAck, payload, {.ttl = 30, .id = 77, .df = false}));
    const auto out = sent(1);
    ASSERT_EQ(out.size(), 2U);  // 740 bytes of IP: 20 + 552, 20 + 168
    // The datagram NAT makes of it, cut in two.
    const Bytes whole = ipv4(kClient, kSrv1, 6, tcp_seg(kClient, kSrv1, 40000, 80, 2, 1, kAck, 8192, payload),
                             {.ttl = 29, .id = 77, .df = false});
    const std::size_t cut = 552;
    const std::size_t len[2] = {cut, whole.size() - 20 - cut};
    for (int i = 0; i < 2; ++i) {
        const Bytes& f = out[i];
        ASSERT_EQ(f.size(), std::max<std::size_t>(14 + 20 + len[i], 60U));
        EXPECT_TRUE(std::equal(kSrv1Mac.begin(), kSrv1Mac.end(), f.begin())) << "to server 1";
        EXPECT_TRUE(std::equal(kSrvMac.begin(), kSrvMac.end(), f.begin() + 6)) << "from the srv port";
        EXPECT_EQ(get16(f, 12), 0x0800);
        EXPECT_EQ(get16(f, 16), 20 + len[i]);
        EXPECT_EQ(get16(f, 18), 77);
        EXPECT_EQ(get16(f, 20), i == 0 ? 0x2000 : cut / 8);
        EXPECT_EQ(f[22], 29);
        EXPECT_EQ(get32(f, 26), kClient);
        EXPECT_EQ(get32(f, 30), kSrv1);
        EXPECT_EQ(ref_csum(Bytes(f.begin() + 14, f.begin() + 34)), 0);
        const std::size_t at = 20 + (i == 0 ? 0 : cut);
        EXPECT_EQ(Bytes(f.begin() + 34, f.begin() + 34 + static_cast<long>(len[i])),
                  Bytes(whole.begin() + static_cast<long>(at), whole.begin() + static_cast<long>(at + len[i])))
            << "fragment " << i << ": the rewritten datagram's bytes, TCP checksum included";
    }
    EXPECT_EQ(count(Counter::fragmented), 1U);
    EXPECT_EQ(count(Counter::nat_in), 2U);
}

// Path-MTU discovery must not starve: more fragmentation-needed than the
// ICMP error budget all go out.
TEST_F(NatPipelineTest, FragmentationNeededIsNotUnderTheIcmpErrorBudget)
{
    make_pipeline(0, false, 1500, 576);
    all_neighbours();
    rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 1, 0, kSyn));
    sent(1);
    for (std::uint32_t i = 0; i < kIcmpErrorBurst + 10; ++i) {
        rx(0, tcp_frame(kLanMac, kClientMac, kClient, kVip, 40000, 80, 2 + i, 1, kAck, Bytes(600, 0x5a)));
    }
    EXPECT_EQ(sent(0).size(), kIcmpErrorBurst + 10);
    EXPECT_EQ(count(Counter::frag_needed_sent), kIcmpErrorBurst + 10);
    EXPECT_EQ(count(Counter::icmp_error_rate_limited), 0U);
}

}  // namespace
}  // namespace kadp::dp::pipetest
