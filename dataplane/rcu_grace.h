// Runs on: whoever reuses memory after an RCU grace period (the connection
// table's workers, the publisher's control thread).
//
// rte_rcu_qsbr_check(v, token, false), the non-blocking grace-period test,
// in a form ThreadSanitizer can follow. DPDK 22.11's check first answers from
// v->acked_token: a plain read of a value another checker stored relaxed.
// The hardware keeps that ordered (x86 TSO, and ARMv8's dependencies), but
// in the C++ memory model it gives no happens-before from the readers'
// rte_rcu_qsbr_quiescent() to us, so TSan reports every reuse of memory a
// reader once saw as a data race with that reader. Built with TSan
// (build-tsan/, docs/testing.md), we skip that shortcut and take DPDK's own
// full check, which acquire-loads every registered reader's counter; every
// other build calls rte_rcu_qsbr_check unchanged.
//
// A reader that leaves (rte_rcu_qsbr_thread_unregister) clears its bit in
// the registration bitmap with a release RMW inside librte_rcu, which TSan
// does not see (the library is not instrumented); the check's acquire load
// of that bitmap pairs with it. rcu_unregister() and rcu_grace_passed()
// state that pair to TSan (__tsan_release / __tsan_acquire on the QSBR
// variable), so a departed reader's last reads stay ordered before reuse.
#pragma once

#include <rte_rcu_qsbr.h>

#include <cstdint>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace kadp::dp {

inline bool rcu_grace_passed(rte_rcu_qsbr* v, std::uint64_t token) {
#if defined(__SANITIZE_THREAD__)
    __tsan_acquire(v);  // the bitmap load's pair with rcu_unregister()
    if (v->num_threads == v->max_threads) return __rte_rcu_qsbr_check_all(v, token, false) == 1;
    return __rte_rcu_qsbr_check_selective(v, token, false) == 1;
#else
    return rte_rcu_qsbr_check(v, token, false) == 1;
#endif
}

// rte_rcu_qsbr_thread_unregister(v, id); call it after the reader is offline.
inline void rcu_unregister(rte_rcu_qsbr* v, unsigned int id) {
#if defined(__SANITIZE_THREAD__)
    __tsan_release(v);
#endif
    rte_rcu_qsbr_thread_unregister(v, id);
}

}  // namespace kadp::dp
