// Runs on: any (unit test). The top level of a configuration: which sections
// are parsed, recognised or unknown, and what a bad top level reports.
#include "conf/load.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conf/json_dump.h"

namespace kadp::conf {
namespace {

using ::testing::HasSubstr;

Config load(std::string_view text, Diagnostics& diags)
{
    LoadOptions o;
    o.check_host = false;
    return load_text(text, "t.conf", o, diags);
}

TEST(Load, RecognisedTopLevelSectionsAreKeptWithoutWarning)
{
    Diagnostics diags;
    auto c = load("SSL {\n password x\n}\nbfd_instance b1 {\n}\nlinkbeat_interfaces {\n eth0\n}\n", diags);
    EXPECT_EQ(diags.all().size(), 0u) << Diagnostics::format(diags.all().front());
    ASSERT_EQ(c.other.size(), 3u);
    EXPECT_EQ(c.other[0].keyword, "SSL");
    EXPECT_EQ(c.other[1].keyword, "bfd_instance");
    EXPECT_EQ(c.other[1].value, "b1");
    EXPECT_EQ(c.other[2].loc.line, 6);
    EXPECT_THAT(dump_json(c), HasSubstr("\"keyword\": \"bfd_instance\""));
}

TEST(Load, UnknownTopLevelKeywordWarnsWithItsLine)
{
    Diagnostics diags;
    load("global_defs {\n}\nbogus_section {\n  x 1\n}\n", diags);
    ASSERT_EQ(diags.all().size(), 1u);
    EXPECT_EQ(diags.all()[0].severity, Severity::warning);
    EXPECT_EQ(diags.all()[0].loc.line, 3);
    EXPECT_THAT(diags.all()[0].message, HasSubstr("Unknown keyword 'bogus_section'"));
}

TEST(Load, SectionWithoutBlockIsAnError)
{
    Diagnostics diags;
    load("global_defs\nvrrp_instance VI_1\n", diags);
    ASSERT_EQ(diags.error_count(), 2u);
    EXPECT_THAT(diags.all()[0].message, HasSubstr("global_defs needs a { ... } block"));
    EXPECT_EQ(diags.all()[1].loc.line, 2);
}

TEST(Load, HostNameDefaultsFillGlobalDefs)
{
    Diagnostics diags;
    auto c = load("", diags);
    EXPECT_FALSE(c.global_defs.router_id.empty());
    EXPECT_EQ(c.global_defs.notification_email_from, "keepalived@" + c.global_defs.router_id);
    EXPECT_EQ(c.global_defs.vrrp_mcast_group4.to_string(), "224.0.0.18");
    EXPECT_EQ(c.global_defs.vrrp_mcast_group6.to_string(), "ff02::12");
    EXPECT_FALSE(c.dataplane.has_value());
}

}  // namespace
}  // namespace kadp::conf
