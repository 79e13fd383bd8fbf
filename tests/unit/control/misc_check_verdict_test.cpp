// Runs on: any (unit test, pure). MISC_CHECK's verdict for every exit
// status, with and without misc_dynamic, for signals, timeouts and scripts
// that never started.
#include "control/misc_check_verdict.h"

#include <csignal>

#include <gtest/gtest.h>

namespace kadp::ctl {
namespace {

ScriptResult exited(int code)
{
    ScriptResult r;
    r.status = ScriptResult::Status::exited;
    r.exit_code = code;
    return r;
}

TEST(MiscCheckVerdict, EveryExitStatusWithoutMiscDynamic)
{
    for (int code = 0; code <= 255; ++code) {
        const auto v = misc_check_verdict(exited(code), false);
        EXPECT_EQ(v.up, code == 0) << code;
        EXPECT_FALSE(v.weight.has_value()) << code;
        EXPECT_EQ(v.reason, "exited with status " + std::to_string(code));
    }
}

TEST(MiscCheckVerdict, EveryExitStatusWithMiscDynamic)
{
    for (int code = 0; code <= 255; ++code) {
        const auto v = misc_check_verdict(exited(code), true);
        if (code == 0) {
            EXPECT_TRUE(v.up);
            EXPECT_FALSE(v.weight.has_value());  // keepalived leaves the weight alone
        } else if (code == 1) {
            EXPECT_FALSE(v.up);
            EXPECT_FALSE(v.weight.has_value());
        } else {
            EXPECT_TRUE(v.up) << code;
            ASSERT_TRUE(v.weight.has_value()) << code;
            EXPECT_EQ(*v.weight, code - 2);
        }
    }
    EXPECT_EQ(*misc_check_verdict(exited(255), true).weight, 253);
    EXPECT_EQ(*misc_check_verdict(exited(2), true).weight, 0);
}

TEST(MiscCheckVerdict, SignalsAreFailures)
{
    for (int sig : {SIGTERM, SIGKILL, SIGSEGV, SIGABRT, SIGHUP}) {
        for (bool dynamic : {false, true}) {
            ScriptResult r;
            r.status = ScriptResult::Status::killed;
            r.signal = sig;
            const auto v = misc_check_verdict(r, dynamic);
            EXPECT_FALSE(v.up);
            EXPECT_FALSE(v.weight.has_value());
            EXPECT_EQ(v.reason, "due to signal " + std::to_string(sig));
        }
    }
}

TEST(MiscCheckVerdict, TimeoutIsAFailureHoweverTheScriptEnded)
{
    for (bool dynamic : {false, true}) {
        ScriptResult killed;
        killed.status = ScriptResult::Status::killed;
        killed.signal = SIGKILL;
        killed.timed_out = true;
        ScriptResult clean_exit = exited(0);  // trapped our SIGTERM and exited 0
        clean_exit.timed_out = true;
        ScriptResult weight = exited(50);
        weight.timed_out = true;
        for (const auto& r : {killed, clean_exit, weight}) {
            const auto v = misc_check_verdict(r, dynamic);
            EXPECT_FALSE(v.up);
            EXPECT_FALSE(v.weight.has_value());
            EXPECT_EQ(v.reason, "timed out");
        }
    }
}

TEST(MiscCheckVerdict, NotStartedIsAFailure)
{
    ScriptResult r;
    r.status = ScriptResult::Status::not_started;
    r.error = "script '/x' not found or not executable";
    const auto v = misc_check_verdict(r, true);
    EXPECT_FALSE(v.up);
    EXPECT_EQ(v.reason, "not started: script '/x' not found or not executable");
}

}  // namespace
}  // namespace kadp::ctl
