// Runs on: worker lcores (each writes its own slot of a counter block) and
// the control thread (creates the blocks, sums them for kadpctl / metrics).
//
// Long-lived traffic counters of a virtual service and of a real server
// ("dest"), IPVS's `ipvsadm -Ln --stats` figures. They belong to the
// service's / dest's identity, not to a snapshot: the StatsRegistry
// (dataplane/snapshot.h) creates them, keeps them across snapshot rebuilds
// and frees them after a grace period once nothing refers to them.
//
// Concurrency: every worker has its own cache-line slot in each block and is
// its only writer (relaxed load + relaxed store: plain movs on x86-64, no
// locked instruction, the same contract as WorkerCounters in counters.h).
// The control thread reads the slots racily and sums them; a sum is a recent
// value per field, not a consistent cut across fields. Nobody resets a slot
// while its worker runs. DestStats (the active / inactive connection counts
// the schedulers read) stays in sched/sched.h; DestCounters embeds it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "dataplane/sched/sched.h"

namespace kadp::dp {

// One worker's share of a counter block. Written only by that worker.
struct alignas(64) TrafficSlot {
    std::atomic<std::uint64_t> conns{0};      // connections scheduled
    std::atomic<std::uint64_t> in_packets{0};  // client -> real server
    std::atomic<std::uint64_t> in_bytes{0};
    std::atomic<std::uint64_t> out_packets{0};  // real server -> client
    std::atomic<std::uint64_t> out_bytes{0};

    // Owner worker only: single writer, so no read-modify-write lock.
    static void bump(std::atomic<std::uint64_t>& v, std::uint64_t n) {
        v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void add_conn() { bump(conns, 1); }
    void add_in(std::uint64_t packets, std::uint64_t bytes) {
        bump(in_packets, packets);
        bump(in_bytes, bytes);
    }
    void add_out(std::uint64_t packets, std::uint64_t bytes) {
        bump(out_packets, packets);
        bump(out_bytes, bytes);
    }
};
static_assert(sizeof(TrafficSlot) == 64, "one worker's slot is one cache line");

// Sums over every worker's slot; what kadpctl and metrics report.
struct TrafficTotals {
    std::uint64_t conns = 0;
    std::uint64_t in_packets = 0;
    std::uint64_t in_bytes = 0;
    std::uint64_t out_packets = 0;
    std::uint64_t out_bytes = 0;
    friend bool operator==(const TrafficTotals&, const TrafficTotals&) = default;
};

// A block of per-worker slots, sized once (max_workers) when created on the
// control thread; workers index it with their WorkerInfo::index.
class TrafficCounters {
public:
    explicit TrafficCounters(std::uint32_t max_workers)
        : slots_(std::make_unique<TrafficSlot[]>(max_workers)), workers_(max_workers) {}

    // Worker `worker` only (< max_workers; checked in debug builds).
    TrafficSlot& slot(std::uint32_t worker) const {
        assert_worker(worker);
        return slots_[worker];
    }
    std::uint32_t max_workers() const { return workers_; }

    // Control thread (any thread): racy sum over the slots.
    TrafficTotals sum() const {
        TrafficTotals t;
        for (std::uint32_t w = 0; w < workers_; ++w) {
            const TrafficSlot& s = slots_[w];
            t.conns += s.conns.load(std::memory_order_relaxed);
            t.in_packets += s.in_packets.load(std::memory_order_relaxed);
            t.in_bytes += s.in_bytes.load(std::memory_order_relaxed);
            t.out_packets += s.out_packets.load(std::memory_order_relaxed);
            t.out_bytes += s.out_bytes.load(std::memory_order_relaxed);
        }
        return t;
    }

private:
    void assert_worker([[maybe_unused]] std::uint32_t worker) const {
#ifndef NDEBUG
        if (worker >= workers_) __builtin_trap();
#endif
    }

    std::unique_ptr<TrafficSlot[]> slots_;
    std::uint32_t workers_;
};

// A virtual service's long-lived counters. `id` is the service's stable id
// (StatsRegistry), the value connections carry in Conn4::svc_id.
struct ServiceCounters {
    ServiceCounters(std::uint32_t id_, std::uint32_t max_workers) : id(id_), traffic(max_workers) {}
    const std::uint32_t id;
    TrafficCounters traffic;
};

// A dest's long-lived counters: traffic plus the connection counts the
// schedulers read (sched.h). `id` is the dest's stable id (Conn4::dest_id).
// The NAT pipeline must keep conns.active/inactive exact (increment when a
// connection enters a state, decrement when it leaves it): the registry
// frees a dest that left the configuration only once both read 0.
struct DestCounters {
    DestCounters(std::uint32_t id_, std::uint32_t max_workers) : id(id_), traffic(max_workers) {}
    const std::uint32_t id;
    DestStats conns;
    TrafficCounters traffic;
};

struct DestTotals {
    TrafficTotals traffic;
    std::uint32_t active = 0;    // ipvsadm ActiveConn
    std::uint32_t inactive = 0;  // ipvsadm InActConn
};

// Control thread: the figures kadpctl / metrics print.
inline TrafficTotals sum_service(const ServiceCounters& c) { return c.traffic.sum(); }
inline DestTotals sum_dest(const DestCounters& c) {
    return {c.traffic.sum(), c.conns.active.load(std::memory_order_relaxed),
            c.conns.inactive.load(std::memory_order_relaxed)};
}

}  // namespace kadp::dp
