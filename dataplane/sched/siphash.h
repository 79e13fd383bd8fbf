// Runs on: any. SipHash-c-d of one 32-bit word with a 128-bit key, as Linux's
// hsiphash() computes it on 64-bit machines (SipHash-1-3, the 64-bit result
// truncated to 32 bits): mh hashes with it so that its lookup table and key
// positions are Linux's (ip_vs_mh.c). The round counts are parameters so a
// test can check the core against SipHash-2-4's published vectors.
#pragma once

#include <bit>
#include <cstdint>

namespace kadp::dp {

template <int CRounds, int DRounds>
std::uint64_t siphash_u32(std::uint32_t word, std::uint64_t k0, std::uint64_t k1) {
    std::uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    std::uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    std::uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    std::uint64_t v3 = 0x7465646279746573ULL ^ k1;
    const auto round = [&] {
        v0 += v1;
        v1 = std::rotl(v1, 13);
        v1 ^= v0;
        v0 = std::rotl(v0, 32);
        v2 += v3;
        v3 = std::rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = std::rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = std::rotl(v1, 17);
        v1 ^= v2;
        v2 = std::rotl(v2, 32);
    };
    // A 4-byte message: no full 8-byte block, the last block is length << 56
    // plus the bytes (little endian).
    const std::uint64_t b = (std::uint64_t{4} << 56) | word;
    v3 ^= b;
    for (int i = 0; i < CRounds; ++i) round();
    v0 ^= b;
    v2 ^= 0xff;
    for (int i = 0; i < DRounds; ++i) round();
    return v0 ^ v1 ^ v2 ^ v3;
}

// Linux's hsiphash(&word, 4, key) on a 64-bit kernel.
inline std::uint32_t linux_hsiphash_u32(std::uint32_t word, std::uint64_t k0, std::uint64_t k1) {
    return static_cast<std::uint32_t>(siphash_u32<1, 3>(word, k0, k1));
}

}  // namespace kadp::dp
