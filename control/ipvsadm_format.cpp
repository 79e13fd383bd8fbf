// Runs on: kadpctl (any).
#include "control/ipvsadm_format.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <tuple>
#include <vector>

namespace kadp::ctl {
namespace {

// printf into a std::string (ipvsadm's own format strings, so the widths
// are literally the same).
__attribute__((format(printf, 2, 3))) void appendf(std::string& out, const char* format, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, format);
    const int n = std::vsnprintf(buf, sizeof buf, format, ap);
    va_end(ap);
    if (n > 0) out.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

int protocol_number(conf::Protocol p) {
    switch (p) {
    case conf::Protocol::tcp: return 6;
    case conf::Protocol::udp: return 17;
    case conf::Protocol::sctp: return 132;
    }
    return 0;
}

// libipvs's order: fwmark, family, protocol, address, port. (libipvs
// subtracts unsigned addresses into an int, which misorders addresses more
// than 2^31 apart; kadp sorts them numerically.)
auto service_order(const IpvsService& s) {
    return std::make_tuple(s.fwmark, s.family == conf::IpAddr::Family::v6 ? 1 : 0, protocol_number(s.protocol),
                           s.address.bytes, s.port);
}

std::string service_name(const IpvsService& s) {
    std::string name;
    if (s.fwmark != 0) {
        appendf(name, s.family == conf::IpAddr::Family::v6 ? "FWM  %u IPv6" : "FWM  %u", s.fwmark);
        return name;
    }
    appendf(name, "%-4s %s", ipvs_protocol_name(s.protocol), ipvs_addrport(s.address, s.port).c_str());
    if (!s.address.is_v6() && name.size() > 33) name.resize(33);
    return name;
}

// print_sched_flags: "-fallback" before "-port", comma separated.
std::string sched_flags(const std::vector<std::string>& flags) {
    std::vector<std::string> sorted = flags;
    std::stable_sort(sorted.begin(), sorted.end(), [](const std::string& a, const std::string& b) {
        auto rank = [](const std::string& f) { return f.ends_with("-fallback") ? 0 : f.ends_with("-port") ? 1 : 2; };
        return rank(a) < rank(b);
    });
    std::string out;
    for (const auto& f : sorted) out += (out.empty() ? "" : ",") + f;
    return out;
}

void title(std::string& out, ListKind kind) {
    switch (kind) {
    case ListKind::stats:
        appendf(out, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port", "Conns",
                "InPkts", "OutPkts", "InBytes", "OutBytes");
        return;
    case ListKind::rate:
        appendf(out, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port", "CPS",
                "InPPS", "OutPPS", "InBPS", "OutBPS");
        return;
    case ListKind::plain:
        out += "Prot LocalAddress:Port Scheduler Flags\n"
               "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
        return;
    }
}

void service_line(std::string& out, const IpvsService& s, const ListFormat& f) {
    const std::string name = service_name(s);
    const IpvsStats& st = s.stats;
    switch (f.kind) {
    case ListKind::stats:
        appendf(out, "%-33s", name.c_str());
        for (std::uint64_t n : {st.conns, st.in_packets, st.out_packets, st.in_bytes, st.out_bytes})
            out += ipvs_largenum(n, f.exact);
        break;
    case ListKind::rate:
        appendf(out, "%-33s", name.c_str());
        for (std::uint64_t n : {st.cps, st.in_pps, st.out_pps, st.in_bps, st.out_bps}) out += ipvs_largenum(n, f.exact);
        break;
    case ListKind::plain:
        out += name + " " + s.scheduler;
        if (!s.scheduler_flags.empty()) out += " (" + sched_flags(s.scheduler_flags) + ")";
        if (s.persistence_timeout != 0) {
            appendf(out, " persistent %u", s.persistence_timeout);
            if (s.family == conf::IpAddr::Family::v6) {
                if (s.persistence_prefix_v6 != 128) appendf(out, " mask %i", static_cast<int>(s.persistence_prefix_v6));
            } else if (s.persistence_netmask_v4 != 0xffffffffU) {
                out += " mask " + conf::IpAddr::from_v4_host_order(s.persistence_netmask_v4).to_string();
            }
            if (!s.persistence_engine.empty()) out += " pe " + s.persistence_engine;
        }
        if (s.one_packet) out += " ops";
        break;
    }
    out += '\n';
}

void dest_line(std::string& out, const IpvsDest& d, const ListFormat& f) {
    std::string name = ipvs_addrport(d.address, d.port);
    if (!d.address.is_v6() && name.size() > 28) name.resize(28);
    const IpvsStats& st = d.stats;
    switch (f.kind) {
    case ListKind::stats:
        appendf(out, "  -> %-28s", name.c_str());
        for (std::uint64_t n : {st.conns, st.in_packets, st.out_packets, st.in_bytes, st.out_bytes})
            out += ipvs_largenum(n, f.exact);
        out += '\n';
        return;
    case ListKind::rate:
        appendf(out, "  -> %-28s %8llu %8llu %8llu", name.c_str(), static_cast<unsigned long long>(st.cps),
                static_cast<unsigned long long>(st.in_pps), static_cast<unsigned long long>(st.out_pps));
        out += ipvs_largenum(st.in_bps, f.exact);
        out += ipvs_largenum(st.out_bps, f.exact);
        out += '\n';
        return;
    case ListKind::plain:
        appendf(out, "  -> %-28s %-7s %-6d %-10u %-10u\n", name.c_str(), ipvs_forward_name(d.forward), d.weight,
                d.active_conns, d.inactive_conns);
        return;
    }
}

}  // namespace

std::string ipvs_addrport(const conf::IpAddr& addr, std::uint16_t port) {
    const std::string a = addr.to_string();
    return (addr.is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(port);
}

std::string ipvs_largenum(std::uint64_t n, bool exact) {
    std::string out;
    const auto v = static_cast<unsigned long long>(n);
    if (exact) {
        const int len = static_cast<int>(std::to_string(v).size());
        appendf(out, "%*llu", len <= 8 ? 9 : len + 1, v);
    } else if (v < 100000000ULL) {
        appendf(out, "%9llu", v);
    } else if (v < 1000000000ULL) {
        appendf(out, "%8lluK", v / 1000);
    } else if (v < 100000000000ULL) {
        appendf(out, "%8lluM", v / 1000000);
    } else if (v < 100000000000000ULL) {
        appendf(out, "%8lluG", v / 1000000000ULL);
    } else {
        appendf(out, "%8lluT", v / 1000000000000ULL);
    }
    return out;
}

std::string render_list(const ListReply& reply, const ListFormat& format) {
    std::string out;
    appendf(out, "IP Virtual Server version %s (size=%llu)\n", reply.ipvs_version.c_str(),
            static_cast<unsigned long long>(reply.conn_table_size));
    title(out, format.kind);
    std::vector<const IpvsService*> services;
    for (const auto& s : reply.services) services.push_back(&s);
    std::stable_sort(services.begin(), services.end(),
                     [](const IpvsService* a, const IpvsService* b) { return service_order(*a) < service_order(*b); });
    for (const IpvsService* s : services) {
        service_line(out, *s, format);
        std::vector<const IpvsDest*> dests;
        for (const auto& d : s->dests) dests.push_back(&d);
        std::stable_sort(dests.begin(), dests.end(), [](const IpvsDest* a, const IpvsDest* b) {
            return std::tie(a->address.bytes, a->port) < std::tie(b->address.bytes, b->port);
        });
        for (const IpvsDest* d : dests) dest_line(out, *d, format);
    }
    return out;
}

std::string render_conns(const ConnsReply& reply) {
    std::string out = "IPVS connection entries\n";
    appendf(out, "pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual", "destination");
    for (const auto& c : reply.conns) {
        char expire[16];
        std::snprintf(expire, sizeof expire, "%02u:%02u", c.expires_seconds / 60, c.expires_seconds % 60);
        appendf(out, "%-3s %-6s %-11s %-18s %-18s %s\n",
                c.persistence_template ? "IP" : ipvs_protocol_name(c.protocol), expire, c.state.c_str(),
                ipvs_addrport(c.client, c.client_port).c_str(),
                ipvs_addrport(c.virtual_address, c.virtual_port).c_str(),
                ipvs_addrport(c.dest, c.dest_port).c_str());
    }
    return out;
}

}  // namespace kadp::ctl
