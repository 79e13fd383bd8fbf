// Runs on: control thread (publish, reclaim, grace periods, construction) /
// worker lcores (acquire, register_worker, quiescent, unregister_worker).
//
// Publication of an immutable object (the service Snapshot) to the workers,
// VPP lb-style: the control thread builds a new one, swaps one pointer, and
// frees the old one only after every registered worker has passed a
// quiescent state (DPDK rte_rcu_qsbr, on memory allocated here: no EAL
// needed). Nothing blocks: reclaim() is polled from the control thread's
// timer.
//
// Who writes / reads what:
// * current_: written only by the control thread (publish, release store);
//   read by workers (acquire(), acquire load) once per burst. The release
//   pairs with that acquire: a worker that sees the new pointer sees every
//   byte the control thread wrote into the object before publishing it.
// * The QSBR variable: each worker writes its own counter in quiescent()
//   (rte_rcu_qsbr_quiescent: acquire load of the token, release store of its
//   counter); the control thread bumps the token in rte_rcu_qsbr_start
//   (release RMW, after the pointer swap) and reads the counters in
//   rte_rcu_qsbr_check (acquire loads). Those pairs give the two guarantees:
//   - a worker that reported quiescent with the new token reads the new
//     pointer afterwards (token release after the swap -> its token acquire);
//   - everything a worker did with the old object before that report happens
//     before the control thread deletes it (counter release -> check acquire).
// * The retired list: control thread only.
//
// Worker contract: register_worker() before the first acquire(); call
// acquire() at most once per burst and use that pointer for the whole burst;
// never keep it across a quiescent() call; call quiescent() once per loop;
// unregister_worker() before the thread stops or blocks (an unregistered or
// offline worker does not hold back grace periods).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

struct rte_rcu_qsbr;

namespace kadp::dp {

// What Worker::run calls, next to ConnTable4's equivalents: register once
// before the loop, report once per loop, unregister after it. Worker lcore.
class QuiescentParticipant {
public:
    virtual ~QuiescentParticipant() = default;
    virtual void register_worker(std::uint32_t worker) = 0;
    virtual void quiescent(std::uint32_t worker) = 0;
    virtual void unregister_worker(std::uint32_t worker) = 0;
};

// Grace periods for other control-thread reclamation (the StatsRegistry):
// start_grace() returns a token; grace_passed(token) is true once every
// worker registered at that time has reported quiescent since. Control thread.
class GraceClock {
public:
    virtual ~GraceClock() = default;
    virtual std::uint64_t start_grace() = 0;
    virtual bool grace_passed(std::uint64_t token) const = 0;
};

// The type-erased machinery; Publisher<T> below is the typed face.
class RcuPublisherBase : public QuiescentParticipant, public GraceClock {
public:
    // Control thread. Workers use ids 0..max_workers-1 (WorkerInfo::index);
    // at most `max_retired` published objects wait for their grace period at
    // once (a bounded list: publish() refuses beyond it). Throws
    // std::invalid_argument for 0 workers / 0 retired slots, std::bad_alloc.
    RcuPublisherBase(std::uint32_t max_workers, std::uint32_t max_retired);
    // Deletes the current and every retired object: only once no worker
    // runs any more (after WorkerGroup::stop_and_wait()).
    ~RcuPublisherBase() override;
    RcuPublisherBase(const RcuPublisherBase&) = delete;
    RcuPublisherBase& operator=(const RcuPublisherBase&) = delete;

    // --- worker lcore (worker = WorkerInfo::index) ----------------------
    // Registers and puts the worker online: from now on grace periods wait
    // for its quiescent reports.
    void register_worker(std::uint32_t worker) override;
    // Once per loop, between bursts, holding no published pointer.
    void quiescent(std::uint32_t worker) override;
    void unregister_worker(std::uint32_t worker) override;

    // --- control thread ---------------------------------------------------
    // Deletes the retired objects whose grace period has passed, oldest
    // first; never blocks. Returns how many it deleted.
    std::size_t reclaim();
    // Objects published and replaced, not yet deleted.
    std::size_t retired() const { return retired_count_; }
    std::size_t max_retired() const { return ring_.size(); }
    std::uint32_t max_workers() const { return max_workers_; }

    std::uint64_t start_grace() override;
    bool grace_passed(std::uint64_t token) const override;

protected:
    using Deleter = void (*)(const void*);
    // 0, or -EBUSY when the retired list is still full after a reclaim()
    // (nothing changes then: the caller keeps `next`).
    int publish_erased(const void* next, Deleter del);

    // Written by the control thread (release), read by workers (acquire).
    alignas(64) std::atomic<const void*> current_{nullptr};

private:
    struct Retired {
        const void* obj = nullptr;
        Deleter del = nullptr;
        std::uint64_t token = 0;
    };
    struct QsbrFree {
        void operator()(rte_rcu_qsbr* v) const;
    };

    std::unique_ptr<rte_rcu_qsbr, QsbrFree> qsbr_;
    std::uint32_t max_workers_;
    Deleter current_del_ = nullptr;
    std::vector<Retired> ring_;  // FIFO by token; fixed size
    std::size_t retired_head_ = 0;
    std::size_t retired_count_ = 0;
};

// Publishes `const T*` to the workers. T is deleted on the control thread
// (inside reclaim(), publish() or the destructor).
template <class T>
class Publisher final : public RcuPublisherBase {
public:
    using RcuPublisherBase::RcuPublisherBase;

    // Worker lcore, once per burst: the current object (nullptr before the
    // first publish). Acquire pairs with the release in publish().
    const T* acquire() const noexcept { return static_cast<const T*>(current_.load(std::memory_order_acquire)); }

    // Control thread: what it last published (it is the only writer).
    const T* current() const noexcept { return static_cast<const T*>(current_.load(std::memory_order_relaxed)); }

    // Control thread. Makes `next` (may be null: nothing published) the
    // current object and retires the previous one. Returns 0 (next moved
    // from), or -EBUSY when max_retired objects still wait for a slow worker
    // (next is left untouched: retry on a later timer tick).
    int publish(std::unique_ptr<const T>&& next) {
        const int rc = publish_erased(next.get(), [](const void* p) { delete static_cast<const T*>(p); });
        if (rc == 0) static_cast<void>(next.release());
        return rc;
    }
};

}  // namespace kadp::dp
