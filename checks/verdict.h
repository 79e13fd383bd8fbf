// Runs on: control thread (pure logic: no I/O, no clock). keepalived
// 2.2.7's retry rules for one checker, and the verdict of a real server
// over all its checkers. The checkers (checker.h) feed it the outcome of
// each attempt and sleep for the delay it returns; tests feed it recorded
// outcomes.
#pragma once

#include <chrono>
#include <cstddef>

namespace kadp::chk {

using Millis = std::chrono::milliseconds;

struct RetryPolicy {
    int retry = 1;                   // failures retried before the checker fails (retry, nb_get_retry)
    Millis delay_loop{60000};        // between checks
    Millis delay_before_retry{1000}; // between a failure and its retry
    bool alpha = false;              // the checker starts failed
};

// What one attempt's outcome means.
struct Step {
    enum class Event {
        none,     // nothing to report (a retry is due, or no change)
        success,  // report success; the checker is up (it may have been already: first run)
        failure,  // report failure; the checker is down
    };
    Event event = Event::none;
    Millis next{0};    // delay before the next attempt
    int retries = 0;   // with failure: retries made before it (0: failed at once)
};

// keepalived's tcp_epilog/http epilog: a checker that is up (or has not run
// yet) fails after retry+1 consecutive failures, retries spaced by
// delay_before_retry; one success brings it up; a checker that is down is
// tried every delay_loop and not retried.
class CheckerState {
public:
    explicit CheckerState(const RetryPolicy& p) : p_(p), up_(!p.alpha) {}

    Step on_success();
    Step on_failure();

    bool up() const { return up_; }
    bool has_run() const { return has_run_; }
    int retries_pending() const { return retry_it_; }
    const RetryPolicy& policy() const { return p_; }

private:
    RetryPolicy p_;
    bool up_;
    bool has_run_ = false;
    int retry_it_ = 0;
};

// A real server's health over its checkers: alive while none has failed.
// Counts only; the owner tells it when a checker goes up or down.
class ServerHealth {
public:
    // `failed_at_start`: checkers that start down (alpha).
    ServerHealth(std::size_t checkers, std::size_t failed_at_start)
        : checkers_(checkers), failed_(failed_at_start) {}

    bool alive() const { return failed_ == 0; }
    // Return whether alive() changed.
    bool checker_failed();
    bool checker_recovered();
    std::size_t failed() const { return failed_; }
    std::size_t checkers() const { return checkers_; }

private:
    std::size_t checkers_;
    std::size_t failed_;
};

}  // namespace kadp::chk
