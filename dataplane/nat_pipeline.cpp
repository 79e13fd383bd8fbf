// Runs on: worker lcores (everything but the constructor and factory, which
// run on the control thread).
#include "dataplane/nat_pipeline.h"

#include "dataplane/conn_state.h"

#include <netinet/in.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "dataplane/arp.h"
#include "dataplane/checksum.h"
#include "dataplane/icmp_error.h"
#include "dataplane/martian.h"
#include "dataplane/persistence.h"
#include "dataplane/worker.h"

namespace kadp::dp {
namespace {

constexpr std::uint8_t kIcmpEchoReply = 0;
constexpr std::uint8_t kIcmpUnreach = 3;
constexpr std::uint8_t kIcmpUnreachPort = 3;
constexpr std::uint8_t kIcmpEchoRequest = 8;
constexpr std::uint8_t kIcmpTimeExceeded = 11;
constexpr std::uint8_t kIcmpTimeExceededTtl = 0;  // "time to live exceeded in transit"
constexpr std::uint8_t kReplyTtl = 64;
constexpr std::uint8_t kIcmpErrorTos = 0xc0;
constexpr std::uint16_t kEthMin = 60;  // Ethernet minimum without FCS: not every PMD pads runts
constexpr std::uint8_t kIpProtoVrrp = 112;

bool is_tcp(const PacketMeta& meta) { return meta.l3_proto == IPPROTO_TCP; }

// The IPv4 header's TTL+protocol word (as load16 reads it from offset 8)
// with the TTL byte replaced.
std::uint16_t with_ttl(std::uint16_t ttl_proto_word, std::uint8_t ttl)
{
    std::array<std::uint8_t, 2> b;
    std::memcpy(b.data(), &ttl_proto_word, 2);
    b[0] = ttl;
    std::uint16_t w;
    std::memcpy(&w, b.data(), 2);
    return w;
}

// ICMP types that report an error about a packet we may have forwarded.
bool icmp_is_error(std::uint8_t type) { return type == 3 || type == 4 || type == 5 || type == 11 || type == 12; }

// 224.0.0.0/24, link-local multicast: VRRP, OSPF, IGMP... for the kernel.
bool link_local_multicast(std::uint32_t daddr_be) { return (host_from_be32(daddr_be) >> 8) == 0xe00000U; }

void count_enter(DestCounters* dc, ConnState s)
{
    if (dc == nullptr) return;
    (state_is_active(s) ? dc->conns.active : dc->conns.inactive).fetch_add(1, std::memory_order_relaxed);
}
void count_leave(DestCounters* dc, ConnState s)
{
    if (dc == nullptr) return;
    (state_is_active(s) ? dc->conns.active : dc->conns.inactive).fetch_sub(1, std::memory_order_relaxed);
}

// Pushes a connection's deadline. Stored only when it moved (once per ms at
// most): both directions of a connection may be handled by different
// workers, and a store on every packet would bounce the entry's cache line
// between their cores.
void touch(Conn4& conn, std::uint32_t expires)
{
    if (conn.expires_ms.load(std::memory_order_relaxed) != expires) {
        conn.expires_ms.store(expires, std::memory_order_relaxed);
    }
}

// Rewrites one end of the flow, its address and port, with the IPv4 and
// TCP/UDP checksums updated incrementally (a UDP checksum of 0, "none",
// stays 0). Destination NAT on the way in, source NAT on replies.
enum class FlowEnd { source, destination };

void rewrite_end(std::uint8_t* frame, const PacketMeta& meta, FlowEnd end, std::uint32_t addr, std::uint16_t port)
{
    const bool src = end == FlowEnd::source;
    const std::uint32_t old_addr = src ? meta.saddr : meta.daddr;
    const std::uint16_t old_port = src ? meta.sport : meta.dport;
    std::uint8_t* ip = frame + meta.l3_off;
    std::uint8_t* l4 = frame + meta.l4_off;
    const CsumDelta d_addr = csum_delta4(old_addr, addr);
    const CsumDelta d_l4 = d_addr + csum_delta2(old_port, port);
    store16(ip + kIpv4CheckOffset, csum_apply(load16(ip + kIpv4CheckOffset), d_addr));
    store32(ip + (src ? 12 : 16), addr);
    if (is_tcp(meta)) {
        store16(l4 + kTcpCheckOffset, csum_apply(load16(l4 + kTcpCheckOffset), d_l4));
    } else {
        store16(l4 + kUdpCheckOffset, udp_csum_apply(load16(l4 + kUdpCheckOffset), d_l4));
    }
    store16(l4 + (src ? 0 : 2), port);
}

void rewrite_dst(std::uint8_t* frame, const PacketMeta& meta, std::uint32_t addr, std::uint16_t port)
{
    rewrite_end(frame, meta, FlowEnd::destination, addr, port);
}

void rewrite_src(std::uint8_t* frame, const PacketMeta& meta, std::uint32_t addr, std::uint16_t port)
{
    rewrite_end(frame, meta, FlowEnd::source, addr, port);
}

// A fresh 20-byte IPv4 header (no options) for a reply we build.
void write_ipv4_header(std::uint8_t* ip, std::uint8_t tos, std::uint16_t total_len, bool dont_fragment,
                       std::uint8_t proto, std::uint32_t saddr, std::uint32_t daddr)
{
    ip[0] = 0x45;
    ip[1] = tos;
    store16(ip + 2, be16_from_host(total_len));
    store16(ip + 4, 0);
    store16(ip + 6, be16_from_host(dont_fragment ? 0x4000 : 0));
    ip[8] = kReplyTtl;
    ip[9] = proto;
    store32(ip + 12, saddr);
    store32(ip + 16, daddr);
    store16(ip + kIpv4CheckOffset, ipv4_header_checksum(ip, 20));
}

// Sets the frame (a single segment from now on) to `len` bytes, zero-padded
// to the Ethernet minimum. False when the buffer cannot hold it.
bool set_frame_len(rte_mbuf* m, std::uint16_t len)
{
    if (m->nb_segs > 1) {
        rte_pktmbuf_free(m->next);
        m->next = nullptr;
        m->nb_segs = 1;
    }
    const std::uint16_t want = len < kEthMin ? kEthMin : len;
    if (want > m->data_len + rte_pktmbuf_tailroom(m)) return false;
    if (len < kEthMin) std::memset(mbuf_frame(m) + len, 0, kEthMin - len);
    m->data_len = want;
    m->pkt_len = want;
    return true;
}

// Ethernet padding (frame bytes past the IPv4 total length) belongs to the
// link it came from, not to the packet: cut, and the frame zero-padded to
// the Ethernet minimum anew (a received tag counted, so the frame stays at
// the minimum if egress_tag removes it), so a sender's trailing bytes never
// travel on.
void strip_padding(rte_mbuf* m, const PacketMeta& meta)
{
    if ((meta.flags & kPmPadded) == 0 || m->nb_segs != 1) return;
    const std::uint16_t end = static_cast<std::uint16_t>(meta.l3_off + meta.l3_len);
    const std::uint16_t keep = std::max(end, static_cast<std::uint16_t>(kEthMin + meta.l3_off - 14));
    const std::uint16_t len = m->data_len;  // > end: kPmPadded
    if (len > keep) rte_pktmbuf_trim(m, static_cast<std::uint16_t>(len - keep));
    std::memset(mbuf_frame(m) + end, 0, std::min(len, keep) - end);
}

// Two packets' keys name the same flow (direction included).
bool same_flow(const FlowKey4& a, const FlowKey4& b)
{
    return a.saddr == b.saddr && a.daddr == b.daddr && a.sport == b.sport && a.dport == b.dport &&
           a.proto == b.proto;
}

}  // namespace

NatPipeline::NatPipeline(const WorkerInfo& info, NatPipelineConfig config)
    : info_(info),
      cfg_(std::move(config)),
      frags_(cfg_.frag_table_size, cfg_.frag_timeout_ms, cfg_.frag_hold_limit),
      pool_(cfg_.pool)
{
    static_assert(kRxBurst <= kStageMax);
    exc_service_ = cfg_.exception.enabled() && info_.index == cfg_.exception.service_worker;
    const std::uint64_t hz = rte_get_tsc_hz();
    tsc_per_ms_ = hz >= 1000 ? hz / 1000 : 1;
    ip_id_ = static_cast<std::uint16_t>(rte_rdtsc());  // not the same sequence after every restart
}

PipelineFactory NatPipeline::factory(NatPipelineConfig config)
{
    return [config](const WorkerInfo& info) -> std::unique_ptr<PacketPipeline> {
        return std::make_unique<NatPipeline>(info, config);
    };
}

std::uint32_t NatPipeline::now_ms() const
{
    if (cfg_.clock_ms != nullptr) return cfg_.clock_ms();
    return static_cast<std::uint32_t>(rte_get_tsc_cycles() / tsc_per_ms_);
}

void NatPipeline::drop(rte_mbuf* m, Counter c)
{
    counters_.inc(c);
    rte_pktmbuf_free(m);
}

void NatPipeline::transmit(TxStage& out, std::uint16_t port, rte_mbuf* m)
{
    counters_.inc(Counter::tx_packets);
    counters_.add(Counter::tx_bytes, rte_pktmbuf_pkt_len(m));
    out.send(port, m);
}

DestCounters* NatPipeline::dest_counters(const Conn4& conn) const
{
    return cfg_.registry != nullptr ? cfg_.registry->dest(conn.dest_id) : nullptr;
}

void NatPipeline::process(const RxQueueRef& rx, rte_mbuf** pkts, std::uint16_t n, TxStage& out)
{
    now_ = now_ms();
    if (pool_ == nullptr) pool_ = pkts[0]->pool;
    // One acquire per burst (publisher.h's contract); the worker loop
    // reports the quiescent state after end_of_loop.
    const Snapshot* snap = cfg_.publisher != nullptr ? cfg_.publisher->acquire() : nullptr;
    const Burst b{snap, snap != nullptr ? snap->routes() : nullptr, rx.port, &out};
    if (snap != nullptr) timeouts_ = snap->timeouts();

    PacketMeta meta[kRxBurst];
    ParseVerdict verdict[kRxBurst];
    FlowKey4 keys[kRxBurst];
    Conn4* conns[kRxBurst];
    ConnDir dirs[kRxBurst];
    bool opens[kRxBurst];           // by key: may open a connection (UDP, TCP SYN)
    std::uint8_t key_of[kRxBurst];  // index into keys, or kNoKey
    constexpr std::uint8_t kNoKey = 0xff;
    static_assert(kRxBurst <= ConnTable4::kMaxBulk && kRxBurst < kNoKey);

    counters_.add(Counter::rx_packets, n);
    created_in_burst_ = false;
    for (HopMemo& h : hop_memo_) h.valid = false;
    std::uint32_t nkeys = 0;
    std::uint64_t bytes = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        bytes += rte_pktmbuf_pkt_len(m);
        key_of[i] = kNoKey;
        const ParseVerdict v = parse_frame(mbuf_frame(m), rte_pktmbuf_data_len(m), meta[i]);
        verdict[i] = v;
        counters_.inc(parse_verdict_counter(v));
        if (parse_malformed(v) || v == ParseVerdict::vlan_qinq) {  // counted by the verdict's own counter
            rte_pktmbuf_free(m);
            pkts[i] = nullptr;
            continue;
        }
        // RFC 1812 5.2.2, as Linux's ip_rcv: a router verifies the IPv4
        // header checksum (nothing offloads it here). A corrupt header must
        // not open, close or move a connection.
        if (verify_ipv4_header(mbuf_frame(m), meta[i]) == CsumCheck::bad) [[unlikely]] {
            drop(m, Counter::drop_bad_ip_checksum);
            pkts[i] = nullptr;
            continue;
        }
        if ((meta[i].flags & kPmVlan) != 0) {
            // VID 0 is an 802.1p priority tag, no VLAN (IEEE 802.1Q): on an
            // untagged port it is taken as untagged, as Linux does.
            const std::uint16_t vid = meta[i].vlan_tci & 0x0fff;
            if (vid != cfg_.ports[rx.port].vlan) {
                drop(m, Counter::drop_vlan_unknown);
                pkts[i] = nullptr;
                continue;
            }
            counters_.inc(vid == 0 ? Counter::vlan_priority_tagged : Counter::vlan_passed);
        }
        if (v == ParseVerdict::ok_ipv4_tcp || v == ParseVerdict::ok_ipv4_udp) {
            key_of[i] = static_cast<std::uint8_t>(nkeys);
            opens[nkeys] = v == ParseVerdict::ok_ipv4_udp ||
                           (meta[i].tcp_flags & (kTcpSyn | kTcpAck | kTcpRst | kTcpFin)) == kTcpSyn;
            keys[nkeys++] = FlowKey4{meta[i].saddr, meta[i].daddr, meta[i].sport, meta[i].dport, meta[i].l3_proto};
        }
    }
    counters_.add(Counter::rx_bytes, bytes);
    // The whole burst's buckets are prefetched before any entry is compared.
    if (nkeys != 0 && cfg_.conns != nullptr) {
        cfg_.conns->lookup_bulk(keys, nkeys, conns, dirs);
    } else {
        for (std::uint32_t k = 0; k < nkeys; ++k) conns[k] = nullptr;
    }
    // Misses that open a connection are scheduled now, all together, so the
    // index lines their inserts will write are fetched while the burst goes on.
    // Only what may open one (UDP, a TCP SYN) takes a pick, as in IPVS, and
    // a new flow's later packets in this burst share its first packet's
    // pick: one new flow, one pick (rr/wrr sequences stay exact).
    NewConnPlan plans[kRxBurst];
    for (std::uint32_t k = 0; k < nkeys; ++k) {
        if (conns[k] != nullptr) {
            plans[k] = NewConnPlan{};
            continue;
        }
        const NewConnPlan* earlier = nullptr;
        for (std::uint32_t j = 0; opens[k] && j < k && earlier == nullptr; ++j) {
            if (plans[j].dest != nullptr && same_flow(keys[j], keys[k])) earlier = &plans[j];
        }
        plans[k] = earlier != nullptr ? *earlier : plan_new_conn(b, keys[k], opens[k]);
    }

    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (m == nullptr) continue;
        switch (verdict[i]) {
        case ParseVerdict::ok_arp: handle_arp(b, m, meta[i]); break;
        case ParseVerdict::ok_ipv4_icmp: handle_icmp(b, m, meta[i]); break;
        case ParseVerdict::ok_ipv4_tcp:
        case ParseVerdict::ok_ipv4_udp: {
            const std::uint8_t k = key_of[i];
            // The bulk lookup ran before this burst created anything: a
            // miss after a creation looks again (a SYN and the ACK after
            // it may share a burst).
            if (conns[k] == nullptr && created_in_burst_ && cfg_.conns != nullptr) {
                conns[k] = cfg_.conns->lookup(keys[k], dirs[k]);
            }
            // A first fragment: its rewrite is recorded for the later ones
            // (read before handle_l4 hands the mbuf on).
            const bool first_frag = (meta[i].flags & kPmMoreFragments) != 0;
            const std::uint16_t ip_id = first_frag ? load16(mbuf_frame(m) + meta[i].l3_off + 4) : 0;
            handle_l4(b, m, meta[i], conns[k], dirs[k], plans[k]);
            if (first_frag) first_fragment(b, meta[i], ip_id);
            break;
        }
        case ParseVerdict::ok_ipv4_fragment: later_fragment(b, m, meta[i]); break;
        case ParseVerdict::ok_ipv6: to_kernel(b, m, meta[i], Counter::drop_ipv6); break;
        case ParseVerdict::not_ip: to_kernel(b, m, meta[i], Counter::drop_not_ip); break;
        default:  // ok_ipv4_other: VRRP, OSPF, GRE, IPIP...
            if (is_local(b, meta[i].daddr) || link_local_multicast(meta[i].daddr)) {
                if (meta[i].l3_proto == kIpProtoVrrp && cfg_.exception.enabled()) {
                    counters_.inc(Counter::exception_vrrp_to_kernel);
                }
                to_kernel(b, m, meta[i], Counter::not_for_us);
            } else {
                drop(m, Counter::not_for_us);
            }
            break;
        }
    }
    flush_to_kernel();
}

