// Runs on: any (a value; a call writes one line through what it wraps).
// What a component logs through: one line at a level. Header-only and
// std-only, so checks/, vrrp/ and dataplane/ (which does not link control/)
// take it too. Called with a line alone it logs at info, and a plain
// `void(const std::string&)` callable converts to a sink at kadp's default
// level (every line but debug): tests keep collecting lines with a lambda. docs/logging.md lists
// every line and its level.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

namespace kadp::ctl {

enum class LogLevel { error, warning, info, debug };

inline const char* to_string(LogLevel level)
{
    switch (level) {
    case LogLevel::error: return "error";
    case LogLevel::warning: return "warning";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
    }
    return "?";
}

class LogSink {
public:
    using Write = std::function<void(LogLevel, const std::string&)>;
    // Whether a line at this level would be written: lets a caller skip
    // building a debug line nobody reads. Absent: every level is.
    using Enabled = std::function<bool(LogLevel)>;

    LogSink() = default;
    LogSink(std::nullptr_t) {}  // `{}` and nullptr: no log, as for std::function
    LogSink(Write write, Enabled enabled) : write_(std::move(write)), enabled_(std::move(enabled)) {}

    // A level-aware writer.
    template <typename F>
        requires(!std::same_as<std::remove_cvref_t<F>, LogSink> && std::invocable<F&, LogLevel, const std::string&>)
    LogSink(F&& write) : write_(std::forward<F>(write))  // implicit: components take a lambda as they did
    {
    }

    // A plain line writer: every level but debug reaches it (a test's collector).
    template <typename F>
        requires(!std::same_as<std::remove_cvref_t<F>, LogSink> &&
                 !std::invocable<F&, LogLevel, const std::string&> && std::invocable<F&, const std::string&>)
    LogSink(F&& line)  // implicit: existing callers and tests pass a lambda
    {
        using Held = std::remove_cvref_t<F>;
        if constexpr (std::is_class_v<Held> && std::is_constructible_v<bool, const Held&>) {
            if (!static_cast<bool>(line)) return;  // an empty std::function stays "no log"
        }
        write_ = [f = std::forward<F>(line)](LogLevel level, const std::string& l) mutable {
            if (level != LogLevel::debug) f(l);
        };
        enabled_ = [](LogLevel level) { return level != LogLevel::debug; };
    }

    void at(LogLevel level, const std::string& line) const
    {
        if (write_) write_(level, line);
    }
    void operator()(const std::string& line) const { at(LogLevel::info, line); }
    void error(const std::string& line) const { at(LogLevel::error, line); }
    void warning(const std::string& line) const { at(LogLevel::warning, line); }
    void info(const std::string& line) const { at(LogLevel::info, line); }
    void debug(const std::string& line) const { at(LogLevel::debug, line); }

    bool enabled(LogLevel level) const { return write_ && (!enabled_ || enabled_(level)); }
    explicit operator bool() const { return static_cast<bool>(write_); }

private:
    Write write_;
    Enabled enabled_;
};

}  // namespace kadp::ctl
