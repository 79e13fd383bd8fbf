// Runs on: control thread (builds snapshots, owns the StatsRegistry, deletes
// snapshots in SnapshotPublisher::reclaim) / worker lcores (read a published
// Snapshot; look counters up by stable id).
//
// What the control thread publishes to the workers: an immutable Snapshot of
// the virtual services (ServiceTable + the VIP set), and, beside it, the
// long-lived counters that survive snapshot rebuilds (StatsRegistry).
//
// Who writes / reads:
// * Snapshot: written by the control thread until published, then read-only
//   for everyone (except each SchedState's sequence counter, sched.h).
// * StatsRegistry maps and reference counts: control thread only.
// * StatsRegistry id tables (id -> counters): slots written by the control
//   thread (release store when an id is handed out or revived, nullptr when
//   it starts dying), read by workers (acquire) for connections that carry
//   a stable id (Conn4::svc_id / dest_id), whatever snapshot is current.
// * The counters themselves: see dest_stats.h (per-worker slots).
//
// Counter lifetime: a service's counters are identified by its ServiceKey, a
// dest's by (ServiceKey, address, port). Every Snapshot holds a reference
// (StatsLease) on the counters it uses; the counters stay when a rebuild
// keeps the identity (the same object, so the figures and the schedulers'
// connection counts carry on). Once no snapshot holds them (the last one was
// reclaimed after its grace period) and, for a dest, no connection counts on
// it (active == inactive == 0) -- for a service, none of its dests' counters
// is left, since their connections count on the service's id too --
// collect() unpublishes the id and frees the
// object after one more grace period: a worker may have loaded the id's
// pointer in the burst that closed the last connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "dataplane/conn_state.h"
#include "dataplane/dest_stats.h"
#include "dataplane/publisher.h"
#include "dataplane/route_table.h"
#include "dataplane/service_table.h"

namespace kadp::dp {

// A dest's identity: its service's and its own address and port.
struct DestKey {
    ServiceKey service;
    std::array<std::uint32_t, 4> addr{};  // network order
    std::uint16_t port = 0;               // network order
    std::uint8_t family = 0;
    friend bool operator==(const DestKey&, const DestKey&) = default;
    friend auto operator<=>(const DestKey&, const DestKey&) = default;
};

class StatsRegistry {
public:
    static constexpr std::uint32_t kDefaultMaxServices = 4096;
    static constexpr std::uint32_t kDefaultMaxDests = 65536;

    // Control thread. Counters get max_workers slots; ids are
    // 0..max_services-1 and 0..max_dests-1 (the id tables are allocated now,
    // 8 bytes per id). Throws std::invalid_argument for 0 workers.
    explicit StatsRegistry(std::uint32_t max_workers, std::uint32_t max_services = kDefaultMaxServices,
                           std::uint32_t max_dests = kDefaultMaxDests);
    // Only once no Snapshot is alive (the publisher is gone) and no worker runs.
    ~StatsRegistry();
    StatsRegistry(const StatsRegistry&) = delete;
    StatsRegistry& operator=(const StatsRegistry&) = delete;

    // --- worker lcore -----------------------------------------------------
    // The counters of a stable id, nullptr once freed (or never handed out).
    // Acquire pairs with the release store that published the id.
    ServiceCounters* service(std::uint32_t id) const {
        return id < max_services_ ? service_slots_[id].load(std::memory_order_acquire) : nullptr;
    }
    DestCounters* dest(std::uint32_t id) const {
        return id < max_dests_ ? dest_slots_[id].load(std::memory_order_acquire) : nullptr;
    }

    // --- control thread -----------------------------------------------------
    // Find or create, and take a reference (normally through a StatsLease).
    // A dying entry with the same identity is revived: the same object.
    // Throws std::length_error when every id is in use.
    ServiceCounters& acquire_service(const ServiceKey& key);
    DestCounters& acquire_dest(const DestKey& key);
    void release_service(std::uint32_t id);
    void release_dest(std::uint32_t id);

    // Timer step, after the publisher's reclaim(): starts the grace period
    // of unreferenced, idle entries and frees those whose grace period has
    // passed. Non-blocking. Returns how many objects it freed.
    std::size_t collect(GraceClock& clock);

    // For listings and metrics; nullptr when the identity has no counters.
    const ServiceCounters* find_service(const ServiceKey& key) const;
    const DestCounters* find_dest(const DestKey& key) const;
    // Entries held, dying ones included.
    std::size_t service_count() const { return services_.size(); }
    std::size_t dest_count() const { return dests_.size(); }
    std::uint32_t max_workers() const { return max_workers_; }

private:
    template <class Counters>
    struct Entry {
        std::unique_ptr<Counters> counters;
        std::uint32_t refs = 0;      // snapshots (leases) holding it
        bool dying = false;          // id unpublished, waiting for `token`
        std::uint64_t token = 0;
    };
    template <class Key, class Counters>
    struct Pool {
        std::map<Key, std::uint32_t> by_key;
        std::map<std::uint32_t, std::pair<Key, Entry<Counters>>> by_id;
        std::deque<std::uint32_t> free_ids;  // FIFO: a freed id is reused as late as possible
        std::uint32_t next_id = 0;
        std::size_t size() const { return by_id.size(); }
    };