void NatPipeline::to_kernel(const Burst& b, rte_mbuf* m, const PacketMeta& meta, Counter no_tap)
{
    if (!cfg_.exception.enabled()) {
        drop(m, no_tap);
        return;
    }
    if ((meta.flags & kPmVlan) != 0) {  // the TAP stands for the VLAN's interface: untagged
        std::uint8_t* frame = mbuf_frame(m);
        std::memmove(frame + 4, frame, 12);
        rte_pktmbuf_adj(m, 4);
    }
    m->port = b.port;  // the TAP's index, for the service worker
    exc_stage_[exc_n_++] = m;
}

void NatPipeline::flush_to_kernel()
{
    if (exc_n_ == 0) return;
    const unsigned queued = rte_ring_sp_enqueue_burst(cfg_.exception.to_kernel[info_.index],
                                                      reinterpret_cast<void* const*>(exc_stage_.data()), exc_n_, nullptr);
    counters_.add(Counter::exception_to_kernel, queued);
    if (queued < exc_n_) {
        rte_pktmbuf_free_bulk(exc_stage_.data() + queued, exc_n_ - queued);
        counters_.add(Counter::exception_ring_full, exc_n_ - queued);
    }
    exc_n_ = 0;
}

// The service worker, once per loop: at most kExceptionBurst frames from
// each worker's ring to the TAPs, and from each TAP to its port, so the
// kernel's traffic moves on every loop however loaded the data plane is.
void NatPipeline::service_exception(TxStage& out)
{
    const ExceptionPath& ex = cfg_.exception;
    rte_mbuf* pkts[kExceptionBurst];
    for (rte_ring* r : ex.to_kernel) {
        const unsigned n = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(pkts), kExceptionBurst, nullptr);
        // Runs of frames for the same TAP in one TX burst each.
        for (unsigned i = 0; i < n;) {
            const std::uint16_t port = pkts[i]->port;
            unsigned j = i + 1;
            while (j < n && pkts[j]->port == port) ++j;
            const auto run = static_cast<std::uint16_t>(j - i);
            const std::uint16_t sent =
                port < ex.tap_port_ids.size() ? rte_eth_tx_burst(ex.tap_port_ids[port], 0, pkts + i, run) : 0;
            counters_.add(Counter::exception_tap_sent, sent);
            if (sent < run) {
                rte_pktmbuf_free_bulk(pkts + i + sent, run - sent);
                counters_.add(Counter::exception_tap_full, run - sent);
            }
            i = j;
        }
    }
    // The kernel did routing and ARP itself: its frames go out as they are,
    // tagged for the port's VLAN and padded to the Ethernet minimum.
    const auto taps = static_cast<std::uint16_t>(std::min<std::size_t>(ex.tap_port_ids.size(), out.port_count()));
    for (std::uint16_t p = 0; p < taps; ++p) {
        const std::uint16_t n = rte_eth_rx_burst(ex.tap_port_ids[p], 0, pkts, kExceptionBurst);
        if (n == 0) continue;
        const std::uint16_t vid = cfg_.ports[p].vlan;
        std::uint16_t k = 0;
        for (std::uint16_t i = 0; i < n; ++i) {
            rte_mbuf* m = pkts[i];
            if (vid != 0) {
                auto* f = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, 4));
                if (f == nullptr || m->nb_segs != 1) {
                    drop(m, Counter::exception_from_kernel_drop);
                    continue;
                }
                std::memmove(f, f + 4, 12);
                store16(f + 12, be16_from_host(kEtherTypeVlan));
                store16(f + 14, be16_from_host(vid));
            }
            if (m->pkt_len < kEthMin && m->nb_segs == 1 && rte_pktmbuf_tailroom(m) >= kEthMin - m->data_len) {
                const std::uint16_t pad = static_cast<std::uint16_t>(kEthMin - m->data_len);
                std::memset(rte_pktmbuf_append(m, pad), 0, pad);
            }
            pkts[k++] = m;
        }
        const std::uint16_t sent = out.send_now(p, pkts, k);
        std::uint64_t bytes = 0;
        for (std::uint16_t i = 0; i < sent; ++i) bytes += rte_pktmbuf_pkt_len(pkts[i]);
        counters_.add(Counter::exception_from_kernel, sent);
        counters_.add(Counter::tx_packets, sent);
        counters_.add(Counter::tx_bytes, bytes);
        if (sent < k) {
            rte_pktmbuf_free_bulk(pkts + sent, k - sent);
            counters_.add(Counter::exception_from_kernel_drop, k - sent);
        }
    }
}

