// Runs on: any (plain data). One VRRP advertisement as the state machine
// (vrrp/instance.h) sees it. The codec (vrrp/codec.h) decodes it from and
// encodes it to the wire, VRRPv2 (RFC 3768) or VRRPv3 (RFC 5798), with the
// IP header fields the receive checks need.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "conf/inet.h"

namespace kadp::vrrp {

// The v2 header's auth type (v3 carries none).
enum class AuthType : std::uint8_t { none = 0, pass = 1, ah = 2 };

struct Advert {
    std::uint8_t version = 2;           // 2 or 3
    std::uint8_t vrid = 0;              // 1..255
    std::uint8_t priority = 100;        // 0: the master is leaving; 255: address owner
    std::uint16_t interval_cs = 100;    // advert interval in centiseconds (v2: whole seconds x 100)
    AuthType auth_type = AuthType::none;               // v2 only
    std::array<std::uint8_t, 8> auth_data{};           // v2 PASS: the password, zero padded
    std::vector<conf::IpAddr> addresses;               // the virtual addresses, in order
    // From the IP header (decode fills them; encode takes source and ttl).
    conf::IpAddr source;
    conf::IpAddr destination;
    std::uint8_t ttl = 255;
};

}  // namespace kadp::vrrp
