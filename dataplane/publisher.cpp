// Runs on: control thread (construction, publish, reclaim, grace periods) and
// worker lcores (register / quiescent / unregister). See publisher.h for the
// memory-order pairs.
#include "dataplane/publisher.h"

#include "dataplane/rcu_grace.h"

#include <rte_rcu_qsbr.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>

namespace kadp::dp {

namespace {
constexpr std::align_val_t kQsbrAlign{64};  // rte_rcu_qsbr is cache-line aligned
}  // namespace

void RcuPublisherBase::QsbrFree::operator()(rte_rcu_qsbr* v) const { ::operator delete(v, kQsbrAlign); }

RcuPublisherBase::RcuPublisherBase(std::uint32_t max_workers, std::uint32_t max_retired)
    : max_workers_(max_workers), ring_(max_retired) {
    if (max_workers == 0) throw std::invalid_argument("publisher: no workers");
    if (max_retired == 0) throw std::invalid_argument("publisher: no room for retired objects");
    const std::size_t bytes = rte_rcu_qsbr_get_memsize(max_workers);
    if (bytes <= 1) throw std::invalid_argument("publisher: rte_rcu_qsbr_get_memsize failed");
    qsbr_.reset(static_cast<rte_rcu_qsbr*>(::operator new(bytes, kQsbrAlign)));
    std::memset(static_cast<void*>(qsbr_.get()), 0, bytes);
    if (rte_rcu_qsbr_init(qsbr_.get(), max_workers) != 0) throw std::invalid_argument("publisher: rte_rcu_qsbr_init failed");
}

RcuPublisherBase::~RcuPublisherBase() {
    // No worker runs any more (precondition), so nothing waits for a grace period.
    while (retired_count_ != 0) {
        Retired& r = ring_[retired_head_];
        r.del(r.obj);
        retired_head_ = (retired_head_ + 1) % ring_.size();
        --retired_count_;
    }
    const void* cur = current_.load(std::memory_order_relaxed);
    if (cur != nullptr && current_del_ != nullptr) current_del_(cur);
}

void RcuPublisherBase::register_worker(std::uint32_t worker) {
    assert(worker < max_workers_);
    rte_rcu_qsbr_thread_register(qsbr_.get(), worker);
    rte_rcu_qsbr_thread_online(qsbr_.get(), worker);
}

void RcuPublisherBase::quiescent(std::uint32_t worker) {
    // Acquire load of the token, release store of this worker's counter.
    rte_rcu_qsbr_quiescent(qsbr_.get(), worker);
}

void RcuPublisherBase::unregister_worker(std::uint32_t worker) {
    assert(worker < max_workers_);
    // Offline first: its release store ends every read this worker did.
    rte_rcu_qsbr_thread_offline(qsbr_.get(), worker);
    rcu_unregister(qsbr_.get(), worker);
}

std::uint64_t RcuPublisherBase::start_grace() { return rte_rcu_qsbr_start(qsbr_.get()); }

bool RcuPublisherBase::grace_passed(std::uint64_t token) const {
    // Non-blocking; acquire loads of the workers' counters pair with their
    // release stores in rte_rcu_qsbr_quiescent / thread_offline (rcu_grace.h).
    return rcu_grace_passed(qsbr_.get(), token);
}

int RcuPublisherBase::publish_erased(const void* next, Deleter del) {
    const void* old = current_.load(std::memory_order_relaxed);  // we are the only writer
    if (old != nullptr && retired_count_ == ring_.size()) {
        reclaim();
        if (retired_count_ == ring_.size()) return -EBUSY;
    }
    // Release: pairs with the acquire load in Publisher::acquire(); the
    // object is complete before any worker can see its address.
    current_.store(next, std::memory_order_release);
    if (old != nullptr) {
        // The token is taken after the swap (rte_rcu_qsbr_start is a release
        // RMW): a worker whose counter reaches it has loaded the new pointer
        // in every burst since, so none still holds `old`.
        ring_[(retired_head_ + retired_count_) % ring_.size()] = Retired{old, current_del_, start_grace()};
        ++retired_count_;
    }
    current_del_ = del;
    reclaim();  // with no worker online the old object goes at once
    return 0;
}

std::size_t RcuPublisherBase::reclaim() {
    std::size_t freed = 0;
    // Tokens grow along the FIFO: the first one still waiting ends the scan.
    while (retired_count_ != 0) {
        Retired& r = ring_[retired_head_];
        if (!grace_passed(r.token)) break;
        const Retired done = r;
        r = Retired{};
        retired_head_ = (retired_head_ + 1) % ring_.size();
        --retired_count_;
        done.del(done.obj);  // after the pop: a deleter may re-enter the registry, never us
        ++freed;
    }
    return freed;
}

}  // namespace kadp::dp