void NatPipeline::handle_arp(const Burst& b, rte_mbuf* m, const PacketMeta& meta)
{
    const NatPort& port = cfg_.ports[b.port];
    // The port's own addresses, and VIPs: on the port whose connected prefix
    // holds them (any port when no route says).
    auto answer_for = [&b](std::uint32_t ip) {
        const RouteHop4 hop = b.routes != nullptr ? b.routes->lookup(ip) : RouteHop4{};
        if (hop.kind == RouteKind::local) return hop.port == b.port;
        if (b.snap == nullptr || !b.snap->serves_vip4(ip)) return false;
        return hop.kind == RouteKind::none || hop.port == b.port;
    };
    bool learn = false;
    const ArpRx v = arp_input_mbuf(m, meta, port.mac, answer_for, &learn);
    Counter c;
    if (arp_rx_counter(v, c)) counters_.inc(c);
    // A request's sender is learned only if it is on-link here: we never
    // resolve anything else on this port, and a spoofed flood then fills at
    // most the port's prefixes (neigh_table.h's poisoning policy).
    if (learn && v == ArpRx::request_answered && b.routes != nullptr) {
        const RouteHop4 hop = b.routes->lookup(meta.arp_spa);
        if (hop.kind != RouteKind::connected || hop.port != b.port) {
            learn = false;
            counters_.inc(Counter::arp_request_offlink);
        }
    }
    bool refused = false;  // contradicts a neighbour confirmed within reachable_ms
    if (learn && cfg_.neigh != nullptr) {
        const MacAddr sha = arp_sender_mac(meta);
        const ArpSource src = arp_learn_source(v);
        const NeighLearn nl = cfg_.neigh->learn(b.port, meta.arp_spa, sha, src, now_);
        counters_.inc(learn_counter(src, nl.verdict));
        refused = nl.verdict == LearnVerdict::conflict;
        for (std::uint32_t h = 0; h < nl.n_held; ++h) {
            std::memcpy(mbuf_frame(nl.held[h]), sha.data(), 6);
            counters_.inc(Counter::neigh_held_sent);
            transmit(*b.out, b.port, nl.held[h]);
        }
    }
    if (v == ArpRx::request_answered) {
        transmit(*b.out, b.port, m);
    } else if (cfg_.exception.enabled() && !refused &&
               (v == ArpRx::gratuitous || (v == ArpRx::reply && is_local(b, meta.arp_tpa)))) {
        // The kernel resolves its own next hops (its requests go out through
        // the TAP): it gets the replies to us, and gratuitous ARPs. Requests
        // for our addresses are answered here only (no second reply). Not
        // what the data plane refused as a conflict: Linux lets a gratuitous
        // ARP, or a reply past its 1 s locktime, override even a reachable
        // entry, and the kernel's health checks would follow a forged MAC.
        counters_.inc(Counter::exception_arp_to_kernel);
        to_kernel(b, m, meta, Counter::not_for_us);
    } else {
        rte_pktmbuf_free(m);
    }
}

