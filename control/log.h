// Runs on: control thread (any thread may call log_at(): each line is one
// write). kadp's log: one line per event, to stderr ("kadp: " first) and/or
// syslog (keepalived's -S facility), below a level dropped. Configured once
// from the command line (--log-level, -D, -S, --log-console) before the
// backend starts; docs/operations.md "Logging".
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "control/log_sink.h"

namespace kadp::ctl {

struct LogOptions {
    LogLevel level = LogLevel::info;   // --log-level; -D (keepalived's --log-detail): debug
    std::optional<int> syslog_facility;  // -S: LOG_LOCAL0..7, LOG_DAEMON, LOG_USER; none: no syslog
    bool console = false;              // --log-console: stderr as well as syslog (stderr anyway without -S)
};

std::optional<LogLevel> log_level_from_name(std::string_view name);  // error, warning, info, debug
// keepalived's -S values: 0..7 (local0..local7), local0..local7, daemon, user.
std::optional<int> syslog_facility_from_name(std::string_view name);

// Where the lines go; a test gives its own stream and syslog writer.
class Logger {
public:
    using SyslogWrite = std::function<void(int priority, const std::string& line)>;
    Logger(LogOptions options, std::ostream* console, SyslogWrite syslog);
    void write(LogLevel level, const std::string& line) const;
    bool enabled(LogLevel level) const { return level <= options_.level; }

private:
    LogOptions options_;
    std::ostream* console_;
    SyslogWrite syslog_;
};

// The process's logger: stderr at info until configure_log(); with a
// facility, openlog("kadp", LOG_PID, facility) and that facility in every
// syslog() call (DPDK's EAL opens syslog again with its own). Call it once,
// before threads.
void configure_log(const LogOptions& options);
void log_at(LogLevel level, const std::string& line);
inline void log_info(const std::string& line) { log_at(LogLevel::info, line); }
inline void log_error(const std::string& line) { log_at(LogLevel::error, line); }
inline void log_warning(const std::string& line) { log_at(LogLevel::warning, line); }
bool log_enabled(LogLevel level);
// The process's logger as a sink for components (their levels kept).
LogSink process_log_sink();

}  // namespace kadp::ctl
