// Runs on: control thread.
#include "control/reload_diff.h"

namespace kadp::ctl {
namespace {

const char* proto_name(conf::Protocol p) {
    switch (p) {
    case conf::Protocol::tcp: return "TCP";
    case conf::Protocol::udp: return "UDP";
    case conf::Protocol::sctp: return "SCTP";
    }
    return "?";
}

std::string addrport(const conf::IpAddr& a, std::uint16_t port) {
    return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(port);
}

std::string plural(unsigned n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string settings_change(const IpvsService& a, const IpvsService& b) {
    std::string out;
    auto add = [&out](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
    if (a.scheduler != b.scheduler) add("scheduler " + a.scheduler + " -> " + b.scheduler);
    if (a.persistence_timeout != b.persistence_timeout)
        add("persistence " + std::to_string(a.persistence_timeout) + " -> " + std::to_string(b.persistence_timeout));
    if (a.persistence_netmask_v4 != b.persistence_netmask_v4 || a.persistence_prefix_v6 != b.persistence_prefix_v6)
        add("persistence netmask");
    if (a.persistence_engine != b.persistence_engine) add("persistence engine");
    if (a.scheduler_flags != b.scheduler_flags) add("scheduler flags");
    if (a.one_packet != b.one_packet) add(b.one_packet ? "ops on" : "ops off");
    return out;
}

std::string dest_change(const IpvsDest& a, const IpvsDest& b) {
    std::string out;
    auto add = [&out](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
    if (a.weight != b.weight) add("weight " + std::to_string(a.weight) + " -> " + std::to_string(b.weight));
    if (a.forward != b.forward) add(std::string("forwarding ") + conf::to_string(a.forward) + " -> " + conf::to_string(b.forward));
    if (a.upper_threshold != b.upper_threshold || a.lower_threshold != b.lower_threshold) add("thresholds");
    return out;
}

}  // namespace

std::string describe(const IpvsService& s) {
    if (s.fwmark != 0) return "FWM " + std::to_string(s.fwmark) + (s.family == conf::IpAddr::Family::v6 ? " IPv6" : "");
    return std::string(proto_name(s.protocol)) + " " + addrport(s.address, s.port);
}

std::string ServiceChanges::summary() const {
    std::vector<std::string> parts;
    auto part = [&parts](unsigned n, const char* word, const char* verb) {
        if (n != 0) parts.push_back(plural(n, word) + " " + verb);
    };
    part(services_added, "service", "added");
    part(services_removed, "service", "removed");
    part(services_changed, "service", "changed");
    part(dests_added, "real server", "added");
    part(dests_removed, "real server", "removed");
    part(dests_changed, "real server", "changed");
    if (parts.empty()) return "no change";
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
    return out;
}

ServiceChanges diff_services(const std::vector<IpvsService>& before, const std::vector<IpvsService>& after) {
    ServiceChanges c;
    auto find = [](const std::vector<IpvsService>& in, const IpvsService& s) -> const IpvsService* {
        for (const auto& x : in)
            if (x.same_service(s)) return &x;
        return nullptr;
    };
    for (const auto& old : before) {
        if (find(after, old) == nullptr) {
            ++c.services_removed;
            c.lines.push_back("service " + describe(old) + " removed (" + plural(static_cast<unsigned>(old.dests.size()), "real server") + ")");
        }
    }
    for (const auto& now : after) {
        const IpvsService* old = find(before, now);
        if (old == nullptr) {
            ++c.services_added;
            c.lines.push_back("service " + describe(now) + " added (" + now.scheduler + ", " +
                              plural(static_cast<unsigned>(now.dests.size()), "real server") + ")");
            continue;
        }
        if (!old->same_settings(now)) {
            ++c.services_changed;
            c.lines.push_back("service " + describe(now) + " changed: " + settings_change(*old, now));
        }
        for (const auto& od : old->dests) {
            bool kept = false;
            for (const auto& nd : now.dests) kept = kept || nd.same_dest(od);
            if (!kept) {
                ++c.dests_removed;
                c.lines.push_back("real server " + addrport(od.address, od.port) + " of " + describe(now) + " removed");
            }
        }
        for (const auto& nd : now.dests) {
            const IpvsDest* match = nullptr;
            for (const auto& od : old->dests)
                if (od.same_dest(nd)) match = &od;
            if (match == nullptr) {
                ++c.dests_added;
                c.lines.push_back("real server " + addrport(nd.address, nd.port) + " of " + describe(now) +
                                  " added (weight " + std::to_string(nd.weight) + ")");
            } else if (!match->same_settings(nd)) {
                ++c.dests_changed;
                c.lines.push_back("real server " + addrport(nd.address, nd.port) + " of " + describe(now) + ": " +
                                  dest_change(*match, nd));
            }
        }
    }
    return c;
}

std::vector<std::string> dataplane_live_changes(const conf::Dataplane& running, const conf::Dataplane& next) {
    std::vector<std::string> out;
    if (running.stuck_worker_timeout_ms != next.stuck_worker_timeout_ms) {
        out.push_back("stuck_worker_timeout " + std::to_string(running.stuck_worker_timeout_ms) + " -> " +
                      std::to_string(next.stuck_worker_timeout_ms) + " ms");
    }
    return out;
}

std::optional<std::string> dataplane_restart_reason(const conf::Dataplane& running,
                                                    const std::optional<conf::Dataplane>& next) {
    const std::string tail = " needs a restart of kadp (the running data plane keeps its ports)";
    if (!next) return "the dataplane block was removed: that" + tail;
    if (running.conn_table_size != next->conn_table_size) {
        return "conn_table_size " + std::to_string(running.conn_table_size) + " -> " +
               std::to_string(next->conn_table_size) + tail;
    }
    if (running.conn_defense_high_pct != next->conn_defense_high_pct ||
        running.conn_defense_full_pct != next->conn_defense_full_pct) {
        return "conn_defense" + tail;
    }
    if (running.interfaces.size() != next->interfaces.size()) {
        return "the dataplane block has " + std::to_string(next->interfaces.size()) + " interfaces instead of " +
               std::to_string(running.interfaces.size()) + ": that" + tail;
    }
    for (std::size_t i = 0; i < running.interfaces.size(); ++i) {
        const auto& a = running.interfaces[i];
        const auto& b = next->interfaces[i];
        const std::string where = b.loc.file + ":" + std::to_string(b.loc.line) + ": interface " + b.name + ": ";
        if (a.name != b.name) return where + "renamed from " + a.name + tail;
        if (a.device != b.device) return where + "device \"" + a.device + "\" -> \"" + b.device + "\"" + tail;
        if (a.mtu != b.mtu) return where + "mtu " + std::to_string(a.mtu) + " -> " + std::to_string(b.mtu) + tail;
        if (a.vlan != b.vlan) return where + "vlan changed:" + tail;
        if (a.rx_queues != b.rx_queues || a.tx_queues != b.tx_queues) return where + "queue counts changed:" + tail;
        if (a.address != b.address) return where + "addresses changed:" + tail;
        if (a.exception_interface != b.exception_interface) return where + "exception_interface changed:" + tail;
    }
    return std::nullopt;
}

std::optional<std::string> metrics_restart_reason(const std::optional<conf::Metrics>& running,
                                                  const std::optional<conf::Metrics>& next) {
    auto text = [](const std::optional<conf::Metrics>& m) {
        return m ? "listen " + m->address.to_string() + " " + std::to_string(m->port) : std::string("off");
    };
    const bool same = running.has_value() == next.has_value() &&
                      (!running || (running->address == next->address && running->port == next->port));
    if (same) return std::nullopt;
    return "metrics " + text(running) + " -> " + text(next) +
           " needs a restart of kadp (the running metrics listener stays)";
}

}  // namespace kadp::ctl