void NatPipeline::handle_icmp(const Burst& b, rte_mbuf* m, const PacketMeta& meta)
{
    const bool local = is_local(b, meta.daddr);
    // Errors about connections are translated (nat_icmp_frag.cpp).
    if (icmp_is_error(meta.icmp_type) && icmp_error(b, m, meta)) return;
    const bool ours = local || (b.snap != nullptr && b.snap->serves_vip4(meta.daddr));
    if (!ours || meta.icmp_type != kIcmpEchoRequest) {
        // The kernel's: echo replies to its pings, errors about its own
        // connections (port unreachable, time exceeded for traceroute...).
        if (local) {
            to_kernel(b, m, meta, icmp_is_error(meta.icmp_type) ? Counter::icmp_error_no_conn : Counter::not_for_us);
            return;
        }
        drop(m, Counter::not_for_us);
        return;
    }
    if ((meta.flags & kPmFragment) != 0 || unanswerable_source(meta.saddr)) {
        drop(m, (meta.flags & kPmFragment) != 0 ? Counter::drop_ipv4_fragment : Counter::not_for_us);
        return;
    }
    if (verify_l4(mbuf_frame(m), meta) == CsumCheck::bad) {  // as Linux's icmp_rcv: never answered
        drop(m, Counter::drop_bad_l4_checksum);
        return;
    }
    std::uint8_t* frame = mbuf_frame(m);
    std::uint8_t* ip = frame + meta.l3_off;
    std::uint8_t* icmp = frame + meta.l4_off;
    // Swapping the addresses leaves both checksums' sums unchanged.
    store32(ip + 12, meta.daddr);
    store32(ip + 16, meta.saddr);
    const std::uint16_t old_ttl = load16(ip + 8);
    const std::uint16_t new_ttl = with_ttl(old_ttl, kReplyTtl);
    store16(ip + 8, new_ttl);
    store16(ip + kIpv4CheckOffset, csum_replace2(load16(ip + kIpv4CheckOffset), old_ttl, new_ttl));
    const std::uint16_t old_type = load16(icmp);
    icmp[0] = kIcmpEchoReply;
    store16(icmp + kIcmpCheckOffset, csum_replace2(load16(icmp + kIcmpCheckOffset), old_type, load16(icmp)));
    counters_.inc(Counter::icmp_echo_answered);
    reply_out(b, m, meta);
}

// Back to the sender's MAC on the port the packet came in on.
void NatPipeline::reply_out(const Burst& b, rte_mbuf* m, const PacketMeta& meta)
{
    std::uint8_t* eth = mbuf_frame(m) + meta.l2_off;
    std::memcpy(eth, eth + 6, 6);
    std::memcpy(eth + 6, cfg_.ports[b.port].mac.data(), 6);
    transmit(*b.out, b.port, m);
}

// A miss: the service it is for and the real server the scheduler picks,
// with the index line of the connection's out key prefetched. Scheduled
// before it is known whether the packet may open a connection (a TCP
// segment without SYN, TTL 1): the pick then goes unused, which moves an
// rr/wrr position by one and nothing else.
NatPipeline::NewConnPlan NatPipeline::plan_new_conn(const Burst& b, const FlowKey4& key, bool schedule)
{
    NewConnPlan plan;
    if (b.snap == nullptr) return plan;
    plan.svc = b.snap->find4(key.daddr, key.dport, key.proto);
    if (plan.svc == nullptr) return plan;
    if (!b.snap->serves_vip4(key.daddr)) {  // VRRP backup for this VIP: not ours to serve
        plan.svc = nullptr;
        plan.vip_released = true;
        return plan;
    }
    // Not a packet that opens a flow (new_conn drops it), or a persistent
    // service (persist_pick() picks once the flow may open): no pick.
    if (!schedule || plan.svc->persistent()) return plan;
    plan.dest = plan.svc->pick(sched_flow_of(key));
    if (plan.dest != nullptr && cfg_.conns != nullptr) {
        const std::uint16_t dport = plan.dest->port != 0 ? plan.dest->port : key.dport;
        cfg_.conns->prefetch_insert(FlowKey4{plan.dest->addr[0], key.saddr, dport, key.sport, key.proto});
    }
    return plan;
}

