// Runs on: control thread (from the loop's once-a-second tick). Notices an
// exception TAP taken away under kadp (`ip link del kadp-lan`, a script
// cleaning interfaces): its ifindex no longer names it. The data plane goes
// on forwarding (the VIPs never touch the TAPs), but the kernel's traffic
// through that interface - health checks, VRRP adverts, ssh, ARP of the
// node's own addresses - stops. kadp does not recreate the TAP (its DPDK
// port is polled by the service worker: replacing it means stopping the
// workers, i.e. a restart); it says so once in the log and keeps saying so
// in `kadpctl status` ("degraded: ...") until restarted. A TAP that comes
// back under the same name is another interface (new ifindex, no DPDK file
// descriptor behind it): still degraded.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "control/log_sink.h"

namespace kadp::ctl {

class ExceptionWatch {
public:
    struct Tap {
        std::string interface;  // the dataplane interface's name
        std::string tap;        // its exception TAP's kernel name
        int ifindex = 0;        // as created
    };
    using LogFn = LogSink;
    // Whether `ifindex` still names `tap` (if_indextoname); tests replace it.
    using ExistsFn = std::function<bool(int ifindex, const std::string& tap)>;

    ExceptionWatch(std::vector<Tap> taps, LogFn log, ExistsFn exists = {});

    void check();  // logs each TAP's loss once
    // One line per lost TAP: "exception port kadp-lan of lan is gone (...)".
    [[nodiscard]] std::vector<std::string> degraded() const;
    [[nodiscard]] std::uint64_t lost() const { return lost_; }

private:
    struct Watched {
        Tap tap;
        bool gone = false;
    };
    std::vector<Watched> taps_;
    LogFn log_;
    ExistsFn exists_;
    std::uint64_t lost_ = 0;
};

}  // namespace kadp::ctl
