// Runs on: any (unit test). sh, dh and mh: the buckets IPVS would choose,
// fallback, weights and Maglev's minimal disruption.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "dataplane/sched/overload.h"
#include "dataplane/sched/sched.h"
#include "dataplane/sched/siphash.h"
#include "tests/unit/dataplane/sched_fixture.h"

namespace kadp::dp {
namespace {

using test::flow4;
using test::ip4;
using test::SchedDests;

// --- sh ----------------------------------------------------------------------
//
// Weights {1, 2, 0}: ip_vs_sh_reassign deals bucket b to dest {0, 1, 1, 2}[b % 4]
// (weight 0 still takes one bucket). Buckets by hand, hash_32(port + addr, 8) =
// ((port + addr) * 0x61C88647 mod 2^32) >> 24 with the address in host order:
//   198.18.0.1 (0xc6120001) -> 188 (d0)   with port 1000 -> 180 (d0)
//   198.18.0.2              ->  30 (d1)   with port 1000 ->  21 (d1)
//   198.18.0.3              -> 128 (d0)   with port 1000 -> 119 (d2)
//   198.18.0.5              ->  67 (d2)
//   198.18.0.6              -> 165 (d1)
//   198.18.1.7              -> 207 (d2)

TEST(SchedSh, TableDealsWeightBucketsPerDest) {
    SchedDests d({1, 2, 0});
    SchedState s(SchedAlgo::sh, d.refs());
    ASSERT_EQ(s.lookup_table().size(), 256U);
    for (std::uint32_t b = 0; b < 256; ++b) {
        const std::uint32_t want[] = {0, 1, 1, 2};
        EXPECT_EQ(s.lookup_table()[b], want[b % 4]) << b;
    }
}

TEST(SchedSh, SourceAddressPicksIpvsBucket) {
    SchedDests d({1, 2, 0});
    SchedState s(SchedAlgo::sh, d.refs());
    EXPECT_EQ(s.pick(flow4(ip4(198, 18, 0, 1), 1000)), 0U);
    EXPECT_EQ(s.pick(flow4(ip4(198, 18, 0, 2), 1000)), 1U);
    EXPECT_EQ(s.pick(flow4(ip4(198, 18, 0, 3), 1000)), 0U);
    EXPECT_EQ(s.pick(flow4(ip4(198, 18, 0, 6), 1000)), 1U);
    // The port is ignored without sh-port: same source, any port, same dest.
    for (std::uint16_t port : {1, 999, 40000, 65535}) EXPECT_EQ(s.pick(flow4(ip4(198, 18, 0, 3), port)), 0U);
    // Bucket of a weight-0 dest: no dest (no fallback).
    EXPECT_EQ(s.pick(flow4(ip4(198, 18, 0, 5))), kNoDest);
    EXPECT_EQ(s.pick(flow4(ip4(198, 18, 1, 7))), kNoDest);
}

TEST(SchedSh, Ipv6SourceIsFoldedAsIpvsFoldsIt) {
    // IPVS hashes an IPv6 address as the XOR of its four words: these fold
    // to 198.18.0.2 (bucket 30, d1) and 198.18.0.5 (bucket 67, d2).
    SchedDests d({1, 2, 0});
    SchedState s(SchedAlgo::sh, d.refs());
    SchedFlow f;
    f.family = AF_INET6;
    f.proto = IPPROTO_TCP;
    const std::uint32_t words[4] = {htonl(0x20010db8U), htonl(0x00000001U), htonl(0x0000ffffU), 0};
    for (int k = 0; k < 4; ++k) f.saddr[k] = words[k];
    f.saddr[3] = htonl(0x20010db8U ^ 0x00000001U ^ 0x0000ffffU ^ 0xc6120002U);
    EXPECT_EQ(s.pick(f), 1U);
    f.saddr[3] = htonl(0x20010db8U ^ 0x00000001U ^ 0x0000ffffU ^ 0xc6120005U);
    EXPECT_EQ(s.pick(f), kNoDest);
}

TEST(SchedSh, PortFlagHashesTheSourcePort) {
    SchedDests d({1, 2, 0});
    SchedState s(SchedAlgo::sh, d.refs(), nullptr, kSchedPort);
    EXPECT_EQ(s.pick(flow4(ip4(198, 18, 0, 1), 1000)), 0U);
    EXPECT_EQ(s.pick(flow4(ip4(198, 18, 0, 2), 1000)), 1U);
    EXPECT_EQ(s.pick(flow4(ip4(198, 18, 0, 3), 1000)), kNoDest);  // bucket 119: d2, weight 0
    // Protocols without ports hash port 0.
    EXPECT_EQ(s.pick(flow4(ip4(198, 18, 0, 3), 1000, 0, IPPROTO_ICMP)), 0U);
}

TEST(SchedSh, FallbackWalksIpvsOrder) {
    SchedDests d({1, 2, 0});
    SchedState s(SchedAlgo::sh, d.refs(), nullptr, kSchedFallback);
    // 198.18.0.5: bucket 67 (d2, weight 0); offset 0 visits (67 + 67) & 255 = 134 -> d1.
    EXPECT_EQ(s.pick(flow4(ip4(198, 18, 0, 5))), 1U);
    // 198.18.1.7: bucket 207 (d2); offset 0 visits (207 + 207) & 255 = 158 -> d1.
    EXPECT_EQ(s.pick(flow4(ip4(198, 18, 1, 7))), 1U);
    // An available first bucket is kept.
    EXPECT_EQ(s.pick(flow4(ip4(198, 18, 0, 1))), 0U);
}

TEST(SchedSh, FallbackSkipsOverloadedDests) {
    SchedDests d({1, 2, 0});
    d.set_thresholds(1, 1, 0);
    d.set_conns(1, 1);  // d1 at its u_threshold: overloaded
    SchedState s(SchedAlgo::sh, d.refs(), nullptr, kSchedFallback);
    // 198.18.0.5: 134 (d1, overloaded), then (68 + 67) = 135 (d2, weight 0), then 136 -> d0.
    EXPECT_EQ(s.pick(flow4(ip4(198, 18, 0, 5))), 0U);
    SchedState no_fallback(SchedAlgo::sh, d.refs());
    EXPECT_EQ(no_fallback.pick(flow4(ip4(198, 18, 0, 2))), kNoDest);  // bucket 30: d1
    // Nothing available at all: no dest, after one lap.
    d.set_weight(0, 0);
    SchedState none(SchedAlgo::sh, d.refs(), nullptr, kSchedFallback);
    EXPECT_EQ(none.pick(flow4(ip4(198, 18, 0, 5))), kNoDest);
}

TEST(SchedSh, SameKeySameDestAndEmptyService) {
    SchedDests d({3, 1, 4, 1, 5});
    SchedState s(SchedAlgo::sh, d.refs());
    std::mt19937 rng(7);
    for (int k = 0; k < 1000; ++k) {
        const std::uint32_t a = rng();
        const std::uint32_t first = s.pick(flow4(a, 1));
        ASSERT_NE(first, kNoDest);
        EXPECT_EQ(s.pick(flow4(a, 2)), first);
    }
    SchedDests none({});
    SchedState empty(SchedAlgo::sh, none.refs(), nullptr, kSchedFallback);
    EXPECT_EQ(empty.pick(flow4(ip4(198, 18, 0, 1))), kNoDest);
}

// --- dh ----------------------------------------------------------------------
//
// Three dests: bucket b names dest b % 3 (weights play no part). Buckets by
// hand, (addr * 2654435761) & 255 of the destination address (host order):
//   198.18.0.1 -> 177 (d0), .2 -> 98 (d2), .3 -> 19 (d1), .4 -> 196 (d1),
//   .5 -> 117 (d0), .6 -> 38 (d2)

TEST(SchedDh, DestinationAddressPicksIpvsBucket) {
    SchedDests d({1, 5, 1});
    SchedState s(SchedAlgo::dh, d.refs());
    const std::uint32_t client = ip4(198, 18, 9, 9);
    const std::pair<int, std::uint32_t> want[] = {{1, 0}, {2, 2}, {3, 1}, {4, 1}, {5, 0}, {6, 2}};
    for (const auto& [host, dest] : want) {
        EXPECT_EQ(s.pick(flow4(client, 1234, ip4(198, 18, 0, static_cast<std::uint8_t>(host)))), dest) << host;
        // The source plays no part.
        EXPECT_EQ(s.pick(flow4(ip4(198, 18, 7, 7), 99, ip4(198, 18, 0, static_cast<std::uint8_t>(host)))), dest);
    }
}

TEST(SchedDh, UnavailableDestGivesNone) {
    SchedDests d({1, 0, 1});
    d.set_thresholds(2, 2, 0);
    d.set_conns(2, 2);
    SchedState s(SchedAlgo::dh, d.refs());
    EXPECT_EQ(s.pick(flow4(0, 0, ip4(198, 18, 0, 3))), kNoDest);  // d1: weight 0
    EXPECT_EQ(s.pick(flow4(0, 0, ip4(198, 18, 0, 2))), kNoDest);  // d2: overloaded
    EXPECT_EQ(s.pick(flow4(0, 0, ip4(198, 18, 0, 1))), 0U);
}

// --- mh ----------------------------------------------------------------------

// mh hashes with Linux's hsiphash (SipHash-1-3 on 64-bit): the core checked
// against SipHash-2-4's published vectors (key 00..0f, messages "" .. 00 01 02 03).
TEST(SchedMh, SipHashCoreMatchesReferenceVectors) {
    const std::uint64_t k0 = 0x0706050403020100ULL;
    const std::uint64_t k1 = 0x0f0e0d0c0b0a0908ULL;
    // vectors_sip64[4] = b7 87 71 27 e0 94 27 cf (little endian).
    EXPECT_EQ((siphash_u32<2, 4>(0x03020100U, k0, k1)), 0xcf2794e0277187b7ULL);
    // Linux's own hsiphash self-test (lib/siphash_kunit.c, 64-bit):
    // test_vectors_hsiphash[4] for the bytes 00 01 02 03 and the same key.
    EXPECT_EQ(linux_hsiphash_u32(0x03020100U, k0, k1), 0x88d38328U);
}

// ip_vs_mh_permutate / populate's first round, by the kernel's formulas:
// offset = hsiphash(port + addr, key1) % 4093, skip = hsiphash(.., key2) %
// 4092 + 1; with weights 2, 1 dest 0 takes its first two preferences
// (offset, offset + skip) before dest 1 takes its first.
TEST(SchedMh, FirstRoundTakesEachDestsPreferredEntries) {
    SchedDests d({2, 1});
    SchedState s(SchedAlgo::mh, d.refs());
    const std::uint64_t key1 = 2654435761ULL, key2 = 2654446892ULL;
    const auto h = [](std::uint32_t v, std::uint64_t k) { return linux_hsiphash_u32(v, k, k); };
    const std::uint32_t off0 = h(80 + 0xc6120101U, key1) % 4093, skip0 = h(80 + 0xc6120101U, key2) % 4092 + 1;
    const std::uint32_t off1 = h(80 + 0xc6120102U, key1) % 4093;
    ASSERT_NE(off0, off1);
    ASSERT_NE((off0 + skip0) % 4093, off1);
    EXPECT_EQ(s.lookup_table()[off0], 0U);
    EXPECT_EQ(s.lookup_table()[(off0 + skip0) % 4093], 0U);
    EXPECT_EQ(s.lookup_table()[off1], 1U);
    // A client goes to the entry hsiphash(port + saddr, key1) % 4093 names.
    for (std::uint32_t host = 1; host < 50; ++host) {
        const std::uint32_t saddr = 0xc6120900U + host;
        EXPECT_EQ(s.pick(flow4(htonl(saddr), 1234)), s.lookup_table()[h(saddr, key1) % 4093]);
        SchedState port(SchedAlgo::mh, d.refs(), nullptr, kSchedPort);
        EXPECT_EQ(port.pick(flow4(htonl(saddr), 1234)), port.lookup_table()[h(saddr + 1234, key1) % 4093]);
    }
}

std::map<std::uint32_t, std::size_t> owners(const SchedState& s) {
    std::map<std::uint32_t, std::size_t> n;
    for (std::uint32_t i : s.lookup_table()) ++n[i];
    return n;
}

TEST(SchedMh, TableSharesFollowWeights) {
    SchedDests d({1, 2, 3, 0});
    SchedState s(SchedAlgo::mh, d.refs());
    ASSERT_EQ(s.lookup_table().size(), 4093U);
    auto n = owners(s);
    // Rounds of 1 + 2 + 3 entries: each share is exact up to the last round.
    EXPECT_NEAR(static_cast<double>(n[0]), 4093.0 / 6, 1.0);
    EXPECT_NEAR(static_cast<double>(n[1]), 4093.0 * 2 / 6, 2.0);
    EXPECT_NEAR(static_cast<double>(n[2]), 4093.0 * 3 / 6, 3.0);
    EXPECT_EQ(n.count(3), 0U);  // added with weight 0: no entry
    EXPECT_EQ(n.count(kNoDest), 0U);
}

TEST(SchedMh, KeysFollowWeightsWithinTolerance) {
    SchedDests d({1, 2, 3});
    SchedState s(SchedAlgo::mh, d.refs());
    std::vector<std::size_t> hits(3);
    std::mt19937 rng(11);
    const int keys = 60000;
    for (int k = 0; k < keys; ++k) {
        const std::uint32_t i = s.pick(flow4(rng()));
        ASSERT_LT(i, 3U);
        ++hits[i];
    }
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_NEAR(static_cast<double>(hits[i]) / keys, static_cast<double>(i + 1) / 6, 0.02) << i;
    }
}

TEST(SchedMh, SameKeySameDestPortOnlyWithFlag) {
    SchedDests d({1, 1, 1, 1, 1, 1, 1, 1});
    SchedState plain(SchedAlgo::mh, d.refs());
    SchedState port(SchedAlgo::mh, d.refs(), nullptr, kSchedPort);
    std::mt19937 rng(5);
    int moved_by_port = 0;
    for (int k = 0; k < 2000; ++k) {
        const std::uint32_t a = rng();
        EXPECT_EQ(plain.pick(flow4(a, 1000)), plain.pick(flow4(a, 2000)));
        EXPECT_EQ(port.pick(flow4(a, 1000)), port.pick(flow4(a, 1000)));
        if (port.pick(flow4(a, 1000)) != port.pick(flow4(a, 2000))) ++moved_by_port;
    }
    EXPECT_GT(moved_by_port, 1000);  // 7/8 of the keys expected
}

TEST(SchedMh, RemovingOneDestMovesOnlyItsKeysAndFew) {
    const std::size_t n = 10;
    SchedDests d(std::vector<std::int32_t>(n, 1));
    SchedState before(SchedAlgo::mh, d.refs());
    const std::vector<std::uint32_t> old(before.lookup_table().begin(), before.lookup_table().end());
    d.erase(4);  // indices above 4 shift down by one
    SchedState after(SchedAlgo::mh, d.refs(), &before);
    std::size_t moved_elsewhere = 0;
    for (std::size_t e = 0; e < old.size(); ++e) {
        if (old[e] == 4) continue;  // the removed dest's entries must move
        const std::uint32_t want = old[e] > 4 ? old[e] - 1 : old[e];
        if (after.lookup_table()[e] != want) ++moved_elsewhere;
    }
    // Maglev moves few entries of the remaining dests (the paper measures a
    // few percent of the table for one removal among tens of backends).
    EXPECT_LT(moved_elsewhere, old.size() * 3 / 100) << moved_elsewhere;
}

TEST(SchedMh, AddingOneDestMovesAboutItsShare) {
    const std::size_t n = 9;
    SchedDests d(std::vector<std::int32_t>(n, 1));
    SchedState before(SchedAlgo::mh, d.refs());
    const std::vector<std::uint32_t> old(before.lookup_table().begin(), before.lookup_table().end());
    d.add(1);
    SchedState after(SchedAlgo::mh, d.refs(), &before);
    std::size_t moved = 0, to_new = 0;
    for (std::size_t e = 0; e < old.size(); ++e) {
        if (after.lookup_table()[e] != old[e]) ++moved;
        if (after.lookup_table()[e] == n) ++to_new;
    }
    // 1/(N+1) = 10% of the table goes to the new dest; little else moves.
    EXPECT_NEAR(static_cast<double>(to_new) / old.size(), 0.10, 0.01);
    EXPECT_LT(moved, to_new + old.size() * 3 / 100);
}

TEST(SchedMh, WeightZeroKeepsTableAndFallbackFindsAnother) {
    SchedDests d({1, 1, 1});
    SchedState s1(SchedAlgo::mh, d.refs());
    d.set_weight(1, 0);
    // IPVS builds from last_weight: quiescing d1 leaves the table alone.
    SchedState s2(SchedAlgo::mh, d.refs(), &s1);
    EXPECT_TRUE(std::equal(s1.lookup_table().begin(), s1.lookup_table().end(), s2.lookup_table().begin()));
    // ... and the last weight carries over one more rebuild.
    SchedState s3(SchedAlgo::mh, d.refs(), &s2);
    EXPECT_TRUE(std::equal(s1.lookup_table().begin(), s1.lookup_table().end(), s3.lookup_table().begin()));
    SchedState fb(SchedAlgo::mh, d.refs(), &s2, kSchedFallback);
    std::mt19937 rng(3);
    int on_d1 = 0;
    for (int k = 0; k < 3000; ++k) {
        const std::uint32_t a = rng();
        const std::uint32_t plain = s3.pick(flow4(a));
        const std::uint32_t fallback = fb.pick(flow4(a));
        ASSERT_NE(fallback, kNoDest);
        ASSERT_NE(fallback, 1U);
        if (plain == kNoDest) {
            ++on_d1;  // its entry names d1
        } else {
            EXPECT_EQ(fallback, plain);  // keys of available dests stay put
        }
    }
    EXPECT_GT(on_d1, 500);
    // A new service (no previous state) with d1 at weight 0 leaves d1 out.
    SchedState fresh(SchedAlgo::mh, d.refs());
    EXPECT_EQ(owners(fresh).count(1), 0U);
}

TEST(SchedMh, OverloadedDestSkippedWithFallback) {
    SchedDests d({1, 1});
    d.set_thresholds(0, 1, 0);
    d.set_conns(0, 5);
    SchedState s(SchedAlgo::mh, d.refs(), nullptr, kSchedFallback);
    SchedState plain(SchedAlgo::mh, d.refs());
    std::mt19937 rng(9);
    int none = 0;
    for (int k = 0; k < 1000; ++k) {
        const std::uint32_t a = rng();
        EXPECT_EQ(s.pick(flow4(a)), 1U);
        if (plain.pick(flow4(a)) == kNoDest) ++none;
    }
    EXPECT_GT(none, 300);
    d.set_weight(1, 0);
    SchedState all_out(SchedAlgo::mh, d.refs(), &s, kSchedFallback);
    EXPECT_EQ(all_out.pick(flow4(ip4(198, 18, 0, 1))), kNoDest);
}

TEST(SchedMh, RejectsMoreDestsThanEntries) {
    SchedDests d(std::vector<std::int32_t>(4094, 1));
    EXPECT_THROW(SchedState(SchedAlgo::mh, d.refs()), std::invalid_argument);
}

}  // namespace
}  // namespace kadp::dp
