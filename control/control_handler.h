// Runs on: control thread. What the kadpctl socket asks a backend: the one
// interface the DPDK backend (control/dpdk_control.h) and the kernel IPVS
// backend (control/kernel/) implement, so kadpctl works the same on both.
// Every call runs on the control thread from the event loop and must not
// block (reload reads the configuration file, which is the control thread's
// own job anyway).
#pragma once

#include <cstddef>
#include <string>

#include "control/ctl_messages.h"
#include "control/ctl_observe.h"

namespace kadp::ctl {

class ControlHandler {
public:
    virtual ~ControlHandler() = default;
    // The services and real servers with their counters and rates.
    virtual ListReply list() = 0;
    // At most `limit` connections (total counts them all).
    virtual ConnsReply conns(std::size_t limit) = 0;
    virtual StatusReply status() = 0;
    // Loads and validates the configuration file again and applies it, or
    // rejects it keeping the running one; `trigger` ("SIGHUP", "kadpctl")
    // is recorded in the result.
    virtual ReloadReply reload(const std::string& trigger) = 0;
    // kadpctl checks / vrrp / stats (ctl_observe.h). The defaults answer
    // "none": a backend without checkers or VRRP, a test's handler.
    virtual ChecksReply checks() { return {}; }
    virtual VrrpReply vrrp() { return {}; }
    virtual StatsReply stats() { return {}; }
};

}  // namespace kadp::ctl
