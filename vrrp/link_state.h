// Runs on: control thread. Where track_interface gets link states from:
// one seam, two sources. The kernel backend's is NetlinkLinkState below
// (rtnetlink RTM_NEWLINK/RTM_DELLINK on the EventLoop); the DPDK backend
// implements LinkState over its ports' link status. The Tracker
// (vrrp/track.h) takes snapshot() at start and every change afterwards
// (feed_link_states()).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "control/event_loop.h"
#include "control/log_limiter.h"
#include "control/log_sink.h"

namespace kadp::vrrp {

class Tracker;

class LinkState {
public:
    using Callback = std::function<void(const std::string& ifname, bool up)>;
    virtual ~LinkState() = default;
    // Every interface known now: name -> up.
    [[nodiscard]] virtual std::map<std::string, bool> snapshot() const = 0;
    // One call per change from now on, on the control thread. One
    // subscriber; a second call replaces the first.
    virtual void subscribe(Callback callback) = 0;
};

// Feeds `links`' changes to `tracker`; both must outlive the subscription
// (subscribe({}) ends it).
void feed_link_states(LinkState& links, Tracker& tracker);

// What one RTM_NEWLINK/RTM_DELLINK says. Up as keepalived's IF_FLAGS_UP:
// IFF_UP and IFF_RUNNING (a cable pulled, or a veth whose peer is down,
// is down); a deleted link is down.
struct LinkEvent {
    int ifindex = 0;
    std::string name;
    bool up = false;
    bool deleted = false;
};

// Parses a buffer of netlink messages (one recv), skipping everything but
// link messages. `done` is set when NLMSG_DONE (end of a dump) is seen.
std::vector<LinkEvent> parse_link_messages(std::span<const std::uint8_t> buf, bool* done = nullptr);

// rtnetlink: a NETLINK_ROUTE socket in the RTMGRP_LINK group, dumped once
// at construction (synchronously, so snapshot() is complete on return),
// then watched on the loop. Logs "Netlink reports NAME up|down" as
// keepalived does. Throws std::system_error when the socket cannot be
// opened or the dump fails.
class NetlinkLinkState final : public LinkState {
public:
    NetlinkLinkState(ctl::EventLoop& loop, ctl::LogSink log);
    ~NetlinkLinkState() override;
    NetlinkLinkState(const NetlinkLinkState&) = delete;
    NetlinkLinkState& operator=(const NetlinkLinkState&) = delete;

    [[nodiscard]] std::map<std::string, bool> snapshot() const override;
    void subscribe(Callback callback) override { callback_ = std::move(callback); }

private:
    void request_dump();
    void apply(const std::vector<LinkEvent>& events, bool report);
    void on_readable();

    ctl::EventLoop& loop_;
    ctl::LogSink log_;
    ctl::LogLimiter limited_{log_};
    ctl::Fd fd_;
    ctl::EventLoop::WatchId watch_ = 0;
    std::map<int, LinkEvent> links_;  // by ifindex (names change)
    Callback callback_;
};

}  // namespace kadp::vrrp
