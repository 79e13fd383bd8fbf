// Runs on: worker lcores and the control thread (pure functions over the
// frame they are given; see arp.h).
#include "dataplane/arp.h"

#include <rte_mbuf.h>

#include "dataplane/checksum.h"

namespace kadp::dp {
namespace {

constexpr std::size_t kEthHdr = 14;
constexpr std::size_t kVlanHdr = 4;
constexpr std::size_t kArpBody = 28;

// Ethernet (+ tag) and ARP body; returns the frame length, 0 if it does not fit.
std::size_t build_arp(std::uint8_t* buf, std::size_t cap, const ArpIface& ifc, const MacAddr& eth_dst,
                      std::uint16_t op, std::uint32_t spa, const MacAddr& tha, std::uint32_t tpa)
{
    if (cap < kArpFrameMin) return 0;
    std::memset(buf, 0, kArpFrameMin);
    std::memcpy(buf, eth_dst.data(), 6);
    std::memcpy(buf + 6, ifc.mac.data(), 6);
    std::size_t off = 12;
    if (ifc.tagged) {
        store16(buf + off, be16_from_host(kEtherTypeVlan));
        store16(buf + off + 2, be16_from_host(ifc.vlan_tci));
        off += kVlanHdr;
    }
    store16(buf + off, be16_from_host(kEtherTypeArp));
    std::uint8_t* a = buf + off + 2;
    store16(a, be16_from_host(1));                   // htype Ethernet
    store16(a + 2, be16_from_host(kEtherTypeIpv4));  // ptype IPv4
    a[4] = 6;
    a[5] = 4;
    store16(a + 6, be16_from_host(op));
    std::memcpy(a + 8, ifc.mac.data(), 6);
    store32(a + 14, spa);
    std::memcpy(a + 18, tha.data(), 6);
    store32(a + 24, tpa);
    static_assert(kEthHdr + kVlanHdr + kArpBody <= kArpFrameMin);
    return kArpFrameMin;
}

rte_mbuf* alloc_with(rte_mempool* pool, std::size_t (*fill)(std::uint8_t*, std::size_t, const void*), const void* ctx)
{
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) return nullptr;
    char* p = rte_pktmbuf_append(m, kArpFrameMin);
    if (p == nullptr) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    fill(reinterpret_cast<std::uint8_t*>(p), kArpFrameMin, ctx);
    return m;
}

}  // namespace

std::size_t build_arp_request(std::uint8_t* buf, std::size_t cap, const ArpIface& ifc, std::uint32_t target_ip,
                              const MacAddr* unicast_to)
{
    return build_arp(buf, cap, ifc, unicast_to ? *unicast_to : kBroadcastMac, kArpOpRequest, ifc.ip, MacAddr{},
                     target_ip);
}

std::size_t build_gratuitous_arp(std::uint8_t* buf, std::size_t cap, const ArpIface& ifc, std::uint32_t ip)
{
    return build_arp(buf, cap, ifc, kBroadcastMac, kArpOpRequest, ip, kBroadcastMac, ip);
}

void arp_reply_in_place(std::uint8_t* frame, const PacketMeta& meta, const MacAddr& our_mac)
{
    std::uint8_t* a = frame + meta.l3_off;
    std::memcpy(frame + meta.l2_off, meta.arp_sha, 6);      // back to the requester
    std::memcpy(frame + meta.l2_off + 6, our_mac.data(), 6);
    store16(a + 6, be16_from_host(kArpOpReply));
    std::memcpy(a + 8, our_mac.data(), 6);
    store32(a + 14, meta.arp_tpa);
    std::memcpy(a + 18, meta.arp_sha, 6);
    store32(a + 24, meta.arp_spa);
}

std::uint8_t* mbuf_frame(rte_mbuf* m) { return rte_pktmbuf_mtod(m, std::uint8_t*); }

rte_mbuf* alloc_arp_request(rte_mempool* pool, const ArpIface& ifc, std::uint32_t target_ip, const MacAddr* unicast_to)
{
    struct Ctx {
        const ArpIface* ifc;
        std::uint32_t ip;
        const MacAddr* to;
    } ctx{&ifc, target_ip, unicast_to};
    return alloc_with(
        pool,
        [](std::uint8_t* b, std::size_t cap, const void* c) {
            const auto* x = static_cast<const Ctx*>(c);
            return build_arp_request(b, cap, *x->ifc, x->ip, x->to);
        },
        &ctx);
}

rte_mbuf* alloc_gratuitous_arp(rte_mempool* pool, const ArpIface& ifc, std::uint32_t ip)
{
    struct Ctx {
        const ArpIface* ifc;
        std::uint32_t ip;
    } ctx{&ifc, ip};
    return alloc_with(
        pool,
        [](std::uint8_t* b, std::size_t cap, const void* c) {
            const auto* x = static_cast<const Ctx*>(c);
            return build_gratuitous_arp(b, cap, *x->ifc, x->ip);
        },
        &ctx);
}

}  // namespace kadp::dp
