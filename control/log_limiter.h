// Runs on: control thread (one owner; not thread-safe).
// Rate limit for log lines that outside input can repeat without bound
// (garbage clients, hostile adverts, a flapping link, a script failing at
// every interval, the kernel refusing the same operation at every apply):
// per key at most `lines` lines in a window of `per`; the rest are counted,
// and the first line after the window (of any key) brings one summary
// "KEY: N similar lines suppressed" at the most severe level it hid.
// Debug lines pass unlimited (detail the operator asked for with -D).
// Keys name the event (and a configured object), never outside input, so
// their number is bounded; past kMaxKeys they share one. docs/logging.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "control/log_sink.h"

namespace kadp::ctl {

// Default: 5 lines per key per minute.
struct LogLimit {
    unsigned lines = 5;
    std::chrono::milliseconds per = std::chrono::seconds(60);
};

class LogLimiter {
public:
    using Clock = std::chrono::steady_clock;
    using Now = std::function<Clock::time_point()>;
    using Limit = LogLimit;
    static constexpr std::size_t kMaxKeys = 1024;

    explicit LogLimiter(LogSink out, Limit limit = {}, Now now = {});

    void at(LogLevel level, const std::string& key, const std::string& line);
    void error(const std::string& key, const std::string& line) { at(LogLevel::error, key, line); }
    void warning(const std::string& key, const std::string& line) { at(LogLevel::warning, key, line); }
    void info(const std::string& key, const std::string& line) { at(LogLevel::info, key, line); }
    void debug(const std::string& key, const std::string& line) { at(LogLevel::debug, key, line); }

    // A sink whose lines all count against `key`; it refers to this limiter,
    // which must outlive it.
    LogSink sink(std::string key);
    // Writes the summaries of windows that have ended (also done at each line).
    void flush();
    // Lines hidden so far, summaries aside (for tests and kadpctl).
    std::uint64_t suppressed_total() const { return suppressed_total_; }
    const LogSink& out() const { return out_; }

private:
    struct Window {
        Clock::time_point start;
        unsigned written = 0;
        std::uint64_t suppressed = 0;
        LogLevel worst = LogLevel::debug;  // the most severe level hidden
    };
    void close(const std::string& key, Window& w, Clock::time_point now);

    LogSink out_;
    Limit limit_;
    Now now_;
    std::map<std::string, Window, std::less<>> windows_;
    std::uint64_t suppressed_total_ = 0;
};

}  // namespace kadp::ctl
