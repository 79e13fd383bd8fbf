// Runs on: kadpctl. The text of `kadpctl checks`, `vrrp` and `stats`
// (docs/kadpctl.md has examples of each).
#include <ctime>

#include "control/kadpctl.h"

namespace kadp::ctl {
namespace {

std::string utc(std::int64_t unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    char buf[32] = "?";
    if (gmtime_r(&t, &tm) != nullptr) std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::string counts_text(const NamedCounts& c) {
    std::string out;
    for (const auto& [name, n] : c) out += (out.empty() ? "" : ", ") + name + " " + std::to_string(n);
    return out.empty() ? "none" : out;
}

// One counter a line, indented; zeros only with `all`.
std::string counter_lines(const NamedCounts& c, bool all) {
    std::string out;
    for (const auto& [name, n] : c)
        if (all || n != 0) out += "  " + name + " " + std::to_string(n) + "\n";
    return out.empty() ? "  none\n" : out;
}

}  // namespace

std::string render_port(const PortStatus& p) {
    return "port " + p.name + " (" + p.device + ") mac " + p.mac + ": rx " + std::to_string(p.rx_packets) +
           " packets " + std::to_string(p.rx_bytes) + " bytes, tx " + std::to_string(p.tx_packets) + " packets " +
           std::to_string(p.tx_bytes) + " bytes, dropped: rx missed " + std::to_string(p.rx_missed) +
           ", rx errors " + std::to_string(p.rx_errors) + ", rx no mbuf " + std::to_string(p.rx_nombuf) +
           ", tx errors " + std::to_string(p.tx_errors) + (p.link.empty() ? "" : ", link " + p.link) + "\n";
}

std::string render_checks(const ChecksReply& r) {
    if (r.checkers.empty()) return "no health checkers\n";
    std::string out;
    for (const CheckerStatus& c : r.checkers) {
        out += c.virtual_server + " -> " + c.real_server + " " + c.type;
        if (c.checked != c.real_server) out += " (checks " + c.checked + ")";
        out += ": " + c.state + ", " + (c.in_service ? "in service" : "out of service") + ", weight " +
               std::to_string(c.weight) + "; last ";
        if (c.last_result.empty()) {
            out += "none";
        } else {
            out += c.last_result;
            if (!c.reason.empty()) out += " (" + c.reason + ")";
            out += " in " + std::to_string(c.latency_ms) + " ms at " + utc(c.last_check);
        }
        out += "; ";
        if (c.last_transition != 0) out += (c.state == "up" ? "up since " : "down since ") + utc(c.last_transition);
        else out += "no transition";
        out += "; failures " + std::to_string(c.consecutive_failures) + ", retry " + std::to_string(c.retry) + "\n";
    }
    return out;
}

std::string render_vrrp(const VrrpReply& r) {
    std::string out;
    if (r.instances.empty()) out += "no vrrp instances\n";
    for (const VrrpInstanceDetail& i : r.instances) {
        out += "vrrp " + i.name + " on " + i.interface + ", VRID " + std::to_string(i.vrid) + ": " + i.state +
               ", priority " + std::to_string(i.priority) + " (base " + std::to_string(i.base_priority) + "), master " +
               (i.master.empty() ? std::string("unknown") : i.master + (i.master_is_self ? " (us)" : "")) + "\n";
        out += "  since " + (i.last_transition != 0 ? utc(i.last_transition) : std::string("start")) + ": " +
               (i.reason.empty() ? std::string("not started") : i.reason) + "\n";
        out += "  dropped adverts: " + counts_text(i.dropped) + "\n";
    }
    out += "vrrp dropped adverts in all: " + counts_text(r.dropped) + "\n";
    return out;
}

std::string render_stats(const StatsReply& s, bool all) {
    std::string out;
    if (s.backend == "kernel") {
        out += "backend kernel: no workers (Linux IPVS forwards)\n";
        if (s.ipvs) {
            const IpvsStats& t = *s.ipvs;
            out += "IPVS totals over every service: conns " + std::to_string(t.conns) + ", inpkts " +
                   std::to_string(t.in_packets) + ", outpkts " + std::to_string(t.out_packets) + ", inbytes " +
                   std::to_string(t.in_bytes) + ", outbytes " + std::to_string(t.out_bytes) + "\n";
            out += "IPVS rates over every service: cps " + std::to_string(t.cps) + ", inpps " + std::to_string(t.in_pps) +
                   ", outpps " + std::to_string(t.out_pps) + ", inbps " + std::to_string(t.in_bps) + ", outbps " +
                   std::to_string(t.out_bps) + "\n";
        }
        out += "connections " + std::to_string(s.conn_in_use) + " (IPVS connection table size " +
               std::to_string(s.conn_capacity) + ")\n";
        return out;
    }
    const char* which = all ? "" : ", non-zero";
    out += "backend " + s.backend + ": workers " + std::to_string(s.workers.size()) + "\n";
    for (const WorkerStats& w : s.workers) {
        out += "worker lcore " + std::to_string(w.lcore) + " counters" + which + ":\n" + counter_lines(w.counters, all);
    }
    out += std::string("counters (all workers") + which + "):\n" + counter_lines(s.totals, all);
    for (const PortStatus& p : s.ports) out += render_port(p);
    out += "connections " + std::to_string(s.conn_in_use) + " of " + std::to_string(s.conn_capacity) + "\n";
    for (const MempoolStatus& m : s.mempools) {
        out += "mempool " + m.name + ": size " + std::to_string(m.size) + ", in use " + std::to_string(m.in_use) +
               ", available " + std::to_string(m.available) + "\n";
    }
    return out;
}

}  // namespace kadp::ctl
