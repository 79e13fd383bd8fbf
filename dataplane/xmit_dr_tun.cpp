// Runs on: worker lcores. DR and TUN transmission (IPVS's ip_vs_dr_xmit
// and ip_vs_tunnel_xmit): the packet helpers of xmit_dr_tun.h, and the
// NatPipeline members that route, check the MTU and count.
#include "dataplane/xmit_dr_tun.h"

#include <netinet/in.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "dataplane/arp.h"
#include "dataplane/checksum.h"
#include "dataplane/icmp_error.h"
#include "dataplane/nat_pipeline.h"

namespace kadp::dp {
namespace {

constexpr std::uint16_t kEthMin = 60;
constexpr std::uint16_t kIpDf = 0x4000;
constexpr std::uint16_t kIpMf = 0x2000;
constexpr std::uint16_t kIpOffsetMask = 0x1fff;
constexpr std::uint8_t kIcmpUnreach = 3;
constexpr std::uint8_t kIcmpFragNeeded = 4;

}  // namespace

void ipv4_decrement_ttl(std::uint8_t* ip)
{
    // The TTL is the high byte of the wire-order word at offset 8.
    const std::uint16_t old_word = load16(ip + 8);
    ip[8] = static_cast<std::uint8_t>(ip[8] - 1);
    const std::uint16_t new_word = load16(ip + 8);
    store16(ip + kIpv4CheckOffset, csum_replace2(load16(ip + kIpv4CheckOffset), old_word, new_word));
}

bool ipip_encap(rte_mbuf* m, const PacketMeta& meta, std::uint32_t saddr, std::uint32_t daddr, std::uint16_t id)
{
    if (rte_pktmbuf_headroom(m) < kIpipHeaderLen) return false;
    const std::uint32_t frame_len = static_cast<std::uint32_t>(meta.l3_off) + meta.l3_len;
    if (m->nb_segs == 1 && m->data_len > frame_len) {  // Ethernet padding: not part of the inner packet
        rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - frame_len));
    }
    ipv4_decrement_ttl(mbuf_frame(m) + meta.l3_off);
    auto* frame = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, kIpipHeaderLen));
    std::memmove(frame, frame + kIpipHeaderLen, meta.l3_off);
    std::uint8_t* outer = frame + meta.l3_off;
    const std::uint8_t* inner = outer + kIpipHeaderLen;
    outer[0] = 0x45;
    outer[1] = inner[1];  // DSCP + ECN
    store16(outer + 2, be16_from_host(static_cast<std::uint16_t>(meta.l3_len + kIpipHeaderLen)));
    store16(outer + 4, be16_from_host(id));
    store16(outer + 6, be16_from_host((meta.flags & kPmDontFragment) != 0 ? kIpDf : 0));
    outer[8] = meta.ttl;  // the forwarding step takes it to the inner's decremented TTL
    outer[9] = kIpProtoIpip;
    store32(outer + 12, saddr);
    store32(outer + 16, daddr);
    store16(outer + kIpv4CheckOffset, ipv4_header_checksum(outer, 20));
    return true;
}

std::uint32_t ipv4_fragment(rte_mbuf* m, std::uint16_t l3_off, std::uint16_t mtu, rte_mempool* pool, rte_mbuf** out,
                            std::uint32_t max_out)
{
    const std::uint8_t* frame = mbuf_frame(m);
    const std::uint8_t* ip = frame + l3_off;
    if (pool == nullptr || mtu <= 28 || m->data_len < l3_off + 20U || (ip[0] & 0x0f) != 5) return 0;
    const std::uint16_t total = load_be16(ip + 2);
    if (total <= 20 || rte_pktmbuf_pkt_len(m) < static_cast<std::uint32_t>(l3_off) + total) return 0;
    const std::uint32_t payload = total - 20U;
    const std::uint32_t chunk = (mtu - 20U) & ~7U;
    const std::uint32_t n = (payload + chunk - 1) / chunk;
    const std::uint32_t room = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;
    if (n > max_out || n > kMaxFragments || std::max<std::uint32_t>(l3_off + 20U + chunk, kEthMin) > room) return 0;
    if (rte_pktmbuf_alloc_bulk(pool, out, n) != 0) return 0;
    const std::uint16_t frag = load_be16(ip + 6);
    const std::uint32_t base = (frag & kIpOffsetMask) * 8U;
    const bool more_after = (frag & kIpMf) != 0;
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t off = i * chunk;
        const std::uint32_t len = std::min(chunk, payload - off);
        const auto flen = static_cast<std::uint16_t>(l3_off + 20U + len);
        auto* f = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(out[i], std::max(flen, kEthMin)));
        std::memcpy(f, frame, l3_off + 20U);
        std::uint8_t* dst = f + l3_off + 20;
        const void* src = rte_pktmbuf_read(m, l3_off + 20U + off, len, dst);
        if (src != dst) std::memcpy(dst, src, len);
        if (flen < kEthMin) std::memset(f + flen, 0, kEthMin - flen);
        std::uint8_t* fip = f + l3_off;
        store16(fip + 2, be16_from_host(static_cast<std::uint16_t>(20U + len)));
        const bool mf = i + 1 < n || more_after;
        store16(fip + 6, be16_from_host(static_cast<std::uint16_t>(((base + off) / 8U) | (mf ? kIpMf : 0))));
        store16(fip + kIpv4CheckOffset, ipv4_header_checksum(fip, 20));
    }
    rte_pktmbuf_free(m);
    return n;
}

