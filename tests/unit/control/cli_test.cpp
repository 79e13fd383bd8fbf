// Runs on: any (unit test). The kadp command line.
#include "control/cli.h"

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

}  // namespace
}  // namespace kadp::ctl
