// Runs on: the fuzzer. Feeds arbitrary bytes to the VRRP decoder
// (vrrp/codec.h) as a whole IPv4 packet, a whole IPv6 packet and a bare
// VRRP message from either family, validates every advert it accepts
// against a v2 and a v3 instance, and checks that an accepted advert
// encodes back to a packet that decodes to the same advert.
#include <cstddef>
#include <cstdint>
#include <span>

#include "vrrp/codec.h"

namespace {

using namespace kadp;
using namespace kadp::vrrp;

void require(bool ok)
{
    if (!ok) __builtin_trap();
}

Advert instance(std::uint8_t version, conf::IpAddr::Family family)
{
    Advert a;
    a.version = version;
    a.vrid = 51;
    a.priority = 100;
    a.interval_cs = 100;
    if (version == 2) {
        a.auth_type = AuthType::pass;
        a.auth_data = pass_auth_data("secret");
    }
    if (family == conf::IpAddr::Family::v4) {
        a.source = *conf::IpAddr::parse("198.18.0.1");
        a.addresses = {*conf::IpAddr::parse("198.18.0.100"), *conf::IpAddr::parse("198.18.0.101")};
    } else {
        a.source = *conf::IpAddr::parse("fe80::1");
        a.addresses = {*conf::IpAddr::parse("2001:db8::100")};
    }
    return a;
}

bool same_advert(const Advert& x, const Advert& y)
{
    return x.version == y.version && x.vrid == y.vrid && x.priority == y.priority &&
           x.interval_cs == y.interval_cs && x.auth_type == y.auth_type && x.auth_data == y.auth_data &&
           x.addresses == y.addresses && x.source == y.source && x.destination == y.destination && x.ttl == y.ttl;
}

void accepted(const Advert& a, bool v6)
{
    const auto fam = v6 ? conf::IpAddr::Family::v6 : conf::IpAddr::Family::v4;
    for (std::uint8_t version : {std::uint8_t{2}, std::uint8_t{3}}) {
        for (bool addresses : {false, true}) {
            const Status s = validate(a, instance(version, fam), ValidateOptions{addresses});
            require(s.ok() == s.text.empty());
        }
    }
    // Round trip: what we would send for this advert decodes to it.
    const auto packet = v6 ? encode_ipv6(a) : encode_ipv4(a);
    if (!packet) return;
    const DecodeOptions any_ttl{false};  // the advert keeps the TTL it came with
    const auto back = v6 ? decode_ipv6(packet.value, any_ttl) : decode_ipv4(packet.value, any_ttl);
    require(back.ok());
    require(same_advert(back.value, a));
    require(payload_size(a) + (v6 ? kIpv6HeaderSize : kIpv4HeaderSize) == packet.value.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::uint8_t> in(data, size);
    for (bool ttl : {true, false}) {
        const DecodeOptions options{ttl};
        if (auto r = decode_ipv4(in, options)) accepted(r.value, false);
        else require(!r.text.empty() && !name(r.reason).empty());
        if (auto r = decode_ipv6(in, options)) accepted(r.value, true);
        else require(!r.text.empty() && !name(r.reason).empty());
    }
    IpFields v4{*conf::IpAddr::parse("198.18.0.2"), *conf::IpAddr::parse("224.0.0.18"), kTtl};
    IpFields v6{*conf::IpAddr::parse("fe80::2"), *conf::IpAddr::parse("ff02::12"), kTtl};
    if (auto r = decode_payload(in, v4)) accepted(r.value, false);
    if (auto r = decode_payload(in, v6)) accepted(r.value, true);
    return 0;
}
