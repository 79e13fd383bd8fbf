// Runs on: worker lcores (ICMP errors about connections); any thread in tests.
//
// ICMP errors about a load-balanced connection, as IPVS handles them
// (ip_vs_in_icmp / ip_vs_out_icmp / ip_vs_nat_icmp in ip_vs_core.c):
// destination unreachable (fragmentation needed included), source quench
// and time exceeded are related to the connection their quoted packet
// belongs to; other types (redirect, parameter problem) are not.
//
// The quoted packet is one the connection sent, so it is looked up
// reversed: an error from beyond the client about a reply quotes
// VIP:vport -> client, the reverse of the connection's in key; an error
// from the real server's side about a client's packet quotes client ->
// real server, the reverse of its out key (NAT only). For NAT the error
// is then rewritten:
// * towards the real server (about a reply): outer destination and
//   quoted source become the real server's address, the quoted source
//   port its port;
// * towards the client (about a client's packet): outer source and quoted
//   destination become the VIP, the quoted destination port the virtual
//   port (the router's own address is hidden behind the VIP, as IPVS does).
// Checksums: outer IPv4 and quoted IPv4 incrementally, the quoted TCP/UDP
// checksum incrementally when it lies within the quote (UDP: 8 bytes
// quoted; TCP: 18), the ICMP checksum recomputed over the whole message
// (after checking the received one, as IPVS does).
//
// Nothing here is read past the ICMP message parse_frame() bounded, and an
// ICMP error is never answered with one.
#pragma once

#include <cstdint>

#include "dataplane/checksum.h"
#include "dataplane/packet_parse.h"

namespace kadp::dp {

// Addresses no reply (an ICMP error, an RST) may go to: 0.0.0.0/8,
// multicast, reserved, broadcast. Shared by the NAT and DR/TUN paths.
constexpr bool unanswerable_source(std::uint32_t saddr_be)
{
    const std::uint32_t a = host_from_be32(saddr_be);
    return (a >> 24) == 0 || (a >> 28) >= 14;
}

// The types IPVS relates to a connection.
constexpr bool icmp_error_translatable(std::uint8_t type) { return type == 3 || type == 4 || type == 11; }

// The packet an ICMP error quotes.
struct IcmpQuote {
    std::uint16_t ip_off = 0;    // quoted IPv4 header, from the frame's start
    std::uint16_t l4_off = 0;    // quoted TCP/UDP header
    std::uint16_t l4_quoted = 0; // bytes of it present (>= 8)
    std::uint32_t saddr = 0;     // wire order
    std::uint32_t daddr = 0;
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    std::uint8_t proto = 0;
};

enum class IcmpQuoteVerdict : std::uint8_t {
    ok,
    fragmented,     // the ICMP error itself is a fragment
    bad_checksum,   // the ICMP checksum does not verify
    truncated,      // less than the quoted IPv4 header + 8 bytes, bad IHL / version
    not_first,      // quotes a fragment with offset != 0: no ports
    other_proto,    // quotes neither TCP nor UDP
};

// Reads the quote of the ICMP error at meta (ok_ipv4_icmp, an error type).
IcmpQuoteVerdict parse_icmp_quote(const std::uint8_t* frame, const PacketMeta& meta, IcmpQuote& q);

// Which way a translated error goes (see the header comment).
enum class IcmpToward : std::uint8_t { real_server, client };

// Rewrites the error in place: toward the real server, outer destination
// and quoted source become addr:port; toward the client, outer source and
// quoted destination become addr:port. Every checksum is fixed.
void icmp_error_rewrite(std::uint8_t* frame, const PacketMeta& meta, const IcmpQuote& q, IcmpToward toward,
                        std::uint32_t addr, std::uint16_t port);

}  // namespace kadp::dp
