// Runs on: any (pure logic: no I/O). DNS_CHECK's message rules, keepalived
// 2.2.7's check_dns.c: the query it sends and how it judges what comes back.
// The checker (dns_check.cpp) does the socket work; tests feed byte strings.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace kadp::chk {

// One question (`name`, `type`, class IN), header flags RD only, ID `id`.
// The name is cut at every dot into labels; a trailing dot changes nothing
// and "." is the root. Like keepalived, label lengths are not checked (the
// parser has refused empty labels).
std::vector<std::uint8_t> dns_query(std::uint16_t id, std::string_view name, std::uint16_t type);

// What one received datagram means to the check in flight.
struct DnsReply {
    enum class Kind {
        ignore,  // not the answer: shorter than 8 bytes, another ID, or a query (QR 0); keep waiting
        ok,      // a response with RCODE 0 (NOERROR), answers or not
        error,   // a response with another RCODE: the attempt fails
    };
    Kind kind = Kind::ignore;
    int rcode = 0;
};

// keepalived looks at the ID, the QR bit and the RCODE only: not at the
// question, the answer count or the TC bit. Its minimum of 8 bytes is the
// size of a pointer where a header was meant (12); kept, as only the
// first 4 bytes are read.
DnsReply judge_dns_reply(std::uint16_t id, std::span<const std::uint8_t> reply);

}  // namespace kadp::chk