void NatPipeline::handle_l4(const Burst& b, rte_mbuf* m, const PacketMeta& meta, Conn4* conn, ConnDir dir,
                            const NewConnPlan& plan)
{
    NewConnPlan fresh;  // for a SYN that reuses a finished connection's ports
    if (conn != nullptr) {
        if (!reuse_finished(b, meta, *conn, dir, fresh)) {
            conn_packet(b, m, meta, *conn, dir);
            return;
        }
    }
    if (b.snap == nullptr) {
        drop(m, Counter::not_for_us);
        return;
    }
    const NewConnPlan& p = conn != nullptr ? fresh : plan;
    // Nothing opens a connection, or is answered, from an address no host
    // sends from, or from our own (Linux drops both as martians before
    // IPVS sees them).
    if ((p.svc != nullptr || b.snap->serves_vip4(meta.daddr)) &&
        (martian_source(meta.saddr) || is_local(b, meta.saddr) || b.snap->serves_vip4(meta.saddr))) [[unlikely]] {
        drop(m, Counter::drop_martian_source);
        return;
    }
    if (p.svc != nullptr) {
        new_conn(b, m, meta, *p.svc, p.dest);
    } else if (p.vip_released) {
        drop(m, Counter::vip_not_owned);
    } else if (cfg_.exception.enabled() && is_local(b, meta.daddr)) {
        // The appliance's own sockets: ssh, a health checker's SYN-ACK.
        to_kernel(b, m, meta, Counter::not_for_us);
    } else if (b.snap->serves_vip4(meta.daddr)) {
        no_service(b, m, meta);
    } else if (b.snap->from_real_server4(meta.saddr, meta.sport, meta.l3_proto)) {
        drop(m, Counter::nat_reply_no_conn);
    } else {
        drop(m, Counter::not_for_us);
    }
}

// IPVS's conn_reuse_mode 1 (the default): a client SYN that lands on a
// connection of the same ports in TIME_WAIT or CLOSE, not placed by a
// persistence template, is a new connection: the old one is removed and the
// SYN scheduled afresh (else a reused port would stick to a server that may
// have left the service). True when `conn` was removed; `plan` is then the
// SYN's.
bool NatPipeline::reuse_finished(const Burst& b, const PacketMeta& meta, Conn4& conn, ConnDir dir,
                                 NewConnPlan& plan)
{
    if (dir != ConnDir::in || !is_tcp(meta) ||
        (meta.tcp_flags & (kTcpSyn | kTcpAck | kTcpRst | kTcpFin)) != kTcpSyn || conn.control != 0 ||
        b.snap == nullptr) {
        return false;
    }
    const auto st = static_cast<ConnState>(conn.state.load(std::memory_order_relaxed));
    if (st != ConnState::time_wait && st != ConnState::close) return false;
    ConnState last;
    if (!cfg_.conns->remove(info_.index, &conn, &last)) return false;  // another worker did
    on_expire(this, conn, last);
    counters_.inc(Counter::conn_reused);
    plan = plan_new_conn(b, FlowKey4{meta.saddr, meta.daddr, meta.sport, meta.dport, meta.l3_proto}, true);
    return true;
}

void NatPipeline::new_conn(const Burst& b, rte_mbuf* m, const PacketMeta& meta, const Service& svc, const Dest* d)
{
    const bool tcp = is_tcp(meta);
    if (tcp && (meta.tcp_flags & (kTcpSyn | kTcpAck | kTcpRst | kTcpFin)) != kTcpSyn) {
        drop(m, Counter::conn_not_syn);
        return;
    }
    if (meta.ttl <= 1) {  // before a connection is made for it
        ttl_exceeded(b, m, meta);
        return;
    }
    Conn4* tpl = nullptr;  // the persistence template placing this flow (referenced)
    if (svc.persistent() && cfg_.conns != nullptr) {
        const PersistPick p = persist_pick(*cfg_.conns, info_.index, svc,
                                           FlowKey4{meta.saddr, meta.daddr, meta.sport, meta.dport, meta.l3_proto},
                                           now_, counters_);
        if (p.dest == nullptr) {
            drop(m, p.drop);
            return;
        }
        d = p.dest;
        tpl = p.tpl;
    }
    if (d == nullptr) {
        drop(m, Counter::sched_no_dest);
        return;
    }
    Conn4* c = cfg_.conns != nullptr ? cfg_.conns->alloc(info_.index) : nullptr;
    if (c == nullptr) {
        if (tpl != nullptr) ConnTable4::release_template(*tpl, now_);
        drop(m, Counter::conn_table_full);
        return;
    }
    c->caddr = meta.saddr;
    c->vaddr = meta.daddr;
    c->daddr = d->addr[0];
    c->cport = meta.sport;
    c->vport = meta.dport;
    // A port-0 service's flows keep the client's destination port (IPVS).
    c->dport = d->port != 0 && svc.key().port != 0 ? d->port : meta.dport;
    c->proto = meta.l3_proto;
    c->fwd = static_cast<std::uint8_t>(d->fwd);  // the dest's method: one service may mix them
    c->svc_id = svc.id();
    c->dest_id = d->id;
    c->two_way = d->fwd == FwdMethod::nat ? 1 : 0;  // DR/TUN replies bypass us: no out slot
    std::memset(c->pad_, 0, sizeof c->pad_);
    if (tpl != nullptr) c->control = cfg_.conns->index_of(tpl) + 1;
    const ConnState st =
        tcp ? next_tcp_state(ConnState::none, ConnDir::in, meta.tcp_flags, c->two_way == 0) : ConnState::udp;
    c->flags.store(0, std::memory_order_relaxed);
    c->expires_ms.store(now_ + timeouts_.of(st), std::memory_order_relaxed);
    // Counted before it is visible: another worker may move it at once.
    count_enter(d->counters, st);
    if (!cfg_.conns->link(info_.index, c, st)) {
        count_leave(d->counters, st);
        if (tpl != nullptr) ConnTable4::release_template(*tpl, now_);
        drop(m, Counter::conn_bucket_full);
        return;
    }
    counters_.inc(Counter::conn_new);
    created_in_burst_ = true;
    if (d->counters != nullptr) d->counters->traffic.slot(info_.index).add_conn();
    svc.counters().traffic.slot(info_.index).add_conn();
    const std::uint32_t len = rte_pktmbuf_pkt_len(m);
    if (d->counters != nullptr) d->counters->traffic.slot(info_.index).add_in(1, len);
    svc.counters().traffic.slot(info_.index).add_in(1, len);
    xmit_in(b, m, meta, *c);
}

void NatPipeline::xmit_in(const Burst& b, rte_mbuf* m, const PacketMeta& meta, const Conn4& conn)
{
    switch (static_cast<FwdMethod>(conn.fwd)) {
    case FwdMethod::dr: xmit_dr(b, m, meta, conn.daddr); return;
    case FwdMethod::tun: xmit_tun(b, m, meta, conn.daddr); return;
    case FwdMethod::nat: break;
    }
    RouteHop4 hop;
    if (!nat_route(b, m, meta, conn.daddr, hop)) return;
    strip_padding(m, meta);
    rewrite_dst(mbuf_frame(m), meta, conn.daddr, conn.dport);
    nat_xmit(b, m, meta, hop, Counter::nat_in);
}

// Follows the TCP state machine with a CAS from the state the decision was
// made on, so the dest's active/inactive counts move exactly once per
// transition even when both directions arrive on different workers. DR/TUN
// connections never see a reply: IPVS's INPUT-ONLY table (its NOOUTPUT flag).
void NatPipeline::track_state(Conn4& conn, ConnDir dir, std::uint8_t tcp_flags)
{
    for (int attempt = 0; attempt < 8; ++attempt) {
        const auto cur = static_cast<ConnState>(conn.state.load(std::memory_order_relaxed));
        if (cur == ConnState::dead) return;  // being removed: the remover settles the counts
        const ConnState next = next_tcp_state(cur, dir, tcp_flags, conn.two_way == 0);
        if (next != cur) {
            if (!ConnTable4::set_state(conn, cur, next)) continue;
            if (state_is_active(cur) != state_is_active(next)) {
                DestCounters* dc = dest_counters(conn);
                count_leave(dc, cur);
                count_enter(dc, next);
            }
            if ((tcp_flags & kTcpRst) != 0) counters_.inc(Counter::conn_reset);
        }
        touch(conn, now_ + timeouts_.of(next));
        return;
    }
}

