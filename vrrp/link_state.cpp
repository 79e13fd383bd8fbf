// Runs on: control thread. See link_state.h. The netlink messages are read
// with memcpy at computed offsets rather than through the NLMSG_*/RTA_*
// macros (C casts, unaligned access on a byte buffer).
#include "vrrp/link_state.h"

#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>

#include "vrrp/track.h"

namespace kadp::vrrp {

void feed_link_states(LinkState& links, Tracker& tracker)
{
    links.subscribe([&tracker](const std::string& ifname, bool up) { tracker.interface_state(ifname, up); });
}

namespace {

constexpr std::size_t align4(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

}  // namespace

std::vector<LinkEvent> parse_link_messages(std::span<const std::uint8_t> buf, bool* done)
{
    std::vector<LinkEvent> out;
    std::size_t off = 0;
    while (off + sizeof(nlmsghdr) <= buf.size()) {
        nlmsghdr h;
        std::memcpy(&h, buf.data() + off, sizeof(h));
        if (h.nlmsg_len < sizeof(nlmsghdr) || off + h.nlmsg_len > buf.size()) break;
        if (h.nlmsg_type == NLMSG_DONE && done != nullptr) *done = true;
        const std::size_t body = off + align4(sizeof(nlmsghdr));
        if ((h.nlmsg_type == RTM_NEWLINK || h.nlmsg_type == RTM_DELLINK) &&
            body + sizeof(ifinfomsg) <= off + h.nlmsg_len) {
            ifinfomsg ifi;
            std::memcpy(&ifi, buf.data() + body, sizeof(ifi));
            LinkEvent ev;
            ev.ifindex = ifi.ifi_index;
            ev.deleted = h.nlmsg_type == RTM_DELLINK;
            const unsigned both = IFF_UP | IFF_RUNNING;
            ev.up = !ev.deleted && (ifi.ifi_flags & both) == both;
            std::size_t a = body + align4(sizeof(ifinfomsg));
            const std::size_t end = off + h.nlmsg_len;
            while (a + sizeof(rtattr) <= end) {
                rtattr rta;
                std::memcpy(&rta, buf.data() + a, sizeof(rta));
                if (rta.rta_len < sizeof(rtattr) || a + rta.rta_len > end) break;
                if (rta.rta_type == IFLA_IFNAME) {
                    const auto* p = buf.data() + a + align4(sizeof(rtattr));
                    const std::size_t n = rta.rta_len - align4(sizeof(rtattr));
                    std::size_t len = 0;
                    while (len < n && p[len] != 0) ++len;
                    ev.name.assign(p, p + len);
                }
                a += align4(rta.rta_len);
            }
            if (!ev.name.empty()) out.push_back(std::move(ev));
        }
        off += align4(h.nlmsg_len);
    }
    return out;
}

NetlinkLinkState::NetlinkLinkState(ctl::EventLoop& loop, ctl::LogSink log)
    : loop_(loop), log_(std::move(log)),
      fd_(socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE))
{
    if (fd_.get() < 0) throw std::system_error(errno, std::generic_category(), "netlink socket (NETLINK_ROUTE)");
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_groups = RTMGRP_LINK;
    if (bind(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) < 0)
        throw std::system_error(errno, std::generic_category(), "netlink bind (RTMGRP_LINK)");
    request_dump();

    // The first dump, read here so snapshot() is complete when we return.
    std::array<std::uint8_t, 32768> buf;
    bool done = false;
    while (!done) {
        pollfd p{fd_.get(), POLLIN, 0};
        if (poll(&p, 1, 2000) <= 0) throw std::system_error(ETIMEDOUT, std::generic_category(), "netlink link dump");
        const ssize_t n = recv(fd_.get(), buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            throw std::system_error(errno, std::generic_category(), "netlink link dump");
        }
        apply(parse_link_messages(std::span(buf.data(), static_cast<std::size_t>(n)), &done), false);
    }
    watch_ = loop_.watch(fd_.get(), EPOLLIN, [this](std::uint32_t) { on_readable(); });
}

NetlinkLinkState::~NetlinkLinkState()
{
    if (watch_ != 0) loop_.unwatch(watch_);
}

void NetlinkLinkState::request_dump()
{
    struct {
        nlmsghdr h;
        ifinfomsg i;
    } req{};
    req.h.nlmsg_len = sizeof(req);
    req.h.nlmsg_type = RTM_GETLINK;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = 1;
    req.i.ifi_family = AF_UNSPEC;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd_.get(), &req, sizeof(req), 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof(kernel)) < 0)
        throw std::system_error(errno, std::generic_category(), "netlink RTM_GETLINK");
}

std::map<std::string, bool> NetlinkLinkState::snapshot() const
{
    std::map<std::string, bool> m;
    for (const auto& [index, ev] : links_) m[ev.name] = ev.up;
    return m;
}

void NetlinkLinkState::apply(const std::vector<LinkEvent>& events, bool report)
{
    const auto notify = [this](const std::string& name, bool up) {
        // keepalived's words; a flapping link: a few lines a minute per interface.
        limited_.info("Netlink reports " + name, "Netlink reports " + name + (up ? " up" : " down"));
        if (callback_) callback_(name, up);
    };
    for (const LinkEvent& ev : events) {
        const auto it = links_.find(ev.ifindex);
        std::optional<LinkEvent> before;
        if (it != links_.end()) before = it->second;
        if (ev.deleted) links_.erase(ev.ifindex);
        else links_[ev.ifindex] = ev;
        if (!report) continue;
        // A rename takes the old name away.
        if (before && before->name != ev.name && before->up) notify(before->name, false);
        if (!before || before->up != ev.up || before->name != ev.name) notify(ev.name, ev.up);
    }
}

void NetlinkLinkState::on_readable()
{
    std::array<std::uint8_t, 32768> buf;
    for (;;) {
        const ssize_t n = recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOBUFS) {
                // Events were lost: ask for the whole table again; apply()
                // reports only what differs from what we knew.
                limited_.warning("Netlink link monitor overrun", "Netlink link monitor overrun - re-reading interfaces");
                try {
                    request_dump();
                } catch (const std::system_error& e) {
                    limited_.error("Netlink link monitor dump", e.what());
                }
                continue;
            }
            return;  // EAGAIN: drained
        }
        if (n == 0) return;
        apply(parse_link_messages(std::span(buf.data(), static_cast<std::size_t>(n))), true);
    }
}

}  // namespace kadp::vrrp
