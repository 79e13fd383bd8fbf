// Runs on: any (unit test). The JSON reader kadpctl reads replies with.
#include "control/json_value.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conf/json_writer.h"

namespace kadp::ctl {
namespace {

TEST(JsonValue, ReadsWhatTheWriterWrites)
{
    conf::JsonWriter w;
    w.begin_object();
    w.member("s", "a\"b\\c\n\t\x01 é");
    w.member("big", std::uint64_t{18446744073709551615ULL});
    w.member("neg", -5);
    w.member("t", true);
    w.member_null("n");
    w.key("list").begin_array().value(1).value("x").begin_object().end_object().end_array();
    w.end_object();
    std::string error;
    const auto v = JsonValue::parse(w.take(), error);
    ASSERT_TRUE(v) << error;
    EXPECT_EQ(v->str("s"), "a\"b\\c\n\t\x01 é");
    EXPECT_EQ(v->u64("big"), 18446744073709551615ULL);
    EXPECT_EQ(v->i64("neg"), -5);
    EXPECT_TRUE(v->boolean("t"));
    ASSERT_NE(v->get("n"), nullptr);
    EXPECT_TRUE(v->get("n")->is_null());
    ASSERT_TRUE(v->get("list")->is_array());
    EXPECT_EQ(v->get("list")->items().size(), 3u);
    EXPECT_EQ(v->get("missing"), nullptr);
    EXPECT_EQ(v->u64("s", 9), 9u);  // mistyped: the fallback
}

TEST(JsonValue, MembersKeepTheirOrder)
{
    std::string error;
    const auto v = JsonValue::parse(R"({"zeta": 1, "alpha": 2, "mid": 3, "alpha": 4})", error);
    ASSERT_TRUE(v) << error;
    ASSERT_EQ(v->members().size(), 3u);
    EXPECT_EQ(v->members()[0].first, "zeta");
    EXPECT_EQ(v->members()[1].first, "alpha");
    EXPECT_EQ(v->u64("alpha"), 4u) << "the last value of a repeated key";
    EXPECT_EQ(v->members()[2].first, "mid");
}

TEST(JsonValue, UnicodeEscapes)
{
    std::string error;
    const auto v = JsonValue::parse(R"(["\u00e9\ud83d\ude00\u0041"])", error);
    ASSERT_TRUE(v) << error;
    EXPECT_EQ(v->items()[0].text(), "é\xf0\x9f\x98\x80" "A");
}

TEST(JsonValue, RejectsMalformedDocuments)
{
    std::string error;
    for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "\"unterminated", "01x", "tru", "{} {}", "[\"\x01\"]",
                            "{\"a\":-}", "\"\\q\""}) {
        EXPECT_FALSE(JsonValue::parse(bad, error)) << bad;
        EXPECT_THAT(error, ::testing::StartsWith("offset ")) << bad;
    }
}

TEST(JsonValue, DepthIsBounded)
{
    std::string error;
    EXPECT_FALSE(JsonValue::parse(std::string(200, '[') + std::string(200, ']'), error));
    EXPECT_THAT(error, ::testing::HasSubstr("nested too deeply"));
    EXPECT_TRUE(JsonValue::parse(std::string(10, '[') + std::string(10, ']'), error));
}

}  // namespace
}  // namespace kadp::ctl
