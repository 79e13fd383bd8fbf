// Runs on: any.
#include "conf/model.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace kadp::conf {

const char* to_string(LbKind k)
{
    switch (k) {
    case LbKind::nat: return "NAT";
    case LbKind::dr: return "DR";
    case LbKind::tun: return "TUN";
    }
    return "?";
}

const char* to_string(Protocol p)
{
    switch (p) {
    case Protocol::tcp: return "TCP";
    case Protocol::udp: return "UDP";
    case Protocol::sctp: return "SCTP";
    }
    return "?";
}

const char* to_string(CheckerType t)
{
    switch (t) {
    case CheckerType::tcp_check: return "TCP_CHECK";
    case CheckerType::http_get: return "HTTP_GET";
    case CheckerType::ssl_get: return "SSL_GET";
    case CheckerType::smtp_check: return "SMTP_CHECK";
    case CheckerType::misc_check: return "MISC_CHECK";
    case CheckerType::dns_check: return "DNS_CHECK";
    case CheckerType::udp_check: return "UDP_CHECK";
    case CheckerType::ping_check: return "PING_CHECK";
    case CheckerType::file_check: return "FILE_CHECK";
    case CheckerType::bfd_check: return "BFD_CHECK";
    }
    return "?";
}

namespace {
constexpr std::pair<std::string_view, std::uint16_t> kDnsTypes[] = {
    {"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"RRSIG", 46}, {"DNSKEY", 48},
};
}  // namespace

std::optional<std::uint16_t> dns_type_code(std::string_view label)
{
    auto same = [](std::string_view a, std::string_view b) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                   return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
               });
    };
    for (const auto& [name, code] : kDnsTypes)
        if (same(name, label)) return code;
    return std::nullopt;
}

const char* dns_type_name(std::uint16_t code)
{
    for (const auto& [name, c] : kDnsTypes)
        if (c == code) return name.data();
    return "(unknown)";
}

const char* to_string(VrrpState s) { return s == VrrpState::master ? "MASTER" : "BACKUP"; }

const char* to_string(AuthType a)
{
    switch (a) {
    case AuthType::none: return "NONE";
    case AuthType::pass: return "PASS";
    case AuthType::ah: return "AH";
    }
    return "?";
}

}  // namespace kadp::conf
