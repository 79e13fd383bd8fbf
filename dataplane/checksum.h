// Runs on: any (worker lcores on the fast path; control thread and tests as the reference).
//
// Internet checksums (RFC 1071) and their incremental updates (RFC 1624),
// for IPv4 headers and TCP/UDP over IPv4 or IPv6. Header-only: everything is
// small and inlined into the NAT rewrite.
//
// Byte order: every 16- and 32-bit value passed to or returned by these
// functions is in *wire order*: the bytes as they sit in the packet, loaded
// into a native integer with load16()/load32() (a memcpy) and stored back
// with store16()/store32(). No byte swapping happens anywhere: the one's
// complement sum is byte-order independent (RFC 1071 section 2(B)), so the
// sum of wire-order words is the wire-order sum. This is also how FlowKey4
// holds addresses and ports, so a NAT rewrite feeds them straight in:
//
//     std::uint16_t check = load16(ip + 10);
//     store16(ip + 10, csum_replace4(check, old_daddr, new_daddr));
//
// Host-order numbers (lengths, protocol) go through the *_from_host helpers
// (be16_from_host) before they join a sum.
//
// Accumulators are 64-bit partial sums (`CsumAcc`) so long runs never
// overflow; csum_fold() reduces one to 16 bits, csum_finish() complements it.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace kadp::dp {

// ---- wire access ------------------------------------------------------------
// memcpy loads: mbuf data and IPv4 options leave headers only 2-byte aligned,
// and -Wcast-align forbids pointer casts; these compile to single movs.