void NatPipeline::conn_packet(const Burst& b, rte_mbuf* m, const PacketMeta& meta, Conn4& conn, ConnDir dir)
{
    if (meta.ttl <= 1) {
        ttl_exceeded(b, m, meta);
        return;
    }
    if (is_tcp(meta)) {
        track_state(conn, dir, meta.tcp_flags);
    } else {
        touch(conn, now_ + timeouts_.udp_ms);
    }
    DestCounters* dc = dest_counters(conn);
    ServiceCounters* sc = cfg_.registry != nullptr ? cfg_.registry->service(conn.svc_id) : nullptr;
    const std::uint32_t len = rte_pktmbuf_pkt_len(m);
    std::uint8_t* frame = mbuf_frame(m);
    if (dir == ConnDir::in) {
        counters_.inc(Counter::conn_hit_in);
        if (dc != nullptr) dc->traffic.slot(info_.index).add_in(1, len);
        if (sc != nullptr) sc->traffic.slot(info_.index).add_in(1, len);
        xmit_in(b, m, meta, conn);
        return;
    }
    counters_.inc(Counter::conn_hit_out);
    if ((conn.flags.load(std::memory_order_relaxed) & kConnSeenReply) == 0) {
        conn.flags.fetch_or(kConnSeenReply, std::memory_order_relaxed);
    }
    if (dc != nullptr) dc->traffic.slot(info_.index).add_out(1, len);
    if (sc != nullptr) sc->traffic.slot(info_.index).add_out(1, len);
    RouteHop4 hop;
    if (!nat_route(b, m, meta, meta.daddr, hop)) return;
    strip_padding(m, meta);
    rewrite_src(frame, meta, conn.vaddr, conn.vport);
    nat_xmit(b, m, meta, hop, Counter::nat_out);
}

// NAT's route to `to`, and the egress MTU checked before the rewrite: too
// big with DF, an ICMP fragmentation needed goes back quoting the packet
// as received (IPVS's ensure_mtu_is_adequate() before its dnat; Linux's
// ip_forward() before IPVS's snat) and false is returned.
bool NatPipeline::nat_route(const Burst& b, rte_mbuf* m, const PacketMeta& meta, std::uint32_t to, RouteHop4& hop)
{
    if (!route_to_server(b, m, to, hop)) return false;
    const std::uint16_t mtu = cfg_.ports[hop.port].mtu;
    if (meta.l3_len > mtu && (meta.flags & kPmDontFragment) != 0) {
        too_big(b, m, meta, hop, mtu, mtu, Counter::nat_in);  // DF: never counts its xmit
        return false;
    }
    return true;
}

// The rewritten NAT packet out through `hop`, counted as `xmit`: as
// fragments when it is over the egress MTU (no DF: nat_route() answered
// the others), as Linux fragments what IPVS rewrote.
void NatPipeline::nat_xmit(const Burst& b, rte_mbuf* m, const PacketMeta& meta, const RouteHop4& hop, Counter xmit)
{
    const std::uint16_t mtu = cfg_.ports[hop.port].mtu;
    if (meta.l3_len > mtu) {
        too_big(b, m, meta, hop, mtu, mtu, xmit);
        return;
    }
    counters_.inc(xmit);
    forward_via(b, m, meta, hop);
}

void NatPipeline::no_service(const Burst& b, rte_mbuf* m, const PacketMeta& meta)
{
    const bool tcp = is_tcp(meta);
    // Never answer an RST (RFC 793), nor anything that cannot be answered.
    if ((tcp && (meta.tcp_flags & kTcpRst) != 0) || unanswerable_source(meta.saddr) ||
        (meta.flags & kPmFragment) != 0) {
        drop(m, Counter::no_service_dropped);
        return;
    }
    std::uint8_t* frame = mbuf_frame(m);
    // Linux's TCP and UDP drop a bad checksum before answering a closed
    // port; so does kadp where it answers (forwarded traffic is not
    // verified, as IPVS: the end host drops it).
    if (verify_l4(frame, meta) == CsumCheck::bad) {
        drop(m, Counter::drop_bad_l4_checksum);
        return;
    }
    std::uint8_t* ip = frame + meta.l3_off;
    if (tcp) {
        // RFC 793 3.4 "Reset Generation", closed port: if the segment has an
        // ACK, <SEQ=SEG.ACK><CTL=RST>; otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
        // <CTL=RST,ACK>, SYN and FIN counting in SEG.LEN.
        const std::uint8_t* in_tcp = frame + meta.l4_off;
        const std::uint32_t seq = load_be32(in_tcp + 4);
        const std::uint32_t ack = load_be32(in_tcp + 8);
        const std::uint32_t seg_len = static_cast<std::uint32_t>(meta.l4_len - meta.l4_hlen) +
                                      ((meta.tcp_flags & kTcpSyn) != 0 ? 1U : 0U) +
                                      ((meta.tcp_flags & kTcpFin) != 0 ? 1U : 0U);
        const bool has_ack = (meta.tcp_flags & kTcpAck) != 0;
        std::uint8_t* tcp_out = ip + 20;  // everything needed was read above
        store16(tcp_out, meta.dport);
        store16(tcp_out + 2, meta.sport);
        store32(tcp_out + 4, be32_from_host(has_ack ? ack : 0));
        store32(tcp_out + 8, be32_from_host(has_ack ? 0 : seq + seg_len));
        tcp_out[12] = 0x50;
        tcp_out[13] = has_ack ? kTcpRst : static_cast<std::uint8_t>(kTcpRst | kTcpAck);
        store16(tcp_out + 14, 0);  // window
        store16(tcp_out + kTcpCheckOffset, 0);
        store16(tcp_out + 18, 0);  // urgent pointer
        store16(tcp_out + kTcpCheckOffset,
                tcp_checksum(ipv4_pseudo_sum(meta.daddr, meta.saddr, IPPROTO_TCP, 20), tcp_out, 20));
        write_ipv4_header(ip, 0, 40, true, IPPROTO_TCP, meta.daddr, meta.saddr);  // as Linux sends it
        if (!set_frame_len(m, static_cast<std::uint16_t>(meta.l3_off + 40))) {
            drop(m, Counter::no_service_dropped);
            return;
        }
        counters_.inc(Counter::no_service_rst);
        reply_out(b, m, meta);
        return;
    }
    send_icmp_error(b, m, meta,
                    {.type = kIcmpUnreach,
                     .code = kIcmpUnreachPort,
                     .source = meta.daddr,
                     .sent = Counter::no_service_icmp_unreach,
                     .unsent = Counter::no_service_dropped});
}

