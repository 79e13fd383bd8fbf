// Runs on: any.
#include "checks/dns_message.h"

namespace kadp::chk {
namespace {

constexpr std::size_t kMinReply = 8;
constexpr std::uint16_t kFlagRd = 0x0100;
constexpr std::uint16_t kFlagQr = 0x8000;
constexpr std::uint16_t kClassIn = 1;

void put16(std::vector<std::uint8_t>& out, std::uint16_t v)
{
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

}  // namespace

std::vector<std::uint8_t> dns_query(std::uint16_t id, std::string_view name, std::uint16_t type)
{
    std::vector<std::uint8_t> q;
    q.reserve(12 + name.size() + 2 + 4);
    put16(q, id);
    put16(q, kFlagRd);
    put16(q, 1);  // QDCOUNT
    put16(q, 0);
    put16(q, 0);
    put16(q, 0);
    // Each label up to the next dot; the loop ends at the end of the name,
    // so "." gives one zero-length label: the root.
    std::size_t start = 0;
    while (start < name.size()) {
        std::size_t dot = name.find('.', start);
        if (dot == std::string_view::npos) dot = name.size();
        q.push_back(static_cast<std::uint8_t>(dot - start));
        q.insert(q.end(), name.begin() + static_cast<std::ptrdiff_t>(start), name.begin() + static_cast<std::ptrdiff_t>(dot));
        start = dot < name.size() ? dot + 1 : dot;
    }
    if (name != ".") q.push_back(0);
    put16(q, type);
    put16(q, kClassIn);
    return q;
}

DnsReply judge_dns_reply(std::uint16_t id, std::span<const std::uint8_t> reply)
{
    if (reply.size() < kMinReply) return {};
    const auto id_got = static_cast<std::uint16_t>((reply[0] << 8) | reply[1]);
    const auto flags = static_cast<std::uint16_t>((reply[2] << 8) | reply[3]);
    if (id_got != id || (flags & kFlagQr) == 0) return {};
    const int rcode = flags & 0x000f;
    return DnsReply{rcode == 0 ? DnsReply::Kind::ok : DnsReply::Kind::error, rcode};
}

}  // namespace kadp::chk