inline std::uint16_t load16(const std::uint8_t* p) {
    std::uint16_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline std::uint32_t load32(const std::uint8_t* p) {
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store16(std::uint8_t* p, std::uint16_t v) { std::memcpy(p, &v, sizeof v); }
inline void store32(std::uint8_t* p, std::uint32_t v) { std::memcpy(p, &v, sizeof v); }

// Wire order <-> host order (the same swap both ways).
constexpr std::uint16_t be16_from_host(std::uint16_t v) {
    if constexpr (std::endian::native == std::endian::little) {
        return static_cast<std::uint16_t>((v >> 8) | (v << 8));
    } else {
        return v;
    }
}
constexpr std::uint32_t be32_from_host(std::uint32_t v) {
    if constexpr (std::endian::native == std::endian::little) {
        return __builtin_bswap32(v);
    } else {
        return v;
    }
}
constexpr std::uint16_t host_from_be16(std::uint16_t v) { return be16_from_host(v); }
constexpr std::uint32_t host_from_be32(std::uint32_t v) { return be32_from_host(v); }

// Host-order value of the big-endian field at p.
inline std::uint16_t load_be16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// ---- RFC 1071 sums ------------------------------------------------------------

using CsumAcc = std::uint64_t;

// Adds `len` bytes to `acc` as 16-bit wire-order words; an odd last byte is
// padded with a zero byte. The data must start at an even offset of what is
// being summed (every header kadp sums does).
inline CsumAcc csum_add_bytes(const std::uint8_t* data, std::size_t len, CsumAcc acc = 0) {
    // 32-bit words into a 64-bit accumulator: carries pile up in the high
    // half and are folded once at the end; 2^32 words cannot overflow it.
    std::size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        acc += load32(data + i);
    }
    if (i + 2 <= len) {
        acc += load16(data + i);
        i += 2;
    }
    if (i < len) {
        const std::uint8_t last[2] = {data[i], 0};
        acc += load16(last);
    }
    return acc;
}

inline CsumAcc csum_add16(CsumAcc acc, std::uint16_t wire) { return acc + wire; }
inline CsumAcc csum_add32(CsumAcc acc, std::uint32_t wire) { return acc + wire; }

// End-around-carry reduction to 16 bits (not complemented). The result is
// 0 only when every word summed was 0.
constexpr std::uint16_t csum_fold(CsumAcc acc) {
    acc = (acc & 0xffffffffU) + (acc >> 32);
    acc = (acc & 0xffffffffU) + (acc >> 32);
    acc = (acc & 0xffffU) + (acc >> 16);
    acc = (acc & 0xffffU) + (acc >> 16);
    return static_cast<std::uint16_t>(acc);
}

// The checksum to store: complement of the folded sum.
constexpr std::uint16_t csum_finish(CsumAcc acc) { return static_cast<std::uint16_t>(~csum_fold(acc)); }

// RFC 1071 checksum of a buffer (with its checksum field zeroed).
inline std::uint16_t csum_bytes(const std::uint8_t* data, std::size_t len) {
    return csum_finish(csum_add_bytes(data, len));
}

// ---- pseudo-headers --------------------------------------------------------

// IPv4 pseudo-header {saddr, daddr, 0, proto, l4_len}; addresses in wire
// order, proto and l4_len (TCP/UDP header + payload, bytes) in host order.
constexpr CsumAcc ipv4_pseudo_sum(std::uint32_t saddr, std::uint32_t daddr, std::uint8_t proto, std::uint16_t l4_len) {
    return CsumAcc{saddr} + daddr + be16_from_host(proto) + be16_from_host(l4_len);
}

// IPv6 pseudo-header (RFC 8200 8.1) {saddr, daddr, 32-bit length, 0, next
// header}; the addresses are the 16 bytes at saddr/daddr.
inline CsumAcc ipv6_pseudo_sum(const std::uint8_t* saddr, const std::uint8_t* daddr, std::uint8_t next_header,
                               std::uint32_t l4_len) {
    CsumAcc acc = csum_add_bytes(saddr, 16);
    acc = csum_add_bytes(daddr, 16, acc);
    return acc + be32_from_host(l4_len) + be16_from_host(next_header);
}

// ---- full computations (reference; packets kadp builds) ---------------------

inline constexpr std::size_t kIpv4CheckOffset = 10;
inline constexpr std::size_t kTcpCheckOffset = 16;
inline constexpr std::size_t kUdpCheckOffset = 6;
inline constexpr std::size_t kIcmpCheckOffset = 2;
inline constexpr std::uint8_t kIpProtoTcp = 6;
inline constexpr std::uint8_t kIpProtoUdp = 17;
inline constexpr std::uint8_t kIpProtoIcmp = 1;

// Sum of `len` bytes skipping the 16-bit checksum field at `check_off`, so
// the caller need not zero it first.
inline CsumAcc csum_add_bytes_skip(const std::uint8_t* data, std::size_t len, std::size_t check_off, CsumAcc acc) {
    acc = csum_add_bytes(data, check_off, acc);
    return csum_add_bytes(data + check_off + 2, len - check_off - 2, acc);
}

// Checksum to store in the IPv4 header of `hlen` bytes (IHL * 4), ignoring
// the value currently in the field.
inline std::uint16_t ipv4_header_checksum(const std::uint8_t* ip, std::size_t hlen) {
    return csum_finish(csum_add_bytes_skip(ip, hlen, kIpv4CheckOffset, 0));
}

// True when the IPv4 header's stored checksum is right: a correct header
// sums to 0xffff (RFC 1071: the complement is then 0).
inline bool ipv4_header_checksum_ok(const std::uint8_t* ip, std::size_t hlen) {
    return csum_fold(csum_add_bytes(ip, hlen)) == 0xffff;
}

// TCP checksum of the segment l4[0, l4_len) given its pseudo-header sum.
inline std::uint16_t tcp_checksum(CsumAcc pseudo, const std::uint8_t* l4, std::size_t l4_len) {
    return csum_finish(csum_add_bytes_skip(l4, l4_len, kTcpCheckOffset, pseudo));
}

// UDP checksum: a computed 0 is sent as 0xffff, because 0 on the wire
// means "no checksum" (RFC 768); both are zero in one's complement.
inline std::uint16_t udp_checksum(CsumAcc pseudo, const std::uint8_t* l4, std::size_t l4_len) {
    const std::uint16_t c = csum_finish(csum_add_bytes_skip(l4, l4_len, kUdpCheckOffset, pseudo));
    return c == 0 ? std::uint16_t{0xffff} : c;
}

// ICMPv4 checksum: no pseudo-header.
inline std::uint16_t icmp4_checksum(const std::uint8_t* l4, std::size_t l4_len) {
    return csum_finish(csum_add_bytes_skip(l4, l4_len, kIcmpCheckOffset, 0));
}

// True when a received checksum (its field included in l4) verifies: the
// whole message plus pseudo-header sums to 0xffff. TCP, ICMP (pseudo = 0).
inline bool l4_checksum_ok(CsumAcc pseudo, const std::uint8_t* l4, std::size_t l4_len) {
    return csum_fold(csum_add_bytes(l4, l4_len, pseudo)) == 0xffff;
}
// UDP: a zero checksum means "not computed" and passes over IPv4; over
// IPv6 it is not allowed (RFC 8200 8.1): pass udp_zero_ok = false.
inline bool udp_checksum_ok(CsumAcc pseudo, const std::uint8_t* l4, std::size_t l4_len, bool udp_zero_ok = true) {
    if (load16(l4 + kUdpCheckOffset) == 0) {
        return udp_zero_ok;
    }
    return l4_checksum_ok(pseudo, l4, l4_len);
}

// ---- RFC 1624 incremental updates -----------------------------------------------
// Eqn. 3: HC' = ~(~HC + ~m + m'), with end-around carry. Unlike eqn. 2 it
// never turns a valid checksum into 0xffff, so the result equals a full
// recomputation bit for bit (the sum of a real header or pseudo-header is
// never all zeros: version/protocol bytes are not zero).

// `check` updated for a 16-bit field changing from old_v to new_v.
constexpr std::uint16_t csum_replace2(std::uint16_t check, std::uint16_t old_v, std::uint16_t new_v) {
    const CsumAcc acc = CsumAcc{static_cast<std::uint16_t>(~check)} + static_cast<std::uint16_t>(~old_v) + new_v;
    return csum_finish(acc);
}

// `check` updated for a 32-bit field (an IPv4 address, two adjacent ports)
// changing from old_v to new_v. The two 16-bit halves of a wire-order
// 32-bit value are the two wire-order words, whatever the host's endianness.
constexpr std::uint16_t csum_replace4(std::uint16_t check, std::uint32_t old_v, std::uint32_t new_v) {
    const CsumAcc acc = CsumAcc{static_cast<std::uint16_t>(~check)} + static_cast<std::uint16_t>(~old_v) +
                        static_cast<std::uint16_t>(~(old_v >> 16)) + (new_v & 0xffffU) + (new_v >> 16);
    return csum_finish(acc);
}

// `check` updated for 16-byte fields (IPv6 addresses) at old_v / new_v.
inline std::uint16_t csum_replace16(std::uint16_t check, const std::uint8_t* old_v, const std::uint8_t* new_v) {
    CsumAcc acc = static_cast<std::uint16_t>(~check);
    for (std::size_t i = 0; i < 16; i += 4) {
        acc += static_cast<std::uint32_t>(~load32(old_v + i));
        acc += load32(new_v + i);
    }
    return csum_finish(acc);
}

// The same, split for several fields changing at once (NAT: an address in
// the IP header, that address and a port in the TCP/UDP pseudo-header sum):
// sum each field's change once, apply it to each checksum that covers it.
// A delta is a sum of at most a few 16-bit words, so two folds suffice.
struct CsumDelta {
    std::uint32_t sum = 0;
};
constexpr CsumDelta csum_delta2(std::uint16_t old_v, std::uint16_t new_v) {
    return {std::uint32_t{static_cast<std::uint16_t>(~old_v)} + new_v};
}
constexpr CsumDelta csum_delta4(std::uint32_t old_v, std::uint32_t new_v) {
    return {std::uint32_t{static_cast<std::uint16_t>(~old_v)} + static_cast<std::uint16_t>(~(old_v >> 16)) +
            (new_v & 0xffffU) + (new_v >> 16)};
}
constexpr CsumDelta operator+(CsumDelta a, CsumDelta b) { return {a.sum + b.sum}; }
constexpr std::uint16_t csum_apply(std::uint16_t check, CsumDelta d) {
    std::uint32_t acc = std::uint32_t{static_cast<std::uint16_t>(~check)} + d.sum;
    acc = (acc & 0xffffU) + (acc >> 16);
    acc = (acc & 0xffffU) + (acc >> 16);
    return static_cast<std::uint16_t>(~acc);
}
// UDP: 0 ("no checksum") stays 0; a result of 0 is sent as 0xffff.
constexpr std::uint16_t udp_csum_apply(std::uint16_t check, CsumDelta d) {
    if (check == 0) [[unlikely]] {
        return 0;
    }
    const std::uint16_t c = csum_apply(check, d);
    return c == 0 ? std::uint16_t{0xffff} : c;
}

// UDP flavours: a zero checksum ("none") stays zero, and a result of 0 goes
// on the wire as 0xffff as a full computation would send it.
constexpr std::uint16_t udp_csum_replace2(std::uint16_t check, std::uint16_t old_v, std::uint16_t new_v) {
    if (check == 0) [[unlikely]] {
        return 0;
    }
    const std::uint16_t c = csum_replace2(check, old_v, new_v);
    return c == 0 ? std::uint16_t{0xffff} : c;
}
constexpr std::uint16_t udp_csum_replace4(std::uint16_t check, std::uint32_t old_v, std::uint32_t new_v) {
    if (check == 0) [[unlikely]] {
        return 0;
    }
    const std::uint16_t c = csum_replace4(check, old_v, new_v);
    return c == 0 ? std::uint16_t{0xffff} : c;
}

}  // namespace kadp::dp
