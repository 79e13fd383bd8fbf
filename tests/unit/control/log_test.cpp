// Runs on: any (unit test). kadp's log: the level filter, stderr and syslog
// chosen as keepalived's -S / -l do, syslog priorities, and the names the
// command line accepts.
#include "control/log.h"

#include <syslog.h>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

struct Sinks {
    std::ostringstream console;
    std::vector<std::pair<int, std::string>> syslog;
    Logger logger(LogOptions o)
    {
        return Logger(o, &console, [this](int p, const std::string& l) { syslog.emplace_back(p, l); });
    }
};

TEST(Logger, StderrOnlyByDefaultAtInfo)
{
    Sinks s;
    const Logger log = s.logger({});
    log.write(LogLevel::error, "e");
    log.write(LogLevel::warning, "w");
    log.write(LogLevel::info, "i");
    log.write(LogLevel::debug, "d");
    EXPECT_EQ(s.console.str(), "kadp: e\nkadp: w\nkadp: i\n");
    EXPECT_TRUE(s.syslog.empty());
}

TEST(Logger, LevelDropsWhatIsBelowIt)
{
    Sinks s;
    LogOptions o;
    o.level = LogLevel::warning;
    const Logger log = s.logger(o);
    log.write(LogLevel::info, "i");
    log.write(LogLevel::warning, "w");
    log.write(LogLevel::error, "e");
    EXPECT_EQ(s.console.str(), "kadp: w\nkadp: e\n");
    o.level = LogLevel::debug;
    Sinks d;
    d.logger(o).write(LogLevel::debug, "d");
    EXPECT_EQ(d.console.str(), "kadp: d\n");
}

TEST(Logger, FacilityMovesLinesToSyslogWithTheirPriority)
{
    Sinks s;
    LogOptions o;
    o.level = LogLevel::debug;
    o.syslog_facility = LOG_LOCAL3;
    const Logger log = s.logger(o);
    log.write(LogLevel::error, "e");
    log.write(LogLevel::warning, "w");
    log.write(LogLevel::info, "i");
    log.write(LogLevel::debug, "d");
    EXPECT_EQ(s.console.str(), "");
    const std::vector<std::pair<int, std::string>> want = {
        {LOG_ERR, "e"}, {LOG_WARNING, "w"}, {LOG_INFO, "i"}, {LOG_DEBUG, "d"}};
    EXPECT_EQ(s.syslog, want);
}

TEST(Logger, ConsoleKeepsStderrBesideSyslog)
{
    Sinks s;
    LogOptions o;
    o.syslog_facility = LOG_DAEMON;
    o.console = true;
    s.logger(o).write(LogLevel::info, "both");
    EXPECT_EQ(s.console.str(), "kadp: both\n");
    ASSERT_EQ(s.syslog.size(), 1u);
    EXPECT_EQ(s.syslog[0], std::make_pair(LOG_INFO, std::string("both")));
}

TEST(LogNames, LevelsAndFacilities)
{
    EXPECT_EQ(log_level_from_name("error"), LogLevel::error);
    EXPECT_EQ(log_level_from_name("warning"), LogLevel::warning);
    EXPECT_EQ(log_level_from_name("info"), LogLevel::info);
    EXPECT_EQ(log_level_from_name("debug"), LogLevel::debug);
    EXPECT_FALSE(log_level_from_name("warn"));
    EXPECT_EQ(syslog_facility_from_name("0"), LOG_LOCAL0);
    EXPECT_EQ(syslog_facility_from_name("7"), LOG_LOCAL7);
    EXPECT_EQ(syslog_facility_from_name("local5"), LOG_LOCAL5);
    EXPECT_EQ(syslog_facility_from_name("daemon"), LOG_DAEMON);
    EXPECT_EQ(syslog_facility_from_name("user"), LOG_USER);
    for (const char* bad : {"8", "local8", "", "local", "kern", "07"}) EXPECT_FALSE(syslog_facility_from_name(bad)) << bad;
}

}  // namespace
}  // namespace kadp::ctl
