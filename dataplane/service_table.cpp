// Runs on: control thread (building services and their lookup arrays).
#include "dataplane/service_table.h"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace kadp::dp {

namespace {

// At most 50% load, at least 16 slots: probes stay short and an empty slot
// always ends a miss.
std::size_t table_size(std::size_t n) { return std::bit_ceil(std::max<std::size_t>(16, 2 * n)); }

}  // namespace

std::vector<DestRef> Service::sched_refs(const std::vector<Dest>& dests) {
    std::vector<DestRef> refs;
    refs.reserve(dests.size());
    for (const Dest& d : dests) {
        if (d.counters == nullptr) throw std::invalid_argument("service: a real server has no counters");
        DestRef r{d.weight, &d.counters->conns, d.u_threshold, d.l_threshold};
        r.addr_fold = ntohl(d.addr[0] ^ d.addr[1] ^ d.addr[2] ^ d.addr[3]);  // as sched_addr_fold()
        r.port = ntohs(d.port);
        refs.push_back(r);
    }
    return refs;
}

Service::Service(ServiceKey key, FwdMethod fwd, std::uint32_t flags, std::vector<Dest> dests, SchedAlgo algo,
                 ServiceCounters* counters, const SchedState* prev, std::uint32_t sched_flags)
    : key_(key), fwd_(fwd), flags_(flags), counters_(counters), dests_(std::move(dests)),
      sched_(algo, sched_refs(dests_), prev, sched_flags) {
    if (counters_ == nullptr) throw std::invalid_argument("service: no counters");
    by_id_.reserve(dests_.size());
    for (std::uint32_t i = 0; i < dests_.size(); ++i) by_id_.push_back(IdSlot{dests_[i].id, i});
    std::sort(by_id_.begin(), by_id_.end(), [](const IdSlot& a, const IdSlot& b) { return a.id < b.id; });
}

ServiceTable::ServiceTable() : slots_(1), mask_(0) {}

ServiceTable::ServiceTable(std::vector<std::unique_ptr<Service>> services) : services_(std::move(services)) {
    slots_.resize(table_size(services_.size()));
    mask_ = slots_.size() - 1;
    for (const auto& svc : services_) {
        const ServiceKey& key = svc->key();
        if (key.family == 0) throw std::invalid_argument("service table: a service has no address family");
        std::size_t i = detail::hash_key(key) & mask_;
        while (slots_[i].svc != nullptr) {
            if (slots_[i].key == key) throw std::invalid_argument("service table: duplicate service");
            i = (i + 1) & mask_;
        }
        slots_[i] = Slot{key, svc.get()};
        if (key.port == 0) has_port0_ = true;
    }
}

VipSet::VipSet() : entries_(1), mask_(0) {}

VipSet::VipSet(std::span<const ServiceKey> keys) {
    entries_.resize(table_size(keys.size()));
    mask_ = entries_.size() - 1;
    for (const ServiceKey& k : keys) {
        if (k.family == 0) continue;
        std::size_t i = detail::hash_addr(k.addr, k.family) & mask_;
        bool present = false;
        while (entries_[i].family != 0) {
            if (entries_[i].family == k.family && entries_[i].addr == k.addr) {
                present = true;
                break;
            }
            i = (i + 1) & mask_;
        }
        if (present) continue;
        entries_[i] = Entry{k.addr, k.family};
        ++count_;
    }
}

}  // namespace kadp::dp
