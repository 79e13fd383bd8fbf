// Runs on: any (unit test). `--backend dpdk|kernel|auto` on the command line.
#include "control/backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control/cli.h"

namespace kadp::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Backend, AbsentIsAutomatic)
{
    auto r = parse_cli({"-l", "0,1", "--", "-f", "x.conf"});
    ASSERT_TRUE(r.options) << r.error;
    EXPECT_EQ(r.options->backend, Backend::automatic);
    EXPECT_THAT(r.options->eal_args, ElementsAre("-l", "0,1"));
}

TEST(Backend, BothSpellingsAndNotPassedToEal)
{
    auto r = parse_cli({"-l", "0,1", "--backend", "kernel", "--", "-f", "x.conf"});
    ASSERT_TRUE(r.options) << r.error;
    EXPECT_EQ(r.options->backend, Backend::kernel);
    EXPECT_THAT(r.options->eal_args, ElementsAre("-l", "0,1"));
    r = parse_cli({"--", "--backend=dpdk", "-f", "x.conf"});
    ASSERT_TRUE(r.options) << r.error;
    EXPECT_EQ(r.options->backend, Backend::dpdk);
}

TEST(Backend, BadOrMissingValueIsAnError)
{
    EXPECT_THAT(parse_cli({"--backend", "ipvs"}).error, HasSubstr("'ipvs'"));
    EXPECT_THAT(parse_cli({"--backend"}).error, HasSubstr("needs"));
}

TEST(Backend, Names)
{
    EXPECT_EQ(backend_from_name("auto"), Backend::automatic);
    EXPECT_EQ(backend_from_name("dpdk"), Backend::dpdk);
    EXPECT_EQ(backend_from_name("kernel"), Backend::kernel);
    EXPECT_FALSE(backend_from_name("DPDK"));
    EXPECT_STREQ(to_string(Backend::kernel), "kernel");
}

}  // namespace
}  // namespace kadp::ctl
