// Runs on: control thread (VrrpService) and tests. The receive checks a
// decoded advert must pass before it reaches the instance its VRID names,
// the ones that need the instance's configuration but not its state: TTL
// 255 (multicast instances only), the v2 auth type and PASS password, and a
// source among the unicast_peer list (when there is one). Each refusal has
// a codec Reason whose name() is the counter's name; DropCounters keeps
// them, per instance and per service. receive_advert() is the whole
// receive path before a state machine (decode, VRID, screen, counting),
// shared by VrrpService and the tests. Pure: no sockets, no clock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "vrrp/advert.h"
#include "vrrp/codec.h"
#include "vrrp/instance.h"

namespace kadp::vrrp {

// `a` was decoded with check_ttl = false (the socket does not know yet
// which instance it is for); `mine` is the advert the instance sends
// (auth type and data). On refusal, text is keepalived's log line without
// the "(NAME) " prefix the caller adds.
Status screen_advert(const Advert& a, const InstanceConfig& cfg, const Advert& mine);

// The advert an instance sends (screen_advert's `mine`): its version, VRID,
// priority, interval, authentication, addresses and source.
Advert own_advert(const InstanceConfig& c);

// Dropped adverts by reason name. count() says whether to log this one:
// keepalived logs every refused packet; the first of every 1,000 per
// reason keeps a flood from filling the log.
class DropCounters {
public:
    bool count(std::string_view reason)
    {
        auto it = by_reason_.try_emplace(std::string(reason), 0).first;
        return it->second++ % 1000 == 0;
    }
    [[nodiscard]] std::uint64_t of(std::string_view reason) const
    {
        const auto it = by_reason_.find(std::string(reason));
        return it == by_reason_.end() ? 0 : it->second;
    }
    [[nodiscard]] const std::map<std::string, std::uint64_t>& by_reason() const { return by_reason_; }

private:
    std::map<std::string, std::uint64_t> by_reason_;
};

// The instance an advert's VRID names on the socket it came in on, as the
// receive path needs it; config == nullptr when no instance has that VRID.
struct ScreenTarget {
    const InstanceConfig* config = nullptr;
    const Advert* mine = nullptr;  // own_advert(*config)
    DropCounters* drops = nullptr;  // the instance's counters
};

// What the receive path made of one packet.
struct Reception {
    bool accepted = false;  // `advert` goes to the state machine of the instance its VRID names
    Advert advert;
    std::string log;  // a line for the log, or empty (not logged, or rate-limited)
};

// The receive path of one packet from a VRRP socket on `ifname`, before any
// state machine: decode (TTL left to the screen), find the instance by
// VRID, screen_advert. Every refusal is counted by reason in `service` and,
// when an instance was found, in its drops; a VRID nobody here runs is
// counted, not logged (another router's on a shared segment is normal).
// No sockets, no clock: VrrpService::deliver() and the tests run this.
Reception receive_advert(std::span<const std::uint8_t> packet, std::string_view ifname,
                         const std::function<ScreenTarget(std::uint8_t vrid)>& find, DropCounters& service);

}  // namespace kadp::vrrp
