// Runs on: any (unit test). ARP frames built and answered, checked byte by
// byte; classification of received ARP; the mbuf wrapper on a stack mbuf.
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include "dataplane/arp.h"
#include "dataplane/checksum.h"
#include "dataplane/packet_parse.h"

#include <vector>

namespace kadp::dp {
namespace {

using Bytes = std::vector<std::uint8_t>;
const MacAddr kOurMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const MacAddr kPeerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
std::uint32_t ip(std::uint8_t c, std::uint8_t d) { return be32_from_host(0xc6120000U | (std::uint32_t{c} << 8) | d); }

Bytes padded(Bytes b)
{
    b.resize(60, 0);
    return b;
}

TEST(Arp, BroadcastRequest)
{
    ArpIface ifc{kOurMac, ip(0, 1), 0, false};
    std::uint8_t buf[64];
    ASSERT_EQ(build_arp_request(buf, sizeof buf, ifc, ip(0, 9)), 60U);
    const Bytes want = padded({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06,  // Ethernet
                               0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,                          // htype ptype hlen plen op=1
                               0x02, 0, 0, 0, 0, 0x01, 0xc6, 0x12, 0x00, 0x01,                          // sha spa
                               0, 0, 0, 0, 0, 0, 0xc6, 0x12, 0x00, 0x09});                              // tha tpa
    EXPECT_EQ(Bytes(buf, buf + 60), want);
    EXPECT_EQ(build_arp_request(buf, 59, ifc, ip(0, 9)), 0U);
    // The frame parses as the request it is.
    PacketMeta m;
    ASSERT_EQ(parse_frame(buf, 60, m), ParseVerdict::ok_arp);
    EXPECT_EQ(m.arp_op, kArpOpRequest);
    EXPECT_EQ(m.arp_tpa, ip(0, 9));
}

TEST(Arp, UnicastProbeTagged)
{
    ArpIface ifc{kOurMac, ip(0, 1), 0x2064, true};  // PCP 1, VID 100
    std::uint8_t buf[64];
    ASSERT_EQ(build_arp_request(buf, sizeof buf, ifc, ip(0, 9), &kPeerMac), 60U);
    const Bytes want = padded({0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x81, 0x00, 0x20, 0x64, 0x08, 0x06,
                               0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
                               0x02, 0, 0, 0, 0, 0x01, 0xc6, 0x12, 0x00, 0x01,
                               0, 0, 0, 0, 0, 0, 0xc6, 0x12, 0x00, 0x09});
    EXPECT_EQ(Bytes(buf, buf + 60), want);
}

TEST(Arp, GratuitousAsKeepalived)
{
    ArpIface ifc{kOurMac, ip(0, 1), 0, false};
    std::uint8_t buf[60];
    ASSERT_EQ(build_gratuitous_arp(buf, sizeof buf, ifc, ip(1, 10)), 60U);
    const Bytes want = padded({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06,
                               0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
                               0x02, 0, 0, 0, 0, 0x01, 0xc6, 0x12, 0x01, 0x0a,
                               0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc6, 0x12, 0x01, 0x0a});
    EXPECT_EQ(Bytes(buf, buf + 60), want);
}

// Request: 198.18.0.2 (02::02) asks who has `target`.
Bytes request(std::uint32_t target, bool tagged, std::uint32_t sender = 0)
{
    ArpIface peer{kPeerMac, sender ? sender : ip(0, 2), 0x0064, tagged};
    Bytes b(64);
    b.resize(build_arp_request(b.data(), b.size(), peer, target));
    return b;
}

struct Answer {
    std::uint32_t ip;
    bool operator()(std::uint32_t a) const { return a == ip; }
};

TEST(Arp, RequestAnsweredInPlace)
{
    for (bool tagged : {false, true}) {
        Bytes f = request(ip(1, 10), tagged);
        PacketMeta m;
        ASSERT_EQ(parse_frame(f.data(), static_cast<std::uint16_t>(f.size()), m), ParseVerdict::ok_arp);
        bool learn = false;
        EXPECT_EQ(arp_input(f.data(), m, kOurMac, Answer{ip(1, 10)}, &learn), ArpRx::request_answered);
        EXPECT_TRUE(learn);
        Bytes want = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
        if (tagged) want.insert(want.end(), {0x81, 0x00, 0x00, 0x64});
        want.insert(want.end(), {0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
                                 0x02, 0, 0, 0, 0, 0x01, 0xc6, 0x12, 0x01, 0x0a,    // sha = us, spa = requested
                                 0x02, 0, 0, 0, 0, 0x02, 0xc6, 0x12, 0x00, 0x02});  // tha tpa = requester
        want.resize(60, 0);
        EXPECT_EQ(f, want) << "tagged " << tagged;
        Counter c;
        ASSERT_TRUE(arp_rx_counter(ArpRx::request_answered, c));
        EXPECT_EQ(c, Counter::arp_request_answered);
        EXPECT_EQ(arp_learn_source(ArpRx::request_answered), ArpSource::request_to_us);
    }
}

TEST(Arp, Classification)
{
    PacketMeta m;
    bool learn = true;
    // For someone else: untouched.
    Bytes f = request(ip(1, 11), false);
    const Bytes before = f;
    parse_frame(f.data(), static_cast<std::uint16_t>(f.size()), m);
    EXPECT_EQ(arp_input(f.data(), m, kOurMac, Answer{ip(1, 10)}, &learn), ArpRx::request_not_ours);
    EXPECT_FALSE(learn);
    EXPECT_EQ(f, before);
    Counter c;
    ASSERT_TRUE(arp_rx_counter(ArpRx::request_not_ours, c));
    EXPECT_EQ(c, Counter::arp_request_not_ours);

    // Gratuitous for a peer's address.
    f = request(ip(0, 2), false);
    parse_frame(f.data(), static_cast<std::uint16_t>(f.size()), m);
    EXPECT_EQ(arp_input(f.data(), m, kOurMac, Answer{ip(1, 10)}, &learn), ArpRx::gratuitous);
    EXPECT_TRUE(learn);
    EXPECT_FALSE(arp_rx_counter(ArpRx::gratuitous, c));

    // Someone else claims our address: conflict, not learned, not answered.
    f = request(ip(1, 10), false, ip(1, 10));
    parse_frame(f.data(), static_cast<std::uint16_t>(f.size()), m);
    EXPECT_EQ(arp_input(f.data(), m, kOurMac, Answer{ip(1, 10)}, &learn), ArpRx::conflict);
    EXPECT_FALSE(learn);

    // RFC 5227 probe (sender 0.0.0.0) for our address: answered, not learned.
    f = request(ip(1, 10), false);
    store32(f.data() + 28, 0);
    parse_frame(f.data(), static_cast<std::uint16_t>(f.size()), m);
    EXPECT_EQ(arp_input(f.data(), m, kOurMac, Answer{ip(1, 10)}, &learn), ArpRx::request_answered);
    EXPECT_FALSE(learn);

    // A reply.
    f = request(ip(1, 10), false);
    arp_reply_in_place(f.data(), m, kPeerMac);  // any reply will do
    parse_frame(f.data(), static_cast<std::uint16_t>(f.size()), m);
    EXPECT_EQ(arp_input(f.data(), m, kOurMac, Answer{ip(9, 9)}, &learn), ArpRx::reply);
    EXPECT_TRUE(learn);
    EXPECT_EQ(arp_learn_source(ArpRx::reply), ArpSource::reply);
}

TEST(Arp, MbufWrapper)
{
    alignas(64) std::uint8_t storage[256] = {};
    rte_mbuf mb{};
    mb.buf_addr = storage;
    mb.data_off = 64;
    Bytes f = request(ip(1, 10), true);
    std::memcpy(storage + 64, f.data(), f.size());
    PacketMeta m;
    ASSERT_EQ(parse_frame(storage + 64, static_cast<std::uint16_t>(f.size()), m), ParseVerdict::ok_arp);
    bool learn = false;
    EXPECT_EQ(arp_input_mbuf(&mb, m, kOurMac, Answer{ip(1, 10)}, &learn), ArpRx::request_answered);
    EXPECT_EQ(load_be16(storage + 64 + 18 + 6), kArpOpReply);
    EXPECT_EQ(load_be16(storage + 64 + 14), 0x0064);  // tag kept
}

}  // namespace
}  // namespace kadp::dp
