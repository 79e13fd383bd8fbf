// Runs on: control thread. What a reload changes, in words, and whether it
// can change it without a restart. Backend-neutral (IpvsService lists), so
// the kernel backend's reload can describe itself the same way.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "conf/model.h"
#include "control/ipvs_model.h"

namespace kadp::ctl {

struct ServiceChanges {
    unsigned services_added = 0, services_removed = 0, services_changed = 0;
    unsigned dests_added = 0, dests_removed = 0, dests_changed = 0;
    std::vector<std::string> lines;  // one per change, in `after`'s order (removals first)
    bool empty() const { return lines.empty(); }
    // "1 service added, 2 real servers changed" / "no change".
    std::string summary() const;
};

// Compares two desired states by identity (IpvsService::same_service,
// IpvsDest::same_dest) and settings (same_settings).
ServiceChanges diff_services(const std::vector<IpvsService>& before, const std::vector<IpvsService>& after);

// "TCP 198.18.0.100:80", "FWM 5": how a change line names a service.
std::string describe(const IpvsService& s);

// Why the `dataplane` block of `next` cannot be applied to a running data
// plane built from `running` (ports, queues, addresses, VLANs, MTUs and the
// connection table are set up once at start), or nullopt when it can: only
// `route` entries (the routing table is part of the published snapshot) and
// what dataplane_live_changes() names may change. `next` without a
// dataplane block is a restart too.
std::optional<std::string> dataplane_restart_reason(const conf::Dataplane& running,
                                                    const std::optional<conf::Dataplane>& next);

// What of the `dataplane` block a reload applies to the running data plane
// besides routes: one change-report line per setting that differs
// ("stuck_worker_timeout 1000 -> 250 ms"); empty when none does.
std::vector<std::string> dataplane_live_changes(const conf::Dataplane& running, const conf::Dataplane& next);

// Why the `metrics` block of `next` cannot be applied (its listener is bound
// once at start, docs/metrics.md), or nullopt when it is unchanged. Both
// backends reject such a reload.
std::optional<std::string> metrics_restart_reason(const std::optional<conf::Metrics>& running,
                                                  const std::optional<conf::Metrics>& next);

}  // namespace kadp::ctl
