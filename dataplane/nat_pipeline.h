// Runs on: worker lcores (process, end_of_loop) / control thread (the
// factory, and reading counters() at any time).
//
// The worker's packet path for IPv4 (IPVS's LVS-NAT, LVS-DR and LVS-TUN):
// parse, answer ARP and ICMP echo for the ports' addresses and the VIPs,
// connection lookup in bulk, new connections scheduled onto a real server,
// then by the real server's method: destination NAT in and source NAT out
// (incremental checksums), or direct routing / IP-in-IP (xmit_dr_tun.h,
// one direction only); TTL, routing, neighbour resolution, TX. Every
// outcome bumps one WorkerCounters counter (counters.h).
//
// Decisions:
// * 802.1Q: a port configured with `vlan V` takes frames tagged V
//   (vlan_passed) and untagged ones; any other tag is dropped as
//   drop_vlan_unknown (never reflected: that could loop frames through a
//   switch). Replies built in place keep the received tag (PCP included);
//   forwarded frames leave with the egress port's tag (VID V, the received
//   PCP or 0) or untagged, the tag inserted or removed as needed.
// * TCP without SYN for a service and no connection: dropped (conn_not_syn),
//   not answered with an RST, as IPVS does: after a failover without
//   connection sync, an RST would tear down flows the client could retry.
// * TCP/UDP to a VIP on a port with no service: an RST (RFC 793 reset
//   generation) / an ICMP port unreachable quoting the IP header + 8 bytes,
//   sent back to the sender's MAC on the port it came in on, like the echo
//   reply. Never in answer to an RST or to a broadcast/multicast/zero source.
// * ICMP errors (unreachable, source quench, time exceeded) about a
//   connection are translated as IPVS does (icmp_error.h); later IPv4
//   fragments follow their first fragment's connection (frag_table.h).
// * Exception path (with cfg.exception enabled; docs/dataplane.md): what is
//   for the appliance itself and not handled here goes to the kernel
//   through the port's TAP -- TCP/UDP to a port address without a
//   connection or service (a port address serving a VIP keeps its
//   services; its other ports go to the kernel), ICMP to a port address
//   other than echo requests (answered here), later fragments to a port
//   address, other IP protocols to a port address or to link-local
//   multicast 224.0.0.0/24 (VRRP, OSPF, IGMP), ARP replies and gratuitous
//   ARPs (learned here by our own policy as well; requests for our
//   addresses are answered here only), IPv6 and other ethertypes. Without
//   an exception port they are dropped with the counters they had before.
//   The frames go untagged onto the worker's ring (exception_path.h); the
//   service worker writes them to the TAPs, and bridges the kernel's frames
//   (tagged for the port's VLAN) onto the wire with a TX burst of their own.
//
// Threading: one NatPipeline per worker; the tables it points at (connection
// table, neighbour table) are shared lock-free; the snapshot is acquired once
// per burst and the worker loop reports quiescent states.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "dataplane/conn_defense.h"
#include "dataplane/conn_state.h"
#include "dataplane/conn_table.h"
#include "dataplane/counters.h"
#include "dataplane/exception_path.h"
#include "dataplane/frag_table.h"
#include "dataplane/neigh_table.h"
#include "dataplane/packet_parse.h"
#include "dataplane/pipeline.h"
#include "dataplane/snapshot.h"
#include "dataplane/worker_channel.h"

struct rte_mempool;

