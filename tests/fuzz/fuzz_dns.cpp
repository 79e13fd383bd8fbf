// Runs on: the fuzzer. Feeds arbitrary bytes to DNS_CHECK's reply judge
// (checks/dns_message.h) as a datagram answering query ID 0x4b41, and as a
// name to build a query from: a query kadp builds is never taken for its
// own answer, and its question has the size the name gives it.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "checks/dns_message.h"

namespace {

void require(bool ok)
{
    if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using kadp::chk::DnsReply;
    constexpr std::uint16_t kId = 0x4b41;
    const std::span<const std::uint8_t> in(data, size);
    const DnsReply r = kadp::chk::judge_dns_reply(kId, in);
    if (size < 8) require(r.kind == DnsReply::Kind::ignore);
    require(r.rcode >= 0 && r.rcode <= 15);
    require((r.kind == DnsReply::Kind::ok) == (r.kind != DnsReply::Kind::ignore && r.rcode == 0));

    const std::string_view name(reinterpret_cast<const char*>(data), size);
    const auto q = kadp::chk::dns_query(kId, name, 1);
    require(q.size() >= 12 + 1 + 4);
    require(kadp::chk::judge_dns_reply(kId, q).kind == DnsReply::Kind::ignore);
    // Header, one length byte per label plus its characters (a dot is
    // replaced by the next length byte), the root, QTYPE and QCLASS.
    const bool root = name == ".";
    const bool trailing_dot = !name.empty() && name.back() == '.';
    require(q.size() == 12 + (root || name.empty() ? 1 : name.size() + (trailing_dot ? 1 : 2)) + 4);
    return 0;
}
