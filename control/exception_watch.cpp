// Runs on: control thread.
#include "control/exception_watch.h"

#include <net/if.h>

#include <utility>

namespace kadp::ctl {
namespace {

bool tap_exists(int ifindex, const std::string& tap)
{
    char name[IF_NAMESIZE] = {};
    return if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr && tap == name;
}

std::string gone_line(const ExceptionWatch::Tap& t)
{
    return "exception port " + t.tap + " of " + t.interface +
           " is gone (deleted from the kernel): the kernel's traffic through " + t.interface +
           " (health checks, VRRP adverts, ARP and ICMP of its addresses) stops, forwarding goes on; restart kadp "
           "to recreate it";
}

}  // namespace

ExceptionWatch::ExceptionWatch(std::vector<Tap> taps, LogFn log, ExistsFn exists)
    : log_(std::move(log)), exists_(exists ? std::move(exists) : ExistsFn(tap_exists))
{
    for (auto& t : taps) taps_.push_back({std::move(t), false});
}

void ExceptionWatch::check()
{
    for (Watched& w : taps_) {
        if (w.gone || w.tap.ifindex <= 0 || exists_(w.tap.ifindex, w.tap.tap)) continue;
        w.gone = true;
        ++lost_;
        log_.warning(gone_line(w.tap));
    }
}

std::vector<std::string> ExceptionWatch::degraded() const
{
    std::vector<std::string> out;
    for (const Watched& w : taps_)
        if (w.gone) out.push_back(gone_line(w.tap));
    return out;
}

}  // namespace kadp::ctl
