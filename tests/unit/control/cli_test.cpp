// Runs on: any (unit test). The kadp command line.
#include "control/cli.h"

#include <syslog.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

using ::testing::ElementsAre;

TEST(Cli, ConfigTestWithFileAndId)
{
    auto r = parse_cli({"-t", "-f", "/tmp/k.conf", "-i", "lb1"});
    ASSERT_TRUE(r.options) << r.error;
    EXPECT_TRUE(r.options->config_test);
    EXPECT_EQ(r.options->config_file, "/tmp/k.conf");
    EXPECT_EQ(r.options->config_id, "lb1");
    EXPECT_TRUE(r.options->eal_args.empty());
}

TEST(Cli, EalOptionsPassThroughWithTheirValues)
{
    auto r = parse_cli({"--lcores", "0,1", "--no-huge", "-m", "512", "--vdev", "net_null0", "--", "-f", "x.conf"});
    ASSERT_TRUE(r.options) << r.error;
    EXPECT_THAT(r.options->eal_args, ElementsAre("--lcores", "0,1", "--no-huge", "-m", "512", "--vdev", "net_null0"));
    EXPECT_EQ(r.options->config_file, "x.conf");
}

TEST(Cli, MissingValueIsAnError)
{
    auto r = parse_cli({"-f"});
    EXPECT_FALSE(r.options);
    EXPECT_THAT(r.error, ::testing::HasSubstr("-f"));
}

TEST(Cli, UnknownWordAfterSeparatorIsAnError)
{
    auto r = parse_cli({"--", "--bogus"});
    EXPECT_FALSE(r.options);
}

TEST(Cli, ExceptionPathOnByDefaultOffWithOption)
{
    auto r = parse_cli({"-f", "x.conf"});
    ASSERT_TRUE(r.options) << r.error;
    EXPECT_TRUE(r.options->exception_path);
    r = parse_cli({"--no-huge", "--", "-f", "x.conf", "--no-exception-path"});
    ASSERT_TRUE(r.options) << r.error;
    EXPECT_FALSE(r.options->exception_path);
    EXPECT_THAT(r.options->eal_args, ElementsAre("--no-huge"));  // not handed to EAL
}

TEST(Cli, ControlSocketDefaultAndOption)
{
    auto d = parse_cli({"-f", "x.conf"});
    ASSERT_TRUE(d.options) << d.error;
    EXPECT_EQ(d.options->control_socket, "/run/kadp/kadp.sock");
    auto a = parse_cli({"-l", "0,1", "--", "-f", "x.conf", "--control-socket", "/tmp/t/k.sock"});
    ASSERT_TRUE(a.options) << a.error;
    EXPECT_EQ(a.options->control_socket, "/tmp/t/k.sock");
    EXPECT_THAT(a.options->eal_args, ElementsAre("-l", "0,1"));
    auto b = parse_cli({"--control-socket=/tmp/b.sock"});
    ASSERT_TRUE(b.options) << b.error;
    EXPECT_EQ(b.options->control_socket, "/tmp/b.sock");
    EXPECT_FALSE(parse_cli({"--control-socket"}).options);
    EXPECT_FALSE(parse_cli({"--control-socket="}).options);
}

TEST(Cli, LogOptions)
{
    auto d = parse_cli({"-f", "x.conf"});
    ASSERT_TRUE(d.options) << d.error;
    EXPECT_EQ(d.options->log.level, LogLevel::info);
    EXPECT_FALSE(d.options->log.syslog_facility);
    EXPECT_FALSE(d.options->log.console);
    // -l stays EAL's (lcores); keepalived's -l is --log-console here.
    auto a = parse_cli({"-l", "0,1", "--", "-f", "x.conf", "--log-level", "warning", "-S", "3", "--log-console"});
    ASSERT_TRUE(a.options) << a.error;
    EXPECT_THAT(a.options->eal_args, ElementsAre("-l", "0,1"));
    EXPECT_EQ(a.options->log.level, LogLevel::warning);
    EXPECT_EQ(a.options->log.syslog_facility, LOG_LOCAL3);
    EXPECT_TRUE(a.options->log.console);
    auto b = parse_cli({"-D", "--log-facility=daemon"});
    ASSERT_TRUE(b.options) << b.error;
    EXPECT_EQ(b.options->log.level, LogLevel::debug);
    EXPECT_EQ(b.options->log.syslog_facility, LOG_DAEMON);
    auto c = parse_cli({"--log-level=error", "--log-detail"});
    ASSERT_TRUE(c.options) << c.error;
    EXPECT_EQ(c.options->log.level, LogLevel::debug);  // the last one wins
    EXPECT_FALSE(parse_cli({"--log-level", "loud"}).options);
    EXPECT_FALSE(parse_cli({"--log-level"}).options);
    EXPECT_FALSE(parse_cli({"-S", "9"}).options);
    EXPECT_FALSE(parse_cli({"-S"}).options);
}

}  // namespace
}  // namespace kadp::ctl
