// Runs on: control thread (the registry's bookkeeping, leases, snapshot
// construction and deletion). Workers only read the id tables (snapshot.h).
#include "dataplane/snapshot.h"

#include <algorithm>
#include <cassert>
#include <set>
#include <stdexcept>
#include <string>

namespace kadp::dp {

StatsRegistry::StatsRegistry(std::uint32_t max_workers, std::uint32_t max_services, std::uint32_t max_dests)
    : max_workers_(max_workers), max_services_(max_services), max_dests_(max_dests),
      service_slots_(std::make_unique<std::atomic<ServiceCounters*>[]>(max_services)),
      dest_slots_(std::make_unique<std::atomic<DestCounters*>[]>(max_dests)) {
    if (max_workers == 0) throw std::invalid_argument("stats registry: no workers");
    for (std::uint32_t i = 0; i < max_services; ++i) service_slots_[i].store(nullptr, std::memory_order_relaxed);
    for (std::uint32_t i = 0; i < max_dests; ++i) dest_slots_[i].store(nullptr, std::memory_order_relaxed);
}

StatsRegistry::~StatsRegistry() = default;

template <class Key, class Counters>
Counters& StatsRegistry::acquire(Pool<Key, Counters>& pool, std::atomic<Counters*>* slots, std::uint32_t max_ids,
                                 const Key& key, const char* what) {
    if (const auto it = pool.by_key.find(key); it != pool.by_key.end()) {
        auto& entry = pool.by_id.at(it->second).second;
        if (entry.dying) {
            // Not freed yet: the same object comes back. Release pairs with
            // the workers' acquire in service()/dest().
            entry.dying = false;
            slots[it->second].store(entry.counters.get(), std::memory_order_release);
        }
        ++entry.refs;
        return *entry.counters;
    }
    std::uint32_t id;
    if (!pool.free_ids.empty()) {
        id = pool.free_ids.front();
    } else if (pool.next_id < max_ids) {
        id = pool.next_id;
    } else {
        throw std::length_error(std::string("more than ") + std::to_string(max_ids) + " " + what +
                                " in use (including those waiting to be freed)");
    }
    auto counters = std::make_unique<Counters>(id, max_workers_);
    Entry<Counters> entry;
    entry.counters = std::move(counters);
    entry.refs = 1;
    Counters& ref = *entry.counters;
    pool.by_id.emplace(id, std::pair<Key, Entry<Counters>>{key, std::move(entry)});
    pool.by_key.emplace(key, id);
    // Only now that nothing can throw any more.
    if (!pool.free_ids.empty() && pool.free_ids.front() == id) {
        pool.free_ids.pop_front();
    } else {
        ++pool.next_id;
    }
    // Release: the counters are constructed before a worker can see them.
    slots[id].store(&ref, std::memory_order_release);
    return ref;
}

template <class Key, class Counters>
void StatsRegistry::release(Pool<Key, Counters>& pool, std::uint32_t id) {
    auto it = pool.by_id.find(id);
    assert(it != pool.by_id.end() && it->second.second.refs > 0);
    if (it == pool.by_id.end() || it->second.second.refs == 0) return;
    --it->second.second.refs;
}

template <class Key, class Counters, class Idle>
std::size_t StatsRegistry::collect(Pool<Key, Counters>& pool, std::atomic<Counters*>* slots, GraceClock& clock,
                                   Idle idle) {
    std::size_t freed = 0;
    bool token_taken = false;
    std::uint64_t token = 0;
    for (auto it = pool.by_id.begin(); it != pool.by_id.end();) {
        const std::uint32_t id = it->first;
        auto& [key, entry] = it->second;
        if (entry.refs != 0) {
            ++it;
            continue;
        }
        if (!entry.dying) {
            if (!idle(key, *entry.counters)) {
                ++it;
                continue;
            }
            // Unpublish the id, then wait one grace period: a worker may
            // have loaded the pointer in its current burst.
            slots[id].store(nullptr, std::memory_order_relaxed);
            if (!token_taken) {
                token = clock.start_grace();  // after the store: release RMW
                token_taken = true;
            }
            entry.dying = true;
            entry.token = token;
        }
        if (!clock.grace_passed(entry.token)) {
            ++it;
            continue;
        }
        pool.by_key.erase(key);
        pool.free_ids.push_back(id);
        it = pool.by_id.erase(it);
        ++freed;
    }
    return freed;
}

ServiceCounters& StatsRegistry::acquire_service(const ServiceKey& key) {
    return acquire(services_, service_slots_.get(), max_services_, key, "virtual services");
}

DestCounters& StatsRegistry::acquire_dest(const DestKey& key) {
    return acquire(dests_, dest_slots_.get(), max_dests_, key, "real servers");
}

void StatsRegistry::release_service(std::uint32_t id) { release(services_, id); }
void StatsRegistry::release_dest(std::uint32_t id) { release(dests_, id); }

std::size_t StatsRegistry::collect(GraceClock& clock) {
    // A service whose real servers' counters are still here stays too: the
    // connections that keep those alive also count on the service's id
    // (Conn4::svc_id), and a new service given a reused id would get their
    // traffic. It goes in a later round, once the last of them has gone.
    std::set<ServiceKey> with_dests;
    for (const auto& [key, id] : dests_.by_key) with_dests.insert(key.service);
    std::size_t freed = collect(services_, service_slots_.get(), clock,
                                [&with_dests](const ServiceKey& key, const ServiceCounters&) {
                                    return with_dests.count(key) == 0;
                                });
    // A dest with connections still counting on it stays: closing them
    // decrements its DestStats.
    freed += collect(dests_, dest_slots_.get(), clock, [](const DestKey&, const DestCounters& d) {
        return d.conns.active.load(std::memory_order_relaxed) == 0 &&
               d.conns.inactive.load(std::memory_order_relaxed) == 0;
    });
    return freed;
}

const ServiceCounters* StatsRegistry::find_service(const ServiceKey& key) const {
    const auto it = services_.by_key.find(key);
    return it == services_.by_key.end() ? nullptr : services_.by_id.at(it->second).second.counters.get();
}

const DestCounters* StatsRegistry::find_dest(const DestKey& key) const {
    const auto it = dests_.by_key.find(key);
    return it == dests_.by_key.end() ? nullptr : dests_.by_id.at(it->second).second.counters.get();
}

StatsLease::StatsLease(StatsLease&& other) noexcept
    : registry_(other.registry_), service_ids_(std::move(other.service_ids_)), dest_ids_(std::move(other.dest_ids_)) {
    other.service_ids_.clear();
    other.dest_ids_.clear();
}

StatsLease::~StatsLease() {
    for (std::uint32_t id : service_ids_) registry_->release_service(id);
    for (std::uint32_t id : dest_ids_) registry_->release_dest(id);
}

ServiceCounters& StatsLease::service(const ServiceKey& key) {
    service_ids_.reserve(service_ids_.size() + 1);  // so the push below cannot throw after the acquire
    ServiceCounters& c = registry_->acquire_service(key);
    service_ids_.push_back(c.id);
    return c;
}

DestCounters& StatsLease::dest(const DestKey& key) {
    dest_ids_.reserve(dest_ids_.size() + 1);
    DestCounters& c = registry_->acquire_dest(key);
    dest_ids_.push_back(c.id);
    return c;
}

namespace {
// The services' VIPs but those in `released` (compared by family and address).
std::vector<ServiceKey> owned_vips(const ServiceTable& table, std::span<const ServiceKey> released,
                                   std::span<const ServiceKey> addresses) {
    std::vector<ServiceKey> keys;
    keys.reserve(table.size() + addresses.size());
    const auto owned = [&released](const ServiceKey& k) {
        return std::none_of(released.begin(), released.end(),
                            [&k](const ServiceKey& r) { return r.family == k.family && r.addr == k.addr; });
    };
    for (const auto& s : table.services()) {
        if (owned(s->key())) keys.push_back(s->key());
    }
    for (const ServiceKey& k : addresses) {
        if (owned(k)) keys.push_back(k);
    }
    return keys;
}
// IPv4 dests as real_server_word keys (a dest port 0 keeps the client's
// port, so its replies can come from any port: not listed).
std::vector<ServiceKey> real_server_keys(const ServiceTable& table) {
    std::vector<ServiceKey> keys;
    for (const auto& s : table.services()) {
        for (const Dest& d : s->dests()) {
            if (d.family != kFamilyInet || d.port == 0) continue;
            ServiceKey k;
            k.addr = Snapshot::real_server_word(d.addr[0], d.port, s->proto());
            k.family = kFamilyInet;
            keys.push_back(k);
        }
    }
    return keys;
}
}  // namespace

Snapshot::Snapshot(std::uint64_t generation, StatsLease lease, ServiceTable services,
                   std::unique_ptr<const RouteTable4> routes, std::span<const ServiceKey> released,
                   std::span<const ServiceKey> addresses)
    : lease_(std::move(lease)), services_(std::move(services)), vips_(owned_vips(services_, released, addresses)),
      real_servers_(real_server_keys(services_)), routes_(std::move(routes)), generation_(generation) {}

}  // namespace kadp::dp