// --- NatPipeline's DR and TUN paths ---------------------------------------------

// The route to a real server in `hop`; false after counting the drop: no
// route (route_miss), or one of our own addresses (not_for_us).
bool NatPipeline::route_to_server(const Burst& b, rte_mbuf* m, std::uint32_t server, RouteHop4& hop)
{
    hop = b.routes != nullptr ? b.routes->lookup(server) : RouteHop4{};
    if (hop.kind == RouteKind::none || hop.port >= cfg_.ports.size() || hop.port >= b.out->port_count()) {
        drop(m, Counter::route_miss);
        return false;
    }
    if (hop.kind == RouteKind::local) {
        drop(m, Counter::not_for_us);
        return false;
    }
    return true;
}

void NatPipeline::xmit_dr(const Burst& b, rte_mbuf* m, const PacketMeta& meta, std::uint32_t server)
{
    RouteHop4 hop;
    if (!route_to_server(b, m, server, hop)) return;
    // Only the MACs change: the server must be on a connected network, its
    // route's next hop the server itself (IPVS: IP_VS_RT_MODE_KNOWN_NH).
    if (hop.next_hop != server) {
        drop(m, Counter::dr_not_on_link);
        return;
    }
    const std::uint16_t mtu = cfg_.ports[hop.port].mtu;
    if (meta.l3_len > mtu) {
        too_big(b, m, meta, hop, mtu, mtu, Counter::xmit_dr);
        return;
    }
    counters_.inc(Counter::xmit_dr);
    forward_via(b, m, meta, hop);
}

void NatPipeline::xmit_tun(const Burst& b, rte_mbuf* m, const PacketMeta& meta, std::uint32_t server)
{
    RouteHop4 hop;
    if (!route_to_server(b, m, server, hop)) return;
    const NatPort& port = cfg_.ports[hop.port];
    if (port.ip == 0) {  // no address to send the tunnel from
        drop(m, Counter::tun_no_source);
        return;
    }
    const bool df = (meta.flags & kPmDontFragment) != 0;
    const bool fits = meta.l3_len + kIpipHeaderLen <= port.mtu;
    if (!fits && df) {  // before anything changed: the ICMP quotes the packet as received
        too_big(b, m, meta, hop, port.mtu, static_cast<std::uint16_t>(port.mtu - kIpipHeaderLen), Counter::xmit_tun);
        return;
    }
    if (!ipip_encap(m, meta, port.ip, server, df ? 0 : ++ip_id_)) {
        drop(m, Counter::tun_no_headroom);
        return;
    }
    if (fits) {
        counters_.inc(Counter::xmit_tun);
        forward_via(b, m, meta, hop);
    } else {
        too_big(b, m, meta, hop, port.mtu, 0, Counter::xmit_tun);
    }
}

// A packet over the egress MTU. With DF: an ICMP fragmentation needed
// (next-hop MTU `report_mtu`) back the way it came, as the echo replies and
// RSTs go, and the packet dropped. Without DF: fragments of at most
// `mtu`, each forwarded like the packet would have been (the packet counts
// as `xmit`, once).
void NatPipeline::too_big(const Burst& b, rte_mbuf* m, const PacketMeta& meta, const RouteHop4& hop,
                          std::uint16_t mtu, std::uint16_t report_mtu, Counter xmit)
{
    if ((meta.flags & kPmDontFragment) != 0) {
        // Never an ICMP error about an ICMP error (RFC 1122 3.2.2).
        const bool icmp_error = meta.l3_proto == IPPROTO_ICMP && meta.icmp_type != 0 && meta.icmp_type != 8;
        const std::uint32_t source = icmp_error_source(b, meta);
        if (icmp_error || source == 0 || unanswerable_source(meta.saddr)) {
            drop(m, Counter::drop_too_big);
            return;
        }
        // Path-MTU discovery is not under the ICMP error budget (Linux's
        // icmpv4_mask_allow() exempts fragmentation needed).
        send_icmp_error(b, m, meta,
                        {.type = kIcmpUnreach,
                         .code = kIcmpFragNeeded,
                         .rest = report_mtu,
                         .source = source,
                         .sent = Counter::frag_needed_sent,
                         .unsent = Counter::drop_too_big,
                         .budgeted = false});
        return;
    }
    rte_mbuf* frags[kMaxFragments];
    const std::uint32_t n = ipv4_fragment(m, meta.l3_off, mtu, pool_ != nullptr ? pool_ : m->pool, frags, kMaxFragments);
    if (n == 0) {
        drop(m, Counter::frag_failed);
        return;
    }
    counters_.inc(xmit);
    counters_.inc(Counter::fragmented);
    for (std::uint32_t i = 0; i < n; ++i) forward_via(b, frags[i], meta, hop);
}

}  // namespace kadp::dp
