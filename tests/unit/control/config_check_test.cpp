// Runs on: any (unit test). `kadp -t` / `--dump-config` exit statuses and
// output streams, on real files.
#include "control/config_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kadp::ctl {
namespace {

using ::testing::HasSubstr;

class ConfigCheck : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/kadp-cc-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string& name, const std::string& text)
    {
        auto path = dir_ / name;
        std::ofstream(path) << text;
        return path.string();
    }

    int run(CliOptions o)
    {
        out_.str("");
        err_.str("");
        return run_config_check(o, out_, err_);
    }

    std::filesystem::path dir_;
    std::ostringstream out_, err_;
};

TEST_F(ConfigCheck, MissingFileExitsFour)
{
    CliOptions o;
    o.config_test = true;
    o.config_file = (dir_ / "absent.conf").string();
    EXPECT_EQ(run(o), kExitNoConfig);
    EXPECT_THAT(err_.str(), HasSubstr("absent.conf"));
}

TEST_F(ConfigCheck, DirectoryExitsFour)
{
    CliOptions o;
    o.config_test = true;
    o.config_file = dir_.string();
    EXPECT_EQ(run(o), kExitNoConfig);
}

TEST_F(ConfigCheck, UnreadableFileExitsFour)
{
    if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
    CliOptions o;
    o.config_test = true;
    o.config_file = write("k.conf", "global_defs {\n}\n");
    std::filesystem::permissions(o.config_file, std::filesystem::perms::none);
    EXPECT_EQ(run(o), kExitNoConfig);
}

TEST_F(ConfigCheck, ErrorExitsFiveWithFileAndLine)
{
    CliOptions o;
    o.config_test = true;
    o.config_file = write("k.conf", "global_defs {\n  router_id x\n");  // never closed
    EXPECT_EQ(run(o), kExitConfigError);
    EXPECT_THAT(err_.str(), HasSubstr("k.conf:1: error:"));
}

// A virtual server with one real server, scheduled by `algo`.
std::string vs_conf(const std::string& algo)
{
    return "virtual_server 198.18.0.1 80 {\n"
           "    lb_algo " + algo + "\n"
           "    lb_kind NAT\n"
           "    protocol TCP\n"
           "    real_server 198.18.1.1 80 {\n"
           "    }\n"
           "}\n";
}

TEST_F(ConfigCheck, UnknownSchedulerIsAnErrorNamingTheServiceAndTheChoices)
{
    CliOptions o;
    o.config_test = true;
    o.config_file = write("k.conf", vs_conf("foo"));
    EXPECT_EQ(run(o), kExitConfigError);
    EXPECT_THAT(err_.str(), HasSubstr("k.conf:2: error: virtual server [198.18.0.1]:80: invalid lvs_scheduler 'foo' "
                                      "(expects one of rr wrr lc wlc lblc lblcr dh sh mh sed nq fo ovf twos)"));
}

TEST_F(ConfigCheck, SchedulerTheDataPlaneCannotRunIsAnErrorWithDpdk)
{
    CliOptions o;
    o.config_test = true;
    o.config_file = write("k.conf", vs_conf("twos"));
    o.backend = Backend::dpdk;
    EXPECT_EQ(run(o), kExitConfigError);
    EXPECT_THAT(err_.str(), HasSubstr("k.conf:1: error: virtual server [198.18.0.1]:80/TCP (" + o.config_file +
                                      ":1): lb_algo twos is not supported by the data plane (supported: rr, wrr, "
                                      "lc, wlc, sh, dh, mh, sed, nq, lblc, lblcr, fo, ovf)"));
    o.backend = Backend::kernel;  // a kernel may have ip_vs_twos
    EXPECT_EQ(run(o), kExitOk);
    // Every other IPVS scheduler runs on the data plane.
    o.backend = Backend::dpdk;
    for (const char* algo : {"rr", "wrr", "lc", "wlc", "sh", "dh", "mh", "sed", "nq", "lblc", "lblcr", "fo", "ovf"}) {
        o.config_file = write("k.conf", vs_conf(algo));
        EXPECT_EQ(run(o), kExitOk) << algo << ": " << err_.str();
    }
}

TEST_F(ConfigCheck, WarningsAloneExitZeroUnlessStrict)
{
    CliOptions o;
    o.config_test = true;
    o.config_file = write("k.conf", "global_defs {\n  no_such_keyword 1\n}\n");
    EXPECT_EQ(run(o), kExitOk);
    EXPECT_THAT(err_.str(), HasSubstr("k.conf:2: warning: Unknown keyword 'no_such_keyword'"));
    o.strict = true;
    EXPECT_EQ(run(o), kExitConfigError);
}

TEST_F(ConfigCheck, ScriptsWithoutScriptSecurityExitSixEvenWithErrors)
{
    CliOptions o;
    o.config_test = true;
    const std::string instance =
        "vrrp_instance V {\n interface lo\n virtual_router_id 9\n notify_master /bin/true\n"
        " virtual_ipaddress {\n  198.18.0.9\n }\n}\n";
    o.config_file = write("k.conf", instance);
    EXPECT_EQ(run(o), kExitScriptSecurity);  // keepalived -t: 6, --strict or not
    EXPECT_THAT(err_.str(), HasSubstr("k.conf:4: warning: SECURITY VIOLATION - scripts are being executed"));
    o.strict = true;
    EXPECT_EQ(run(o), kExitScriptSecurity);
    o.config_file = write("e.conf", instance + "global_defs {\n  router_id x\n");  // never closed
    EXPECT_EQ(run(o), kExitScriptSecurity);
    o.config_file = write("s.conf", "global_defs {\n  enable_script_security\n  script_user root\n}\n" + instance);
    EXPECT_EQ(run(o), kExitOk);
}

TEST_F(ConfigCheck, DumpConfigPrintsJsonOnStdoutOnly)
{
    CliOptions o;
    o.dump_config = true;
    o.config_file = write("k.conf", "global_defs {\n  router_id lb1\n}\n");
    EXPECT_EQ(run(o), kExitOk);
    EXPECT_THAT(out_.str(), HasSubstr("\"router_id\": \"lb1\""));
    EXPECT_EQ(err_.str(), "");
}

TEST_F(ConfigCheck, DumpConfigRefusesABadFile)
{
    CliOptions o;
    o.dump_config = true;
    o.config_file = write("k.conf", "}\n");
    EXPECT_EQ(run(o), kExitConfigError);
    EXPECT_EQ(out_.str(), "");
}

}  // namespace
}  // namespace kadp::ctl
