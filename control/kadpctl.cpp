// Runs on: kadpctl.
#include "control/kadpctl.h"

#include <charconv>
#include <ctime>

namespace kadp::ctl {
namespace {

std::string when(std::int64_t unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    char buf[32] = "?";
    if (gmtime_r(&t, &tm) != nullptr) std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

}  // namespace

CtlArgs parse_kadpctl_args(const std::vector<std::string>& args) {
    CtlOptions o;
    std::optional<std::string> command;
    bool stats = false, rate = false, exact = false, limit_set = false, all = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string& dst) {
            if (i + 1 >= args.size()) return false;
            dst = args[++i];
            return true;
        };
        if (a == "-s" || a == "--socket") {
            if (!value(o.socket) || o.socket.empty()) return {std::nullopt, a + " needs a socket path"};
        } else if (a.rfind("--socket=", 0) == 0) {
            o.socket = a.substr(9);
        } else if (a == "--json" || a == "-j") {
            o.json = true;
        } else if (a == "--stats") {
            stats = true;
        } else if (a == "--rate") {
            rate = true;
        } else if (a == "--exact") {
            exact = true;
        } else if (a == "--all") {
            all = true;
        } else if (a == "--limit") {
            std::string n;
            if (!value(n)) return {std::nullopt, "--limit needs a number"};
            std::size_t v = 0;
            const auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
            if (ec != std::errc{} || p != n.data() + n.size() || v == 0) {
                return {std::nullopt, "--limit '" + n + "': expected a positive number"};
            }
            o.request.limit = v;
            limit_set = true;
        } else if (a == "-h" || a == "--help") {
            o.help = true;
        } else if (a == "-V" || a == "--version") {
            o.version = true;
        } else if (!a.empty() && a[0] == '-') {
            return {std::nullopt, "unknown option '" + a + "'"};
        } else if (command) {
            return {std::nullopt, "unexpected argument '" + a + "' after the command " + *command};
        } else {
            command = a;
        }
    }
    if (o.help || o.version) return {o, {}};
    if (!command) return {std::nullopt, "no command (list, conns, status, reload, checks, vrrp or stats)"};
    if (*command == "list") {
        o.request.command = Request::Command::list;
    } else if (*command == "conns") {
        o.request.command = Request::Command::conns;
    } else if (*command == "status") {
        o.request.command = Request::Command::status;
    } else if (*command == "reload") {
        o.request.command = Request::Command::reload;
    } else if (*command == "checks") {
        o.request.command = Request::Command::checks;
    } else if (*command == "vrrp") {
        o.request.command = Request::Command::vrrp;
    } else if (*command == "stats") {
        o.request.command = Request::Command::stats;
    } else {
        return {std::nullopt, "unknown command '" + *command + "' (list, conns, status, reload, checks, vrrp or stats)"};
    }
    const bool is_list = o.request.command == Request::Command::list;
    if ((stats || rate || exact) && !is_list) return {std::nullopt, "--stats, --rate and --exact go with list"};
    if (stats && rate) return {std::nullopt, "--stats and --rate exclude each other"};
    if (limit_set && o.request.command != Request::Command::conns) return {std::nullopt, "--limit goes with conns"};
    if (all && o.request.command != Request::Command::stats) return {std::nullopt, "--all goes with stats"};
    o.all = all;
    o.list.kind = stats ? ListKind::stats : rate ? ListKind::rate : ListKind::plain;
    o.list.exact = exact;
    return {o, {}};
}

std::string kadpctl_usage() {
    return "Usage: kadpctl [-s SOCKET] [--json] COMMAND [OPTIONS]\n"
           "\n"
           "Asks a running kadp over its control socket.\n"
           "\n"
           "Commands:\n"
           "  list [--stats|--rate] [--exact]  services and real servers, as ipvsadm -Ln [--stats|--rate]\n"
           "  conns [--limit N]                connections, as ipvsadm -Lnc (default at most 100000)\n"
           "  status                           backend, workers, ports, counters (dpdk), VRRP, last reload\n"
           "  reload                           reload the configuration file (like SIGHUP)\n"
           "  checks                           each health checker: state, last result, latency\n"
           "  vrrp                             each VRRP instance: state, priorities, master, why\n"
           "  stats [--all]                    data plane counters per worker, ports, mempools\n"
           "                                   (--all: zero counters too; kernel: IPVS totals)\n"
           "\n"
           "Options:\n"
           "  -s, --socket PATH   the daemon's socket (default /run/kadp/kadp.sock)\n"
           "  -j, --json          print the daemon's JSON reply instead of text\n"
           "  -h, --help          this help;  -V, --version  kadpctl's version\n"
           "\n"
           "Exit status: 0 done, 1 the daemon refused (reload rejected, request error),\n"
           "2 bad command line, 3 no daemon on the socket or no valid reply.\n";
}

std::string render_reload(const ReloadReply& r) {
    std::string out = std::string("reload ") + (r.accepted ? "accepted" : "rejected") + ": " + r.message + "\n";
    for (const auto& c : r.changes) out += "  " + c + "\n";
    for (const auto& d : r.diagnostics) out += "  " + conf::Diagnostics::format(d) + "\n";
    return out;
}