namespace kadp::dp {

// ICMP errors a worker may send at once before its rate (1 a millisecond)
// applies: Linux's icmp_msgs_burst.
inline constexpr std::uint32_t kIcmpErrorBurst = 50;

// An ICMP error kadp sends in place of a packet (NatPipeline::send_icmp_error).
struct IcmpErrorSpec {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint32_t rest = 0;  // the header's last 4 bytes, host order (fragmentation needed: the next-hop MTU)
    std::uint32_t source = 0;  // wire order
    Counter sent{};            // counted when sent
    Counter unsent{};          // counted when the frame cannot hold it
    bool budgeted = true;      // under the worker's ICMP error budget (not fragmentation needed, as Linux)
};

// A port as the pipeline sees it, by port index.
struct NatPort {
    MacAddr mac{};
    std::uint32_t ip = 0;     // wire order: the first IPv4 address, sender of our ARP requests (0: none)
    std::uint16_t vlan = 0;   // 802.1Q VLAN id of the interface, 0: untagged
    std::uint16_t mtu = 1500; // bytes of IP packet the interface sends (DR/TUN check it)
};

// Everything a NatPipeline points at; all of it outlives the pipeline.
struct NatPipelineConfig {
    std::vector<NatPort> ports;
    ConnTable4* conns = nullptr;
    NeighTable4* neigh = nullptr;
    const SnapshotPublisher* publisher = nullptr;
    const StatsRegistry* registry = nullptr;  // dest counters of connections (by Conn4::dest_id)
    rte_mempool* pool = nullptr;              // for ARP requests; null: the pool of the packets received
    // Each worker sweeps its share of the connection table for expired
    // entries once per expire_sweep_ms, a slice at each tick of the ms clock
    // (so a connection ends at most that long after its timeout, and an idle
    // or a busy worker spends the same on it).
    std::uint32_t expire_sweep_ms = 1000;
    // The SYN-flood defense's marks and ages (conn_defense.h).
    ConnDefenseConfig defense;
    std::uint32_t neigh_sweep_budget = 16;    // neighbour slots scanned per ms tick
    // One channel per worker, indexed by WorkerInfo::index (null: none).
    WorkerChannel* channels = nullptr;
    // The kernel's TAPs; disabled (empty) when kadp runs without them.
    ExceptionPath exception;
    // The coarse clock in ms; null: the TSC. A seam for tests.
    std::uint32_t (*clock_ms)() = nullptr;
    // IPv4 fragment tracking (frag_table.h), per worker: datagrams in
    // flight, how long an entry lives, later fragments held at most.
    std::uint32_t frag_table_size = 4096;
    std::uint32_t frag_timeout_ms = 2000;
    std::uint32_t frag_hold_limit = 64;
};

class NatPipeline final : public PacketPipeline {
public:
    NatPipeline(const WorkerInfo& info, NatPipelineConfig config);

    void process(const RxQueueRef& rx, rte_mbuf** pkts, std::uint16_t n, TxStage& out) override;
    void end_of_loop(TxStage& out) override;

    // Any thread: this worker's counters (racy reads, see counters.h).
    const WorkerCounters& counters() const { return counters_; }

    static PipelineFactory factory(NatPipelineConfig config);

private:
    // What one burst works with, so the helpers need not re-acquire.
    struct Burst {
        const Snapshot* snap;
        const RouteTable4* routes;
        std::uint16_t port;  // port index the burst came in on
        TxStage* out;
    };

    // What plan_new_conn decided for a packet that missed the table.
    struct NewConnPlan {
        const Service* svc = nullptr;  // the virtual service it is for, if any
        const Dest* dest = nullptr;    // the scheduler's pick (nullptr: none available)
        bool vip_released = false;     // a service's VIP this node does not own now
    };

