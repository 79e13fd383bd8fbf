// Runs on: control thread.
#include "control/log_limiter.h"

#include <utility>

namespace kadp::ctl {

LogLimiter::LogLimiter(LogSink out, Limit limit, Now now)
    : out_(std::move(out)), limit_(limit), now_(now ? std::move(now) : Now([] { return Clock::now(); }))
{
    if (limit_.lines == 0) limit_.lines = 1;
}

void LogLimiter::close(const std::string& key, Window& w, Clock::time_point now)
{
    if (w.suppressed > 0) {
        out_.at(w.worst, key + ": " + std::to_string(w.suppressed) + " similar line" + (w.suppressed == 1 ? "" : "s") +
                             " suppressed");
    }
    w = Window{now};
}

void LogLimiter::flush()
{
    const Clock::time_point now = now_();
    for (auto& [key, w] : windows_) {
        if (w.suppressed > 0 && now - w.start >= limit_.per) close(key, w, now);
    }
}

void LogLimiter::at(LogLevel level, const std::string& key, const std::string& line)
{
    if (!out_.enabled(level)) return;  // a line nobody reads uses no budget
    if (level == LogLevel::debug) {    // detail asked for with -D: never held back
        out_.debug(line);
        return;
    }
    flush();
    const Clock::time_point now = now_();
    auto it = windows_.find(key);
    if (it == windows_.end()) {
        const std::string& k = windows_.size() < kMaxKeys ? key : std::string("(other lines)");
        it = windows_.try_emplace(k, Window{now}).first;
    }
    Window& w = it->second;
    if (now - w.start >= limit_.per) close(it->first, w, now);
    if (w.written < limit_.lines) {
        ++w.written;
        out_.at(level, line);
        return;
    }
    ++w.suppressed;
    ++suppressed_total_;
    if (level < w.worst) w.worst = level;
}

LogSink LogLimiter::sink(std::string key)
{
    return LogSink([this, k = std::move(key)](LogLevel level, const std::string& line) { at(level, k, line); },
                   [this](LogLevel level) { return out_.enabled(level); });
}

}  // namespace kadp::ctl
