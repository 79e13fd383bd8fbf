// Runs on: worker lcores (a check on the source of packets that would open
// a connection or be answered); any thread.
//
// Source addresses no host sends from (RFC 1122 3.2.1.3, RFC 1812 5.3.7):
// 0.0.0.0/8 ("this network"), 127.0.0.0/8 (loopback), 224.0.0.0/4
// (multicast), 240.0.0.0/4 (reserved, with the limited broadcast
// 255.255.255.255). Linux drops the first three and the broadcast as
// martians in its input route lookup, before IPVS sees them.
#pragma once

#include <cstdint>

#include "dataplane/checksum.h"

namespace kadp::dp {

constexpr bool martian_source(std::uint32_t saddr_be)
{
    const std::uint32_t top = host_from_be32(saddr_be) >> 24;
    return top == 0 || top == 127 || top >= 224;
}

}  // namespace kadp::dp
