// Runs on: any (unit test). global_defs lvs_timeouts / lvs_flush /
// lvs_flush_on_stop as the kernel backend reads them.
#include <gtest/gtest.h>

#include "conf/load.h"
#include "control/kernel/lvs_globals.h"

namespace kadp::ctl {
namespace {

LvsGlobals read(const std::string& body, conf::Diagnostics& diags) {
    conf::LoadOptions options;
    options.check_host = false;
    const auto c = conf::load_text("global_defs {\n" + body + "}\n", "t.conf", options, diags);
    return lvs_globals(c.global_defs, diags);
}

TEST(LvsGlobals, DefaultsLeaveTheKernelAloneAndDeleteEachServiceAtStop) {
    conf::Diagnostics diags;
    const auto g = read("", diags);
    EXPECT_FALSE(g.timeouts.has_value());
    EXPECT_FALSE(g.flush_at_start);
    EXPECT_EQ(g.on_stop, LvsGlobals::OnStop::delete_each);
}

TEST(LvsGlobals, TimeoutsFlushAndFlushOnStop) {
    conf::Diagnostics diags;
    const auto g = read("    lvs_timeouts tcp 7200 udp 300\n    lvs_flush\n    lvs_flush_on_stop\n", diags);
    ASSERT_TRUE(g.timeouts.has_value());
    EXPECT_EQ(g.timeouts->tcp, 7200u);
    EXPECT_EQ(g.timeouts->tcp_fin, 0u);  // not given: unchanged
    EXPECT_EQ(g.timeouts->udp, 300u);
    EXPECT_TRUE(g.flush_at_start);
    EXPECT_EQ(g.on_stop, LvsGlobals::OnStop::flush_all);
    EXPECT_EQ(read("    lvs_flush_on_stop VS\n", diags).on_stop, LvsGlobals::OnStop::delete_services);
    EXPECT_FALSE(diags.has_errors());
}

TEST(LvsGlobals, MalformedTimeoutsAreIgnoredWithAWarningAtTheirLine) {
    for (const char* bad : {"tcp", "tcp x", "tcp 0", "fin 10", "tcp 10 udp"}) {
        conf::Diagnostics diags;
        const auto g = read("    lvs_timeouts " + std::string(bad) + "\n", diags);
        EXPECT_FALSE(g.timeouts.has_value()) << bad;
        bool warned = false;
        for (const auto& d : diags.all()) {
            warned |= d.loc.line == 2 && d.message.find("lvs_timeouts") != std::string::npos;
        }
        EXPECT_TRUE(warned) << bad;
    }
}

}  // namespace
}  // namespace kadp::ctl
