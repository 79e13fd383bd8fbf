// Runs on: control thread. The kernel backend: makes Linux IPVS (generic
// netlink) and the kernel's addresses and routes (rtnetlink) match the
// desired state, the way keepalived 2.2.7's checker and VRRP processes do
// for static_ipaddress, static_routes and the virtual servers:
// * apply(): read IPVS back, reconcile() against what this kadp put there
//   before, run only the operations that differ (an unchanged service keeps
//   its connections and counters); a refused operation is logged with the
//   kernel's reason and the others still run (keepalived does the same);
// * stop(): remove the services kadp manages (or flush, per
//   lvs_flush_on_stop) and the static addresses and routes it added
//   (never those that were there before it);
// * with a record file (kernel_record.h), what it manages is written there
//   after each change and the file is removed at stop; one found at the
//   first apply() is a dead kadp's: its services and static entries are
//   this kadp's too (adopted when still configured, removed when not).
// VRRP's virtual_ipaddress / virtual_routes belong to the VRRP instances
// (they follow MASTER/BACKUP) and are not handled here.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conf/model.h"
#include "control/ipvs_model.h"
#include "control/kernel/ipvs_netlink.h"
#include "control/kernel/lvs_globals.h"
#include "control/kernel/rtnl.h"
#include "control/log_limiter.h"
#include "control/log_sink.h"

namespace kadp::ctl {

class KernelBackend {
public:
    using Log = LogSink;

    // Opens both netlink sockets. A kernel without IPVS is fine as long as
    // the configuration has no virtual server (VRRP and static addresses
    // only, as keepalived's VRRP alone): apply() throws IpvsMissing when it
    // needs IPVS. Throws IpvsError / std::runtime_error for other failures.
    // `record_path`: where to keep the record of what this kadp put into
    // the kernel; empty = none (a leftover of a crash is then foreign).
    explicit KernelBackend(Log log, std::string record_path = {});

    struct Result {
        std::size_t applied = 0;  // operations the kernel accepted
        std::size_t failed = 0;   // refused ones (each logged)
    };
    // `config` for its static addresses and routes, `desired` its services
    // (desired_services()), `globals` its lvs_* keywords. Throws IpvsError
    // only when IPVS cannot even be read.
    Result apply(const conf::Config& config, const std::vector<IpvsService>& desired, const LvsGlobals& globals);

    // What the kernel has now, with counters (every service, also those kadp
    // does not manage: it is what ipvsadm -Ln would show).
    std::vector<IpvsService> list();
    std::vector<IpvsConn> conns();
    // IPVS's version and connection table size (ipvsadm's header line).
    IpvsInfo info() { return ipvs_ ? ipvs_->info() : IpvsInfo{}; }
    // False when the kernel has no IPVS.
    bool has_ipvs() const { return ipvs_ != nullptr; }

    // Removes what kadp added; safe to call twice. Called after a first
    // apply() that did not finish taking over a dead kadp's record, it
    // leaves everything (and the record) as it is.
    void stop();

private:
    void apply_static(const conf::Config& config, Result& result);
    void apply_ipvs(const std::vector<IpvsService>& desired, bool first, Result& result);
    // At start: which services already in IPVS are adopted, which left alone.
    void log_first_look(const std::vector<IpvsService>& current, const std::vector<IpvsService>& desired);
    // First apply(): takes over what a dead kadp's record lists.
    void adopt_record();
    // Writes the record when it changed. `services`: what to list (a
    // superset of what is ours while operations are under way).
    void save_record(const std::vector<IpvsService>& services);

    IpvsNetlink& ipvs();  // throws IpvsMissing without IPVS

    Log log_;
    // The kernel refusing the same operation at every apply (it is retried):
    // a few lines a minute per operation.
    LogLimiter limited_{log_};
    std::unique_ptr<IpvsNetlink> ipvs_;  // null: the kernel has no IPVS
    std::string missing_;                // why, for the error when IPVS is needed
    Rtnl rtnl_;
    bool started_ = false;
    bool adopting_ = false;  // during the first apply() after a record was found
    LvsGlobals globals_;
    // The services that are ours: the desired state last applied, less the
    // ones the kernel refused to add, plus the ones it refused to delete.
    std::vector<IpvsService> managed_;
    std::string record_path_;
    std::string record_text_;  // what the record file holds now
    bool record_failed_ = false;  // a write failed (logged once)
    // Static entries kadp added (removed at stop); those already present
    // are left as they were found.
    std::vector<conf::IpAddress> addresses_;
    std::vector<conf::Route> routes_;
};

}  // namespace kadp::ctl