    std::uint32_t now_ms() const;
    NewConnPlan plan_new_conn(const Burst& b, const FlowKey4& key, bool schedule);
    void handle_arp(const Burst& b, rte_mbuf* m, const PacketMeta& meta);
    void handle_icmp(const Burst& b, rte_mbuf* m, const PacketMeta& meta);
    void handle_l4(const Burst& b, rte_mbuf* m, const PacketMeta& meta, Conn4* conn, ConnDir dir,
                   const NewConnPlan& plan);
    bool reuse_finished(const Burst& b, const PacketMeta& meta, Conn4& conn, ConnDir dir, NewConnPlan& plan);
    void new_conn(const Burst& b, rte_mbuf* m, const PacketMeta& meta, const Service& svc, const Dest* d);
    void conn_packet(const Burst& b, rte_mbuf* m, const PacketMeta& meta, Conn4& conn, ConnDir dir);
    void track_state(Conn4& conn, ConnDir dir, std::uint8_t tcp_flags);
    void no_service(const Burst& b, rte_mbuf* m, const PacketMeta& meta);
    void ttl_exceeded(const Burst& b, rte_mbuf* m, const PacketMeta& meta);
    void send_icmp_error(const Burst& b, rte_mbuf* m, const PacketMeta& meta, const IcmpErrorSpec& e);
    std::uint32_t icmp_error_source(const Burst& b, const PacketMeta& meta) const;
    bool icmp_error_allowed();
    bool nat_route(const Burst& b, rte_mbuf* m, const PacketMeta& meta, std::uint32_t to, RouteHop4& hop);
    void nat_xmit(const Burst& b, rte_mbuf* m, const PacketMeta& meta, const RouteHop4& hop, Counter xmit);
    // ICMP errors about connections and IPv4 fragments (nat_icmp_frag.cpp).
    bool icmp_error(const Burst& b, rte_mbuf* m, const PacketMeta& meta);
    void first_fragment(const Burst& b, const PacketMeta& meta, std::uint16_t ip_id);
    void later_fragment(const Burst& b, rte_mbuf* m, const PacketMeta& meta);
    void frag_spill(const Burst& b, FragSpill& spill);
    void frag_expire(std::uint32_t elapsed_ms);
    // Sends a packet of a DR/TUN connection on to its real server as it is
    // (ICMP errors, later fragments): the hook for the DR/TUN transmit.
    void xmit_unchanged(const Burst& b, rte_mbuf* m, const PacketMeta& meta, std::uint8_t fwd, std::uint32_t dest);
    void forward(const Burst& b, rte_mbuf* m, const PacketMeta& meta, std::uint32_t daddr);
    void forward_via(const Burst& b, rte_mbuf* m, const PacketMeta& meta, const RouteHop4& hop);
    // Client -> real server by the connection's forwarding method.
    void xmit_in(const Burst& b, rte_mbuf* m, const PacketMeta& meta, const Conn4& conn);
    // DR and TUN (xmit_dr_tun.cpp).
    bool route_to_server(const Burst& b, rte_mbuf* m, std::uint32_t server, RouteHop4& hop);
    void xmit_dr(const Burst& b, rte_mbuf* m, const PacketMeta& meta, std::uint32_t server);
    void xmit_tun(const Burst& b, rte_mbuf* m, const PacketMeta& meta, std::uint32_t server);
    void too_big(const Burst& b, rte_mbuf* m, const PacketMeta& meta, const RouteHop4& hop, std::uint16_t mtu,
                 std::uint16_t report_mtu, Counter xmit);
    void transmit(TxStage& out, std::uint16_t port, rte_mbuf* m);
    void reply_out(const Burst& b, rte_mbuf* m, const PacketMeta& meta);
    std::uint8_t* egress_tag(rte_mbuf* m, const PacketMeta& meta, std::uint16_t port);
    void send_arp_request(TxStage& out, std::uint16_t port, std::uint32_t target, const MacAddr* unicast_to);
    void drop(rte_mbuf* m, Counter c);
    void run_commands(TxStage& out);
    void report_alarms();
    // Exception path: stage `m` for the kernel (or drop it as `no_tap`
    // when there is no exception port), flush the burst's frames onto the
    // worker's ring, and (service worker) move frames to and from the TAPs.
    void to_kernel(const Burst& b, rte_mbuf* m, const PacketMeta& meta, Counter no_tap);
    void flush_to_kernel();
    void service_exception(TxStage& out);
    bool is_local(const Burst& b, std::uint32_t daddr) const
    {
        return b.routes != nullptr && b.routes->is_local(daddr);
    }
    DestCounters* dest_counters(const Conn4& conn) const;
    static void on_expire(void* self, const Conn4& conn, ConnState last);
    void sweep_conns(std::uint32_t elapsed);

    // Next hops resolved in this burst: (port, IPv4) -> MAC, direct-mapped,
    // emptied at each burst. A burst mostly goes to a few next hops (the
    // real servers, a gateway), and within one burst (one clock reading) a
    // neighbour that resolved once resolves the same way again.
    struct HopMemo {
        std::uint32_t ip = 0;
        std::uint16_t port = 0;
        bool valid = false;
        std::uint64_t mac_bits = 0;
    };
    static constexpr std::uint32_t kHopMemoSize = 16;  // indexed by the top 4 bits of a 32-bit hash
    std::array<HopMemo, kHopMemoSize> hop_memo_{};

    // Frames for the kernel in this burst (at most one per packet received).
    static constexpr std::uint16_t kStageMax = 64;
    std::array<rte_mbuf*, kStageMax> exc_stage_{};
    std::uint16_t exc_n_ = 0;
    bool exc_service_ = false;  // this worker services the TAPs

    WorkerInfo info_;
    NatPipelineConfig cfg_;
    FragTable frags_;  // this worker's fragment tracking
    ConnTimeouts timeouts_;  // the snapshot's (lvs_timeouts), as of this burst
    rte_mempool* pool_;
    std::uint64_t tsc_per_ms_ = 1;
    std::uint32_t now_ = 0;  // the clock as of this burst / loop
    std::uint32_t swept_ms_ = 0;  // when end_of_loop last ran the timers
    std::uint32_t reported_ms_ = 0;  // when the alarm counters were last reported
    std::array<std::uint64_t, std::size(kAlarmCounters)> reported_{};  // their values then
    std::uint8_t defense_level_ = 0;  // the SYN-flood defense's level (conn_defense.h), as of the last tick
    bool created_in_burst_ = false;  // a connection was linked since the burst's bulk lookup
    std::uint16_t ip_id_ = 0;  // IPv4 ID of the outer headers of TUN packets without DF
    // ICMP errors kadp sends: a token bucket, 1 token a millisecond up to
    // kIcmpErrorBurst (Linux's icmp_msgs_per_sec 1000, icmp_msgs_burst 50).
    std::uint32_t icmp_tokens_ = kIcmpErrorBurst;
    std::uint32_t icmp_refill_ms_ = 0;
    WorkerCounters counters_;
};

}  // namespace kadp::dp
