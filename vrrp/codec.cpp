// Runs on: any. See codec.h.
#include "vrrp/codec.h"

#include <algorithm>
#include <cstring>

// Header-only RFC 1071 sums (no DPDK), shared with the NAT rewrite.
#include "dataplane/checksum.h"

namespace kadp::vrrp {

namespace {

using Family = conf::IpAddr::Family;
using Bytes = std::vector<std::uint8_t>;

std::size_t addr_size(Family f) { return f == Family::v6 ? 16 : 4; }

template <class T>
Result<T> fail(Reason r, std::string text)
{
    Result<T> out;
    out.reason = r;
    out.text = std::move(text);
    return out;
}

Status fail_status(Reason r, std::string text) { return Status{r, std::move(text)}; }

std::string num(unsigned v) { return std::to_string(v); }

// Pseudo-header sum for the v3 checksum (RFC 5798 5.2.8): the IPv4 or IPv6
// one with protocol 112 and the VRRP message length.
dp::CsumAcc pseudo_sum(const conf::IpAddr& src, const conf::IpAddr& dst, std::size_t len)
{
    if (src.is_v6()) {
        return dp::ipv6_pseudo_sum(src.bytes.data(), dst.bytes.data(), kIpProtoVrrp, static_cast<std::uint32_t>(len));
    }
    return dp::ipv4_pseudo_sum(dp::load32(src.bytes.data()), dp::load32(dst.bytes.data()), kIpProtoVrrp,
                               static_cast<std::uint16_t>(len));
}

conf::IpAddr addr_at(const std::uint8_t* p, Family f)
{
    conf::IpAddr a;
    a.family = f;
    std::memcpy(a.bytes.data(), p, addr_size(f));
    return a;
}

conf::IpAddr destination_of(const Advert& a)
{
    return a.destination.empty() ? multicast_group(a.source.family) : a.destination;
}

// Everything encode refuses, before a byte is written.
Status check_encodable(const Advert& a)
{
    if (a.version != 2 && a.version != 3) {
        return fail_status(Reason::bad_version, "VRRP version " + num(a.version) + ", expected 2 or 3");
    }
    if (a.source.empty()) {
        return fail_status(Reason::bad_address, "no source address");
    }
    if (a.version == 2 && a.source.is_v6()) {
        return fail_status(Reason::bad_version, "VRRPv2 over IPv6 is not supported (use version 3)");
    }
    if (!a.destination.empty() && a.destination.family != a.source.family) {
        return fail_status(Reason::bad_address, "destination " + a.destination.to_string() +
                                                    " is not of the source's family (" + a.source.to_string() + ")");
    }
    if (a.addresses.size() > 255) {
        return fail_status(Reason::too_many_addresses, num(static_cast<unsigned>(a.addresses.size())) +
                                                           " virtual addresses, at most 255 fit the count field");
    }
    for (const auto& ip : a.addresses) {
        if (ip.family != a.source.family) {
            return fail_status(Reason::bad_address, "virtual address " + (ip.empty() ? "(none)" : ip.to_string()) +
                                                        " is not of the source's family (" + a.source.to_string() +
                                                        ")");
        }
    }
    if (a.version == 2) {
        if (a.interval_cs % 100 != 0 || a.interval_cs == 0 || a.interval_cs > 255 * 100) {
            return fail_status(Reason::bad_interval, "VRRPv2 interval " + num(a.interval_cs) +
                                                         " cs is not a whole number of seconds in 1..255");
        }
        if (a.auth_type == AuthType::ah) {
            return fail_status(Reason::auth_unsupported, "IPsec AH authentication is not supported");
        }
        if (a.auth_type != AuthType::none && a.auth_type != AuthType::pass) {
            return fail_status(Reason::bad_auth_type,
                               "auth type " + num(static_cast<unsigned>(a.auth_type)) + " is not 0 or 1");
        }
    } else if (a.interval_cs == 0 || a.interval_cs > kMaxIntervalV3) {
        return fail_status(Reason::bad_interval,
                           "VRRPv3 interval " + num(a.interval_cs) + " cs is not in 1..4095 (12 bits)");
    }
    return {};
}

// Writes the message at `out` (payload_size(a) bytes), checksum included.
void write_message(const Advert& a, std::uint8_t* out)
{
    const std::size_t len = payload_size(a);
    const std::size_t asz = addr_size(a.source.family);
    out[0] = static_cast<std::uint8_t>((a.version << 4) | kTypeAdvert);
    out[1] = a.vrid;
    out[2] = a.priority;
    out[3] = static_cast<std::uint8_t>(a.addresses.size());
    if (a.version == 2) {
        out[4] = static_cast<std::uint8_t>(a.auth_type);
        out[5] = static_cast<std::uint8_t>(a.interval_cs / 100);
    } else {
        // 4 reserved bits (zero) and the 12-bit max advert interval.
        out[4] = static_cast<std::uint8_t>(a.interval_cs >> 8);
        out[5] = static_cast<std::uint8_t>(a.interval_cs & 0xff);
    }
    out[6] = out[7] = 0;
    std::uint8_t* p = out + kHeaderSize;
    for (const auto& ip : a.addresses) {
        std::memcpy(p, ip.bytes.data(), asz);
        p += asz;
    }
    if (a.version == 2) {
        // Zero unless PASS (RFC 3768 5.3.10).
        if (a.auth_type == AuthType::pass) {
            std::memcpy(p, a.auth_data.data(), kAuthDataSize);
        } else {
            std::memset(p, 0, kAuthDataSize);
        }
    }
    const dp::CsumAcc pseudo = a.version == 3 ? pseudo_sum(a.source, destination_of(a), len) : 0;
    dp::store16(out + 6, dp::csum_finish(dp::csum_add_bytes(out, len, pseudo)));
}

}  // namespace

conf::IpAddr multicast_group(conf::IpAddr::Family family)
{
    conf::IpAddr a;
    a.family = family;
    if (family == Family::v4) {
        a.bytes[0] = 224;
        a.bytes[3] = 18;
    } else if (family == Family::v6) {
        a.bytes[0] = 0xff;
        a.bytes[1] = 0x02;
        a.bytes[15] = 0x12;
    }
    return a;
}

std::array<std::uint8_t, 8> pass_auth_data(std::string_view password)
{
    std::array<std::uint8_t, 8> out{};
    std::memcpy(out.data(), password.data(), std::min(password.size(), out.size()));
    return out;
}

std::size_t payload_size(const Advert& a)
{
    return kHeaderSize + a.addresses.size() * addr_size(a.source.family) + (a.version == 2 ? kAuthDataSize : 0);
}

std::string_view name(Reason r)
{
    switch (r) {
    case Reason::ok: return "ok";
    case Reason::too_short: return "too_short";
    case Reason::bad_ip_header: return "bad_ip_header";
    case Reason::wrong_protocol: return "wrong_protocol";
    case Reason::bad_ttl: return "bad_ttl";
    case Reason::bad_version: return "bad_version";
    case Reason::bad_type: return "bad_type";
    case Reason::bad_length: return "bad_length";
    case Reason::bad_checksum: return "bad_checksum";
    case Reason::bad_auth_type: return "bad_auth_type";
    case Reason::auth_unsupported: return "auth_unsupported";
    case Reason::version_mismatch: return "version_mismatch";
    case Reason::vrid_mismatch: return "vrid_mismatch";
    case Reason::auth_type_mismatch: return "auth_type_mismatch";
    case Reason::bad_password: return "bad_password";
    case Reason::interval_mismatch: return "interval_mismatch";
    case Reason::address_count_mismatch: return "address_count_mismatch";
    case Reason::address_missing: return "address_missing";
    case Reason::not_unicast_peer: return "not_unicast_peer";
    case Reason::bad_interval: return "bad_interval";
    case Reason::bad_address: return "bad_address";
    case Reason::too_many_addresses: return "too_many_addresses";
    }
    return "unknown";
}

// ---- encode -----------------------------------------------------------------

Result<Bytes> encode_payload(const Advert& a)
{
    if (auto st = check_encodable(a); !st) {
        return fail<Bytes>(st.reason, std::move(st.text));
    }
    Result<Bytes> out;
    out.value.resize(payload_size(a));
    write_message(a, out.value.data());
    return out;
}

Result<Bytes> encode_ipv4(const Advert& a, std::uint16_t ip_id)
{
    if (auto st = check_encodable(a); !st) {
        return fail<Bytes>(st.reason, std::move(st.text));
    }
    if (!a.source.is_v4()) {
        return fail<Bytes>(Reason::bad_address, "encode_ipv4 with the IPv6 source " + a.source.to_string());
    }
    const std::size_t len = kIpv4HeaderSize + payload_size(a);
    Result<Bytes> out;
    out.value.resize(len);
    std::uint8_t* ip = out.value.data();
    ip[0] = 0x45;  // version 4, IHL 5
    ip[1] = kTos;
    dp::store16(ip + 2, dp::be16_from_host(static_cast<std::uint16_t>(len)));
    dp::store16(ip + 4, dp::be16_from_host(ip_id));
    dp::store16(ip + 6, 0);  // keepalived sets neither DF nor an offset
    ip[8] = a.ttl;
    ip[9] = kIpProtoVrrp;
    std::memcpy(ip + 12, a.source.bytes.data(), 4);
    std::memcpy(ip + 16, destination_of(a).bytes.data(), 4);
    dp::store16(ip + dp::kIpv4CheckOffset, dp::ipv4_header_checksum(ip, kIpv4HeaderSize));
    write_message(a, ip + kIpv4HeaderSize);
    return out;
}

Result<Bytes> encode_ipv6(const Advert& a)
{
    if (auto st = check_encodable(a); !st) {
        return fail<Bytes>(st.reason, std::move(st.text));
    }
    if (!a.source.is_v6()) {
        return fail<Bytes>(Reason::bad_address, "encode_ipv6 with the IPv4 source " + a.source.to_string());
    }
    const std::size_t plen = payload_size(a);
    Result<Bytes> out;
    out.value.resize(kIpv6HeaderSize + plen);
    std::uint8_t* ip = out.value.data();
    // version 6, traffic class 0xc0, flow label 0.
    dp::store32(ip, dp::be32_from_host((6U << 28) | (std::uint32_t{kTos} << 20)));
    dp::store16(ip + 4, dp::be16_from_host(static_cast<std::uint16_t>(plen)));
    ip[6] = kIpProtoVrrp;
    ip[7] = a.ttl;
    std::memcpy(ip + 8, a.source.bytes.data(), 16);
    std::memcpy(ip + 24, destination_of(a).bytes.data(), 16);
    write_message(a, ip + kIpv6HeaderSize);
    return out;
}

// ---- decode -----------------------------------------------------------------

Result<Advert> decode_payload(std::span<const std::uint8_t> m, const IpFields& ip, const DecodeOptions& options)
{
    const Family fam = ip.source.family;
    if (fam == Family::none) {
        return fail<Advert>(Reason::bad_ip_header, "no source address");
    }
    if (options.check_ttl && ip.ttl != kTtl) {
        return fail<Advert>(Reason::bad_ttl, "TTL " + num(ip.ttl) + ", expected 255");
    }
    if (m.size() < kHeaderSize) {
        return fail<Advert>(Reason::too_short, "VRRP message of " + num(static_cast<unsigned>(m.size())) +
                                                   " bytes, shorter than its 8-byte header");
    }
    const unsigned version = m[0] >> 4;
    const unsigned type = m[0] & 0x0f;
    if (version != 2 && version != 3) {
        return fail<Advert>(Reason::bad_version, "VRRP version " + num(version) + ", expected 2 or 3");
    }
    if (version == 2 && fam == Family::v6) {
        return fail<Advert>(Reason::bad_version, "VRRPv2 over IPv6 is not supported");
    }
    if (type != kTypeAdvert) {
        return fail<Advert>(Reason::bad_type, "VRRP type " + num(type) + ", expected 1 (advertisement)");
    }
    const std::size_t fixed = kHeaderSize + (version == 2 ? kAuthDataSize : 0);
    if (m.size() < fixed) {
        return fail<Advert>(Reason::too_short, "VRRPv2 message of " + num(static_cast<unsigned>(m.size())) +
                                                   " bytes, shorter than its header and auth data (16)");
    }
    const unsigned count = m[3];
    const std::size_t asz = addr_size(fam);
    const std::size_t expected = fixed + count * asz;
    if (m.size() != expected) {
        return fail<Advert>(Reason::bad_length, "address count " + num(count) + " needs a " + num(static_cast<unsigned>(expected)) +
                                                    "-byte message, got " + num(static_cast<unsigned>(m.size())));
    }
    dp::CsumAcc pseudo = 0;
    if (version == 3) {
        if (ip.destination.family != fam) {
            return fail<Advert>(Reason::bad_ip_header, "no destination address of the source's family");
        }
        pseudo = pseudo_sum(ip.source, ip.destination, m.size());
    }
    if (!dp::l4_checksum_ok(pseudo, m.data(), m.size())) {
        return fail<Advert>(Reason::bad_checksum, "bad VRRPv" + num(version) + " checksum " +
                                                      num(dp::load_be16(m.data() + 6)));
    }

    Result<Advert> out;
    Advert& a = out.value;
    a.version = static_cast<std::uint8_t>(version);
    a.vrid = m[1];
    a.priority = m[2];
    if (version == 2) {
        const unsigned auth = m[4];
        if (auth == static_cast<unsigned>(AuthType::ah)) {
            return fail<Advert>(Reason::auth_unsupported, "IPsec AH authentication (auth type 2) is not supported");
        }
        if (auth > static_cast<unsigned>(AuthType::ah)) {
            return fail<Advert>(Reason::bad_auth_type, "auth type " + num(auth) + ", expected 0 or 1");
        }
        a.auth_type = static_cast<AuthType>(auth);
        a.interval_cs = static_cast<std::uint16_t>(m[5] * 100);
        if (a.auth_type == AuthType::pass) {
            std::memcpy(a.auth_data.data(), m.data() + kHeaderSize + count * asz, kAuthDataSize);
        }
    } else {
        // The 4 reserved bits are ignored on receive (RFC 5798 5.2.6).
        a.interval_cs = static_cast<std::uint16_t>(dp::load_be16(m.data() + 4) & kMaxIntervalV3);
    }
    a.addresses.reserve(count);
    for (unsigned i = 0; i < count; ++i) {
        a.addresses.push_back(addr_at(m.data() + kHeaderSize + i * asz, fam));
    }
    a.source = ip.source;
    a.destination = ip.destination;
    a.ttl = ip.ttl;
    return out;
}

Result<Advert> decode_ipv4(std::span<const std::uint8_t> p, const DecodeOptions& options)
{
    if (p.size() < kIpv4HeaderSize) {
        return fail<Advert>(Reason::too_short, "IPv4 packet of " + num(static_cast<unsigned>(p.size())) + " bytes");
    }
    if ((p[0] >> 4) != 4) {
        return fail<Advert>(Reason::bad_ip_header, "IP version " + num(p[0] >> 4u) + ", expected 4");
    }
    const std::size_t ihl = (p[0] & 0x0fu) * 4u;
    const std::size_t total = dp::load_be16(p.data() + 2);
    if (ihl < kIpv4HeaderSize || total < ihl) {
        return fail<Advert>(Reason::bad_ip_header, "IHL " + num(static_cast<unsigned>(ihl / 4)) + ", total length " +
                                                       num(static_cast<unsigned>(total)));
    }
    if (p.size() < total) {
        return fail<Advert>(Reason::too_short, "IPv4 total length " + num(static_cast<unsigned>(total)) + ", only " +
                                                   num(static_cast<unsigned>(p.size())) + " bytes");
    }
    if (!dp::ipv4_header_checksum_ok(p.data(), ihl)) {
        return fail<Advert>(Reason::bad_ip_header, "bad IPv4 header checksum");
    }
    if ((dp::load_be16(p.data() + 6) & 0x3fff) != 0) {  // MF or an offset
        return fail<Advert>(Reason::bad_ip_header, "IPv4 fragment");
    }
    if (p[9] == kIpProtoAh) {
        return fail<Advert>(Reason::auth_unsupported, "IPsec AH (IP protocol 51) is not supported");
    }
    if (p[9] != kIpProtoVrrp) {
        return fail<Advert>(Reason::wrong_protocol, "IP protocol " + num(p[9]) + ", expected 112");
    }
    IpFields ip;
    ip.source = addr_at(p.data() + 12, Family::v4);
    ip.destination = addr_at(p.data() + 16, Family::v4);
    ip.ttl = p[8];
    return decode_payload(p.subspan(ihl, total - ihl), ip, options);
}

Result<Advert> decode_ipv6(std::span<const std::uint8_t> p, const DecodeOptions& options)
{
    if (p.size() < kIpv6HeaderSize) {
        return fail<Advert>(Reason::too_short, "IPv6 packet of " + num(static_cast<unsigned>(p.size())) + " bytes");
    }
    if ((p[0] >> 4) != 6) {
        return fail<Advert>(Reason::bad_ip_header, "IP version " + num(p[0] >> 4u) + ", expected 6");
    }
    const std::size_t plen = dp::load_be16(p.data() + 4);
    if (p.size() < kIpv6HeaderSize + plen) {
        return fail<Advert>(Reason::too_short, "IPv6 payload length " + num(static_cast<unsigned>(plen)) + ", only " +
                                                   num(static_cast<unsigned>(p.size() - kIpv6HeaderSize)) + " bytes");
    }
    if (p[6] != kIpProtoVrrp) {
        return fail<Advert>(Reason::wrong_protocol,
                            "IPv6 next header " + num(p[6]) + ", expected 112 (no extension headers)");
    }
    IpFields ip;
    ip.source = addr_at(p.data() + 8, Family::v6);
    ip.destination = addr_at(p.data() + 24, Family::v6);
    ip.ttl = p[7];
    return decode_payload(p.subspan(kIpv6HeaderSize, plen), ip, options);
}

// ---- validate -------------------------------------------------------------------

Status validate(const Advert& r, const Advert& mine, const ValidateOptions& options)
{
    if (r.version != mine.version) {
        return fail_status(Reason::version_mismatch,
                           "VRRPv" + num(r.version) + " advert, this instance runs VRRPv" + num(mine.version));
    }
    if (r.vrid != mine.vrid) {
        return fail_status(Reason::vrid_mismatch, "VRID " + num(r.vrid) + ", expected " + num(mine.vrid));
    }
    if (r.version == 2) {
        if (r.auth_type != mine.auth_type) {
            return fail_status(Reason::auth_type_mismatch, "auth type " + num(static_cast<unsigned>(r.auth_type)) +
                                                               ", expected " +
                                                               num(static_cast<unsigned>(mine.auth_type)));
        }
        if (r.auth_type == AuthType::pass && r.auth_data != mine.auth_data) {
            return fail_status(Reason::bad_password, "invalid password");  // never logged
        }
        if (r.interval_cs != mine.interval_cs) {
            return fail_status(Reason::interval_mismatch, "advert interval " + num(r.interval_cs / 100u) +
                                                              " s, this instance sends every " +
                                                              num(mine.interval_cs / 100u) + " s");
        }
    }
    if (r.addresses.size() != mine.addresses.size()) {
        return fail_status(Reason::address_count_mismatch,
                           num(static_cast<unsigned>(r.addresses.size())) + " addresses, expected " +
                               num(static_cast<unsigned>(mine.addresses.size())));
    }
    if (options.check_addresses) {
        for (const auto& ip : mine.addresses) {
            if (std::find(r.addresses.begin(), r.addresses.end(), ip) == r.addresses.end()) {
                return fail_status(Reason::address_missing, ip.to_string() + " is not in the advert");
            }
        }
    }
    return {};
}

}  // namespace kadp::vrrp
