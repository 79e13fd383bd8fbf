// Runs on: control thread (configure_log), any (log_at).
#include "control/log.h"

#include <syslog.h>

#include <iostream>
#include <memory>
#include <utility>

namespace kadp::ctl {
namespace {

int syslog_priority(LogLevel level)
{
    switch (level) {
    case LogLevel::error: return LOG_ERR;
    case LogLevel::warning: return LOG_WARNING;
    case LogLevel::info: return LOG_INFO;
    case LogLevel::debug: return LOG_DEBUG;
    }
    return LOG_INFO;
}

std::unique_ptr<Logger>& process_logger()
{
    static std::unique_ptr<Logger> logger = std::make_unique<Logger>(LogOptions{}, &std::cerr, nullptr);
    return logger;
}

}  // namespace

std::optional<LogLevel> log_level_from_name(std::string_view name)
{
    if (name == "error") return LogLevel::error;
    if (name == "warning") return LogLevel::warning;
    if (name == "info") return LogLevel::info;
    if (name == "debug") return LogLevel::debug;
    return std::nullopt;
}

std::optional<int> syslog_facility_from_name(std::string_view name)
{
    static constexpr int kLocal[] = {LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3,
                                     LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7};
    if (name.starts_with("local")) name.remove_prefix(5);
    if (name.size() == 1 && name[0] >= '0' && name[0] <= '7') return kLocal[name[0] - '0'];
    if (name == "daemon") return LOG_DAEMON;
    if (name == "user") return LOG_USER;
    return std::nullopt;
}

Logger::Logger(LogOptions options, std::ostream* console, SyslogWrite syslog)
    : options_(options), console_(console), syslog_(std::move(syslog))
{
}

void Logger::write(LogLevel level, const std::string& line) const
{
    if (!enabled(level)) return;
    const bool to_syslog = options_.syslog_facility.has_value() && syslog_;
    if (to_syslog) syslog_(syslog_priority(level), line);
    // One insertion: the line stays whole among EAL's own stderr output.
    if (console_ != nullptr && (!to_syslog || options_.console)) *console_ << ("kadp: " + line + '\n') << std::flush;
}

void configure_log(const LogOptions& options)
{
    Logger::SyslogWrite write;
    if (options.syslog_facility) {
        const int facility = *options.syslog_facility;
        ::openlog("kadp", LOG_PID, facility);
        // The facility goes with every line: DPDK's rte_eal_init() calls
        // openlog() again (LOG_DAEMON, or its --syslog), and openlog()'s
        // default is per process, so -S would be lost after it.
        write = [facility](int priority, const std::string& line) { ::syslog(facility | priority, "%s", line.c_str()); };
    }
    process_logger() = std::make_unique<Logger>(options, &std::cerr, std::move(write));
}

void log_at(LogLevel level, const std::string& line) { process_logger()->write(level, line); }

bool log_enabled(LogLevel level) { return process_logger()->enabled(level); }

LogSink process_log_sink()
{
    return LogSink([](LogLevel level, const std::string& line) { log_at(level, line); },
                   [](LogLevel level) { return log_enabled(level); });
}

}  // namespace kadp::ctl
