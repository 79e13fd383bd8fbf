// Runs on: control thread.
#include "control/reconcile.h"

#include <algorithm>

#include "control/desired_services.h"

namespace kadp::ctl {
namespace {

const IpvsService* find_service(const std::vector<IpvsService>& in, const IpvsService& s) {
    const auto it = std::find_if(in.begin(), in.end(), [&](const IpvsService& o) { return o.same_service(s); });
    return it == in.end() ? nullptr : &*it;
}

const IpvsDest* find_dest(const std::vector<IpvsDest>& in, const IpvsDest& d) {
    const auto it = std::find_if(in.begin(), in.end(), [&](const IpvsDest& o) { return o.same_dest(d); });
    return it == in.end() ? nullptr : &*it;
}

// The service without its real servers and counters: what an op carries.
IpvsService bare(const IpvsService& s) {
    IpvsService b = s;
    b.dests.clear();
    b.stats = {};
    return b;
}

IpvsDest settings_only(const IpvsDest& d) {
    IpvsDest b = d;
    b.active_conns = b.inactive_conns = b.persist_conns = 0;
    b.stats = {};
    return b;
}

void dest_ops(std::vector<IpvsOp>& ops, const IpvsService& want, const std::vector<IpvsDest>& have) {
    const IpvsService svc = bare(want);
    for (const IpvsDest& d : have) {
        if (find_dest(want.dests, d) == nullptr) ops.push_back({IpvsOp::Kind::delete_dest, svc, settings_only(d)});
    }
    for (const IpvsDest& d : want.dests) {
        const IpvsDest* h = find_dest(have, d);
        if (h != nullptr && !h->same_settings(d)) ops.push_back({IpvsOp::Kind::edit_dest, svc, settings_only(d)});
    }
    for (const IpvsDest& d : want.dests) {
        if (find_dest(have, d) == nullptr) ops.push_back({IpvsOp::Kind::add_dest, svc, settings_only(d)});
    }
}

}  // namespace

std::vector<IpvsOp> reconcile(const std::vector<IpvsService>& current, const std::vector<IpvsService>& managed,
                              const std::vector<IpvsService>& desired) {
    std::vector<IpvsOp> ops;
    for (const IpvsService& c : current) {
        if (find_service(managed, c) != nullptr && find_service(desired, c) == nullptr) {
            ops.push_back({IpvsOp::Kind::delete_service, bare(c), {}});
        }
    }
    for (const IpvsService& want : desired) {
        const IpvsService* have = find_service(current, want);
        if (have == nullptr) {
            ops.push_back({IpvsOp::Kind::add_service, bare(want), {}});
            dest_ops(ops, want, {});
            continue;
        }
        if (!have->same_settings(want)) ops.push_back({IpvsOp::Kind::edit_service, bare(want), {}});
        dest_ops(ops, want, have->dests);
    }
    return ops;
}

std::string describe(const IpvsOp& op) {
    const std::string svc = describe_service(op.service);
    const std::string rs = "real server " + describe_endpoint(op.dest.address, op.dest.port) + " of " + svc;
    switch (op.kind) {
    case IpvsOp::Kind::add_service: return "add service " + svc;
    case IpvsOp::Kind::edit_service: return "edit service " + svc;
    case IpvsOp::Kind::delete_service: return "delete service " + svc;
    case IpvsOp::Kind::add_dest: return "add " + rs;
    case IpvsOp::Kind::edit_dest: return "edit " + rs;
    case IpvsOp::Kind::delete_dest: return "delete " + rs;
    }
    return "?";
}

}  // namespace kadp::ctl
