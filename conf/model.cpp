// Runs on: any.
#include "conf/model.h"

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
