// Runs on: any (unit test). Lexer rules, one test per rule of keepalived's reader.
#include "conf/lexer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kadp::conf {
namespace {

using ::testing::ElementsAre;

std::vector<Line> lex(std::string_view text, std::string id = "node1")
{
    Diagnostics diags;
    LexOptions o;
    o.config_id = std::move(id);
    return lex_text(text, "t.conf", o, diags);
}

TEST(Lexer, HashAndBangStartCommentsOutsideQuotes)
{
    auto lines = lex("router_id a # comment\nrouter_id b ! other\nscript \"x # y ! z\"\n");
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_THAT(lines[0].tokens, ElementsAre("router_id", "a"));
    EXPECT_THAT(lines[1].tokens, ElementsAre("router_id", "b"));
    EXPECT_THAT(lines[2].tokens, ElementsAre("script", "x # y ! z"));
}

TEST(Lexer, BracesSplitLines)
{
    auto lines = lex("global_defs { router_id x }\n");
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_THAT(lines[0].tokens, ElementsAre("global_defs"));
    EXPECT_THAT(lines[1].tokens, ElementsAre("{"));
    EXPECT_THAT(lines[2].tokens, ElementsAre("router_id", "x"));
    EXPECT_THAT(lines[3].tokens, ElementsAre("}"));
    for (const auto& l : lines) EXPECT_EQ(l.loc.line, 1);
}

TEST(Lexer, ParametersExpandBothForms)
{
    auto lines = lex("$IF=eth0\ninterface $IF\ninterface ${IF}x\n");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(lines[0].tokens, ElementsAre("interface", "eth0"));
    EXPECT_THAT(lines[1].tokens, ElementsAre("interface", "eth0x"));
    EXPECT_EQ(lines[1].loc.line, 3);
}

TEST(Lexer, ConditionalLinesFollowConfigId)
{
    auto lines = lex("@node1 priority 200\n@node2 priority 100\n@^node1 priority 50\n@^node2 priority 60\n");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(lines[0].tokens, ElementsAre("priority", "200"));
    EXPECT_THAT(lines[1].tokens, ElementsAre("priority", "60"));
}

TEST(Lexer, SplitCommandHonoursBothQuotesAndEscapes)
{
    EXPECT_THAT(split_command(R"(/bin/x 'a b' "c d" e\ f "g\"h")"),
                ElementsAre("/bin/x", "a b", "c d", "e f", "g\"h"));
}

}  // namespace
}  // namespace kadp::conf
