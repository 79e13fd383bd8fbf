// Runs on: any (unit test). The kadp-only `metrics { listen ADDR PORT }` block.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conf/load.h"
#include "tests/unit/conf/load_fixture.h"

namespace kadp::conf {
namespace {

using ::testing::HasSubstr;
using namespace kadp::conf::testing;

Loaded load(std::string_view text)
{
    Loaded l;
    l.config = load_text(text, "m.conf", LoadOptions{}, l.diags);
    return l;
}

std::vector<std::string> errors(const Diagnostics& d)
{
    std::vector<std::string> out;
    for (const auto& x : d.all())
        if (x.severity == Severity::error) out.push_back(Diagnostics::format(x));
    return out;
}

void expect_one_error(std::string_view config, int line, const std::string& text)
{
    const Loaded l = load(config);
    const auto e = errors(l.diags);
    ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
    EXPECT_THAT(e[0], HasSubstr("m.conf:" + std::to_string(line) + ": error: "));
    EXPECT_THAT(e[0], HasSubstr(text));
}

TEST(Metrics, OffByDefault)
{
    const Loaded l = load("global_defs {\n}\n");
    EXPECT_FALSE(l.config.metrics.has_value());
    // A block without listen: still off.
    const Loaded empty = load("metrics {\n}\n");
    EXPECT_THAT(errors(empty.diags), ::testing::IsEmpty());
    EXPECT_FALSE(empty.config.metrics.has_value());
}

TEST(Metrics, ListenV4AndV6)
{
    const Loaded l = load("metrics {\n    listen 198.18.0.1 9115\n}\n");
    EXPECT_THAT(errors(l.diags), ::testing::IsEmpty());
    ASSERT_TRUE(l.config.metrics.has_value());
    EXPECT_EQ(l.config.metrics->address.to_string(), "198.18.0.1");
    EXPECT_EQ(l.config.metrics->port, 9115);
    EXPECT_EQ(l.config.metrics->loc.line, 2);
    const Loaded v6 = load("metrics {\n    listen :: 9115\n}\n");
    EXPECT_THAT(errors(v6.diags), ::testing::IsEmpty());
    ASSERT_TRUE(v6.config.metrics.has_value());
    EXPECT_TRUE(v6.config.metrics->address.is_v6());
}

TEST(Metrics, BadValuesAreErrorsWithTheirLine)
{
    expect_one_error("metrics {\n    listen 198.18.0.300 9115\n}\n", 2, "is not an IPv4 or IPv6 address");
    expect_one_error("metrics {\n    listen 198.18.0.1 0\n}\n", 2, "'0' is not a whole number from 1 to 65535");
    expect_one_error("metrics {\n    listen 198.18.0.1 65536\n}\n", 2, "'65536' is not a whole number from 1 to 65535");
    expect_one_error("metrics {\n    listen 198.18.0.1 http\n}\n", 2, "'http' is not a whole number");
    expect_one_error("metrics {\n    listen 198.18.0.1\n}\n", 2, "listen");
    expect_one_error("metrics {\n    listen 198.18.0.1 1\n    listen 198.18.0.1 2\n}\n", 3, "listen given twice");
    expect_one_error("metrics {\n    listen 198.18.0.1 1\n}\nmetrics {\n}\n", 4, "metrics given twice");
}

}  // namespace
}  // namespace kadp::conf
