// Runs on: any (unit test).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conf/load.h"
#include "conf/tree.h"

namespace kadp::conf {
namespace {

std::vector<Node> tree_of(std::string_view text, Diagnostics& d)
{
    LexOptions o;
    return build_tree(lex_text(text, "t.conf", o, d), d);
}

bool says(const Diagnostics& d, std::string_view what)
{
    for (const auto& x : d.all()) {
        if (x.message.find(what) != std::string::npos) return true;
    }
    return false;
}

TEST(Tree, BraceOnNextLineOpensTheBlock)
{
    Diagnostics d;
    auto t = tree_of("g\n{\nk b2\n}\n", d);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_TRUE(t[0].has_block);
    ASSERT_EQ(t[0].children.size(), 1u);
    EXPECT_FALSE(d.has_errors());
}

// keepalived ignores a '{' with no keyword ("Unexpected '{' - ignoring") and
// keeps reading; braces are counted over the whole input.
TEST(Tree, UnbalancedBracesAreReportedLikeKeepalived)
{
    Diagnostics d;
    auto t = tree_of("{\nk m1\n}\n}\n", d);
    EXPECT_TRUE(says(d, "Unexpected '{'"));
    EXPECT_TRUE(says(d, "Extra '}' found"));
    EXPECT_EQ(t.size(), 1u);
    Diagnostics d2;
    tree_of("g {\nk m1\n", d2);
    EXPECT_TRUE(says(d2, "There are 1 missing '}'s or extra '{'s"));
}

TEST(Tree, DeepNestingDoesNotRecurse)
{
    Diagnostics d;
    std::string text;
    for (int i = 0; i < 100000; ++i) text += "a {\n";
    auto t = tree_of(text, d);
    EXPECT_TRUE(d.has_errors());
    EXPECT_EQ(t.size(), 1u);
}

}  // namespace
}  // namespace kadp::conf
