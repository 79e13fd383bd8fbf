// Runs on: control thread. One health checker of one real server: a
// non-blocking state machine on the control thread's event loop. The base
// class owns the schedule (first run after a random warmup, then
// delay_loop, retries after delay_before_retry) and the retry rules
// (CheckerState, pure); each kind only runs one attempt and calls done().
// Destroying a checker cancels its timer and any I/O in flight.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "checks/verdict.h"
#include "conf/model.h"
#include "control/event_loop.h"
#include "control/log_limiter.h"
#include "control/log_sink.h"

namespace kadp::ctl {
class ScriptRunner;
}

namespace kadp::chk {

using LogFn = ctl::LogSink;

// "[198.19.0.1]:tcp:80": how keepalived names a checked address.
std::string format_trio(const conf::IpAddr& address, conf::Protocol protocol, std::uint16_t port);

// What `kadpctl checks` shows of a checker: its last attempt and when it
// last went up or down. Filled by done()/reschedule() (the reason string
// reuses its capacity: no allocation per check beyond the log line's).
struct CheckRecord {
    bool ran = false;           // an attempt has ended
    bool ok = false;            // the last one succeeded
    std::string reason;         // a failure in the log's words; empty after a success
    Millis latency{0};          // the last attempt, start to verdict
    std::chrono::system_clock::time_point finished{};    // the last attempt's end
    std::chrono::system_clock::time_point transition{};  // last up/down change; epoch: none yet
    int consecutive_failures = 0;
    std::uint64_t failures = 0;  // failed attempts since the checker was made (monotonic: a metrics counter)
};

class Checker {
public:
    // `on_change(up)`: the checker went up or down (not called for the first
    // success of a checker that started up).
    using ChangeFn = std::function<void(bool up)>;
    // `on_weight(w)`: the checker sets its real server's weight (MISC_CHECK
    // misc_dynamic), reported just before the done() of that attempt.
    using WeightFn = std::function<void(int weight)>;

    Checker(ctl::EventLoop& loop, const conf::Checker& config, LogFn log);
    virtual ~Checker();
    Checker(const Checker&) = delete;
    Checker& operator=(const Checker&) = delete;

    // Schedules the first attempt after `first`; changes go to `on_change`.
    void start(Millis first, ChangeFn on_change);
    void on_weight(WeightFn fn) { on_weight_ = std::move(fn); }
    bool up() const { return state_.up(); }
    const CheckerState& state() const { return state_; }
    // "[198.19.0.1]:tcp:80" (keepalived's FMT_CHK).
    const std::string& name() const { return name_; }
    const conf::Checker& config() const { return config_; }
    const CheckRecord& record() const { return record_; }

    // The first delay keepalived uses: a random share of warmup.
    static Millis first_delay(const conf::Checker& c, std::mt19937_64& rng);

protected:
    // Begins one attempt; ends by calling done() (possibly from inside).
    virtual void attempt() = 0;
    // Drops the I/O of the attempt in flight (destruction, stop).
    virtual void abandon() = 0;
    // The attempt is over. `why`: the line for a failure in keepalived's
    // words ("TCP connection to [..]:tcp:80 timeout."), logged while the
    // checker is up (its retries) or with log_all_failures.
    void done(bool ok, std::string_view why = {});
    // The attempt could not run (keepalived's "... Rescheduling." cases: no
    // socket, bind failed): `line` is logged, no verdict, the next attempt
    // comes after delay_loop.
    void reschedule(std::string_view line);
    // keepalived's report lines for this kind (an empty success line: none).
    virtual std::string success_line() const = 0;
    virtual std::string failure_line(int retries) const = 0;

    ctl::EventLoop& loop() { return *loop_; }
    Millis connect_timeout() const { return connect_timeout_; }
    void log(const std::string& line) const { log_(line); }
    const LogFn& logger() const { return log_; }
    void report_weight(int weight) const
    {
        if (on_weight_) on_weight_(weight);
    }

private:
    void run();

    ctl::EventLoop* loop_;
    conf::Checker config_;
    LogFn log_;
    ctl::LogLimiter limited_{log_};  // lines that come at every attempt while a condition lasts
    std::string name_;
    Millis connect_timeout_;
    CheckerState state_;
    ctl::Timer timer_;
    ChangeFn on_change_;
    WeightFn on_weight_;
    bool running_ = false;  // an attempt is in flight
    std::chrono::steady_clock::time_point started_{};  // the attempt in flight's start
    CheckRecord record_;
};

// keepalived's keyword: "TCP_CHECK", "HTTP_GET", ...
const char* checker_type_name(conf::CheckerType t);

// The checker for `config` (TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, DNS_CHECK, and
// MISC_CHECK when `scripts` runs its script), or nullptr for a kind kadp
// does not run yet (the caller says so in the log).
std::unique_ptr<Checker> make_checker(ctl::EventLoop& loop, const conf::Checker& config, LogFn log,
                                      ctl::ScriptRunner* scripts = nullptr);

}  // namespace kadp::chk
