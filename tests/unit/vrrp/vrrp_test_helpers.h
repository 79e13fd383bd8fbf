// Runs on: any (tests). What the VRRP state-machine tests share: a start
// time on the simulated clock, address literals and a plain v2 instance.
#pragma once

#include <chrono>

#include "conf/model.h"
#include "vrrp/instance.h"

namespace kadp::vrrp::test {

using namespace std::chrono_literals;

inline const TimePoint t0 = TimePoint{} + 1000s;

inline conf::IpAddr ip(const char* text) { return *conf::IpAddr::parse(text); }

inline conf::VirtualIp vip(const char* text)
{
    conf::VirtualIp v;
    v.address = *conf::IpPrefix::parse(text);
    return v;
}

// VI_1, VRRPv2, VRID 51, priority 100, 1 s adverts, VIP 198.18.0.100/24,
// from 198.18.0.1 to the multicast group; each test adds what it needs.
inline InstanceConfig v2_config()
{
    InstanceConfig c;
    c.name = "VI_1";
    c.version = 2;
    c.vrid = 51;
    c.priority = 100;
    c.advert_interval = 1s;
    c.advert_addresses = {ip("198.18.0.100")};
    c.owned = {vip("198.18.0.100/24")};
    c.source = ip("198.18.0.1");
    c.group = ip("224.0.0.18");
    return c;
}

}  // namespace kadp::vrrp::test