std::string render_status(const StatusReply& s) {
    std::string out;
    out += "backend " + s.backend + ", kadp " + s.version + ", pid " + std::to_string(s.pid) + ", up " +
           std::to_string(s.uptime_seconds) + " s\n";
    out += "config " + s.config_file + ", generation " + std::to_string(s.generation) + "\n";
    if (s.backend == "kernel") {
        // Linux IPVS: no workers, ports or worker counters; its connection
        // table is a hash of that many buckets, not a capacity.
        out += "services " + std::to_string(s.services) + ", real servers " + std::to_string(s.real_servers) +
               ", connections " + std::to_string(s.conn_in_use) + " (IPVS connection table size " +
               std::to_string(s.conn_capacity) + ")\n";
    } else {
        std::string lcores;
        for (unsigned l : s.worker_lcores) lcores += (lcores.empty() ? "" : ",") + std::to_string(l);
        out += "workers " + std::to_string(s.worker_lcores.size()) + (lcores.empty() ? "" : " (lcores " + lcores + ")") + "\n";
        out += "services " + std::to_string(s.services) + ", real servers " + std::to_string(s.real_servers) +
               ", connections " + std::to_string(s.conn_in_use) + " of " + std::to_string(s.conn_capacity) + "\n";
        for (const auto& p : s.ports) out += render_port(p);
        for (const auto& m : s.mempools) {
            out += "mempool " + m.name + ": size " + std::to_string(m.size) + ", in use " + std::to_string(m.in_use) +
                   ", available " + std::to_string(m.available) + "\n";
        }
        std::string counters;
        for (const auto& [name, value] : s.counters)
            if (value != 0) counters += "  " + name + " " + std::to_string(value) + "\n";
        out += "counters (all workers, non-zero):\n" + (counters.empty() ? std::string("  none\n") : counters);
    }
    for (const auto& i : s.vrrp) {
        std::string dropped;
        for (const auto& [reason, n] : i.dropped) dropped += (dropped.empty() ? "" : ", ") + reason + " " + std::to_string(n);
        out += "vrrp " + i.name + " on " + i.interface + ", VRID " + std::to_string(i.vrid) + ": " + i.state +
               ", priority " + std::to_string(i.priority) + ", dropped adverts: " +
               (dropped.empty() ? std::string("none") : dropped) + "\n";
    }
    if (!s.vrrp.empty() || !s.vrrp_dropped.empty()) {
        std::string dropped;
        for (const auto& [reason, n] : s.vrrp_dropped) dropped += (dropped.empty() ? "" : ", ") + reason + " " + std::to_string(n);
        out += "vrrp dropped adverts in all: " + (dropped.empty() ? std::string("none") : dropped) + "\n";
    }
    for (const auto& d : s.degraded) out += "degraded: " + d + "\n";
    // The count beside the degraded lines that name them (DPDK; kernel: none).
    if (s.workers_stuck != 0) out += "workers stuck " + std::to_string(s.workers_stuck) + "\n";
    if (s.exception_taps_lost != 0) out += "exception TAPs lost " + std::to_string(s.exception_taps_lost) + "\n";
    if (s.reloads_accepted + s.reloads_rejected != 0) {
        out += "reloads " + std::to_string(s.reloads_accepted) + " accepted, " + std::to_string(s.reloads_rejected) +
               " rejected\n";
    }
    if (s.last_reload) {
        out += "last reload " + when(s.last_reload->time) + " (" + s.last_reload->trigger + "): " +
               render_reload(*s.last_reload).substr(7);
    } else {
        out += "last reload: none\n";
    }
    return out;
}

int render_reply(const CtlOptions& o, const std::string& reply_json, std::string& out, std::string& err) {
    std::string error;
    const auto reply = parse_reply(reply_json, error);
    if (!reply) {
        err += "kadpctl: " + error + "\n";
        return kCtlUnreachable;
    }
    if (o.json) {
        out += reply_json;
        if (out.empty() || out.back() != '\n') out += '\n';
    }
    if (!reply->ok) {
        err += "kadpctl: " + reply->error + "\n";
        return kCtlFailed;
    }
    const JsonValue& result = reply->result;
    switch (o.request.command) {
    case Request::Command::list: {
        auto r = list_from_json(result, error);
        if (!r) break;
        if (!o.json) out += render_list(*r, o.list);
        return kCtlOk;
    }
    case Request::Command::conns: {
        auto r = conns_from_json(result, error);
        if (!r) break;
        if (!o.json) {
            out += render_conns(*r);
            if (r->truncated) {
                err += "kadpctl: " + std::to_string(r->conns.size()) + " of " + std::to_string(r->total) +
                       " connections shown (--limit)\n";
            }
        }
        return kCtlOk;
    }
    case Request::Command::status: {
        auto r = status_from_json(result, error);
        if (!r) break;
        if (!o.json) out += render_status(*r);
        return kCtlOk;
    }
    case Request::Command::checks: {
        auto r = checks_from_json(result, error);
        if (!r) break;
        if (!o.json) out += render_checks(*r);
        return kCtlOk;
    }
    case Request::Command::vrrp: {
        auto r = vrrp_from_json(result, error);
        if (!r) break;
        if (!o.json) out += render_vrrp(*r);
        return kCtlOk;
    }
    case Request::Command::stats: {
        auto r = stats_from_json(result, error);
        if (!r) break;
        if (!o.json) out += render_stats(*r, o.all);
        return kCtlOk;
    }
    case Request::Command::reload: {
        auto r = reload_from_json(result, error);
        if (!r) break;
        if (!o.json) (r->accepted ? out : err) += render_reload(*r);
        return r->accepted ? kCtlOk : kCtlFailed;
    }
    }
    err += "kadpctl: unexpected reply: " + error + "\n";
    return kCtlUnreachable;
}

}  // namespace kadp::ctl
