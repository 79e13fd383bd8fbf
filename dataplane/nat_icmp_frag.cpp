// Runs on: worker lcores. NatPipeline's handling of ICMP errors about
// connections (icmp_error.h) and of IPv4 fragments (frag_table.h): the
// hooks nat_pipeline.cpp calls, kept apart from the TCP/UDP path.
#include <rte_mbuf.h>

#include <algorithm>

#include "dataplane/arp.h"  // mbuf_frame
#include "dataplane/checksum.h"
#include "dataplane/icmp_error.h"
#include "dataplane/nat_pipeline.h"

namespace kadp::dp {
namespace {

constexpr std::uint32_t kMaxDatagram = 65535;
constexpr std::uint16_t kRfc1858TinyOffset = 8;  // a TCP fragment here can overwrite the flags

std::uint16_t ip_id(const std::uint8_t* frame, const PacketMeta& meta) { return load16(frame + meta.l3_off + 4); }

// Why a later fragment cannot be forwarded whatever its datagram: its end
// beyond what IPv4 can reassemble ("ping of death"), an empty or unaligned
// fragment that is not the last, a TCP fragment at offset 8 (RFC 1858:
// it would rewrite the TCP flags of the first).
bool frag_valid(const PacketMeta& meta, Counter& why)
{
    const std::uint32_t end = std::uint32_t{meta.l3_hlen} + meta.frag_off + meta.l4_len;
    if (end > kMaxDatagram) {
        why = Counter::frag_oversized;
        return false;
    }
    const bool more = (meta.flags & kPmMoreFragments) != 0;
    if ((more && (meta.l4_len == 0 || meta.l4_len % 8 != 0)) ||
        (meta.l3_proto == kIpProtoTcp && meta.frag_off == kRfc1858TinyOffset)) {
        why = Counter::frag_malformed;
        return false;
    }
    return true;
}

}  // namespace

// True when the error was handled (forwarded or dropped); false when it is
// not about a connection and is addressed to a port address: the caller
// passes it to the kernel (errors about the appliance's own sockets).
bool NatPipeline::icmp_error(const Burst& b, rte_mbuf* m, const PacketMeta& meta)
{
    const bool local = is_local(b, meta.daddr);
    auto give_up = [&](Counter c) {
        if (local) return false;
        drop(m, c);
        return true;
    };
    if (!icmp_error_translatable(meta.icmp_type)) return give_up(Counter::icmp_error_not_related);
    if (cfg_.conns == nullptr) return give_up(Counter::icmp_error_no_conn);
    std::uint8_t* frame = mbuf_frame(m);
    IcmpQuote q;
    switch (parse_icmp_quote(frame, meta, q)) {
    case IcmpQuoteVerdict::ok: break;
    case IcmpQuoteVerdict::bad_checksum: return give_up(Counter::icmp_error_bad_checksum);
    case IcmpQuoteVerdict::other_proto: return give_up(Counter::icmp_error_no_conn);
    case IcmpQuoteVerdict::fragmented:
    case IcmpQuoteVerdict::truncated:
    case IcmpQuoteVerdict::not_first: return give_up(Counter::icmp_error_bad_quote);
    }
    // The quoted packet is one the connection sent: looked up reversed.
    ConnDir dir;
    Conn4* conn = cfg_.conns->lookup(FlowKey4{q.daddr, q.saddr, q.dport, q.sport, q.proto}, dir);
    // An error goes to the source of the packet it quotes; anything else
    // is forged or misrouted.
    if (conn == nullptr || meta.daddr != q.saddr) return give_up(Counter::icmp_error_no_conn);
    if (meta.ttl <= 1) {
        drop(m, Counter::drop_ttl_exceeded);  // never an ICMP error about an ICMP error
        return true;
    }
    DestCounters* dc = dest_counters(*conn);
    ServiceCounters* sc = cfg_.registry != nullptr ? cfg_.registry->service(conn->svc_id) : nullptr;
    const std::uint32_t len = rte_pktmbuf_pkt_len(m);
    if (dir == ConnDir::in) {  // from beyond the client, about a reply
        if (dc != nullptr) dc->traffic.slot(info_.index).add_in(1, len);
        if (sc != nullptr) sc->traffic.slot(info_.index).add_in(1, len);
        if (conn->fwd != static_cast<std::uint8_t>(FwdMethod::nat)) {
            counters_.inc(Counter::icmp_error_forwarded);
            xmit_unchanged(b, m, meta, conn->fwd, conn->daddr);
            return true;
        }
        icmp_error_rewrite(frame, meta, q, IcmpToward::real_server, conn->daddr, conn->dport);
        counters_.inc(Counter::icmp_error_nat);
        forward(b, m, meta, conn->daddr);
        return true;
    }
    // From the real server's side (it, or a router before it), about a
    // client's packet: NAT only (DR/TUN connections have no out key).
    if (dc != nullptr) dc->traffic.slot(info_.index).add_out(1, len);
    if (sc != nullptr) sc->traffic.slot(info_.index).add_out(1, len);
    icmp_error_rewrite(frame, meta, q, IcmpToward::client, conn->vaddr, conn->vport);
    counters_.inc(Counter::icmp_error_nat);
    forward(b, m, meta, meta.daddr);
    return true;
}

// ICMP errors and later fragments of a DR or TUN connection go to its real
// server the way its data packets do: by DR (MACs only) or IP-in-IP.
void NatPipeline::xmit_unchanged(const Burst& b, rte_mbuf* m, const PacketMeta& meta, std::uint8_t fwd,
                                 std::uint32_t dest)
{
    if (fwd == static_cast<std::uint8_t>(FwdMethod::tun)) {
        xmit_tun(b, m, meta, dest);
    } else {
        xmit_dr(b, m, meta, dest);
    }
}

// After a first fragment (offset 0, MF) went through the TCP/UDP path:
// records its connection's rewrite for the datagram's later fragments.
void NatPipeline::first_fragment(const Burst& b, const PacketMeta& meta, std::uint16_t id)
{
    if (cfg_.conns == nullptr) return;
    ConnDir dir;
    const Conn4* conn =
        cfg_.conns->lookup(FlowKey4{meta.saddr, meta.daddr, meta.sport, meta.dport, meta.l3_proto}, dir);
    // Dropped (no SYN, no real server...): its later fragments are held,
    // then dropped when their entry expires.
    if (conn == nullptr) return;
    FragRewrite rw;
    rw.svc_id = conn->svc_id;
    rw.dest_id = conn->dest_id;
    rw.fwd = conn->fwd;
    rw.dir = static_cast<std::uint8_t>(dir);
    if (conn->fwd != static_cast<std::uint8_t>(FwdMethod::nat)) {
        rw.end = FragEnd::none;
        rw.route_to = conn->daddr;
    } else if (dir == ConnDir::in) {
        rw.end = FragEnd::destination;
        rw.addr = conn->daddr;
        rw.route_to = conn->daddr;
    } else {
        rw.end = FragEnd::source;
        rw.addr = conn->vaddr;
        rw.route_to = meta.daddr;
    }
    FragSpill spill;
    frags_.resolve(FragKey{meta.saddr, meta.daddr, id, meta.l3_proto}, rw, meta.l4_len, now_, spill);
    counters_.inc(Counter::frag_first_tracked);
    frag_spill(b, spill);
}

void NatPipeline::later_fragment(const Burst& b, rte_mbuf* m, const PacketMeta& meta)
{
    std::uint8_t* frame = mbuf_frame(m);
    const FragKey key{meta.saddr, meta.daddr, ip_id(frame, meta), meta.l3_proto};
    FragEntry* e = frags_.find(key, now_);
    if (e == nullptr && is_local(b, meta.daddr)) {
        // The kernel reassembles its own traffic.
        to_kernel(b, m, meta, Counter::drop_ipv4_fragment);
        return;
    }
    Counter why;
    if (!frag_valid(meta, why)) {
        drop(m, why);
        return;
    }
    if (e == nullptr) {  // before its first fragment (or for nobody): held a while
        FragSpill spill;
        if (frags_.hold(key, m, now_, spill) == FragHold::held) {
            counters_.inc(Counter::frag_held);
        } else {
            drop(m, Counter::frag_hold_full);
        }
        frag_spill(b, spill);
        return;
    }
    const FragRewrite rw = e->rw;  // account() may free the entry
    switch (frags_.account(*e, meta.frag_off, meta.l4_len, (meta.flags & kPmMoreFragments) != 0)) {
    case FragAccount::inconsistent: drop(m, Counter::frag_oversized); return;
    case FragAccount::complete: counters_.inc(Counter::frag_datagram_done); break;
    case FragAccount::more: break;
    }
    if (meta.ttl <= 1) {
        drop(m, Counter::drop_ttl_exceeded);
        return;
    }
    counters_.inc(Counter::frag_forwarded);
    DestCounters* dc = cfg_.registry != nullptr ? cfg_.registry->dest(rw.dest_id) : nullptr;
    ServiceCounters* sc = cfg_.registry != nullptr ? cfg_.registry->service(rw.svc_id) : nullptr;
    const std::uint32_t len = rte_pktmbuf_pkt_len(m);
    const bool in = rw.dir == static_cast<std::uint8_t>(ConnDir::in);
    if (in) {
        if (dc != nullptr) dc->traffic.slot(info_.index).add_in(1, len);
        if (sc != nullptr) sc->traffic.slot(info_.index).add_in(1, len);
    } else {
        if (dc != nullptr) dc->traffic.slot(info_.index).add_out(1, len);
        if (sc != nullptr) sc->traffic.slot(info_.index).add_out(1, len);
    }
    if (rw.end == FragEnd::none) {
        xmit_unchanged(b, m, meta, rw.fwd, rw.route_to);
        return;
    }
    // NAT: the address and the IP checksum; the L4 checksum is in the first fragment.
    std::uint8_t* ip = frame + meta.l3_off;
    const std::size_t field = rw.end == FragEnd::source ? 12 : 16;
    store16(ip + kIpv4CheckOffset, csum_apply(load16(ip + kIpv4CheckOffset), csum_delta4(load32(ip + field), rw.addr)));
    store32(ip + field, rw.addr);
    counters_.inc(in ? Counter::nat_in : Counter::nat_out);
    forward(b, m, meta, rw.route_to);
}

// What a fragment-table call gave back: held fragments to forward now,
// mbufs to free, entries evicted or expired.
void NatPipeline::frag_spill(const Burst& b, FragSpill& spill)
{
    if (spill.n_dropped != 0) {
        rte_pktmbuf_free_bulk(spill.dropped, spill.n_dropped);
        counters_.add(Counter::frag_held_dropped, spill.n_dropped);
    }
    counters_.add(Counter::frag_evicted, spill.evicted);
    counters_.add(Counter::frag_expired, spill.expired);
    for (std::uint32_t i = 0; i < spill.n_released; ++i) {
        rte_mbuf* h = spill.released[i];
        PacketMeta hm;
        // Parsed when it arrived; the frame has not changed since.
        if (parse_frame(mbuf_frame(h), rte_pktmbuf_data_len(h), hm) != ParseVerdict::ok_ipv4_fragment) {
            drop(h, Counter::frag_malformed);
            continue;
        }
        counters_.inc(Counter::frag_held_sent);
        later_fragment(b, h, hm);
    }
}

// Once per ms tick: a slice of the table, so that all of it is swept once
// per second; held fragments of expired entries are freed.
void NatPipeline::frag_expire(std::uint32_t elapsed_ms)
{
    const std::uint64_t cap = frags_.capacity();
    std::uint64_t budget = std::min<std::uint64_t>(cap, (cap * elapsed_ms + 999) / 1000);
    while (budget != 0) {
        const auto step = static_cast<std::uint32_t>(std::min<std::uint64_t>(budget, 16));
        FragSpill spill;
        frags_.expire_step(now_, step, spill);
        if (spill.n_dropped != 0) {
            rte_pktmbuf_free_bulk(spill.dropped, spill.n_dropped);
            counters_.add(Counter::frag_held_dropped, spill.n_dropped);
        }
        counters_.add(Counter::frag_expired, spill.expired);
        budget -= step;
    }
}

}  // namespace kadp::dp