    template <class Key, class Counters>
    Counters& acquire(Pool<Key, Counters>& pool, std::atomic<Counters*>* slots, std::uint32_t max_ids,
                      const Key& key, const char* what);
    template <class Key, class Counters>
    static void release(Pool<Key, Counters>& pool, std::uint32_t id);
    template <class Key, class Counters, class Idle>
    static std::size_t collect(Pool<Key, Counters>& pool, std::atomic<Counters*>* slots, GraceClock& clock,
                               Idle idle);

    std::uint32_t max_workers_;
    std::uint32_t max_services_;
    std::uint32_t max_dests_;
    std::unique_ptr<std::atomic<ServiceCounters*>[]> service_slots_;
    std::unique_ptr<std::atomic<DestCounters*>[]> dest_slots_;
    Pool<ServiceKey, ServiceCounters> services_;
    Pool<DestKey, DestCounters> dests_;
};

// The references one snapshot holds on the registry; released when the
// snapshot is deleted (control thread). Move-only.
class StatsLease {
public:
    explicit StatsLease(StatsRegistry& registry) : registry_(&registry) {}
    ~StatsLease();
    StatsLease(StatsLease&& other) noexcept;
    StatsLease& operator=(StatsLease&&) = delete;
    StatsLease(const StatsLease&) = delete;
    StatsLease& operator=(const StatsLease&) = delete;

    // Control thread: the counters for this identity, referenced until the
    // lease dies. Throws std::length_error (ids exhausted), std::bad_alloc.
    ServiceCounters& service(const ServiceKey& key);
    DestCounters& dest(const DestKey& key);

private:
    StatsRegistry* registry_;
    std::vector<std::uint32_t> service_ids_;
    std::vector<std::uint32_t> dest_ids_;
};

// One published state of the virtual services.
class Snapshot {
public:
    // Control thread. The VIP set and the real-server set are derived from
    // the services; `routes` (may be null: every route lookup misses) is the
    // dataplane block's routing table, published and freed with the snapshot.
    // `released` lists VIPs this node does not own now (VRRP backup; only
    // family and address count): they stay out of the VIP set, so they are
    // neither answered for ARP/ICMP nor given new connections, while their
    // services stay listed and keep their counters. `addresses` are VIPs
    // with no service of their own (VRRP's virtual_ipaddress: a gateway
    // for the real servers, say): answered for ARP/ICMP like the services'
    // while owned.
    Snapshot(std::uint64_t generation, StatsLease lease, ServiceTable services,
             std::unique_ptr<const RouteTable4> routes = nullptr, std::span<const ServiceKey> released = {},
             std::span<const ServiceKey> addresses = {});
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

    // Any thread holding the snapshot (a worker within one burst).
    const Service* find4(std::uint32_t vaddr_be, std::uint16_t vport_be, std::uint8_t proto) const {
        return services_.find4(vaddr_be, vport_be, proto);
    }
    // An owned VIP of some service (see `released`).
    bool serves_vip4(std::uint32_t addr_be) const { return vips_.contains4(addr_be); }
    // True when (addr, port, proto) is a real server of some service: a
    // packet from it with no connection is a NAT reply we cannot map.
    bool from_real_server4(std::uint32_t addr_be, std::uint16_t port_be, std::uint8_t proto) const {
        return real_servers_.contains(kFamilyInet, real_server_word(addr_be, port_be, proto));
    }
    // Null when the snapshot was built without a dataplane block.
    const RouteTable4* routes() const { return routes_.get(); }
    // The VipSet key real_servers_ uses for a dest: the port and protocol
    // ride in the second address word, so the set tests all three at once.
    static std::array<std::uint32_t, 4> real_server_word(std::uint32_t addr_be, std::uint16_t port_be,
                                                         std::uint8_t proto) {
        return {addr_be, (std::uint32_t{proto} << 16) | port_be, 0, 0};
    }
    const ServiceTable& services() const { return services_; }
    const VipSet& vips() const { return vips_; }
    // Increases with every build; for logs and kadpctl.
    std::uint64_t generation() const { return generation_; }
    // Connection timeouts (lvs_timeouts); set by the control thread before publishing.
    const ConnTimeouts& timeouts() const { return timeouts_; }
    void set_timeouts(const ConnTimeouts& t) { timeouts_ = t; }

private:
    StatsLease lease_;  // first member: released after the services are gone
    ServiceTable services_;
    VipSet vips_;
    VipSet real_servers_;
    std::unique_ptr<const RouteTable4> routes_;
    std::uint64_t generation_;
    ConnTimeouts timeouts_;
};

// What the data plane backend publishes; workers hold `const Snapshot*`.
using SnapshotPublisher = Publisher<Snapshot>;

}  // namespace kadp::dp
