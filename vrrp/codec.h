// Runs on: any (the control thread sends and receives adverts; tests and
// tools use it too). The VRRP wire format, wire-compatible with keepalived
// 2.2.7: VRRPv2 (RFC 3768) over IPv4 and VRRPv3 (RFC 5798) over IPv4 or
// IPv6, to and from vrrp::Advert. Stateless: every function is thread-safe.
//
// Refused: IPsec AH authentication (v2 auth type 2, or IP protocol 51),
// VRRPv2 over IPv6 (keepalived's non-standard variant without auth data),
// IPv6 extension headers, IPv4 fragments. IPv4 options are skipped on
// decode and never sent. Checks that need the receiving instance (VRID, v2
// auth type, password and interval, addresses) are in validate(), not in
// decode. docs/vrrp.md has the wire format.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "conf/inet.h"
#include "vrrp/advert.h"

namespace kadp::vrrp {

inline constexpr std::uint8_t kIpProtoVrrp = 112;
inline constexpr std::uint8_t kIpProtoAh = 51;  // keepalived's auth_type AH: refused
inline constexpr std::uint8_t kTtl = 255;       // TTL / hop limit, sent and checked (both RFCs)
inline constexpr std::uint8_t kTos = 0xc0;      // "internetwork control", as keepalived sends (v6: traffic class)
inline constexpr std::uint8_t kTypeAdvert = 1;
inline constexpr std::size_t kHeaderSize = 8;     // VRRP header before the addresses
inline constexpr std::size_t kAuthDataSize = 8;   // v2 only, after the addresses
inline constexpr std::size_t kIpv4HeaderSize = 20;
inline constexpr std::size_t kIpv6HeaderSize = 40;
inline constexpr std::uint16_t kMaxIntervalV3 = 0x0fff;  // centiseconds, 12 bits

// 224.0.0.18 or ff02::12.
conf::IpAddr multicast_group(conf::IpAddr::Family family);
// v2 PASS auth data as keepalived stores it: the first 8 bytes of the
// password, zero padded.
std::array<std::uint8_t, 8> pass_auth_data(std::string_view password);
// Bytes of the VRRP message (header, addresses, v2 auth data) for `a`.
std::size_t payload_size(const Advert& a);

// Why a packet was refused (decode, validate) or could not be built (encode).
// One per check keepalived makes; name() gives a stable snake_case name for
// counters, the result's text the details for the log.
enum class Reason : std::uint8_t {
    ok,
    // decode
    too_short,            // shorter than the headers it claims
    bad_ip_header,        // not IPv4/IPv6, IHL < 5, total length, header checksum, fragment
    wrong_protocol,       // IP protocol / next header not 112
    bad_ttl,              // TTL / hop limit != 255 (only when asked to check)
    bad_version,          // VRRP version not 2 or 3, or v2 over IPv6
    bad_type,             // VRRP type not 1 (advertisement)
    bad_length,           // address count does not match the message length
    bad_checksum,         // VRRP checksum (v3: with the pseudo-header)
    bad_auth_type,        // v2 auth type not 0, 1 or 2
    auth_unsupported,     // IPsec AH (v2 auth type 2, IP protocol 51)
    // validate (against the receiving instance)
    version_mismatch,
    vrid_mismatch,
    auth_type_mismatch,   // v2
    bad_password,         // v2 PASS
    interval_mismatch,    // v2: adverts with another interval are dropped
    address_count_mismatch,
    address_missing,      // a configured virtual address is not in the advert
    // screen (vrrp/advert_screen.h, against the instance's configuration)
    not_unicast_peer,     // unicast_peer configured and the source is none of them
    // encode
    bad_interval,         // v2: not a whole number of seconds in 1..255; v3: 1..4095 cs
    bad_address,          // no source, or an address of the other family
    too_many_addresses,   // more than 255, or more than fits an IP packet
};
std::string_view name(Reason r);

template <class T>
struct Result {
    T value{};
    Reason reason = Reason::ok;
    std::string text;  // empty when ok
    [[nodiscard]] bool ok() const { return reason == Reason::ok; }
    explicit operator bool() const { return ok(); }
};
struct Status {
    Reason reason = Reason::ok;
    std::string text;
    [[nodiscard]] bool ok() const { return reason == Reason::ok; }
    explicit operator bool() const { return ok(); }
};

// ---- encode -----------------------------------------------------------------
// The advert's version, vrid, priority, interval_cs, auth_type/auth_data (v2),
// addresses, source and destination (empty: the multicast group of the
// source's family) are sent; encode_ipv4/ipv6 also take ttl.

// The VRRP message alone, for a raw socket whose kernel writes the IP header.
// v3's checksum covers the pseudo-header, so source and destination must be
// what the kernel will put there.
Result<std::vector<std::uint8_t>> encode_payload(const Advert& a);
// A whole IPv4 packet as keepalived sends it: IHL 5, TOS 0xc0, no DF, no
// fragment offset, protocol 112, header checksum. keepalived numbers its
// packets per instance from 1 (the kernel would pick an ID for 0); the caller
// passes the ID it wants.
Result<std::vector<std::uint8_t>> encode_ipv4(const Advert& a, std::uint16_t ip_id = 0);
// A whole IPv6 packet (v3 only): traffic class 0xc0, flow label 0 (the kernel
// picks one for keepalived), next header 112, hop limit = a.ttl.
Result<std::vector<std::uint8_t>> encode_ipv6(const Advert& a);

// ---- decode -----------------------------------------------------------------
struct DecodeOptions {
    // keepalived checks TTL 255 only for multicast instances (not with
    // unicast_peer); the caller knows which one the packet is for.
    bool check_ttl = true;
};
// What a transport knows of the IP header when it hands over only the VRRP
// message (a raw IPv6 socket gives the hop limit as ancillary data).
struct IpFields {
    conf::IpAddr source;
    conf::IpAddr destination;
    std::uint8_t ttl = kTtl;
};

// A whole IPv4 packet from its first byte; bytes past the IP total length
// (Ethernet padding) are ignored. Options are skipped.
Result<Advert> decode_ipv4(std::span<const std::uint8_t> packet, const DecodeOptions& options = {});
// A whole IPv6 packet whose next header is VRRP (no extension headers).
Result<Advert> decode_ipv6(std::span<const std::uint8_t> packet, const DecodeOptions& options = {});
// The VRRP message alone; the family of ip.source selects the address size
// and the pseudo-header. The whole span is the message: no trailing bytes.
Result<Advert> decode_payload(std::span<const std::uint8_t> message, const IpFields& ip,
                              const DecodeOptions& options = {});

// ---- validate ------------------------------------------------------------------
struct ValidateOptions {
    // keepalived compares the address list only in some states (and not at
    // all for a VRID it does not run); the state machine says when.
    bool check_addresses = true;
};
// The checks keepalived makes once the packet itself is sound, against the
// advert the receiving instance would send itself (`mine`): same version
// and VRID; v2: same auth type and password, same interval; the same number
// of addresses, and (when asked) every one of mine present.
Status validate(const Advert& received, const Advert& mine, const ValidateOptions& options = {});

}  // namespace kadp::vrrp
