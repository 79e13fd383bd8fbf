// Runs on: control thread.
#include "control/kernel/ip_vs_conn.h"

#include <arpa/inet.h>

#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>

namespace kadp::ctl {
namespace {

std::optional<conf::IpAddr> parse_addr(const std::string& t) {
    if (t.find(':') != std::string::npos) {
        conf::IpAddr a;
        a.family = conf::IpAddr::Family::v6;
        if (inet_pton(AF_INET6, t.c_str(), a.bytes.data()) != 1) return std::nullopt;
        return a;
    }
    std::uint32_t v = 0;
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v, 16);
    if (ec != std::errc{} || p != t.data() + t.size() || t.size() != 8) return std::nullopt;
    return conf::IpAddr::from_v4_host_order(v);
}

std::optional<std::uint16_t> parse_port(const std::string& t) {
    std::uint16_t v = 0;
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v, 16);
    if (ec != std::errc{} || p != t.data() + t.size()) return std::nullopt;
    return v;
}

std::optional<IpvsConn> parse_line(const std::string& line) {
    std::istringstream in(line);
    std::string proto, caddr, cport, vaddr, vport, daddr, dport, state;
    std::uint32_t expires = 0;
    if (!(in >> proto >> caddr >> cport >> vaddr >> vport >> daddr >> dport >> state >> expires)) return std::nullopt;
    IpvsConn c;
    if (proto == "TCP") c.protocol = conf::Protocol::tcp;
    else if (proto == "UDP") c.protocol = conf::Protocol::udp;
    else if (proto == "SCTP") c.protocol = conf::Protocol::sctp;
    else if (proto == "IP") c.persistence_template = true;  // IPPROTO_IP: a persistence template
    else return std::nullopt;
    const auto ca = parse_addr(caddr), va = parse_addr(vaddr), da = parse_addr(daddr);
    const auto cp = parse_port(cport), vp = parse_port(vport), dp = parse_port(dport);
    if (!ca || !va || !da || !cp || !vp || !dp) return std::nullopt;
    c.client = *ca;
    c.client_port = *cp;
    c.virtual_address = *va;
    c.virtual_port = *vp;
    c.dest = *da;
    c.dest_port = *dp;
    c.state = state;
    c.expires_seconds = expires;
    return c;
}

}  // namespace

std::vector<IpvsConn> parse_ip_vs_conn(std::string_view text) {
    std::vector<IpvsConn> out;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        if (auto c = parse_line(line)) out.push_back(std::move(*c));
    }
    return out;
}

std::vector<IpvsConn> read_ip_vs_conn(const std::string& path) {
    std::ifstream f(path);
    if (!f) return {};
    std::ostringstream text;
    text << f.rdbuf();
    return parse_ip_vs_conn(text.str());
}

}  // namespace kadp::ctl
