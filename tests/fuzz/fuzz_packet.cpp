// Runs on: the fuzzer. Feeds arbitrary bytes as one Ethernet frame through
// the worker's first stage (dataplane/packet_parse.h: parse_frame and the
// checksum verifiers) and checks what the parser promises: every offset and
// length it reports lies inside the frame, and a checksum that verifies
// still verifies after a NAT-style incremental rewrite (checksum.h, RFC 1624).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/checksum.h"
#include "dataplane/packet_parse.h"

namespace {

using namespace kadp::dp;

void require(bool ok)
{
    if (!ok) __builtin_trap();
}

// Offsets and lengths of an accepted frame never point outside it.
void check_bounds(ParseVerdict v, const PacketMeta& m, std::uint16_t len)
{
    if (!parse_ok(v) || v == ParseVerdict::ok_arp) {
        if (v == ParseVerdict::ok_arp) require(m.l3_off + 28u <= len);
        return;
    }
    require(m.l3_off + std::size_t{m.l3_len} <= len);
    if (v == ParseVerdict::ok_ipv6) return;
    require(m.l3_hlen >= 20 && m.l3_hlen <= m.l3_len);
    require(m.l4_off == m.l3_off + m.l3_hlen && m.l4_len == m.l3_len - m.l3_hlen);
    require(m.l4_hlen <= m.l4_len);
    if (v == ParseVerdict::ok_ipv4_fragment) require(m.frag_off != 0 && m.l4_hlen == 0);
}

// NAT rewrites the destination address and port with incremental updates
// (what nat_pipeline does); a packet that verified before must verify after.
void check_incremental(std::vector<std::uint8_t>& frame, const PacketMeta& m)
{
    if (verify_ipv4_header(frame.data(), m) != CsumCheck::ok) return;
    const CsumCheck l4_before = verify_l4(frame.data(), m);
    std::uint8_t* ip = frame.data() + m.l3_off;
    std::uint8_t* l4 = frame.data() + m.l4_off;
    const std::uint32_t new_daddr = be32_from_host(0xc6130001);  // 198.19.0.1
    const std::uint16_t new_dport = be16_from_host(8080);
    const CsumDelta addr = csum_delta4(m.daddr, new_daddr);
    store16(ip + kIpv4CheckOffset, csum_apply(load16(ip + kIpv4CheckOffset), addr));
    store32(ip + 16, new_daddr);
    if (l4_before == CsumCheck::ok && m.l3_proto == kIpProtoTcp) {
        const CsumDelta d = addr + csum_delta2(m.dport, new_dport);
        store16(l4 + kTcpCheckOffset, csum_apply(load16(l4 + kTcpCheckOffset), d));
        store16(l4 + 2, new_dport);
    } else if (l4_before == CsumCheck::ok && m.l3_proto == kIpProtoUdp) {
        const CsumDelta d = addr + csum_delta2(m.dport, new_dport);
        store16(l4 + kUdpCheckOffset, udp_csum_apply(load16(l4 + kUdpCheckOffset), d));
        store16(l4 + 2, new_dport);
    }
    PacketMeta after{};
    const auto len = static_cast<std::uint16_t>(frame.size());
    require(parse_ok(parse_frame(frame.data(), len, after)));
    require(verify_ipv4_header(frame.data(), after) == CsumCheck::ok);
    if (l4_before == CsumCheck::ok && (m.l3_proto == kIpProtoTcp || m.l3_proto == kIpProtoUdp)) {
        require(verify_l4(frame.data(), after) == CsumCheck::ok);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // An mbuf segment holds at most 65535 bytes (data_len is 16 bits).
    if (size > 0xffff) return -1;
    const auto len = static_cast<std::uint16_t>(size);
    PacketMeta meta{};
    const ParseVerdict v = parse_frame(data, len, meta);
    require(static_cast<std::size_t>(v) < kParseVerdictCount);
    (void)parse_verdict_name(v);
    check_bounds(v, meta, len);
    const CsumCheck ip_ok = verify_ipv4_header(data, meta);
    const CsumCheck l4_ok = verify_l4(data, meta);
    (void)l4_ok;
    if (ip_ok == CsumCheck::ok && meta.ethertype == kEtherTypeIpv4 && parse_ok(v) &&
        v != ParseVerdict::ok_ipv4_fragment) {
        std::vector<std::uint8_t> frame(data, data + size);  // exact size: ASan sees any overread
        check_incremental(frame, meta);
    }
    return 0;
}
