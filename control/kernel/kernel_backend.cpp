// Runs on: control thread.
#include "control/kernel/kernel_backend.h"

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "control/desired_services.h"
#include "control/kernel/ip_vs_conn.h"
#include "control/reconcile.h"

namespace kadp::ctl {
namespace {

bool same_address(const conf::IpAddress& a, const conf::IpAddress& b) {
    return a.address == b.address && a.dev == b.dev && a.broadcast == b.broadcast && a.scope == b.scope &&
           a.label == b.label;
}

// A route is what its line says: a changed line is another route.
bool same_route(const conf::Route& a, const conf::Route& b) { return a.text == b.text; }

}  // namespace

KernelBackend::KernelBackend(Log log) : log_(std::move(log)) {
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

KernelBackend::Result KernelBackend::apply(const conf::Config& config, const std::vector<IpvsService>& desired,
                                           const LvsGlobals& globals) {
    Result result;
    if (!ipvs_ && desired.empty() && !globals.flush_at_start && !globals.timeouts) {
        // VRRP and static addresses only: nothing for IPVS to do.
        if (!started_) log_("no IPVS in this kernel: running without virtual servers");
        started_ = true;
        globals_ = globals;
        apply_static(config, result);
        return result;
    }
    if (!started_ && globals.flush_at_start) {
        ipvs().flush();
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
            log_(e.what());
        }
    }
    started_ = true;
    globals_ = globals;
    apply_static(config, result);
    apply_ipvs(desired, result);
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
        if (const std::string e = rtnl_.delete_route(*it); !e.empty()) log_(e);
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
        if (const std::string e = rtnl_.delete_address(*it); !e.empty()) log_(e);
        else log_("removed static address " + it->text);
        it = addresses_.erase(it);
    }
    for (const conf::IpAddress& a : config.static_ipaddress) {
        if (std::any_of(addresses_.begin(), addresses_.end(), [&](const auto& o) { return same_address(a, o); })) {
            continue;
        }
        try {
            if (rtnl_.add_address(a) == Rtnl::Added::added) {
                addresses_.push_back(a);
                ++result.applied;
                log_("added static address " + a.text);
            }
        } catch (const std::runtime_error& e) {
            ++result.failed;
            log_(e.what());
        }
    }
    for (const conf::Route& r : config.static_routes) {
        if (std::any_of(routes_.begin(), routes_.end(), [&](const auto& o) { return same_route(r, o); })) continue;
        try {
            if (rtnl_.add_route(r) == Rtnl::Added::added) {
                routes_.push_back(r);
                ++result.applied;
                log_("added static route " + r.text);
            }
        } catch (const std::runtime_error& e) {
            ++result.failed;
            log_(e.what());
        }
    }
}

void KernelBackend::apply_ipvs(const std::vector<IpvsService>& desired, Result& result) {
    const std::vector<IpvsService> current = ipvs().services();
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
            log_(e.what());
            if (op.kind == IpvsOp::Kind::add_service) not_added.push_back(op.service);
        }
    }
    managed_ = desired;
}

std::vector<IpvsService> KernelBackend::list() { return ipvs_ ? ipvs_->services() : std::vector<IpvsService>{}; }

std::vector<IpvsConn> KernelBackend::conns() { return ipvs_ ? read_ip_vs_conn() : std::vector<IpvsConn>{}; }

void KernelBackend::stop() {
    if (!started_) return;
    started_ = false;
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
                    if (e.error() != ESRCH) log_(e.what());
                }
            }
        }
    } catch (const IpvsError& e) {
        log_(e.what());
    }
    managed_.clear();
    for (auto it = routes_.rbegin(); it != routes_.rend(); ++it) {
        if (const std::string e = rtnl_.delete_route(*it); !e.empty()) log_(e);
    }
    routes_.clear();
    for (auto it = addresses_.rbegin(); it != addresses_.rend(); ++it) {
        if (const std::string e = rtnl_.delete_address(*it); !e.empty()) log_(e);
    }
    addresses_.clear();
}

}  // namespace kadp::ctl
