// Runs on: control thread. The global_defs keywords that only the kernel
// backend acts on, read from what the parser keeps as `other`:
//   lvs_timeouts [tcp SECS] [tcpfin SECS] [udp SECS]   (ipvsadm --set)
//   lvs_flush                                          flush IPVS at start
//   lvs_flush_on_stop [VS]                             flush (or delete each VS) at stop
#pragma once

#include <optional>

#include "conf/diagnostics.h"
#include "conf/model.h"
#include "control/ipvs_model.h"

namespace kadp::ctl {

struct LvsGlobals {
    std::optional<IpvsTimeouts> timeouts;  // unset: leave the kernel's
    bool flush_at_start = false;
    // Default: delete each service kadp added (keepalived's default too).
    enum class OnStop { delete_each, flush_all, delete_services } on_stop = OnStop::delete_each;
};

// Malformed values are warnings (the keyword is then ignored), as keepalived does.
LvsGlobals lvs_globals(const conf::GlobalDefs& g, conf::Diagnostics& diags);

}  // namespace kadp::ctl
