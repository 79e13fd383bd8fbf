// Runs on: control thread.
#include "control/kernel/leftover_vips.h"

#include <stdexcept>

namespace kadp::ctl {

std::size_t remove_leftover_vips(const conf::Config& config, Rtnl& rtnl,
                                 const LogSink& log) {
    std::size_t removed = 0;
    for (const conf::VrrpInstance& instance : config.vrrp_instances) {
        for (const auto* list : {&instance.virtual_ipaddress, &instance.virtual_ipaddress_excluded}) {
            for (conf::VirtualIp vip : *list) {
                if (vip.dev.empty()) vip.dev = instance.interface;
                try {
                    if (!rtnl.remove_address_if_present(vip)) continue;
                    ++removed;
                    log("(" + instance.name + ") removed " + vip.address.to_string() + " dev " + vip.dev +
                        ", left on the interface by a previous run: the instance starts in BACKUP");
                } catch (const std::runtime_error& e) {
                    log.warning("(" + instance.name + ") " + e.what());
                }
            }
        }
    }
    return removed;
}

}  // namespace kadp::ctl
