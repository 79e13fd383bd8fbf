// Runs on: control thread.
#include "control/kernel/kernel_backend.h"

#include <algorithm>
#include <cerrno>
#include <optional>
#include <stdexcept>

#include "control/desired_services.h"
#include "control/kernel/ip_vs_conn.h"
#include "control/kernel/kernel_record.h"
#include "control/reconcile.h"

namespace kadp::ctl {
namespace {

bool same_address(const conf::IpAddress& a, const conf::IpAddress& b) {
    return a.address == b.address && a.dev == b.dev && a.broadcast == b.broadcast && a.scope == b.scope &&
           a.label == b.label;
}

// A route is what its line says: a changed line is another route.
bool same_route(const conf::Route& a, const conf::Route& b) { return a.text == b.text; }

const IpvsService* find_service(const std::vector<IpvsService>& in, const IpvsService& s) {
    const auto it = std::find_if(in.begin(), in.end(), [&](const IpvsService& o) { return o.same_service(s); });
    return it == in.end() ? nullptr : &*it;
}

std::string plural(std::size_t n, const std::string& one, const std::string& many = {}) {
    return std::to_string(n) + " " + (n == 1 ? one : many.empty() ? one + "s" : many);
}

}  // namespace

KernelBackend::KernelBackend(Log log, std::string record_path)
    : log_(std::move(log)), record_path_(std::move(record_path)) {
    try {
        ipvs_ = std::make_unique<IpvsNetlink>();
    } catch (const IpvsMissing& e) {
        missing_ = e.what();
    }
}

IpvsNetlink& KernelBackend::ipvs() {
    if (!ipvs_) throw IpvsMissing(missing_, ENOENT);
    return *ipvs_;
}

void KernelBackend::adopt_record() {
    if (record_path_.empty()) return;
    std::vector<std::string> problems;
    const std::optional<KernelRecord> record = read_record(record_path_, problems);
    for (const std::string& p : problems) log_.warning(p + " (line ignored)");
    if (!record || record->empty()) return;
    log_.warning("found " + record_path_ + ": the previous kadp did not stop cleanly; taking over what it left (" +
         plural(record->services.size(), "IPVS service") + ", " +
         plural(record->addresses.size(), "static address", "static addresses") + ", " +
         plural(record->routes.size(), "static route") + "): kept where the configuration has them, removed where not");
    managed_ = record->services;
    addresses_ = record->addresses;
    routes_ = record->routes;
    adopting_ = true;
}

void KernelBackend::save_record(const std::vector<IpvsService>& services) {
    if (record_path_.empty()) return;
    KernelRecord record;
    for (const IpvsService& s : services) {
        IpvsService id;
        id.protocol = s.protocol;
        id.address = s.address;
        id.port = s.port;
        id.fwmark = s.fwmark;
        id.family = s.family;
        record.services.push_back(id);
    }
    record.addresses = addresses_;
    record.routes = routes_;
    std::string text = format_record(record);
    if (text == record_text_) return;
    if (const std::string e = write_record(record_path_, record); !e.empty()) {
        if (!record_failed_) log_.error(e + "; after a crash the next kadp cannot tell what this one added");
        record_failed_ = true;
        return;
    }
    record_failed_ = false;
    record_text_ = std::move(text);
}

KernelBackend::Result KernelBackend::apply(const conf::Config& config, const std::vector<IpvsService>& desired,
                                           const LvsGlobals& globals) {
    Result result;
    const bool first = !started_;
    if (first) adopt_record();
    if (!ipvs_ && desired.empty() && !globals.flush_at_start && !globals.timeouts) {
        // VRRP and static addresses only: nothing for IPVS to do.
        if (first) log_.warning("no IPVS in this kernel: running without virtual servers");
        started_ = true;
        globals_ = globals;
        managed_.clear();
        apply_static(config, result);
        adopting_ = false;
        save_record(managed_);
        return result;
    }
    if (first && globals.flush_at_start) {
        ipvs().flush();
        managed_.clear();
        log_("lvs_flush: IPVS flushed");
    }
    if (globals.timeouts) {
        try {
            const IpvsTimeouts now = ipvs().timeouts();
            const IpvsTimeouts& t = *globals.timeouts;
            if ((t.tcp != 0 && t.tcp != now.tcp) || (t.tcp_fin != 0 && t.tcp_fin != now.tcp_fin) ||
                (t.udp != 0 && t.udp != now.udp)) {
                ipvs().set_timeouts(t);
                ++result.applied;
                log_("lvs_timeouts: tcp " + std::to_string(t.tcp ? t.tcp : now.tcp) + " tcpfin " +
                     std::to_string(t.tcp_fin ? t.tcp_fin : now.tcp_fin) + " udp " +
                     std::to_string(t.udp ? t.udp : now.udp));
            }
        } catch (const IpvsError& e) {
            ++result.failed;
            limited_.warning("lvs_timeouts refused", e.what());
        }
    }
    started_ = true;
    globals_ = globals;
    apply_static(config, result);
    apply_ipvs(desired, first, result);
    adopting_ = false;
    return result;
}

void KernelBackend::apply_static(const conf::Config& config, Result& result) {
    // Routes first out, addresses last out (a route may use the address).
    for (auto it = routes_.begin(); it != routes_.end();) {
        const bool wanted = std::any_of(config.static_routes.begin(), config.static_routes.end(),
                                        [&](const conf::Route& r) { return same_route(r, *it); });
        if (wanted) {
            ++it;
            continue;
        }
        if (const std::string e = rtnl_.delete_route(*it); !e.empty()) limited_.warning("route not removed: " + it->text, e);
        else log_("removed static route " + it->text);
        it = routes_.erase(it);
    }
    for (auto it = addresses_.begin(); it != addresses_.end();) {
        const bool wanted = std::any_of(config.static_ipaddress.begin(), config.static_ipaddress.end(),
                                        [&](const conf::IpAddress& a) { return same_address(a, *it); });
        if (wanted) {
            ++it;
            continue;
        }
        if (const std::string e = rtnl_.delete_address(*it); !e.empty()) limited_.warning("address not removed: " + it->text, e);
        else log_("removed static address " + it->text);
        it = addresses_.erase(it);
    }
    // Entries taken over from a dead kadp's record are added again like the
    // others: one someone removed since comes back, one still there is kept.
    for (const conf::IpAddress& a : config.static_ipaddress) {
        const auto ours =
            std::find_if(addresses_.begin(), addresses_.end(), [&](const auto& o) { return same_address(a, o); });
        if (ours != addresses_.end() && !adopting_) continue;
        try {
            const Rtnl::Added r = rtnl_.add_address(a);
            if (ours != addresses_.end()) *ours = a;  // the configuration's line, for messages
            if (r == Rtnl::Added::added) {
                if (ours == addresses_.end()) addresses_.push_back(a);
                ++result.applied;
                log_("added static address " + a.text);
            } else if (ours != addresses_.end()) {
                log_("adopted static address " + a.text + " (left by the previous kadp)");
            }
        } catch (const std::runtime_error& e) {
            ++result.failed;
            limited_.warning("address not added: " + a.text, e.what());
        }
    }
    for (const conf::Route& r : config.static_routes) {
        const auto ours = std::find_if(routes_.begin(), routes_.end(), [&](const auto& o) { return same_route(r, o); });
        if (ours != routes_.end() && !adopting_) continue;
        try {
            const Rtnl::Added added = rtnl_.add_route(r);
            if (ours != routes_.end()) *ours = r;
            if (added == Rtnl::Added::added) {
                if (ours == routes_.end()) routes_.push_back(r);
                ++result.applied;
                log_("added static route " + r.text);
            } else if (ours != routes_.end()) {
                log_("adopted static route " + r.text + " (left by the previous kadp)");
            }
        } catch (const std::runtime_error& e) {
            ++result.failed;
            limited_.warning("route not added: " + r.text, e.what());
        }
    }
}

void KernelBackend::log_first_look(const std::vector<IpvsService>& current, const std::vector<IpvsService>& desired) {
    for (const IpvsService& c : current) {
        const bool wanted = find_service(desired, c) != nullptr;
        const bool ours = find_service(managed_, c) != nullptr;
        if (wanted) {
            log_("service " + describe_service(c) + " is already in IPVS: adopted (its connections and counters stay)");
        } else if (!ours) {
            log_("service " + describe_service(c) +
                 " in IPVS is not kadp's: left as it is (lvs_flush would remove it at start)");
        }
    }
}

void KernelBackend::apply_ipvs(const std::vector<IpvsService>& desired, bool first, Result& result) {
    const std::vector<IpvsService> current = ipvs().services();
    if (first) log_first_look(current, desired);
    // While the operations run, the record lists every service that may be
    // ours by the end: a kadp killed half-way leaves none unaccounted for.
    std::vector<IpvsService> owned = managed_;
    for (const IpvsService& s : desired) {
        if (find_service(owned, s) == nullptr) owned.push_back(s);
    }
    save_record(owned);
    owned = desired;
    std::vector<IpvsService> not_added;  // its real servers cannot be added either: one message is enough
    for (const IpvsOp& op : reconcile(current, managed_, desired)) {
        if (op.kind == IpvsOp::Kind::add_dest &&
            std::any_of(not_added.begin(), not_added.end(), [&](const auto& s) { return s.same_service(op.service); })) {
            continue;
        }
        try {
            ipvs().apply(op);
            ++result.applied;
            log_(describe(op));
        } catch (const IpvsError& e) {
            // Already gone is what a delete wanted.
            if (e.error() == ESRCH && (op.kind == IpvsOp::Kind::delete_service ||
                                       op.kind == IpvsOp::Kind::delete_dest)) {
                continue;
            }
            ++result.failed;
            limited_.warning("IPVS refused: " + describe(op), e.what());
            // What the kernel refused is tried again at the next apply: a
            // service it would not add is not ours (nothing to remove at
            // stop), one it would not delete still is.
            if (op.kind == IpvsOp::Kind::add_service) {
                not_added.push_back(op.service);
                std::erase_if(owned, [&](const IpvsService& s) { return s.same_service(op.service); });
            }
            if (op.kind == IpvsOp::Kind::delete_service) owned.push_back(op.service);
        }
    }
    managed_ = std::move(owned);
    save_record(managed_);
}

std::vector<IpvsService> KernelBackend::list() { return ipvs_ ? ipvs_->services() : std::vector<IpvsService>{}; }

std::vector<IpvsConn> KernelBackend::conns() { return ipvs_ ? read_ip_vs_conn() : std::vector<IpvsConn>{}; }

void KernelBackend::stop() {
    if (!started_) return;
    started_ = false;
    if (adopting_) {
        // The first apply() stopped half-way (IPVS could not be read): what
        // the dead kadp left stays as found, and so does its record (with
        // anything this one added), for the next start to take over.
        adopting_ = false;
        save_record(managed_);
        log_.warning("stopping before taking over what the previous kadp left: it stays, listed in " + record_path_);
        return;
    }
    try {
        if (!ipvs_) {
            // nothing of ours in IPVS
        } else if (globals_.on_stop == LvsGlobals::OnStop::flush_all) {
            ipvs_->flush();
            log_("lvs_flush_on_stop: IPVS flushed");
        } else {
            // Deleting a service drops its real servers with it.
            for (const IpvsService& s : managed_) {
                IpvsOp op;
                op.kind = IpvsOp::Kind::delete_service;
                op.service = s;
                op.service.dests.clear();
                try {
                    ipvs_->apply(op);
                    log_(describe(op));
                } catch (const IpvsError& e) {
                    if (e.error() != ESRCH) log_.warning(e.what());
                }
            }
        }
    } catch (const IpvsError& e) {
        log_.warning(e.what());
    }
    managed_.clear();
    for (auto it = routes_.rbegin(); it != routes_.rend(); ++it) {
        if (const std::string e = rtnl_.delete_route(*it); !e.empty()) log_.warning(e);
    }
    routes_.clear();
    for (auto it = addresses_.rbegin(); it != addresses_.rend(); ++it) {
        if (const std::string e = rtnl_.delete_address(*it); !e.empty()) log_.warning(e);
    }
    addresses_.clear();
    if (!record_path_.empty()) remove_record(record_path_);
    record_text_.clear();
}

}  // namespace kadp::ctl