// TTL 1 or 0 on a packet kadp would forward. IPVS's decrement_ttl() sends
// the sender an ICMP time exceeded (in transit): from the VIP the packet was
// for (Linux's icmp_send() answers from a local destination), else -- a
// real server's reply passing through -- from the address of the port it
// came in on. Never about a fragment (kadp cannot tell the first from the
// others here) nor to an address no reply may go to.
void NatPipeline::ttl_exceeded(const Burst& b, rte_mbuf* m, const PacketMeta& meta)
{
    const std::uint32_t source = icmp_error_source(b, meta);
    if (source == 0 || (meta.flags & kPmFragment) != 0 || unanswerable_source(meta.saddr)) {
        drop(m, Counter::drop_ttl_exceeded);
        return;
    }
    send_icmp_error(b, m, meta,
                    {.type = kIcmpTimeExceeded,
                     .code = kIcmpTimeExceededTtl,
                     .source = source,
                     .sent = Counter::ttl_exceeded_icmp,
                     .unsent = Counter::drop_ttl_exceeded});
}

// Who an ICMP error about a packet to forward comes from: the VIP it was
// for (Linux's icmp_send() answers from a local destination), else -- a
// real server's reply passing through -- the address of the port it came
// in on (0: the port has none).
std::uint32_t NatPipeline::icmp_error_source(const Burst& b, const PacketMeta& meta) const
{
    return b.snap != nullptr && b.snap->serves_vip4(meta.daddr) ? meta.daddr : cfg_.ports[b.port].ip;
}

// An ICMP error (RFC 792/1122) back to the sender of `m`, in its place, as
// `e` says, quoting the IP header + 8 bytes as received; Ethernet turned
// around. Over the worker's budget it is dropped (icmp_error_rate_limited).
void NatPipeline::send_icmp_error(const Burst& b, rte_mbuf* m, const PacketMeta& meta, const IcmpErrorSpec& e)
{
    if (e.budgeted && !icmp_error_allowed()) {
        drop(m, Counter::icmp_error_rate_limited);
        return;
    }
    const std::uint16_t quote = static_cast<std::uint16_t>(meta.l3_hlen + 8);
    const auto total = static_cast<std::uint16_t>(20 + 8 + quote);
    if (!set_frame_len(m, static_cast<std::uint16_t>(meta.l3_off + total))) {
        drop(m, e.unsent);
        return;
    }
    std::uint8_t* ip = mbuf_frame(m) + meta.l3_off;
    std::memmove(ip + 28, ip, quote);
    std::uint8_t* icmp = ip + 20;
    icmp[0] = e.type;
    icmp[1] = e.code;
    store16(icmp + kIcmpCheckOffset, 0);
    store32(icmp + 4, be32_from_host(e.rest));
    store16(icmp + kIcmpCheckOffset, icmp4_checksum(icmp, 8U + quote));
    // TOS 0xc0 (internetwork control) for ICMP errors: RFC 1812 4.3.2.5, as Linux.
    write_ipv4_header(ip, kIcmpErrorTos, total, false, IPPROTO_ICMP, e.source, meta.saddr);
    counters_.inc(e.sent);
    reply_out(b, m, meta);
}

// Linux's icmp_global_allow() per worker: 1,000 ICMP errors a second after
// a burst of kIcmpErrorBurst, so a flood of probes is not reflected at line
// rate. (Linux's per-destination icmp_ratelimit is not kept: a table.)
bool NatPipeline::icmp_error_allowed()
{
    const std::uint32_t elapsed = now_ - icmp_refill_ms_;  // 1 token a millisecond
    if (elapsed != 0) {
        icmp_tokens_ = elapsed >= kIcmpErrorBurst ? kIcmpErrorBurst : std::min(kIcmpErrorBurst, icmp_tokens_ + elapsed);
        icmp_refill_ms_ = now_;
    }
    if (icmp_tokens_ == 0) return false;
    --icmp_tokens_;
    return true;
}

void NatPipeline::forward(const Burst& b, rte_mbuf* m, const PacketMeta& meta, std::uint32_t daddr)
{
    forward_via(b, m, meta, b.routes != nullptr ? b.routes->lookup(daddr) : RouteHop4{});
}

void NatPipeline::forward_via(const Burst& b, rte_mbuf* m, const PacketMeta& meta, const RouteHop4& hop)
{
    if (hop.kind == RouteKind::none || hop.port >= cfg_.ports.size() || hop.port >= b.out->port_count()) {
        drop(m, Counter::route_miss);
        return;
    }
    if (hop.kind == RouteKind::local) {
        drop(m, Counter::not_for_us);
        return;
    }
    std::uint8_t* ip = mbuf_frame(m) + meta.l3_off;
    // TTL - 1 (callers dropped TTL <= 1) on the TTL+protocol word, built in
    // a register: a byte store read back as a word stalls store forwarding.
    const std::uint16_t old_ttl = load16(ip + 8);
    const std::uint16_t new_ttl = with_ttl(old_ttl, static_cast<std::uint8_t>(ip[8] - 1));
    store16(ip + 8, new_ttl);
    store16(ip + kIpv4CheckOffset, csum_replace2(load16(ip + kIpv4CheckOffset), old_ttl, new_ttl));
    std::uint8_t* frame = egress_tag(m, meta, hop.port);  // meta's offsets are stale from here
    if (frame == nullptr) {
        drop(m, Counter::mbuf_alloc_fail);
        return;
    }
    std::memcpy(frame + 6, cfg_.ports[hop.port].mac.data(), 6);
    if (cfg_.neigh == nullptr) {
        drop(m, Counter::neigh_unresolved_dropped);
        return;
    }
    // Multiplicative hash: next hops of one subnet differ in their last
    // byte, the top byte of the wire-order word.
    HopMemo& memo = hop_memo_[((hop.next_hop ^ hop.port) * 0x9e3779b1U) >> 28];
    if (memo.valid && memo.ip == hop.next_hop && memo.port == hop.port) {
        counters_.inc(Counter::neigh_memo_hit);
        NeighResolve::write_mac_bits(frame, memo.mac_bits);
        transmit(*b.out, hop.port, m);
        return;
    }
    const NeighResolve r = cfg_.neigh->resolve(hop.port, hop.next_hop, m, now_);
    if (r.verdict == ResolveVerdict::hit) memo = HopMemo{hop.next_hop, hop.port, true, r.mac_bits};
    switch (r.verdict) {
    case ResolveVerdict::hit:
    case ResolveVerdict::hit_probe:
        r.write_mac(frame);
        transmit(*b.out, hop.port, m);
        if (r.verdict == ResolveVerdict::hit_probe) {
            const MacAddr mac = r.mac();
            send_arp_request(*b.out, hop.port, hop.next_hop, &mac);
        }
        return;
    case ResolveVerdict::held: counters_.inc(Counter::neigh_unresolved_held); return;
    case ResolveVerdict::held_request:
        counters_.inc(Counter::neigh_unresolved_held);
        send_arp_request(*b.out, hop.port, hop.next_hop, nullptr);
        return;
    case ResolveVerdict::hold_full:
    case ResolveVerdict::failed:
    case ResolveVerdict::table_full:
    case ResolveVerdict::busy: drop(m, Counter::neigh_unresolved_dropped); return;
    }
    drop(m, Counter::neigh_unresolved_dropped);
}

