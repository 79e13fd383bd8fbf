// Runs on: control thread.
#include "vrrp/advert_screen.h"

#include <algorithm>

namespace kadp::vrrp {

Advert own_advert(const InstanceConfig& c)
{
    Advert a;
    a.version = static_cast<std::uint8_t>(c.version);
    a.vrid = c.vrid;
    a.priority = c.priority;
    a.interval_cs = static_cast<std::uint16_t>(c.advert_interval.count() / 10'000);
    a.auth_type = c.auth_type;
    a.auth_data = c.auth_data;
    a.addresses = c.advert_addresses;
    a.source = c.source;
    return a;
}

Status screen_advert(const Advert& a, const InstanceConfig& cfg, const Advert& mine)
{
    // RFC 3768 7.1 / RFC 5798 7.1: TTL must be 255. keepalived checks it
    // only for multicast instances (a unicast peer may be routed).
    if (cfg.unicast_peers.empty() && a.ttl != kTtl) {
        return {Reason::bad_ttl,
                "invalid TTL/HL. Received " + std::to_string(a.ttl) + " and expect " + std::to_string(kTtl)};
    }
    // The codec's auth checks; the state machine logs the others (version,
    // interval, addresses) with keepalived's lines.
    const Status v = validate(a, mine, ValidateOptions{false});
    if (v.reason == Reason::auth_type_mismatch) {
        return {v.reason, "received a " + std::to_string(static_cast<unsigned>(a.auth_type)) + " auth, expecting " +
                              std::to_string(static_cast<unsigned>(mine.auth_type)) + "!"};
    }
    if (v.reason == Reason::bad_password) return {v.reason, "received an invalid passwd!"};
    // keepalived 2.2.7 makes this check only with check_unicast_src (or the
    // global vrrp_check_unicast_src); kadp always does: with a peer list, an
    // advert from anyone else is forged or misrouted.
    if (!cfg.unicast_peers.empty() &&
        std::find(cfg.unicast_peers.begin(), cfg.unicast_peers.end(), a.source) == cfg.unicast_peers.end()) {
        return {Reason::not_unicast_peer, "unicast source address " + a.source.to_string() + " not a unicast peer"};
    }
    return {};
}

Reception receive_advert(std::span<const std::uint8_t> packet, std::string_view ifname,
                         const std::function<ScreenTarget(std::uint8_t vrid)>& find, DropCounters& service)
{
    Reception rx;
    DecodeOptions options;
    options.check_ttl = false;  // screen_advert: only multicast instances insist on 255
    Result<Advert> d = decode_ipv4(packet, options);
    if (!d) {
        // Logged by the service-wide count: one line per reason and 1,000 packets.
        if (service.count(name(d.reason))) rx.log = "VRRP packet on " + std::string(ifname) + " dropped: " + d.text;
        return rx;
    }
    rx.advert = std::move(d.value);
    const ScreenTarget t = find(rx.advert.vrid);
    if (t.config == nullptr) {
        (void)service.count(name(Reason::vrid_mismatch));
        return rx;
    }
    const Status s = screen_advert(rx.advert, *t.config, *t.mine);
    if (!s) {
        if (t.drops != nullptr) (void)t.drops->count(name(s.reason));
        if (service.count(name(s.reason))) rx.log = "(" + t.config->name + ") " + s.text;
        return rx;
    }
    rx.accepted = true;
    return rx;
}

}  // namespace kadp::vrrp
