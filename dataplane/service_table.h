// Runs on: control thread (building) / worker lcores (lookups). A
// ServiceTable and a VipSet are written only while the control thread builds
// a snapshot; once the snapshot is published they are immutable and read by
// every worker without locks (the one exception: each Service's SchedState
// sequence counter, see sched.h).
//
// The per-snapshot virtual-service lookup, IPVS's ip_vs_service_find:
// (VIP, port, protocol) -> Service. Open addressing with linear probing in an
// array sized at build time (load <= 50%), so a lookup touches one or two
// cache lines and never allocates. Keys are family-generic in shape (a
// family field and four address words); only IPv4 is built today.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dataplane/dest_stats.h"
#include "dataplane/sched/sched.h"

namespace kadp::dp {

// IPVS forwarding methods (ip_vs_conn flags' FWD_MASK); the value is what
// Conn4::fwd stores.
enum class FwdMethod : std::uint8_t { nat = 0, dr = 1, tun = 2 };

inline constexpr std::uint8_t kFamilyInet = 2;    // AF_INET
inline constexpr std::uint8_t kFamilyInet6 = 10;  // AF_INET6

// Addresses and ports in network byte order, as packets carry them. IPv4
// uses addr[0]; every unused word is zero so keys compare bytewise.
struct ServiceKey {
    std::array<std::uint32_t, 4> addr{};
    std::uint16_t port = 0;
    std::uint8_t proto = 0;   // IPPROTO_TCP / IPPROTO_UDP
    std::uint8_t family = 0;  // kFamilyInet / kFamilyInet6; 0 marks an empty slot

    static constexpr ServiceKey v4(std::uint32_t addr_be, std::uint16_t port_be, std::uint8_t proto) {
        ServiceKey k;
        k.addr[0] = addr_be;
        k.port = port_be;
        k.proto = proto;
        k.family = kFamilyInet;
        return k;
    }
    friend bool operator==(const ServiceKey&, const ServiceKey&) = default;
    friend auto operator<=>(const ServiceKey&, const ServiceKey&) = default;
};
static_assert(sizeof(ServiceKey) == 20, "no padding: keys compare and hash as words");

// A real server of a service, in the service's list order (= the scheduler's
// dest index). `counters` is long-lived (StatsRegistry) and outlives the
// snapshot; `id` is its stable id (Conn4::dest_id).
struct Dest {
    std::array<std::uint32_t, 4> addr{};  // network order
    std::uint16_t port = 0;                // network order; 0 keeps the client's destination port
    std::uint8_t family = 0;
    FwdMethod fwd = FwdMethod::nat;
    std::int32_t weight = 0;
    std::uint32_t id = 0;
    DestCounters* counters = nullptr;
    std::uint32_t u_threshold = 0;  // keepalived's uthreshold / lthreshold (0: none), see sched/overload.h
    std::uint32_t l_threshold = 0;
    // False for a real server IPVS would have taken out of the service (a
    // checker's down verdict without inhibit_on_failure): the data plane
    // keeps it at weight 0 for its connections' sake, and persistence
    // templates pointing at it are replaced (IPVS: IP_VS_DEST_F_AVAILABLE).
    bool available = true;
};

// Service::flags bits.
inline constexpr std::uint32_t kServicePersistent = 1U << 0;  // set by set_persistence()

// A virtual service as one snapshot sees it. Immutable once published except
// sched().pick()'s sequence counter.
class Service {
public:
    // Control thread. Builds the scheduler over `dests` (list order); `prev`
    // (may be null) is the same service's scheduler in the snapshot being
    // replaced, so the rr/wrr position carries over; `sched_flags` are the
    // scheduler's kSchedFlag* bits (sh-port, ...). Throws what SchedState
    // throws (std::invalid_argument, std::bad_alloc).
    Service(ServiceKey key, FwdMethod fwd, std::uint32_t flags, std::vector<Dest> dests, SchedAlgo algo,
            ServiceCounters* counters, const SchedState* prev, std::uint32_t sched_flags = 0);
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    // Worker lcore: the dest for a new connection, or nullptr when none may
    // take it (every weight 0). Lock-free, allocation-free.
    const Dest* pick(const SchedFlow& flow) const {
        const std::uint32_t i = sched_.pick(flow);
        return i == kNoDest ? nullptr : &dests_[i];
    }

    // Control thread, before the snapshot is published: makes the service
    // persistent (IPVS's -p TIMEOUT -M NETMASK); `netmask_be` is applied to
    // the client address (network order, 0xffffffff: per client).
    void set_persistence(std::uint32_t timeout_ms, std::uint32_t netmask_be) {
        flags_ |= kServicePersistent;
        persist_ms_ = timeout_ms;
        persist_mask_ = netmask_be;
    }
    bool persistent() const { return (flags_ & kServicePersistent) != 0; }
    std::uint32_t persist_ms() const { return persist_ms_; }
    std::uint32_t persist_mask() const { return persist_mask_; }  // network order
    // Worker lcore: the dest with this stable id (Dest::id), or nullptr when
    // it is no longer in the service. Binary search, allocation-free.
    const Dest* dest_by_id(std::uint32_t id) const {
        const auto it = std::lower_bound(by_id_.begin(), by_id_.end(), id,
                                         [](const IdSlot& s, std::uint32_t v) { return s.id < v; });
        return it != by_id_.end() && it->id == id ? &dests_[it->index] : nullptr;
    }

