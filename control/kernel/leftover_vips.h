// Runs on: control thread, once at start (never at a reload). keepalived
// 2.2.7's VRRP process, starting on an interface that already existed,
// removes each instance's virtual_ipaddress (and _excluded) from it first:
// a master that died without leaving MASTER (SIGKILL) left them there, and
// an instance starts in BACKUP; the one that becomes master adds them again.
// kadp's kernel backend does the same before its VRRP instances start.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "conf/model.h"
#include "control/kernel/rtnl.h"
#include "control/log_sink.h"

namespace kadp::ctl {

// Removes every VIP of every vrrp_instance that is on its interface (a VIP
// without `dev` is on the instance's interface); logs each one removed and
// each failure. Returns how many it removed.
std::size_t remove_leftover_vips(const conf::Config& config, Rtnl& rtnl,
                                 const LogSink& log);

}  // namespace kadp::ctl