// Gives the frame the 802.1Q tag (or none) of the egress port; returns the
// frame's new start (Ethernet header at offset 0), nullptr when there is no
// headroom for a tag.
std::uint8_t* NatPipeline::egress_tag(rte_mbuf* m, const PacketMeta& meta, std::uint16_t port)
{
    const std::uint16_t vid = cfg_.ports[port].vlan;
    const bool tagged = (meta.flags & kPmVlan) != 0;
    if (!tagged && vid == 0) return mbuf_frame(m);
    if (tagged && vid != 0) {
        std::uint8_t* frame = mbuf_frame(m);
        store16(frame + 14, be16_from_host(static_cast<std::uint16_t>((meta.vlan_tci & 0xf000) | vid)));
        return frame;
    }
    if (tagged) {  // to an untagged port: MACs move 4 bytes up over the tag
        std::uint8_t* frame = mbuf_frame(m);
        std::memmove(frame + 4, frame, 12);
        frame = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_adj(m, 4));
        // A minimum-size tagged frame is a runt without its tag: zero-padded
        // back to the Ethernet minimum (not every PMD pads).
        const std::uint16_t len = m->data_len;
        if (m->nb_segs == 1 && len < kEthMin && rte_pktmbuf_append(m, static_cast<std::uint16_t>(kEthMin - len)) != nullptr) {
            std::memset(frame + len, 0, kEthMin - len);
        }
        return frame;
    }
    auto* frame = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, 4));
    if (frame == nullptr) return nullptr;
    std::memmove(frame, frame + 4, 12);
    store16(frame + 12, be16_from_host(kEtherTypeVlan));
    store16(frame + 14, be16_from_host(vid));
    return frame;
}

void NatPipeline::send_arp_request(TxStage& out, std::uint16_t port, std::uint32_t target, const MacAddr* unicast_to)
{
    ArpIface ifc;
    ifc.mac = cfg_.ports[port].mac;
    ifc.ip = cfg_.ports[port].ip;
    ifc.vlan_tci = cfg_.ports[port].vlan;
    ifc.tagged = cfg_.ports[port].vlan != 0;
    rte_mbuf* m = pool_ != nullptr ? alloc_arp_request(pool_, ifc, target, unicast_to) : nullptr;
    if (m == nullptr) {
        counters_.inc(Counter::mbuf_alloc_fail);
        return;
    }
    counters_.inc(Counter::arp_request_sent);
    transmit(out, port, m);
}

void NatPipeline::on_expire(void* self, const Conn4& conn, ConnState last)
{
    auto* p = static_cast<NatPipeline*>(self);
    if (conn.kind == kConnKindTemplate) {  // in no dest's active/inactive counts
        p->counters_.inc(Counter::persist_template_expired);
        return;
    }
    count_leave(p->dest_counters(conn), last);
}

// Once per ms tick: the SYN-flood defense's level from the table's
// occupancy (conn_defense.h), then this worker's slice of the expiry sweep,
// which at a defense level also removes idle half-open connections (their
// dest counts through on_expire, like an expiry).
void NatPipeline::sweep_conns(std::uint32_t elapsed)
{
    const std::uint8_t level =
        next_defense_level(defense_level_, cfg_.conns->linked(), cfg_.conns->capacity(), cfg_.defense);
    if (level != defense_level_) {
        if (level > defense_level_) counters_.inc(Counter::conn_defense_raised);
        // A gauge in a counter slot: unsigned wrap-around moves it down too.
        counters_.add(Counter::conn_defense_level, static_cast<std::uint64_t>(level) - defense_level_);
        defense_level_ = level;
    }
    const std::uint64_t share = cfg_.conns->sweep_share(info_.index);
    const std::uint64_t period = defense_sweep_period_ms(level, cfg_.expire_sweep_ms, cfg_.defense);
    const std::uint64_t budget = std::min<std::uint64_t>(share, (share * elapsed + period - 1) / period);
    const ConnTable4::SweepCounts n = cfg_.conns->sweep_step(
        info_.index, now_, static_cast<std::uint32_t>(budget), half_open_idle_limit_ms(level, cfg_.defense),
        &on_expire, this);
    if (n.expired != 0) counters_.add(Counter::conn_expired, n.expired);
    if (n.evicted != 0) counters_.add(Counter::conn_evicted_half_open, n.evicted);
}

// Control-thread commands; at most a queue's worth per tick.
void NatPipeline::run_commands(TxStage& out)
{
    WorkerCommand cmd;
    for (std::size_t n = 0; n < WorkerChannel::kCommands && cfg_.channels[info_.index].commands.pop(cmd); ++n) {
        switch (cmd.kind) {
        case WorkerCommand::Kind::send_garp: {
            if (cmd.port >= cfg_.ports.size() || cmd.port >= out.port_count()) break;
            ArpIface ifc;
            ifc.mac = cfg_.ports[cmd.port].mac;
            ifc.ip = cmd.ip;
            ifc.vlan_tci = cfg_.ports[cmd.port].vlan;
            ifc.tagged = cfg_.ports[cmd.port].vlan != 0;
            rte_mbuf* m = pool_ != nullptr ? alloc_gratuitous_arp(pool_, ifc, cmd.ip) : nullptr;
            if (m == nullptr) {
                counters_.inc(Counter::mbuf_alloc_fail);
                break;
            }
            counters_.inc(Counter::garp_sent);
            transmit(out, cmd.port, m);
            break;
        }
        }
    }
}

// Once a second: each alarm counter that rose since the last report becomes
// an event for the control thread to log (a full queue: counted, retried
// with the larger delta next second).
void NatPipeline::report_alarms()
{
    if (now_ - reported_ms_ < 1000) return;
    reported_ms_ = now_;
    for (std::size_t i = 0; i < std::size(kAlarmCounters); ++i) {
        const std::uint64_t v = counters_.get(kAlarmCounters[i]);
        if (v == reported_[i]) continue;
        WorkerEvent ev;
        ev.counter = kAlarmCounters[i];
        ev.delta = v - reported_[i];
        if (cfg_.channels[info_.index].events.push(ev)) {
            reported_[i] = v;
        } else {
            counters_.inc(Counter::event_queue_full);
        }
    }
}

void NatPipeline::end_of_loop(TxStage& out)
{
    if (exc_service_) service_exception(out);
    now_ = now_ms();
    // Timers run once per tick of the ms clock, not once per loop: a busy
    // worker loops ~100 times a millisecond.
    const std::uint32_t elapsed = now_ - swept_ms_;
    if (elapsed == 0) return;
    swept_ms_ = now_;
    if (cfg_.channels != nullptr) {
        run_commands(out);
        report_alarms();
    }
    if (cfg_.conns != nullptr) sweep_conns(elapsed);
    frag_expire(elapsed);
    if (cfg_.neigh != nullptr) {
        NeighSweep sweep;
        cfg_.neigh->sweep(cfg_.neigh_sweep_budget, now_, sweep);
        for (std::uint32_t i = 0; i < sweep.n_requests; ++i) {
            if (sweep.requests[i].port < cfg_.ports.size() && sweep.requests[i].port < out.port_count()) {
                send_arp_request(out, sweep.requests[i].port, sweep.requests[i].ip, nullptr);
            }
        }
        if (sweep.n_dropped != 0) {
            rte_pktmbuf_free_bulk(sweep.dropped, sweep.n_dropped);
            counters_.add(Counter::neigh_unresolved_dropped, sweep.n_dropped);
        }
    }
}

}  // namespace kadp::dp
