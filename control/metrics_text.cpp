// Runs on: control thread. See metrics_text.h; the names are documented in
// docs/metrics.md (keep the two in step).
#include "control/metrics_text.h"

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace kadp::ctl {
namespace {

using Labels = std::vector<std::pair<std::string_view, std::string>>;

std::string escape_help(std::string_view v)
{
    std::string out;
    out.reserve(v.size());
    for (const char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

// One metric family: HELP and TYPE once, then its samples. Written only when
// it has a sample.
class Family {
public:
    Family(std::string& out, std::string_view name, std::string_view type, std::string_view help)
        : out_(out), name_(name), type_(type), help_(help) {}

    void sample(const Labels& labels, std::uint64_t value) { sample(labels, std::to_string(value)); }
    void sample(const Labels& labels, const std::string& value)
    {
        if (!started_) {
            out_ += "# HELP ";
            out_ += name_;
            out_ += ' ';
            out_ += escape_help(help_);
            out_ += "\n# TYPE ";
            out_ += name_;
            out_ += ' ';
            out_ += type_;
            out_ += '\n';
            started_ = true;
        }
        out_ += name_;
        if (!labels.empty()) {
            out_ += '{';
            bool first = true;
            for (const auto& [k, v] : labels) {
                if (!first) out_ += ',';
                first = false;
                out_ += k;
                out_ += "=\"";
                out_ += escape_label_value(v);
                out_ += '"';
            }
            out_ += '}';
        }
        out_ += ' ';
        out_ += value;
        out_ += '\n';
    }

private:
    std::string& out_;
    std::string_view name_, type_, help_;
    bool started_ = false;
};

// A service's identity labels. A firewall-mark service has no address or
// port: protocol "fwmark", vip the mark in decimal, port "0".
Labels service_labels(const IpvsService& s)
{
    if (s.fwmark != 0) return {{"vip", std::to_string(s.fwmark)}, {"port", "0"}, {"protocol", "fwmark"}};
    return {{"vip", s.address.to_string()}, {"port", std::to_string(s.port)}, {"protocol", ipvs_protocol_name(s.protocol)}};
}

Labels dest_labels(const IpvsService& s, const IpvsDest& d)
{
    Labels l = service_labels(s);
    l.emplace_back("real_server", d.address.to_string());
    l.emplace_back("real_port", std::to_string(d.port));
    return l;
}

Labels with(Labels l, std::string_view key, std::string value)
{
    l.emplace_back(key, std::move(value));
    return l;
}

constexpr std::array<const char*, 5> kVrrpStates = {"INIT", "BACKUP", "MASTER", "FAULT", "STOP"};

// The counter of counters.h that is a gauge (a level, not a count).
constexpr std::string_view kDefenseLevel = "conn_defense_level";

void render_daemon(std::string& out, const StatusReply& st)
{
    Family(out, "kadp_info", "gauge", "Always 1; the backend and kadp's version as labels.")
        .sample({{"backend", st.backend}, {"version", st.version}}, 1);
    Family(out, "kadp_uptime_seconds", "gauge", "Seconds since kadp started.").sample({}, st.uptime_seconds);
    Family(out, "kadp_config_generation", "gauge", "Generation of the running configuration: +1 per accepted reload (DPDK: per published snapshot, which checker verdicts and VRRP takeovers move too).")
        .sample({}, st.generation);
    Family reloads(out, "kadp_reloads_total", "counter", "Reloads since start (SIGHUP and kadpctl), by result.");
    reloads.sample({{"result", "accepted"}}, st.reloads_accepted);
    reloads.sample({{"result", "rejected"}}, st.reloads_rejected);
    Family(out, "kadp_services", "gauge", "Virtual services configured.").sample({}, st.services);
    Family(out, "kadp_real_servers", "gauge", "Real servers configured, over all services.").sample({}, st.real_servers);
    Family(out, "kadp_degraded", "gauge", "Things that no longer work as configured (kadpctl status lists them).")
        .sample({}, st.degraded.size());
    Family(out, "kadp_exception_taps_lost", "gauge", "Exception TAPs deleted under kadp (DPDK backend).")
        .sample({}, st.exception_taps_lost);
}

void render_services(std::string& out, const ListReply& list, std::span<const RealServerHealth> health)
{
    struct Dir {
        const char* name;
        std::uint64_t IpvsStats::*packets;
        std::uint64_t IpvsStats::*bytes;
    };
    constexpr std::array<Dir, 2> kDirs = {Dir{"in", &IpvsStats::in_packets, &IpvsStats::in_bytes},
                                          Dir{"out", &IpvsStats::out_packets, &IpvsStats::out_bytes}};
    {
        Family f(out, "kadp_service_connections_total", "counter", "Connections scheduled by the virtual service.");
        for (const auto& s : list.services) f.sample(service_labels(s), s.stats.conns);
    }
    {
        Family f(out, "kadp_service_packets_total", "counter", "Packets of the virtual service; in: client to real server, out: back.");
        for (const auto& s : list.services)
            for (const auto& d : kDirs) f.sample(with(service_labels(s), "direction", d.name), s.stats.*d.packets);
    }
    {
        Family f(out, "kadp_service_bytes_total", "counter", "Bytes of the virtual service; in: client to real server, out: back.");
        for (const auto& s : list.services)
            for (const auto& d : kDirs) f.sample(with(service_labels(s), "direction", d.name), s.stats.*d.bytes);
    }
    {
        Family f(out, "kadp_real_server_connections_total", "counter", "Connections scheduled to the real server.");
        for (const auto& s : list.services)
            for (const auto& d : s.dests) f.sample(dest_labels(s, d), d.stats.conns);
    }
    {
        Family f(out, "kadp_real_server_packets_total", "counter", "Packets through the real server's connections, by direction.");
        for (const auto& s : list.services)
            for (const auto& d : s.dests)
                for (const auto& dir : kDirs) f.sample(with(dest_labels(s, d), "direction", dir.name), d.stats.*dir.packets);
    }
    {
        Family f(out, "kadp_real_server_bytes_total", "counter", "Bytes through the real server's connections, by direction.");
        for (const auto& s : list.services)
            for (const auto& d : s.dests)
                for (const auto& dir : kDirs) f.sample(with(dest_labels(s, d), "direction", dir.name), d.stats.*dir.bytes);
    }
    {
        Family f(out, "kadp_real_server_active_connections", "gauge", "The real server's active connections (ipvsadm ActiveConn).");
        for (const auto& s : list.services)
            for (const auto& d : s.dests) f.sample(dest_labels(s, d), d.active_conns);
    }
    {
        Family f(out, "kadp_real_server_inactive_connections", "gauge", "The real server's inactive connections (ipvsadm InActConn).");
        for (const auto& s : list.services)
            for (const auto& d : s.dests) f.sample(dest_labels(s, d), d.inactive_conns);
    }
    {
        Family f(out, "kadp_real_server_up", "gauge",
                 "The real server's health-checker verdict: 1 alive (or no checker), 0 down; every configured real server.");
        for (const auto& h : health)
            f.sample({{"vip", h.vip}, {"port", h.port}, {"protocol", h.protocol}, {"real_server", h.real_server},
                      {"real_port", h.real_port}},
                     h.up ? 1u : 0u);
    }
    {
        Family f(out, "kadp_real_server_weight", "gauge",
                 "The real server's weight now (0: quiesced, e.g. its checker failed with inhibit_on_failure).");
        for (const auto& s : list.services)
            for (const auto& d : s.dests) f.sample(dest_labels(s, d), std::to_string(d.weight));
    }
}

// Milliseconds as decimal seconds, exactly: 12 -> "0.012".
std::string millis_as_seconds(std::uint64_t ms)
{
    std::string frac = std::to_string(ms % 1000);
    return std::to_string(ms / 1000) + "." + std::string(3 - frac.size(), '0') + frac;
}

bool contains_nocase(std::string_view text, std::string_view lower_needle)
{
    if (lower_needle.size() > text.size()) return false;
    for (std::size_t i = 0; i + lower_needle.size() <= text.size(); ++i) {
        bool match = true;
        for (std::size_t j = 0; j < lower_needle.size() && match; ++j) {
            char c = text[i + j];
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            match = c == lower_needle[j];
        }
        if (match) return true;
    }
    return false;
}

// Every checker of every real server, labelled like the real server plus its
// type and what it connects to (a real server may run two checkers of one type).
void render_checkers(std::string& out, std::span<const RealServerHealth> health)
{
    struct Item {
        const RealServerHealth* rs;
        const CheckerHealth* c;
    };
    std::vector<Item> items;
    for (const auto& h : health)
        for (const auto& c : h.checkers) items.push_back({&h, &c});
    const auto labels = [](const Item& i) {
        return Labels{{"vip", i.rs->vip},           {"port", i.rs->port},    {"protocol", i.rs->protocol},
                      {"real_server", i.rs->real_server}, {"real_port", i.rs->real_port}, {"checker", i.c->type},
                      {"target", i.c->target}};
    };
    {
        Family f(out, "kadp_checker_up", "gauge", "The health checker's own state: 1 up, 0 down (kadpctl checks).");
        for (const auto& i : items) f.sample(labels(i), i.c->up ? 1u : 0u);
    }
    {
        Family f(out, "kadp_checker_last_result", "gauge",
                 "1 for the kind of the checker's last attempt (none: no attempt ended yet), 0 for the others.");
        for (const auto& i : items)
            for (const char* r : kCheckerResults) f.sample(with(labels(i), "result", r), i.c->result == r ? 1u : 0u);
    }
    {
        Family f(out, "kadp_checker_last_latency_seconds", "gauge", "The checker's last attempt, start to verdict.");
        for (const auto& i : items)
            if (i.c->ran) f.sample(labels(i), millis_as_seconds(i.c->latency_ms));
    }
    {
        Family f(out, "kadp_checker_consecutive_failures", "gauge", "Failed attempts of the checker since its last success.");
        for (const auto& i : items) f.sample(labels(i), i.c->consecutive_failures);
    }
    {
        Family f(out, "kadp_checker_failures_total", "counter",
                 "Failed attempts of the checker since it was started (a reload that changes it starts it again).");
        for (const auto& i : items) f.sample(labels(i), i.c->failures);
    }
    {
        Family f(out, "kadp_checker_last_check_timestamp_seconds", "gauge", "Unix time the checker's last attempt ended.");
        for (const auto& i : items)
            if (i.c->ran && i.c->last_check != 0) f.sample(labels(i), std::to_string(i.c->last_check));
    }
    {
        Family f(out, "kadp_checker_last_transition_timestamp_seconds", "gauge",
                 "Unix time the checker last went up or down (absent: never).");
        for (const auto& i : items)
            if (i.c->last_transition != 0) f.sample(labels(i), std::to_string(i.c->last_transition));
    }
}

void render_vrrp(std::string& out, const StatusReply& st)
{
    {
        Family f(out, "kadp_vrrp_state", "gauge", "1 for the VRRP instance's current state, 0 for the others.");
        for (const auto& v : st.vrrp)
            for (const char* s : kVrrpStates) f.sample({{"instance", v.name}, {"state", s}}, v.state == s ? 1u : 0u);
    }
    {
        Family f(out, "kadp_vrrp_priority", "gauge", "The VRRP instance's effective priority.");
        for (const auto& v : st.vrrp) f.sample({{"instance", v.name}}, v.priority);
    }
    {
        Family f(out, "kadp_vrrp_adverts_dropped_total", "counter",
                 "Adverts for the instance's VRID refused before its state machine, by reason (non-zero only).");
        for (const auto& v : st.vrrp)
            for (const auto& [reason, n] : v.dropped) f.sample({{"instance", v.name}, {"reason", reason}}, n);
    }
    {
        Family f(out, "kadp_vrrp_adverts_refused_total", "counter",
                 "Every advert the VRRP service refused before a state machine, by reason, instance known or not (non-zero only).");
        for (const auto& [reason, n] : st.vrrp_dropped) f.sample({{"reason", reason}}, n);
    }
}

void render_dataplane(std::string& out, const StatusReply& st, std::span<const WorkerCounterSet> workers)
{
    {
        Family f(out, "kadp_dataplane_events_total", "counter",
                 "Data-plane outcomes summed over the workers, one per counter of dataplane/counters.h (kadpctl status).");
        for (const auto& [name, v] : st.counters)
            if (name != kDefenseLevel) f.sample({{"counter", name}}, v);
    }
    {
        Family f(out, "kadp_worker_events_total", "counter",
                 "Data-plane outcomes of one worker (its lcore), one per counter of dataplane/counters.h.");
        for (const auto& w : workers)
            for (std::size_t i = 0; i < st.counters.size() && i < w.values.size(); ++i)
                if (st.counters[i].first != kDefenseLevel)
                    f.sample({{"worker", std::to_string(w.lcore)}, {"counter", st.counters[i].first}}, w.values[i]);
    }
    {
        Family f(out, "kadp_conn_defense_level", "gauge", "SYN-flood defense level summed over the workers (0 off, 1, 2 each).");
        for (const auto& [name, v] : st.counters)
            if (name == kDefenseLevel) f.sample({}, v);
    }
    if (st.conn_capacity != 0) {
        Family(out, "kadp_conn_table_entries", "gauge", "Connection-table entries in use.").sample({}, st.conn_in_use);
        Family(out, "kadp_conn_table_capacity", "gauge", "Connection-table size (entries).").sample({}, st.conn_capacity);
    }
    struct PortCounter {
        const char* name;
        const char* help;
        std::uint64_t PortStatus::*field;
    };
    constexpr std::array<PortCounter, 8> kPort = {
        PortCounter{"kadp_port_rx_packets_total", "Frames the port received (rte_eth_stats ipackets).", &PortStatus::rx_packets},
        PortCounter{"kadp_port_rx_bytes_total", "Bytes the port received.", &PortStatus::rx_bytes},
        PortCounter{"kadp_port_tx_packets_total", "Frames the port sent.", &PortStatus::tx_packets},
        PortCounter{"kadp_port_tx_bytes_total", "Bytes the port sent.", &PortStatus::tx_bytes},
        PortCounter{"kadp_port_rx_missed_total", "Frames the port dropped: no RX descriptor free.", &PortStatus::rx_missed},
        PortCounter{"kadp_port_rx_errors_total", "Erroneous frames the port received.", &PortStatus::rx_errors},
        PortCounter{"kadp_port_rx_nombuf_total", "Frames the port dropped: mbuf pool empty.", &PortStatus::rx_nombuf},
        PortCounter{"kadp_port_tx_errors_total", "Frames the port failed to send.", &PortStatus::tx_errors},
    };
    for (const auto& pc : kPort) {
        Family f(out, pc.name, "counter", pc.help);
        for (const auto& p : st.ports) f.sample({{"port", p.name}, {"device", p.device}}, p.*pc.field);
    }
    {
        Family f(out, "kadp_port_link_up", "gauge", "1: the port's link is up, 0: down (absent: not known).");
        for (const auto& p : st.ports)
            if (!p.link.empty()) f.sample({{"port", p.name}, {"device", p.device}}, p.link == "up" ? 1u : 0u);
    }
    {
        Family f(out, "kadp_mempool_mbufs", "gauge", "Mbufs in the DPDK mempool.");
        for (const auto& m : st.mempools) f.sample({{"pool", m.name}}, m.size);
    }
    {
        Family f(out, "kadp_mempool_mbufs_in_use", "gauge", "Mbufs of the DPDK mempool handed out.");
        for (const auto& m : st.mempools) f.sample({{"pool", m.name}}, m.in_use);
    }
}

}  // namespace

std::string escape_label_value(std::string_view v)
{
    std::string out;
    out.reserve(v.size());
    for (const char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

const char* checker_result_kind(bool ran, bool ok, std::string_view reason)
{
    if (!ran) return "none";
    if (ok) return "ok";
    // The phrases of checks/*_check.cpp and misc_check_verdict.cpp.
    if (contains_nocase(reason, "timeout") || contains_nocase(reason, "timed out")) return "timeout";
    if (contains_nocase(reason, "connecting") || contains_nocase(reason, "tcp connection to") ||
        contains_nocase(reason, "unreachable"))
        return "connect_error";
    if (contains_nocase(reason, "status code") || contains_nocase(reason, "digest") ||
        contains_nocase(reason, "no data received") || contains_nocase(reason, "bad greeting") ||
        contains_nocase(reason, "bad helo") || contains_nocase(reason, "rcode"))
        return "bad_response";
    return "failed";
}

std::string render_metrics(const StatusReply& status, const ListReply& list, std::span<const WorkerCounterSet> workers,
                           std::span<const RealServerHealth> health)
{
    std::string out;
    render_daemon(out, status);
    render_services(out, list, health);
    render_checkers(out, health);
    render_vrrp(out, status);
    render_dataplane(out, status, workers);
    return out;
}

}  // namespace kadp::ctl
