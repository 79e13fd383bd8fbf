// Runs on: control thread (templates) / the benchmark lcore (sources, Feeder).
#include "perf/kadp_bench_traffic.h"

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>

#include "dataplane/checksum.h"

namespace kadp::bench {
namespace {

using dp::be16_from_host;
using dp::be32_from_host;
using dp::load16;
using dp::load32;
using dp::store16;
using dp::store32;

constexpr std::size_t kIpOff = 14;
constexpr std::size_t kTcpOff = 34;
constexpr unsigned kBurst = 32;

}  // namespace

dp::MacAddr server_mac(std::uint32_t index)
{
    return {0x02, 0, 0, 1, static_cast<std::uint8_t>(index >> 8), static_cast<std::uint8_t>(index)};
}

void build_tcp_frame(std::uint8_t* out, const dp::MacAddr& dst_mac, const dp::MacAddr& src_mac, std::uint32_t saddr,
                     std::uint32_t daddr, std::uint16_t sport, std::uint16_t dport, std::uint8_t flags,
                     std::uint32_t seq, std::uint32_t ack)
{
    std::memset(out, 0, kTemplateSize);
    std::memcpy(out, dst_mac.data(), 6);
    std::memcpy(out + 6, src_mac.data(), 6);
    store16(out + 12, be16_from_host(0x0800));
    std::uint8_t* ip = out + kIpOff;
    ip[0] = 0x45;
    store16(ip + 2, be16_from_host(40));
    store16(ip + 4, be16_from_host(static_cast<std::uint16_t>(seq)));
    store16(ip + 6, be16_from_host(0x4000));
    ip[8] = 64;
    ip[9] = dp::kIpProtoTcp;
    store32(ip + 12, be32_from_host(saddr));
    store32(ip + 16, be32_from_host(daddr));
    store16(ip + dp::kIpv4CheckOffset, dp::ipv4_header_checksum(ip, 20));
    std::uint8_t* tcp = out + kTcpOff;
    store16(tcp, be16_from_host(sport));
    store16(tcp + 2, be16_from_host(dport));
    store32(tcp + 4, be32_from_host(seq));
    store32(tcp + 8, be32_from_host(ack));
    tcp[12] = 0x50;
    tcp[13] = flags;
    store16(tcp + 14, be16_from_host(8192));
    store16(tcp + dp::kTcpCheckOffset,
            dp::tcp_checksum(dp::ipv4_pseudo_sum(be32_from_host(saddr), be32_from_host(daddr), dp::kIpProtoTcp, 20),
                             tcp, 20));
}

void build_in_frame(std::uint8_t* out, std::uint64_t f, std::uint8_t flags)
{
    const auto seq = static_cast<std::uint32_t>(f * 2654435761U);
    build_tcp_frame(out, kLanMac, kRouterMac, client_addr(f), kVip, client_port(f), kVport, flags, seq,
                    (flags & kTcpAck) != 0 ? ~seq : 0);
}

void build_out_frame(std::uint8_t* out, std::uint64_t f, std::uint32_t server_be, std::uint16_t server_port_be,
                     std::uint32_t server_index, std::uint8_t flags)
{
    const auto seq = static_cast<std::uint32_t>(f * 2654435761U);
    build_tcp_frame(out, kSrvMac, server_mac(server_index), dp::host_from_be32(server_be), client_addr(f),
                    dp::host_from_be16(server_port_be), client_port(f), flags, ~seq, seq + 1);
}

void TemplateSource::next(std::uint16_t port, std::uint8_t* frame)
{
    std::size_t& c = cursor_[port];
    std::memcpy(frame, (port == 0 ? in_ : out_) + c * kTemplateSize, kTemplateSize);
    if (++c == count_) c = 0;
}

SynSource::SynSource(std::uint64_t first) : first_(first), seq_(first)
{
    build_in_frame(base_, 0, kTcpSyn);
}

void SynSource::next(std::uint16_t /*port*/, std::uint8_t* frame)
{
    std::memcpy(frame, base_, kTemplateSize);
    const std::uint64_t s = seq_++;
    const std::uint32_t old_addr = load32(base_ + kIpOff + 12);
    const std::uint16_t old_port = load16(base_ + kTcpOff);
    const std::uint32_t addr = be32_from_host(client_addr(s));
    const std::uint16_t port = be16_from_host(client_port(s));
    std::uint8_t* ip = frame + kIpOff;
    std::uint8_t* tcp = frame + kTcpOff;
    store32(ip + 12, addr);
    store16(ip + dp::kIpv4CheckOffset, dp::csum_replace4(load16(base_ + kIpOff + dp::kIpv4CheckOffset), old_addr, addr));
    store16(tcp, port);
    const std::uint16_t c = dp::csum_replace4(load16(base_ + kTcpOff + dp::kTcpCheckOffset), old_addr, addr);
    store16(tcp + dp::kTcpCheckOffset, dp::csum_replace2(c, old_port, port));
}

Feeder::Feeder(std::array<FeederPort, 2> ports, std::array<bool, 2> rx_ports, FrameSource& source, rte_mempool* pool,
               unsigned depth)
    : ports_(ports), fed_(rx_ports), source_(&source), pool_(pool), depth_(depth)
{
}

void Feeder::fill(std::uint16_t port, void** objs, unsigned n)
{
    for (unsigned i = 0; i < n; ++i) {
        auto* m = static_cast<rte_mbuf*>(objs[i]);
        m->data_off = RTE_PKTMBUF_HEADROOM;
        m->data_len = kFrameLen;
        m->pkt_len = kFrameLen;
        source_->next(port, static_cast<std::uint8_t*>(m->buf_addr) + RTE_PKTMBUF_HEADROOM);
    }
}

bool Feeder::prime()
{
    for (std::uint16_t p = 0; p < 2; ++p) {
        if (!fed_[p]) continue;
        for (unsigned have = rte_ring_count(ports_[p].rx); have < depth_;) {
            rte_mbuf* ms[kBurst];
            const unsigned n = depth_ - have < kBurst ? depth_ - have : kBurst;
            if (rte_pktmbuf_alloc_bulk(pool_, ms, n) != 0) return false;
            fill(p, reinterpret_cast<void**>(ms), n);
            have += rte_ring_enqueue_burst(ports_[p].rx, reinterpret_cast<void**>(ms), n, nullptr);
        }
    }
    return true;
}

void Feeder::refill()
{
    void* objs[kBurst];
    for (std::uint16_t p = 0; p < 2; ++p) {
        rte_ring* from = ports_[1 - p].tx;
        if (!fed_[p]) {  // nothing should leave there; whatever does is freed
            for (unsigned n; (n = rte_ring_dequeue_burst(from, objs, kBurst, nullptr)) != 0;) {
                rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs), n);
            }
            continue;
        }
        for (unsigned n; (n = rte_ring_dequeue_burst(from, objs, kBurst, nullptr)) != 0;) {
            fill(p, objs, n);
            const unsigned q = rte_ring_enqueue_burst(ports_[p].rx, objs, n, nullptr);
            if (q < n) rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs + q), n - q);
            if (n < kBurst) break;
        }
        const unsigned have = rte_ring_count(ports_[p].rx);
        if (have < depth_) {  // the worker dropped some: replace them
            const unsigned n = depth_ - have < kBurst ? depth_ - have : kBurst;
            if (rte_pktmbuf_alloc_bulk(pool_, reinterpret_cast<rte_mbuf**>(objs), n) == 0) {
                fill(p, objs, n);
                const unsigned q = rte_ring_enqueue_burst(ports_[p].rx, objs, n, nullptr);
                if (q < n) rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs + q), n - q);
                topped_up_ += q;
            }
        }
    }
}

void Feeder::drain()
{
    void* objs[kBurst];
    for (const FeederPort& p : ports_) {
        for (rte_ring* r : {p.rx, p.tx}) {
            for (unsigned n; (n = rte_ring_dequeue_burst(r, objs, kBurst, nullptr)) != 0;) {
                rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs), n);
            }
        }
    }
}

}  // namespace kadp::bench
