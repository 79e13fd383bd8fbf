// Runs on: any (unit test). The VRRP codec: every header field and both
// checksums of what encode writes (checked with a plain RFC 1071 sum written
// here, not the codec's own), packets keepalived 2.2.7 sent (golden bytes
// from tests/scripts/vrrp_captures.sh), one test per refusal reason, and
// validate(). The Captured* tests run only under vrrp_captures.sh
// (KADP_VRRP_CAPTURES set): they decode what keepalived sent moments ago and
// compare it, and kadp's encoding of it, with keepalived's own config.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "conf/load.h"
#include "vrrp/codec.h"

namespace kadp::vrrp {
namespace {

using Bytes = std::vector<std::uint8_t>;
using Family = conf::IpAddr::Family;

conf::IpAddr ip(std::string_view text)
{
    auto a = conf::IpAddr::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(conf::IpAddr{});
}

Bytes hex(std::string_view text)
{
    Bytes out;
    std::string digits;
    for (char c : text) {
        if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
    }
    for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
    }
    return out;
}

std::string to_hex(std::span<const std::uint8_t> b)
{
    std::string s;
    char buf[4];
    for (auto v : b) {
        std::snprintf(buf, sizeof buf, "%02x", v);
        s += buf;
    }
    return s;
}

unsigned be16(std::span<const std::uint8_t> b, std::size_t off) { return (b[off] << 8u) | b[off + 1]; }

// The reference sum: big-endian 16-bit words, end-around carry (RFC 1071),
// deliberately naive and independent of dataplane/checksum.h.
std::uint32_t ref_sum(std::span<const std::uint8_t> b, std::uint32_t acc = 0)
{
    for (std::size_t i = 0; i < b.size(); i += 2) {
        acc += (std::uint32_t{b[i]} << 8) | (i + 1 < b.size() ? b[i + 1] : 0u);
    }
    return acc;
}
std::uint16_t ref_fold(std::uint32_t acc)
{
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(acc);
}
// A message whose checksum field is included verifies when this is 0xffff.
std::uint16_t ref_verify(std::span<const std::uint8_t> b, std::uint32_t pseudo = 0) { return ref_fold(ref_sum(b, pseudo)); }
std::uint32_t ref_pseudo(const conf::IpAddr& s, const conf::IpAddr& d, std::size_t len)
{
    const std::size_t n = s.is_v6() ? 16 : 4;
    std::uint32_t acc = ref_sum({s.bytes.data(), n});
    acc = ref_sum({d.bytes.data(), n}, acc);
    return acc + 112 + static_cast<std::uint32_t>(len);  // zero, proto, length (v6: 32-bit length; fits 16 bits here)
}

Advert v2_pass()
{
    Advert a;
    a.version = 2;
    a.vrid = 51;
    a.priority = 200;
    a.interval_cs = 100;
    a.auth_type = AuthType::pass;
    a.auth_data = pass_auth_data("kadp12");
    a.addresses = {ip("198.18.1.51")};
    a.source = ip("198.18.0.1");
    return a;
}

Advert v3_multi()
{
    Advert a;
    a.version = 3;
    a.vrid = 53;
    a.priority = 100;
    a.interval_cs = 10;
    a.addresses = {ip("198.18.1.53"), ip("198.18.1.153"), ip("198.18.1.253"), ip("198.19.1.53")};
    a.source = ip("198.18.0.1");
    return a;
}

Advert v3_v6()
{
    Advert a;
    a.version = 3;
    a.vrid = 55;
    a.priority = 110;
    a.interval_cs = 20;
    a.addresses = {ip("2001:db8::55"), ip("2001:db8::155")};
    a.source = ip("fe80::1");
    return a;
}

void expect_same(const Advert& got, const Advert& want)
{
    EXPECT_EQ(got.version, want.version);
    EXPECT_EQ(got.vrid, want.vrid);
    EXPECT_EQ(got.priority, want.priority);
    EXPECT_EQ(got.interval_cs, want.interval_cs);
    EXPECT_EQ(got.auth_type, want.auth_type);
    EXPECT_EQ(got.auth_data, want.auth_data);
    EXPECT_EQ(got.addresses, want.addresses);
    EXPECT_EQ(got.source, want.source);
    EXPECT_EQ(got.destination, want.destination.empty() ? multicast_group(want.source.family) : want.destination);
    EXPECT_EQ(got.ttl, want.ttl);
}

// ---- helpers ------------------------------------------------------------------

TEST(Codec, Helpers)
{
    EXPECT_EQ(multicast_group(Family::v4).to_string(), "224.0.0.18");
    EXPECT_EQ(multicast_group(Family::v6).to_string(), "ff02::12");
    EXPECT_EQ(pass_auth_data("kadp12"), (std::array<std::uint8_t, 8>{'k', 'a', 'd', 'p', '1', '2', 0, 0}));
    EXPECT_EQ(pass_auth_data("123456789"), (std::array<std::uint8_t, 8>{'1', '2', '3', '4', '5', '6', '7', '8'}));
    EXPECT_EQ(pass_auth_data(""), (std::array<std::uint8_t, 8>{}));
    EXPECT_EQ(payload_size(v2_pass()), 20u);
    EXPECT_EQ(payload_size(v3_multi()), 24u);
    EXPECT_EQ(payload_size(v3_v6()), 40u);
    // Reason names are distinct (they become counter names).
    std::map<std::string_view, int> seen;
    for (int r = 0; r <= static_cast<int>(Reason::too_many_addresses); ++r) {
        EXPECT_EQ(++seen[name(static_cast<Reason>(r))], 1) << r;
    }
}

// ---- encode: every field -----------------------------------------------------

TEST(Encode, V2PassIpv4EveryField)
{
    Advert a = v2_pass();
    auto r = encode_ipv4(a, 0x1234);
    ASSERT_TRUE(r) << r.text;
    const Bytes& p = r.value;
    ASSERT_EQ(p.size(), 40u);
    // IP header
    EXPECT_EQ(p[0], 0x45);                   // version 4, IHL 5
    EXPECT_EQ(p[1], 0xc0);                   // TOS
    EXPECT_EQ(be16(p, 2), 40u);              // total length
    EXPECT_EQ(be16(p, 4), 0x1234u);          // ID
    EXPECT_EQ(be16(p, 6), 0u);               // no DF, no offset (as keepalived)
    EXPECT_EQ(p[8], 255);                    // TTL
    EXPECT_EQ(p[9], 112);                    // protocol
    EXPECT_EQ(ref_verify({p.data(), 20}), 0xffff) << "IP header checksum";
    EXPECT_NE(be16(p, 10), 0u);
    EXPECT_EQ(Bytes(p.begin() + 12, p.begin() + 16), hex("c6 12 00 01"));  // 198.18.0.1
    EXPECT_EQ(Bytes(p.begin() + 16, p.begin() + 20), hex("e0 00 00 12"));  // 224.0.0.18
    // VRRPv2
    const std::span<const std::uint8_t> v(p.data() + 20, 20);
    EXPECT_EQ(v[0], 0x21);  // version 2, type 1
    EXPECT_EQ(v[1], 51);    // VRID
    EXPECT_EQ(v[2], 200);   // priority
    EXPECT_EQ(v[3], 1);     // count
    EXPECT_EQ(v[4], 1);     // auth type PASS
    EXPECT_EQ(v[5], 1);     // advert interval, seconds
    EXPECT_EQ(ref_verify(v), 0xffff) << "VRRPv2 checksum over the message only";
    EXPECT_EQ(Bytes(v.begin() + 8, v.begin() + 12), hex("c6 12 01 33"));               // 198.18.1.51
    EXPECT_EQ(Bytes(v.begin() + 12, v.end()), hex("6b 61 64 70 31 32 00 00"));        // "kadp12" padded
    // The checksum does not involve the IP header: another destination, same message.
    a.destination = ip("198.18.0.2");
    auto u = encode_ipv4(a, 0x1234);
    ASSERT_TRUE(u);
    EXPECT_EQ(Bytes(u.value.begin() + 20, u.value.end()), Bytes(v.begin(), v.end()));
    EXPECT_EQ(Bytes(u.value.begin() + 16, u.value.begin() + 20), hex("c6 12 00 02"));
}

TEST(Encode, V2NoAuthSendsZeroAuthData)
{
    Advert a = v2_pass();
    a.auth_type = AuthType::none;  // auth_data left set: must not leak onto the wire
    a.interval_cs = 300;
    auto r = encode_payload(a);
    ASSERT_TRUE(r) << r.text;
    EXPECT_EQ(r.value[4], 0);
    EXPECT_EQ(r.value[5], 3);
    EXPECT_EQ(Bytes(r.value.end() - 8, r.value.end()), Bytes(8, 0));
    EXPECT_EQ(ref_verify(r.value), 0xffff);
}

TEST(Encode, V3Ipv4EveryField)
{
    Advert a = v3_multi();
    a.ttl = 255;
    auto r = encode_ipv4(a, 7);
    ASSERT_TRUE(r) << r.text;
    const Bytes& p = r.value;
    ASSERT_EQ(p.size(), 20u + 8u + 16u);
    EXPECT_EQ(p[0], 0x45);
    EXPECT_EQ(p[1], 0xc0);
    EXPECT_EQ(be16(p, 2), 44u);
    EXPECT_EQ(be16(p, 4), 7u);
    EXPECT_EQ(be16(p, 6), 0u);
    EXPECT_EQ(p[8], 255);
    EXPECT_EQ(p[9], 112);
    EXPECT_EQ(ref_verify({p.data(), 20}), 0xffff);
    const std::span<const std::uint8_t> v(p.data() + 20, 24);
    EXPECT_EQ(v[0], 0x31);
    EXPECT_EQ(v[1], 53);
    EXPECT_EQ(v[2], 100);
    EXPECT_EQ(v[3], 4);
    EXPECT_EQ(v[4] >> 4, 0) << "reserved bits";
    EXPECT_EQ(be16(v, 4) & 0x0fff, 10u) << "interval in centiseconds";
    EXPECT_EQ(Bytes(v.begin() + 8, v.end()), hex("c6120135 c6120199 c61201fd c6130135"));
    // The checksum includes the pseudo-header {src, dst, 0, 112, 24}...
    EXPECT_EQ(ref_verify(v, ref_pseudo(a.source, multicast_group(Family::v4), v.size())), 0xffff);
    // ...so it does not verify over the message alone,
    EXPECT_NE(ref_verify(v), 0xffff);
    // and a unicast destination changes it.
    a.destination = ip("198.18.0.2");
    auto u = encode_payload(a);
    ASSERT_TRUE(u);
    EXPECT_NE(be16(u.value, 6), be16(v, 6));
    EXPECT_EQ(ref_verify(u.value, ref_pseudo(a.source, a.destination, 24)), 0xffff);
}

TEST(Encode, V3IntervalLimits)
{
    Advert a = v3_multi();
    a.interval_cs = 4095;
    auto r = encode_payload(a);
    ASSERT_TRUE(r) << r.text;
    EXPECT_EQ(r.value[4], 0x0f);
    EXPECT_EQ(r.value[5], 0xff);
    a.interval_cs = 1;
    r = encode_payload(a);
    ASSERT_TRUE(r) << r.text;
    EXPECT_EQ(be16(r.value, 4), 1u);
}

TEST(Encode, PayloadIsThePacketWithoutItsIpHeader)
{
    for (const Advert& a : {v2_pass(), v3_multi()}) {
        auto full = encode_ipv4(a, 99);
        auto payload = encode_payload(a);
        ASSERT_TRUE(full && payload);
        EXPECT_EQ(Bytes(full.value.begin() + 20, full.value.end()), payload.value);
    }
    auto full6 = encode_ipv6(v3_v6());
    auto payload6 = encode_payload(v3_v6());
    ASSERT_TRUE(full6 && payload6);
    EXPECT_EQ(Bytes(full6.value.begin() + 40, full6.value.end()), payload6.value);
}

TEST(Encode, V3Ipv6EveryField)
{
    const Advert a = v3_v6();
    auto r = encode_ipv6(a);
    ASSERT_TRUE(r) << r.text;
    const Bytes& p = r.value;
    ASSERT_EQ(p.size(), 40u + 8u + 32u);
    EXPECT_EQ(p[0], 0x6c);  // version 6, traffic class 0xc0 ...
    EXPECT_EQ(p[1], 0x00);  // ... flow label 0
    EXPECT_EQ(be16(p, 2), 0u);
    EXPECT_EQ(be16(p, 4), 40u);  // payload length
    EXPECT_EQ(p[6], 112);        // next header
    EXPECT_EQ(p[7], 255);        // hop limit
    EXPECT_EQ(Bytes(p.begin() + 8, p.begin() + 24), hex("fe800000000000000000000000000001"));
    EXPECT_EQ(Bytes(p.begin() + 24, p.begin() + 40), hex("ff020000000000000000000000000012"));
    const std::span<const std::uint8_t> v(p.data() + 40, 40);
    EXPECT_EQ(v[0], 0x31);
    EXPECT_EQ(v[1], 55);
    EXPECT_EQ(v[2], 110);
    EXPECT_EQ(v[3], 2);
    EXPECT_EQ(be16(v, 4), 20u);
    EXPECT_EQ(Bytes(v.begin() + 8, v.end()),
              hex("20010db8000000000000000000000055 20010db8000000000000000000000155"));
    EXPECT_EQ(ref_verify(v, ref_pseudo(a.source, multicast_group(Family::v6), 40)), 0xffff);
}

TEST(Encode, Refusals)
{
    struct Case {
        const char* what;
        Advert advert;
        Reason reason;
    };
    std::vector<Case> cases;
    auto add = [&](const char* what, Advert a, Reason r) { cases.push_back({what, std::move(a), r}); };
    Advert a = v2_pass();
    a.interval_cs = 150;
    add("v2 sub-second interval", a, Reason::bad_interval);
    a.interval_cs = 0;
    add("v2 zero interval", a, Reason::bad_interval);
    a.interval_cs = 25600;
    add("v2 interval over 255 s", a, Reason::bad_interval);
    a = v3_multi();
    a.interval_cs = 0;
    add("v3 zero interval", a, Reason::bad_interval);
    a.interval_cs = 4096;
    add("v3 interval over 12 bits", a, Reason::bad_interval);
    a = v2_pass();
    a.auth_type = AuthType::ah;
    add("v2 AH", a, Reason::auth_unsupported);
    a = v2_pass();
    a.version = 4;
    add("version 4", a, Reason::bad_version);
    a = v3_v6();
    a.version = 2;
    a.interval_cs = 100;
    add("v2 over IPv6", a, Reason::bad_version);
    a = v2_pass();
    a.source = {};
    add("no source", a, Reason::bad_address);
    a = v2_pass();
    a.addresses.push_back(ip("2001:db8::1"));
    add("IPv6 VIP in an IPv4 advert", a, Reason::bad_address);
    a = v2_pass();
    a.destination = ip("ff02::12");
    add("IPv6 destination", a, Reason::bad_address);
    a = v3_multi();
    a.addresses.assign(256, ip("198.18.1.1"));
    add("256 addresses", a, Reason::too_many_addresses);
    for (const auto& c : cases) {
        auto r = encode_payload(c.advert);
        EXPECT_EQ(r.reason, c.reason) << c.what << ": " << r.text;
        EXPECT_FALSE(r.text.empty()) << c.what;
        EXPECT_TRUE(r.value.empty()) << c.what;
        EXPECT_EQ(encode_ipv4(c.advert).reason, c.reason) << c.what;
    }
    // Each family's encoder takes only its own family.
    EXPECT_EQ(encode_ipv4(v3_v6()).reason, Reason::bad_address);
    EXPECT_EQ(encode_ipv6(v3_multi()).reason, Reason::bad_address);
    // 255 addresses are fine.
    a = v3_multi();
    a.addresses.assign(255, ip("198.18.1.1"));
    EXPECT_TRUE(encode_ipv4(a));
}

// ---- decode ---------------------------------------------------------------------

TEST(Decode, RoundTrips)
{
    Advert a = v2_pass();
    auto d = decode_ipv4(encode_ipv4(a, 1).value);
    ASSERT_TRUE(d) << d.text;
    expect_same(d.value, a);

    a = v3_multi();
    a.priority = 0;
    a.destination = ip("198.18.0.2");
    d = decode_ipv4(encode_ipv4(a).value);
    ASSERT_TRUE(d) << d.text;
    expect_same(d.value, a);

    a = v3_v6();
    d = decode_ipv6(encode_ipv6(a).value);
    ASSERT_TRUE(d) << d.text;
    expect_same(d.value, a);

    IpFields f{a.source, multicast_group(Family::v6), 255};
    d = decode_payload(encode_payload(a).value, f);
    ASSERT_TRUE(d) << d.text;
    expect_same(d.value, a);
}

// What keepalived 2.2.7 sent, captured by tests/scripts/vrrp_captures.sh
// (VRRP_CAPTURES_KEEP; the config is in that script; ka0 198.18.0.1,
// fe80::18ae:52ff:fe94:8e8d), so these run without root. The last five are
// the priority-0 adverts of its graceful stop.
struct Golden {
    const char* what;
    const char* packet;  // from the IP header on
    Advert advert;
};

Advert golden_advert(std::uint8_t version, std::uint8_t vrid, std::uint8_t priority, std::uint16_t interval_cs,
                     std::vector<conf::IpAddr> addresses, const char* destination = nullptr, const char* pass = nullptr)
{
    Advert a;
    a.version = version;
    a.vrid = vrid;
    a.priority = priority;
    a.interval_cs = interval_cs;
    if (pass != nullptr) {
        a.auth_type = AuthType::pass;
        a.auth_data = pass_auth_data(pass);
    }
    a.addresses = std::move(addresses);
    a.source = a.addresses.front().is_v6() ? ip("fe80::18ae:52ff:fe94:8e8d") : ip("198.18.0.1");
    a.destination = destination != nullptr ? ip(destination) : multicast_group(a.source.family);
    return a;
}

std::vector<Golden> keepalived_packets()
{
    const std::vector<conf::IpAddr> vips53 = {ip("198.18.1.53"), ip("198.18.1.153"), ip("198.18.1.253"),
                                              ip("198.19.1.53")};
    const std::vector<conf::IpAddr> vips55 = {ip("2001:db8::55"), ip("2001:db8::155")};
    return {
        {"v2 PASS kadp12",
         "45c0002800010000ff70147fc6120001e0000012 2133c80101014d80 c6120133 6b61647031320000",
         golden_advert(2, 51, 200, 100, {ip("198.18.1.51")}, nullptr, "kadp12")},
        {"v2 no auth, 2 VIPs",
         "45c0002c00010000ff70147bc6120001e0000012 213496020001b9d6 c6120134c6120198 0000000000000000",
         golden_advert(2, 52, 150, 100, {ip("198.18.1.52"), ip("198.18.1.152")})},
        {"v3 advert_int 0.1, 4 VIPs",
         "45c0002c00010000ff70147bc6120001e0000012 31356404000aa5c1 c6120135c6120199c61201fdc6130135",
         golden_advert(3, 53, 100, 10, vips53)},
        {"v3 unicast",
         "45c0002000010000ff702e85c6120001c6120002 31367801003202a9 c6120136",
         golden_advert(3, 54, 120, 50, {ip("198.18.1.54")}, "198.18.0.2")},
        {"v3 IPv6",
         "6c094710002870ff fe8000000000000018ae52fffe948e8d ff020000000000000000000000000012"
         "31376e0200140c98 20010db8000000000000000000000055 20010db8000000000000000000000155",
         golden_advert(3, 55, 110, 20, vips55)},
        {"v2 PASS, stopping",
         "45c0002800030000ff70147dc6120001e0000012 2133000101011581 c6120133 6b61647031320000",
         golden_advert(2, 51, 0, 100, {ip("198.18.1.51")}, nullptr, "kadp12")},
        {"v2 no auth, stopping",
         "45c0002c00030000ff701479c6120001e0000012 2134000200014fd7 c6120134c6120198 0000000000000000",
         golden_advert(2, 52, 0, 100, {ip("198.18.1.52"), ip("198.18.1.152")})},
        {"v3 4 VIPs, stopping",
         "45c0002c00300000ff70144cc6120001e0000012 31350004000a09c2 c6120135c6120199c61201fdc6130135",
         golden_advert(3, 53, 0, 10, vips53)},
        {"v3 unicast, stopping",
         "45c0002000080000ff702e7ec6120001c6120002 3136000100327aa9 c6120136",
         golden_advert(3, 54, 0, 50, {ip("198.18.1.54")}, "198.18.0.2")},
        {"v3 IPv6, stopping",
         "6c094710002870ff fe8000000000000018ae52fffe948e8d ff020000000000000000000000000012"
         "3137000200147a98 20010db8000000000000000000000055 20010db8000000000000000000000155",
         golden_advert(3, 55, 0, 20, vips55)},
    };
}

TEST(Decode, KeepalivedPackets)
{
    for (const auto& g : keepalived_packets()) {
        SCOPED_TRACE(g.what);
        const Bytes p = hex(g.packet);
        const bool v6 = g.advert.source.is_v6();
        auto d = v6 ? decode_ipv6(p) : decode_ipv4(p);
        ASSERT_TRUE(d) << name(d.reason) << ": " << d.text;
        expect_same(d.value, g.advert);
        EXPECT_TRUE(validate(d.value, g.advert));
    }
}

TEST(Encode, AsKeepalivedDoes)
{
    for (const auto& g : keepalived_packets()) {
        SCOPED_TRACE(g.what);
        const Bytes want = hex(g.packet);
        if (g.advert.source.is_v6()) {
            auto r = encode_ipv6(g.advert);
            ASSERT_TRUE(r) << r.text;
            Bytes got = r.value;
            got[1] = want[1];  // keepalived's flow label is the kernel's
            got[2] = want[2];
            got[3] = want[3];
            EXPECT_EQ(to_hex(got), to_hex(want));
        } else {
            auto r = encode_ipv4(g.advert, static_cast<std::uint16_t>(be16(want, 4)));
            ASSERT_TRUE(r) << r.text;
            EXPECT_EQ(to_hex(r.value), to_hex(want));
        }
        const std::size_t hlen = g.advert.source.is_v6() ? 40 : 20;
        auto m = encode_payload(g.advert);
        ASSERT_TRUE(m) << m.text;
        EXPECT_EQ(to_hex(m.value), to_hex({want.data() + hlen, want.size() - hlen}));
    }
}

Bytes packet(const Advert& a) { return encode_ipv4(a, 1).value; }
// Re-does the IPv4 header checksum after a test edited the header.
void fix_ip_checksum(Bytes& p)
{
    p[10] = p[11] = 0;
    const std::size_t ihl = std::min<std::size_t>((p[0] & 0x0fu) * 4u, p.size());
    const std::uint16_t c = static_cast<std::uint16_t>(~ref_fold(ref_sum({p.data(), ihl})));
    p[10] = static_cast<std::uint8_t>(c >> 8);
    p[11] = static_cast<std::uint8_t>(c);
}
// Re-does the VRRP checksum (v2 style: message only, or with the pseudo-header).
void fix_vrrp_checksum(std::span<std::uint8_t> m, std::uint32_t pseudo = 0)
{
    m[6] = m[7] = 0;
    const std::uint16_t c = static_cast<std::uint16_t>(~ref_fold(ref_sum(m, pseudo)));
    m[6] = static_cast<std::uint8_t>(c >> 8);
    m[7] = static_cast<std::uint8_t>(c);
}

TEST(Decode, IgnoresLinkPaddingAndIpOptions)
{
    Bytes p = packet(v3_multi());
    Bytes padded = p;
    padded.resize(p.size() + 14, 0);  // short frames padded to 60 bytes on Ethernet
    auto d = decode_ipv4(padded);
    ASSERT_TRUE(d) << d.text;
    expect_same(d.value, v3_multi());

    // A header with one 4-byte option (NOP x4): the message starts after it.
    Bytes opt(p.begin(), p.begin() + 20);
    opt.insert(opt.end(), {1, 1, 1, 1});
    opt.insert(opt.end(), p.begin() + 20, p.end());
    opt[0] = 0x46;
    opt[3] = static_cast<std::uint8_t>(opt.size());
    fix_ip_checksum(opt);
    d = decode_ipv4(opt);
    ASSERT_TRUE(d) << d.text;
    expect_same(d.value, v3_multi());
}

TEST(Decode, V3ReservedBitsAreIgnored)
{
    Advert a = v3_multi();
    Bytes p = packet(a);
    p[20 + 4] |= 0xf0;
    fix_vrrp_checksum({p.data() + 20, p.size() - 20}, ref_pseudo(a.source, multicast_group(Family::v4), p.size() - 20));
    auto d = decode_ipv4(p);
    ASSERT_TRUE(d) << d.text;
    EXPECT_EQ(d.value.interval_cs, 10u);
}

TEST(Decode, TtlIsCheckedOnlyWhenAsked)
{
    Bytes p = packet(v2_pass());
    p[8] = 64;
    fix_ip_checksum(p);
    auto d = decode_ipv4(p);
    EXPECT_EQ(d.reason, Reason::bad_ttl);
    EXPECT_EQ(d.text, "TTL 64, expected 255");
    d = decode_ipv4(p, DecodeOptions{.check_ttl = false});
    ASSERT_TRUE(d) << d.text;
    EXPECT_EQ(d.value.ttl, 64);

    Bytes p6 = encode_ipv6(v3_v6()).value;
    p6[7] = 1;
    EXPECT_EQ(decode_ipv6(p6).reason, Reason::bad_ttl);
    EXPECT_TRUE(decode_ipv6(p6, DecodeOptions{.check_ttl = false}));
}

TEST(Decode, Refusals)
{
    const Advert v2 = v2_pass();
    const Advert v3 = v3_multi();
    const std::uint32_t v3_pseudo = ref_pseudo(v3.source, multicast_group(Family::v4), 24);
    struct Case {
        std::string what;
        Bytes packet;
        Reason reason;
    };
    std::vector<Case> cases;
    auto edit = [&](std::string what, const Advert& a, Reason r, auto&& change) {
        Bytes p = packet(a);
        change(p);
        cases.push_back({std::move(what), std::move(p), r});
    };
    auto vrrp = [](Bytes& p) { return std::span<std::uint8_t>(p.data() + 20, p.size() - 20); };

    cases.push_back({"empty", {}, Reason::too_short});
    edit("19 bytes", v2, Reason::too_short, [](Bytes& p) { p.resize(19); });
    edit("truncated below the total length", v2, Reason::too_short, [](Bytes& p) { p.pop_back(); });
    edit("IP version 6 in an IPv4 packet", v2, Reason::bad_ip_header, [](Bytes& p) { p[0] = 0x65; });
    edit("IHL 4", v2, Reason::bad_ip_header, [](Bytes& p) { p[0] = 0x44; fix_ip_checksum(p); });
    edit("total length below IHL", v2, Reason::bad_ip_header, [](Bytes& p) { p[3] = 16; fix_ip_checksum(p); });
    edit("IP header checksum", v2, Reason::bad_ip_header, [](Bytes& p) { p[10] ^= 1; });
    edit("fragment (MF)", v2, Reason::bad_ip_header, [](Bytes& p) { p[6] = 0x20; fix_ip_checksum(p); });
    edit("fragment (offset)", v2, Reason::bad_ip_header, [](Bytes& p) { p[7] = 1; fix_ip_checksum(p); });
    edit("protocol 17", v2, Reason::wrong_protocol, [](Bytes& p) { p[9] = 17; fix_ip_checksum(p); });
    edit("protocol 51 (AH)", v2, Reason::auth_unsupported, [](Bytes& p) { p[9] = 51; fix_ip_checksum(p); });
    edit("TTL 254", v2, Reason::bad_ttl, [](Bytes& p) { p[8] = 254; fix_ip_checksum(p); });
    edit("VRRP message of 7 bytes", v3, Reason::too_short, [](Bytes& p) {
        p.resize(27);
        p[3] = 27;
        fix_ip_checksum(p);
    });
    edit("v2 message without its auth data", v2, Reason::too_short, [](Bytes& p) {
        p.resize(20 + 12);
        p[3] = 32;
        fix_ip_checksum(p);
    });
    edit("version 1", v2, Reason::bad_version, [&](Bytes& p) { vrrp(p)[0] = 0x11; fix_vrrp_checksum(vrrp(p)); });
    edit("version 4", v2, Reason::bad_version, [&](Bytes& p) { vrrp(p)[0] = 0x41; fix_vrrp_checksum(vrrp(p)); });
    edit("type 2", v2, Reason::bad_type, [&](Bytes& p) { vrrp(p)[0] = 0x22; fix_vrrp_checksum(vrrp(p)); });
    edit("v2 count 2 for 1 address", v2, Reason::bad_length, [&](Bytes& p) { vrrp(p)[3] = 2; fix_vrrp_checksum(vrrp(p)); });
    edit("v3 count 3 for 4 addresses", v3, Reason::bad_length, [&](Bytes& p) { vrrp(p)[3] = 3; fix_vrrp_checksum(vrrp(p), v3_pseudo); });
    edit("v3 trailing bytes inside the IP length", v3, Reason::bad_length, [&](Bytes& p) {
        p.insert(p.end(), {0, 0, 0, 0});
        p[3] = static_cast<std::uint8_t>(p.size());
        fix_ip_checksum(p);
    });
    edit("v2 checksum", v2, Reason::bad_checksum, [&](Bytes& p) { vrrp(p)[7] ^= 0x40; });
    edit("v2 password byte changed, checksum not", v2, Reason::bad_checksum, [&](Bytes& p) { p.back() = 'x'; });
    edit("v3 checksum", v3, Reason::bad_checksum, [&](Bytes& p) { vrrp(p)[6] ^= 1; });
    edit("v3 checksum over the message only (no pseudo-header)", v3, Reason::bad_checksum,
         [&](Bytes& p) { fix_vrrp_checksum(vrrp(p)); });
    edit("v3 sent to another destination", v3, Reason::bad_checksum, [](Bytes& p) {
        p[19] = 19;  // 224.0.0.19: the pseudo-header no longer matches
        fix_ip_checksum(p);
    });
    edit("v2 auth type 2 (AH)", v2, Reason::auth_unsupported, [&](Bytes& p) { vrrp(p)[4] = 2; fix_vrrp_checksum(vrrp(p)); });
    edit("v2 auth type 3", v2, Reason::bad_auth_type, [&](Bytes& p) { vrrp(p)[4] = 3; fix_vrrp_checksum(vrrp(p)); });

    for (const auto& c : cases) {
        auto d = decode_ipv4(c.packet);
        EXPECT_EQ(d.reason, c.reason) << c.what << ": got " << name(d.reason) << " (" << d.text << ")";
        EXPECT_FALSE(d.text.empty()) << c.what;
    }
}

TEST(Decode, Ipv6Refusals)
{
    const Advert a = v3_v6();
    Bytes p = encode_ipv6(a).value;
    EXPECT_EQ(decode_ipv6({p.data(), 39}).reason, Reason::too_short);
    Bytes q = p;
    q.pop_back();
    EXPECT_EQ(decode_ipv6(q).reason, Reason::too_short);
    q = p;
    q[0] = 0x4c;
    EXPECT_EQ(decode_ipv6(q).reason, Reason::bad_ip_header);
    q = p;
    q[6] = 0;  // hop-by-hop options header first: not supported
    EXPECT_EQ(decode_ipv6(q).reason, Reason::wrong_protocol);
    q = p;
    q[40 + 6] ^= 1;
    EXPECT_EQ(decode_ipv6(q).reason, Reason::bad_checksum);
    q = p;
    q[40] = 0x21;  // v2 over IPv6 (keepalived's variant, without auth data)
    EXPECT_EQ(decode_ipv6(q).reason, Reason::bad_version);
    // decode_payload needs the addresses for the pseudo-header.
    Bytes m(p.begin() + 40, p.end());
    EXPECT_EQ(decode_payload(m, IpFields{}).reason, Reason::bad_ip_header);
    EXPECT_EQ(decode_payload(m, IpFields{a.source, {}, 255}).reason, Reason::bad_ip_header);
    EXPECT_EQ(decode_payload(m, IpFields{a.source, ip("ff02::13"), 255}).reason, Reason::bad_checksum);
    EXPECT_TRUE(decode_payload(m, IpFields{a.source, ip("ff02::12"), 255}));
}

// ---- validate -------------------------------------------------------------------

TEST(Validate, AgainstTheReceivingInstance)
{
    const Advert mine = v2_pass();
    Advert r = mine;
    r.priority = 0;  // priority is the state machine's business
    r.source = ip("198.18.0.9");
    EXPECT_TRUE(validate(r, mine));

    auto expect = [&](const Advert& got, Reason want, const ValidateOptions& o = {}) {
        auto st = validate(got, mine, o);
        EXPECT_EQ(st.reason, want) << st.text;
        EXPECT_FALSE(st.text.empty());
    };
    r = mine;
    r.version = 3;
    expect(r, Reason::version_mismatch);
    r = mine;
    r.vrid = 52;
    expect(r, Reason::vrid_mismatch);
    r = mine;
    r.auth_type = AuthType::none;
    r.auth_data = {};
    expect(r, Reason::auth_type_mismatch);
    r = mine;
    r.auth_data = pass_auth_data("kadp13");
    expect(r, Reason::bad_password);
    EXPECT_EQ(validate(r, mine).text.find("kadp"), std::string::npos) << "the password is never logged";
    r = mine;
    r.interval_cs = 200;
    expect(r, Reason::interval_mismatch);
    r = mine;
    r.addresses.push_back(ip("198.18.1.52"));
    expect(r, Reason::address_count_mismatch);
    r = mine;
    r.addresses = {ip("198.18.1.52")};
    expect(r, Reason::address_missing);
    EXPECT_TRUE(validate(r, mine, ValidateOptions{.check_addresses = false}));

    // v3: no auth, and a backup adopts the master's interval.
    const Advert mine3 = v3_multi();
    Advert r3 = mine3;
    r3.interval_cs = 100;
    std::swap(r3.addresses[0], r3.addresses[3]);  // order does not matter
    EXPECT_TRUE(validate(r3, mine3));
}

// ---- captured from keepalived (tests/scripts/vrrp_captures.sh) ---------------------

struct Frame {
    std::uint16_t ethertype = 0;
    Bytes l3;
};

std::uint32_t get32(const Bytes& b, std::size_t off, bool swap)
{
    std::uint32_t v = 0;
    std::memcpy(&v, b.data() + off, 4);
    return swap ? __builtin_bswap32(v) : v;
}

// A minimal pcap reader: the global header, then 16-byte record headers;
// Ethernet (link type 1) only, one 802.1Q tag skipped.
std::vector<Frame> read_pcap(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    Bytes file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<Frame> out;
    if (file.size() < 24) {
        ADD_FAILURE() << path << ": not a pcap file (" << file.size() << " bytes)";
        return out;
    }
    const std::uint32_t magic = get32(file, 0, false);
    const bool swap = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
    if (!swap && magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
        ADD_FAILURE() << path << ": bad pcap magic";
        return out;
    }
    if (get32(file, 20, swap) != 1) {
        ADD_FAILURE() << path << ": link type " << get32(file, 20, swap) << ", expected 1 (Ethernet)";
        return out;
    }
    std::size_t off = 24;
    while (off + 16 <= file.size()) {
        const std::uint32_t caplen = get32(file, off + 8, swap);
        off += 16;
        if (off + caplen > file.size()) {
            ADD_FAILURE() << path << ": truncated record";
            break;
        }
        std::size_t l2 = 12;
        if (caplen >= 18 && be16(file, off + 12) == 0x8100) l2 += 4;
        if (caplen >= l2 + 2) {
            Frame f;
            f.ethertype = static_cast<std::uint16_t>(be16(file, off + l2));
            f.l3.assign(file.begin() + static_cast<std::ptrdiff_t>(off + l2 + 2),
                        file.begin() + static_cast<std::ptrdiff_t>(off + caplen));
            out.push_back(std::move(f));
        }
        off += caplen;
    }
    return out;
}

void write_pcap(const std::string& path, const std::vector<Frame>& frames)
{
    std::ofstream out(path, std::ios::binary);
    auto put32 = [&](std::uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
    auto put16 = [&](std::uint16_t v) { out.write(reinterpret_cast<const char*>(&v), 2); };
    put32(0xa1b2c3d4);
    put16(2);
    put16(4);
    put32(0);
    put32(0);
    put32(65535);
    put32(1);
    std::uint32_t t = 0;
    for (const auto& f : frames) {
        const bool v6 = f.ethertype == 0x86dd;
        Bytes eth = v6 ? hex("333300000012") : hex("01005e000012");
        const Bytes src = hex("00005e0001ff");
        eth.insert(eth.end(), src.begin(), src.end());
        eth.push_back(static_cast<std::uint8_t>(f.ethertype >> 8));
        eth.push_back(static_cast<std::uint8_t>(f.ethertype));
        eth.insert(eth.end(), f.l3.begin(), f.l3.end());
        put32(++t);
        put32(0);
        put32(static_cast<std::uint32_t>(eth.size()));
        put32(static_cast<std::uint32_t>(eth.size()));
        out.write(reinterpret_cast<const char*>(eth.data()), static_cast<std::streamsize>(eth.size()));
    }
}

struct Capture {
    std::string dir;
    conf::Config config;
    std::vector<Frame> frames;
    conf::IpAddr source4, source6;  // the sender's interface addresses
};

// Loads KADP_VRRP_CAPTURES/{keepalived.conf,adverts.pcap}; false (and the
// test skips) when the variable is unset.
bool load_capture(Capture& c)
{
    const char* dir = std::getenv("KADP_VRRP_CAPTURES");
    if (dir == nullptr || *dir == '\0') return false;
    c.dir = dir;
    conf::LoadOptions lo;
    lo.check_host = false;
    conf::Diagnostics diags;
    auto config = conf::load_file(c.dir + "/keepalived.conf", lo, diags);
    EXPECT_TRUE(config.has_value());
    EXPECT_FALSE(diags.has_errors());
    for (const auto& d : diags.all()) ADD_FAILURE() << conf::Diagnostics::format(d);
    if (config) c.config = std::move(*config);
    c.frames = read_pcap(c.dir + "/adverts.pcap");
    if (const char* s = std::getenv("KADP_VRRP_SOURCE4")) c.source4 = ip(s);
    if (const char* s = std::getenv("KADP_VRRP_SOURCE6")) c.source6 = ip(s);
    return true;
}

// The advert keepalived sends for an instance of its config (as MASTER).
Advert advert_for(const conf::VrrpInstance& vi, const Capture& c)
{
    Advert a;
    a.version = static_cast<std::uint8_t>(vi.version);
    a.vrid = static_cast<std::uint8_t>(vi.virtual_router_id);
    a.priority = static_cast<std::uint8_t>(vi.priority);
    a.interval_cs = static_cast<std::uint16_t>(std::lround(vi.advert_int * 100));
    if (vi.version == 2 && vi.auth_type == conf::AuthType::pass) {
        a.auth_type = AuthType::pass;
        a.auth_data = pass_auth_data(vi.auth_pass);
    }
    for (const auto& v : vi.virtual_ipaddress) a.addresses.push_back(v.address.addr);
    const bool v6 = !a.addresses.empty() && a.addresses.front().is_v6();
    a.source = !vi.unicast_src_ip.empty() ? vi.unicast_src_ip
               : !vi.mcast_src_ip.empty() ? vi.mcast_src_ip
               : v6                      ? c.source6
                                         : c.source4;
    a.destination = vi.unicast_peer.empty() ? multicast_group(a.source.family) : vi.unicast_peer.front();
    return a;
}

TEST(Captured, KeepalivedAdvertsMatchConfigAndKadpEncoding)
{
    Capture c;
    if (!load_capture(c)) GTEST_SKIP() << "KADP_VRRP_CAPTURES unset (tests/scripts/vrrp_captures.sh sets it)";
    ASSERT_FALSE(c.config.vrrp_instances.empty());
    ASSERT_FALSE(c.frames.empty());

    // Every VRRP packet captured decodes.
    std::map<int, std::vector<std::pair<const Frame*, Advert>>> by_vrid;
    for (const auto& f : c.frames) {
        const bool v6 = f.ethertype == 0x86dd;
        ASSERT_TRUE(v6 || f.ethertype == 0x0800) << f.ethertype;
        // TTL is checked whatever the mode: keepalived sends 255 to unicast peers too.
        auto d = v6 ? decode_ipv6(f.l3) : decode_ipv4(f.l3);
        ASSERT_TRUE(d) << name(d.reason) << ": " << d.text << " in " << to_hex(f.l3);
        by_vrid[d.value.vrid].emplace_back(&f, std::move(d.value));
    }

    for (const auto& vi : c.config.vrrp_instances) {
        SCOPED_TRACE("vrrp_instance " + vi.name);
        const Advert want = advert_for(vi, c);
        ASSERT_FALSE(want.source.empty()) << "no KADP_VRRP_SOURCE4/6";
        int at_priority = 0, at_zero = 0;
        for (const auto& [frame, got] : by_vrid[want.vrid]) {
            const Bytes& l3 = frame->l3;
            SCOPED_TRACE(to_hex(l3));
            Advert w = want;
            if (got.priority == 0) {
                ++at_zero;  // keepalived's goodbye when it stops
                w.priority = 0;
            } else {
                ++at_priority;
            }
            expect_same(got, w);
            auto st = validate(got, want);
            EXPECT_TRUE(st) << st.text;

            // kadp's encoding of the same advert, byte for byte.
            auto payload = encode_payload(w);
            ASSERT_TRUE(payload) << payload.text;
            const std::size_t ihl = want.source.is_v6() ? kIpv6HeaderSize : (l3[0] & 0x0fu) * 4u;
            EXPECT_EQ(to_hex(payload.value), to_hex({l3.data() + ihl, l3.size() - ihl})) << "VRRP message";
            if (want.source.is_v4()) {
                const unsigned id = be16(l3, 4);
                auto same_id = encode_ipv4(w, static_cast<std::uint16_t>(id));
                ASSERT_TRUE(same_id);
                EXPECT_EQ(to_hex(same_id.value), to_hex(l3)) << "whole packet, keepalived's IP ID " << id;
                auto zero_id = encode_ipv4(w);
                ASSERT_TRUE(zero_id);
                Bytes a = zero_id.value, b = l3;
                EXPECT_EQ(ref_verify({a.data(), 20}), 0xffff);
                for (std::size_t i : {4, 5, 10, 11}) a[i] = b[i] = 0;  // ID and what it changes
                EXPECT_EQ(to_hex(a), to_hex(b)) << "IP header apart from the ID";
            } else {
                auto pkt = encode_ipv6(w);
                ASSERT_TRUE(pkt);
                Bytes a = pkt.value, b = l3;
                // The kernel gives keepalived's packets a flow label; kadp leaves it 0.
                b[1] &= 0xf0;
                b[2] = b[3] = 0;
                EXPECT_EQ(to_hex(a), to_hex(b)) << "IPv6 packet apart from the flow label";
            }
        }
        EXPECT_GE(at_priority, 2) << "adverts at the configured priority";
        EXPECT_GE(at_zero, 1) << "a priority-0 advert when keepalived stopped";
    }
}

// Writes kadp's encoding of every instance's advert (and a few variants) as
// kadp_encoded.pcap, with the fields each should have in kadp_encoded.txt,
// for the script's scapy check; and kadp_as_peer.pcap (below).
TEST(Captured, WriteKadpEncodedForScapy)
{
    Capture c;
    if (!load_capture(c)) GTEST_SKIP() << "KADP_VRRP_CAPTURES unset (tests/scripts/vrrp_captures.sh sets it)";
    std::vector<Advert> adverts;
    for (const auto& vi : c.config.vrrp_instances) {
        adverts.push_back(advert_for(vi, c));
        Advert bye = adverts.back();
        bye.priority = 0;
        adverts.push_back(bye);
    }
    // Variants keepalived did not send (VRIDs of their own, so the script
    // does not compare them with keepalived's packets).
    Advert a = v3_multi();
    a.vrid = 153;
    a.interval_cs = 4095;
    a.destination = ip("198.18.0.2");
    adverts.push_back(a);
    a = v3_v6();
    a.vrid = 155;
    a.source = ip("2001:db8::1");
    a.destination = ip("2001:db8::2");
    a.priority = 255;
    adverts.push_back(a);
    a = v2_pass();
    a.vrid = 151;
    a.auth_type = AuthType::none;
    a.auth_data = {};
    a.interval_cs = 25500;
    a.addresses = {};
    adverts.push_back(a);

    std::vector<Frame> frames;
    std::ofstream txt(c.dir + "/kadp_encoded.txt");
    for (const auto& ad : adverts) {
        auto r = ad.source.is_v6() ? encode_ipv6(ad) : encode_ipv4(ad, 1);
        ASSERT_TRUE(r) << r.text;
        frames.push_back({static_cast<std::uint16_t>(ad.source.is_v6() ? 0x86dd : 0x0800), r.value});
        txt << "version=" << unsigned{ad.version} << " vrid=" << unsigned{ad.vrid}
            << " priority=" << unsigned{ad.priority} << " interval_cs=" << ad.interval_cs
            << " authtype=" << static_cast<unsigned>(ad.auth_type) << " auth=" << to_hex(ad.auth_data)
            << " src=" << ad.source.to_string()
            << " dst=" << (ad.destination.empty() ? multicast_group(ad.source.family) : ad.destination).to_string()
            << " addrs=";
        for (std::size_t i = 0; i < ad.addresses.size(); ++i) txt << (i ? "," : "") << ad.addresses[i].to_string();
        txt << "\n";
    }
    write_pcap(c.dir + "/kadp_encoded.pcap", frames);
    EXPECT_TRUE(txt.good());

    // The same instances' adverts as their peer would send them, at priority
    // 250: the script plays them to keepalived, which must accept them (stay
    // BACKUP) while they come.
    const char* peer4 = std::getenv("KADP_VRRP_PEER4");
    const char* peer6 = std::getenv("KADP_VRRP_PEER6");
    if (peer4 == nullptr || peer6 == nullptr) return;
    frames.clear();
    for (const auto& vi : c.config.vrrp_instances) {
        Advert ad = advert_for(vi, c);
        if (!vi.unicast_peer.empty()) ad.destination = ad.source;  // back to keepalived's unicast_src_ip
        ad.source = ad.source.is_v6() ? ip(peer6) : ip(peer4);
        ad.priority = 250;
        auto r = ad.source.is_v6() ? encode_ipv6(ad) : encode_ipv4(ad, 1);
        ASSERT_TRUE(r) << r.text;
        frames.push_back({static_cast<std::uint16_t>(ad.source.is_v6() ? 0x86dd : 0x0800), r.value});
    }
    write_pcap(c.dir + "/kadp_as_peer.pcap", frames);
}

}  // namespace
}  // namespace kadp::vrrp