    std::uint32_t id() const { return counters_->id; }  // stable across snapshots: Conn4::svc_id
    const ServiceKey& key() const { return key_; }
    std::uint8_t proto() const { return key_.proto; }
    FwdMethod fwd() const { return fwd_; }
    std::uint32_t flags() const { return flags_; }
    std::span<const Dest> dests() const { return dests_; }
    const SchedState& sched() const { return sched_; }
    ServiceCounters& counters() const { return *counters_; }

private:
    static std::vector<DestRef> sched_refs(const std::vector<Dest>& dests);

    ServiceKey key_;
    FwdMethod fwd_;
    std::uint32_t flags_;
    struct IdSlot {
        std::uint32_t id;
        std::uint32_t index;  // into dests_
    };

    ServiceCounters* counters_;
    std::vector<Dest> dests_;  // before sched_: the scheduler is built from it
    SchedState sched_;
    std::vector<IdSlot> by_id_;  // sorted by id
    std::uint32_t persist_ms_ = 0;
    std::uint32_t persist_mask_ = 0xffffffffU;
};

namespace detail {
// A 64-bit mix of the key words (splitmix64 finaliser): cheap, and good
// enough for an array we size ourselves with at most 50% load.
inline std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}
inline std::uint64_t hash_addr(const std::array<std::uint32_t, 4>& a, std::uint64_t seed) {
    const std::uint64_t lo = (std::uint64_t{a[0]} << 32) | a[1];
    const std::uint64_t hi = (std::uint64_t{a[2]} << 32) | a[3];
    return mix64(lo ^ mix64(hi ^ seed));
}
inline std::uint64_t hash_key(const ServiceKey& k) {
    return hash_addr(k.addr, (std::uint64_t{k.port} << 16) | (std::uint64_t{k.proto} << 8) | k.family);
}
}  // namespace detail

// The services of one snapshot, by key.
class ServiceTable {
public:
    ServiceTable();  // empty: every lookup misses
    // Control thread. Takes the services and builds the index. Throws
    // std::invalid_argument when two services have the same key.
    explicit ServiceTable(std::vector<std::unique_ptr<Service>> services);
    ServiceTable(ServiceTable&&) noexcept = default;
    ServiceTable& operator=(ServiceTable&&) noexcept = default;

    // Any thread: the service with exactly this key, or nullptr.
    const Service* find_exact(const ServiceKey& key) const {
        for (std::size_t i = detail::hash_key(key) & mask_;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.svc == nullptr) return nullptr;
            if (s.key == key) return s.svc;
        }
    }
    // Worker lookup, as IPVS does it: the service on (vip, port, proto),
    // else the port-0 ("all ports", persistent) service on (vip, proto).
    const Service* find(const ServiceKey& key) const {
        if (const Service* s = find_exact(key)) return s;
        if (key.port == 0 || !has_port0_) return nullptr;
        ServiceKey any = key;
        any.port = 0;
        return find_exact(any);
    }
    const Service* find4(std::uint32_t vaddr_be, std::uint16_t vport_be, std::uint8_t proto) const {
        return find(ServiceKey::v4(vaddr_be, vport_be, proto));
    }

    std::size_t size() const { return services_.size(); }
    std::size_t capacity() const { return slots_.size(); }
    // Build order (the configuration's).
    const std::vector<std::unique_ptr<Service>>& services() const { return services_; }

private:
    struct Slot {
        ServiceKey key;
        const Service* svc = nullptr;  // nullptr: empty
    };

    std::vector<std::unique_ptr<Service>> services_;
    std::vector<Slot> slots_;  // power of two, never full
    std::size_t mask_ = 0;
    bool has_port0_ = false;
};

// The VIPs a snapshot serves, for ARP and ICMP echo answering: a
// membership test, open addressing like ServiceTable. Whether this node
// currently owns a VIP (VRRP master) is decided elsewhere.
class VipSet {
public:
    VipSet();  // empty
    // Control thread. Duplicates are fine (one VIP, several ports).
    explicit VipSet(std::span<const ServiceKey> keys);

    bool contains(std::uint8_t family, const std::array<std::uint32_t, 4>& addr) const {
        for (std::size_t i = detail::hash_addr(addr, family) & mask_;; i = (i + 1) & mask_) {
            const Entry& e = entries_[i];
            if (e.family == 0) return false;
            if (e.family == family && e.addr == addr) return true;
        }
    }
    bool contains4(std::uint32_t addr_be) const { return contains(kFamilyInet, {addr_be, 0, 0, 0}); }
    std::size_t size() const { return count_; }

private:
    struct Entry {
        std::array<std::uint32_t, 4> addr{};
        std::uint8_t family = 0;  // 0: empty
    };
    std::vector<Entry> entries_;
    std::size_t mask_ = 0;
    std::size_t count_ = 0;
};

}  // namespace kadp::dp
