// Runs on: any (tests). What the VRRP state-machine tests share: a start
// time on the simulated clock and address literals.
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

}  // namespace kadp::vrrp::test
