// Runs on: any. The hash inputs IPVS's hashing schedulers share (sh, dh, mh,
// lblc, lblcr): the folded address and the Linux hash functions they use, so
// a key lands in the same bucket as on a Linux director.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>

#include "dataplane/sched/sched.h"

namespace kadp::dp {

// IPVS's addr_fold, host order: the IPv4 address, or the XOR of an IPv6
// address's four words (IPv4 leaves words 1..3 zero, so one formula serves both).
inline std::uint32_t sched_addr_fold(const std::uint32_t (&addr)[4]) {
    return ntohl(addr[0] ^ addr[1] ^ addr[2] ^ addr[3]);
}

// Linux's hash_32(): multiply by GOLDEN_RATIO_32, keep the top `bits` bits.
inline std::uint32_t linux_hash_32(std::uint32_t val, unsigned bits) {
    return (val * 0x61C88647U) >> (32 - bits);
}

// The client's source port in host order when `flags` ask for it (sh-port /
// mh-port) and the protocol has ports (TCP, UDP, SCTP), else 0 - as
// ip_vs_sh_get_port / ip_vs_mh_get_port.
inline std::uint16_t sched_flow_port(const SchedFlow& flow, std::uint32_t flags) {
    if ((flags & kSchedPort) == 0) return 0;
    if (flow.proto != IPPROTO_TCP && flow.proto != IPPROTO_UDP && flow.proto != IPPROTO_SCTP) return 0;
    return ntohs(flow.sport);
}

}  // namespace kadp::dp
