// Runs on: any (unit test). Lexer rules, one test per rule of keepalived's reader.
#include "conf/lexer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

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

std::vector<Line> lex_d(std::string_view text, Diagnostics& diags, std::size_t max_generated = 100000)
{
    LexOptions o;
    o.config_id = "node1";
    o.max_generated_lines = max_generated;
    return lex_text(text, "t.conf", o, diags);
}

std::vector<std::string> firsts(const std::vector<Line>& lines)
{
    std::vector<std::string> out;
    for (const auto& l : lines) out.push_back(l.tokens.front());
    return out;
}

bool mentions(const Diagnostics& d, std::string_view what)
{
    for (const auto& x : d.all()) {
        if (x.message.find(what) != std::string::npos) return true;
    }
    return false;
}

// A temporary directory, removed at the end of the test.
class TempDir {
public:
    TempDir()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "kadp_lex_XXXXXX").string();
        path_ = mkdtemp(tmpl.data());
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    std::string write(const std::string& rel, const std::string& text) const
    {
        auto p = path_ / rel;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p) << text;
        return p.string();
    }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

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


// keepalived 2.2.7: `a1#c` -> a1, `a4\#c` -> a4#c outside quotes, `"a6\#c"` kept.
TEST(Lexer, EscapedCommentCharsOutsideQuotesOnly)
{
    auto lines = lex("k a4\\#c a5\\!c \"a6\\#c\" a19\\\\#c\n");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_THAT(lines[0].tokens, ElementsAre("k", "a4#c", "a5!c", "a6\\#c", "a19\\\\"));
}

// `a20\"#c`: the backslash hides the quote from comment removal; the word
// splitter then sees an unmatched '"' and drops the rest of the line.
TEST(Lexer, BackslashQuoteAndUnmatchedQuote)
{
    Diagnostics d;
    auto lines = lex_d("k a20\\\"#c\nk a15\"b c\nk \"a16 b\n", d);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_THAT(lines[0].tokens, ElementsAre("k", "a20\\"));
    EXPECT_THAT(lines[1].tokens, ElementsAre("k", "a15"));
    EXPECT_THAT(lines[2].tokens, ElementsAre("k"));
    EXPECT_TRUE(mentions(d, "Unmatched quote"));
    EXPECT_TRUE(mentions(d, "unterminated quote"));
    EXPECT_EQ(d.all().back().loc.line, 3);
}

TEST(Lexer, QuoteInsideWordEndsIt)
{
    auto lines = lex("k a9\"b c\"d \"a10\"x \"\" \"key 14\"\n");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_THAT(lines[0].tokens, ElementsAre("k", "a9", "b c", "d", "a10", "x", "", "key 14"));
}

// A trailing '\' is no continuation; blanks before it (even across a comment) go.
TEST(Lexer, TrailingBackslashIsLiteral)
{
    auto lines = lex("k a17\\\nk a18 \\\nk x # y \\\n");
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_THAT(lines[0].tokens, ElementsAre("k", "a17\\"));
    EXPECT_THAT(lines[1].tokens, ElementsAre("k", "a18\\"));
    EXPECT_THAT(lines[2].tokens, ElementsAre("k", "x\\"));
}

TEST(Lexer, CrlfAndTabs)
{
    auto lines = lex("g {\r\n\tk\tcr1\r\n k cr2 \r\r\n}\r\n");
    EXPECT_THAT(firsts(lines), ElementsAre("g", "{", "k", "k", "}"));
    EXPECT_THAT(lines[2].tokens, ElementsAre("k", "cr1"));
    EXPECT_THAT(lines[3].tokens, ElementsAre("k", "cr2"));
}

TEST(Lexer, BracesInsideQuotesDoNotSplitAndEveryBraceSplits)
{
    auto lines = lex("g {k \"b3 {}\" x}\n}{k3\n");
    EXPECT_THAT(firsts(lines), ElementsAre("g", "{", "k", "}", "}", "{", "k3"));
    EXPECT_THAT(lines[2].tokens, ElementsAre("k", "b3 {}", "x"));
    // An unmatched quote stops the search for braces.
    auto l2 = lex("k a \"b { c\n");
    ASSERT_EQ(l2.size(), 1u);
    EXPECT_EQ(l2[0].text, "k a \"b { c");
}

// The text after a brace is read like a new line: definitions, @ID, include.
TEST(Lexer, TextAfterBraceIsANewLine)
{
    auto lines = lex("foo { } $A=5\nk1 $A\nfoo2 } @node1 kk\nfoo3 } @node2 nn\n");
    EXPECT_THAT(firsts(lines), ElementsAre("foo", "{", "}", "k1", "foo2", "}", "kk", "foo3", "}"));
    EXPECT_THAT(lines[3].tokens, ElementsAre("k1", "5"));
}

// fgets() with a 1024-byte buffer: a long line is read in 1023-byte pieces, and
// the line number advances only with the piece that ends the line.
TEST(Lexer, LongLinesSplitLikeFgets)
{
    std::string text = "g\nk " + std::string(1100, 'a') + "\nk after\nlast";
    auto lines = lex(text);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[1].tokens[1].size(), kMaxLineBytes - 2);
    EXPECT_EQ(lines[1].loc.line, 1);
    EXPECT_EQ(lines[2].tokens[0], std::string(1100 - (kMaxLineBytes - 2), 'a'));
    EXPECT_EQ(lines[2].loc.line, 2);
    EXPECT_EQ(lines[3].loc.line, 3);
    EXPECT_EQ(lines[4].loc.line, 3);  // no final newline: the count does not advance
}

TEST(Lexer, DefinitionRules)
{
    auto lines = lex("$B = pb\n  $C=pc\n$D= pd  \ng {\n$E=pe\nk $C [$D] $D $E\n}\n");
    EXPECT_THAT(firsts(lines), ElementsAre("$B", "g", "{", "k", "}"));
    EXPECT_THAT(lines[3].tokens, ElementsAre("k", "pc", "[$D]", "pd", "pe"));
}

// $NAME must be followed by blank, ',', ')' or the end; ${NAME} anywhere; an
// undefined parameter stays as written; "$A" in quotes is not followed by a
// blank so stays, "${A}" expands.
TEST(Lexer, ReferenceRules)
{
    auto lines = lex("$A=pa\n$A_1=pa1\nk $A,y $A) $$A $A-1 $A.1 ${A}.1 $Ax x$A $A_1 $UNDEF \"$A\" \"${A}\" $\n");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_THAT(lines[0].tokens, ElementsAre("k", "pa,y", "pa)", "$pa", "$A-1", "$A.1", "pa.1", "$Ax", "xpa", "pa1",
                                             "$UNDEF", "$A", "pa", "$"));
    // ${UNDEF} stays, and its braces then split the line.
    EXPECT_THAT(firsts(lex("k ${UNDEF}\n")), ElementsAre("k", "{", "UNDEF", "}"));
}

// Expansion happens when used, not when defined; a later definition replaces.
TEST(Lexer, ExpansionIsLateAndRedefinitionReplaces)
{
    auto lines = lex("$B=198.18.${S}\n$S=0\nk ${B}.1\n$S=10\nk ${B}.1\n$S=x\n");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(lines[0].tokens, ElementsAre("k", "198.18.0.1"));
    EXPECT_THAT(lines[1].tokens, ElementsAre("k", "198.18.10.1"));
}

// Multi-line: only at the end of a line; the first line joins it, the rest
// follow as lines of their own; a blank line ends the definition.
TEST(Lexer, MultiLineDefinitions)
{
    auto lines = lex("$ML=k1 a \\\n  k2 b\\\n\n  k3 c\nk4 $ML\nk5 $ML x\nk6 ${ML}\n$Z=\\\nzz\nk7 $Z\n");
    EXPECT_THAT(firsts(lines), ElementsAre("k3", "k4", "k2", "k5", "k6", "k2", "k7"));
    EXPECT_THAT(lines[1].tokens, ElementsAre("k4", "k1", "a"));
    EXPECT_THAT(lines[3].tokens, ElementsAre("k5", "$ML", "x"));
    EXPECT_THAT(lines[6].tokens, ElementsAre("k7", "zz"));
    for (const auto& l : lines) EXPECT_NE(l.loc.line, 0);
    EXPECT_EQ(lines[2].loc.line, 5);  // generated lines carry the referring line
}

TEST(Lexer, BuiltinParameters)
{
    auto lines = lex("k ${_INSTANCE} ${_RANDOM 5 5} ${_PWD}\n$_INSTANCE=zz\nk $_INSTANCE\nk ${_HASH}y\n${_HASH}\n");
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].tokens[1], "node1");
    EXPECT_EQ(lines[0].tokens[2], "5");
    EXPECT_TRUE(std::filesystem::path(lines[0].tokens[3]).is_absolute());
    EXPECT_THAT(lines[1].tokens, ElementsAre("k", "zz"));
    EXPECT_THAT(lines[2].tokens, ElementsAre("k"));  // 2.2.7: the '#' starts a comment
}

// @ID needs a blank after the id, matches the whole id exactly; expansion can
// produce a conditional line.
TEST(Lexer, ConditionalsExactAndAfterExpansion)
{
    auto lines = lex("@node1.ex k a\n@node1\n@node1 $P=7\nk $P\n$IF=@node1\n$IF k b\n@^node1 k c\n", "node1");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(lines[0].tokens, ElementsAre("k", "7"));
    EXPECT_THAT(lines[1].tokens, ElementsAre("k", "b"));
    EXPECT_THAT(firsts(lex("@node1.ex k a\n", "node1.ex")), ElementsAre("k"));
}

TEST(Lexer, Sequences)
{
    auto lines = lex("~SEQ(i,1,3) s$i\n~SEQ(j, 2) t$j\n~SEQx(k,9,3,16) u$k\n~SEQ(a,1,2) ~SEQ(b,1,2) v${a}${b}\n"
                     "~SEQ(q,1,5,2) w\n~SEQ(z,0) y$z\n~FOO $A\n");
    EXPECT_THAT(firsts(lines), ElementsAre("s1", "s2", "s3", "t1", "t2", "u9", "uc", "uf", "v11", "v12", "v21",
                                           "v22", "w", "y1", "y0", "~FOO"));
    Diagnostics d;
    lex_d("~SEQ(i,3,1,1) x\n~SEQx(i,-1,2) x\n~SEQ(i) x\n~LST(x,1,2) w$x\n", d);
    EXPECT_EQ(d.error_count(), 4u);
}

// Hard limits: a self-referring parameter ends with an error instead of
// looping (keepalived hangs), mutual growth stops at the line length, and
// generated lines are capped.
TEST(Lexer, SelfReferenceEndsQuickly)
{
    const auto t0 = std::chrono::steady_clock::now();
    for (const char* text : {"$X=$X\nk $X\nk $X\n", "$X=${Y}X${Y}\n$Y=$X$X\nk1 $X\nk2 $Y\n", "$X=a$X\nk $X\n",
                             "$X=$Y\n$Y=$X\nk $X\n", "$A=@node1 $A\n$A\n", "$M=x\\\n$M\n\n$M\n",
                             "$M=$M\\\nx\n\n$M\n", "$S=~SEQ(i,1,1000000) $S\n$S\n"}) {
        Diagnostics d;
        auto lines = lex_d(text, d, 1000);
        EXPECT_TRUE(d.has_errors()) << text;
        EXPECT_LE(lines.size(), 2000u) << text;
        for (const auto& l : lines) EXPECT_LE(l.text.size(), kMaxLineBytes) << text;
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

// Reproducers the fuzzer found (tests/fuzz/regressions_conf): they ran out of
// memory with the old recursive expansion.
TEST(Lexer, FuzzerOomReproducersEndQuickly)
{
    static const char kMutual[] = "\x24\x58\x3d\x24\x7b\x59\x7d\x58\x3d\x24\x7b\x59\x7d\x0a\x24\x59\x3d\x24\x58\x03\x00\x00\x00\x00\x00\x00\x00\x24\x58\x58\x3d\x24\x7b\x59\x7d\x58\x3d\x24\x7b\x59\x7d\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x24\x59\x3d\x24\x58\x03\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01\x0e\x40\x0a\x0a\x24\x59\x3d\x24\x58\x24\x58\x0a\x24\x40\x5e\x66\x75\x7a\x7a\x20\x78\x0a\x22\x75\x6e\x74\x65\x72\x6d\x69\x6e\x61\x74\x65\x64\x0a\x24\x41\x3d\x0a\x24\x7b\x5a\x0a\x24\x0e\x40\x0a\x0a\x24\x59\x3d\x24\x58\x24\x58\x0a\x24\x40\x5e\x66\x75\x7a\x7a\x20\x78\x0a\x22\x75\x6e\x74\x65\x72\x6d\x69\x6e\x61\x74\x65\x64\x0a\x24\x41\x3d\x61\x5c\x0a";
    for (std::string_view text : {std::string_view(kMutual, sizeof kMutual - 1),
                                  std::string_view("$X=${X}${X}\n$Y=$X$X$X$X\n$Y $Y $Y\n")}) {
        Diagnostics d;
        auto lines = lex_d(text, d);
        EXPECT_TRUE(d.has_errors());
        for (const auto& l : lines) EXPECT_LE(l.text.size(), kMaxLineBytes);
    }
}

// A value holding a brace and a reference to itself: every piece after the
// brace expands again. One budget per physical line ends it.
TEST(Lexer, SelfReferenceThroughBracesEndsQuickly)
{
    // Found by the fuzzer (tests/fuzz/regressions_conf/brace-in-self-referring-parameter).
    static const char kInput[] = "\x24\x49\x46\x3d\x24\x4e\x3d\x24\x7b\x49\x46\x7d\xf2\x76\x72\x72\x2f\x5f\x69\x6e\x73\x74\x61\x6e\x63\x65\x20\x56\x5f\x24\x4e\x20\x7b\x0a\x20\x69\x6e\x74\x65\x72\x66\x61\x63\x65\x20\x24\x49\x46\x0a\x20\x76\x69\x72\x74\x75\x61\x6c\x5f\x72\x6f\x75\x74\x65\x72\x5f\x69\x64\x20\x31\x0a\x20\x68\x30\x5c\x0a\x31\x39\x38\x2e\x31\x38\x2e\x30\x2e\x33\x0a\x24\x4e\x3d\x24\x7b\x49\x46\x7d\xf2\x76\x72\x72\x70\x5f\x69\x6e\x73\x74\x61\x6e\x63\x65\x20\x56\x5f\x24\x4e\x20\x7b\x0a\x20\x69\x6e\x74\x65\x72\x66\x61\x63\x65\x20\x24\x49\x46\x0a\x20\x76\x69\x72\x74\x75\x61\x6c\x5f\x72\x6f\x75\x74\x65\x72\x5f\x76\x69\x72\x74\x75\x61\x6c\x5f\x69\x70\x61\x64\x64\x72\x65\x73\x73\x20\x7b\x0a\x20\x20\x24\x56\x49\x50\x53\x0a\x20\x20\x24\x7b\x56\x49\x50\x53\x7d\x0a\x20\x7d\x0a\x7d\x0a\x24\x41\x3d\x24\x42\x0a\x24\x42\x3d\x24\x41\x0a\x24\x41\x0a";
    Diagnostics d;
    auto lines = lex_d(std::string_view(kInput, sizeof kInput - 1), d);
    EXPECT_TRUE(d.has_errors());
    EXPECT_LT(lines.size(), 4000u);
    EXPECT_LT(d.all().size(), 4000u);
}

TEST(Lexer, GeneratedLinesAreCapped)
{
    Diagnostics d;
    auto lines = lex_d("~SEQ(i,1,100000000) k$i\n", d, 50);
    EXPECT_EQ(lines.size(), 50u);
    EXPECT_TRUE(mentions(d, "generated"));
}

TEST(Lexer, IncludesFollowTheIncludingFile)
{
    TempDir dir;
    std::string top = dir.write("top.conf", "g {\ninclude sub/one.conf\ninclude nomatch*.conf\ninclude missing.conf\n"
                                            "k t5\n}\ninclude sub/*.glob\ninclude {x,y}.in # c\ninclude a b\ninclude\n");
    dir.write("two.conf", "k two_top\n");
    dir.write("sub/one.conf", "k one2\ninclude two.conf\n");
    dir.write("sub/two.conf", "k two1\n\"bad\n");
    dir.write("sub/a.glob", "ga1\n");
    dir.write("sub/b.glob", "gb1\n");
    dir.write("x.in", "xk\n");
    dir.write("y.in", "yk\n");
    Diagnostics d;
    std::vector<Line> lines;
    LexOptions o;
    ASSERT_TRUE(lex_file(top, o, d, lines));
    EXPECT_THAT(firsts(lines), ElementsAre("g", "{", "k", "k", "k", "}", "ga1", "gb1", "xk", "yk", "include"));
    EXPECT_THAT(lines[3].tokens, ElementsAre("k", "two1"));
    EXPECT_THAT(lines[4].tokens, ElementsAre("k", "t5"));
    EXPECT_EQ(lines[4].loc.line, 5);
    EXPECT_EQ(lines[4].loc.file, top);
    EXPECT_NE(lines[3].loc.file.find("sub/two.conf"), std::string::npos);
    // Only the missing plain file is reported (as a warning); the bad quote is
    // reported inside the included file, at its line.
    EXPECT_EQ(d.warning_count(), 2u);  // missing.conf, "a b"
    ASSERT_TRUE(mentions(d, "Unmatched quote"));
    for (const auto& x : d.all()) {
        if (x.message.find("Unmatched") != std::string::npos) {
            EXPECT_NE(x.loc.file.find("sub/two.conf"), std::string::npos);
            EXPECT_EQ(x.loc.line, 2);
        }
    }
}

TEST(Lexer, IncludeLoopsAndDirectoriesEnd)
{
    TempDir dir;
    std::string loop = dir.write("loop.conf", "lk1\ninclude loop.conf\n");
    dir.write("d1/.keep", "");
    std::string all = dir.write("all.conf", "include *\n");
    Diagnostics d;
    std::vector<Line> lines;
    LexOptions o;
    o.max_include_depth = 8;
    ASSERT_TRUE(lex_file(loop, o, d, lines));
    EXPECT_EQ(lines.size(), 9u);
    EXPECT_TRUE(mentions(d, "levels deep"));
    Diagnostics d2;
    std::vector<Line> l2;
    ASSERT_TRUE(lex_file(all, o, d2, l2));
    EXPECT_TRUE(mentions(d2, "is a directory"));
    Diagnostics d3;
    std::vector<Line> l3;
    std::string strict = dir.write("strict.conf", "includer nofile.conf\nincludew nom*\nincludem nom*\n");
    ASSERT_TRUE(lex_file(strict, o, d3, l3));
    EXPECT_EQ(d3.error_count(), 2u);
}

TEST(Lexer, IncludeRefusedWhenNotAllowed)
{
    Diagnostics d;
    LexOptions o;
    o.allow_include = false;
    auto lines = lex_text("include /etc/passwd\n", "t.conf", o, d);
    EXPECT_TRUE(lines.empty());
    EXPECT_TRUE(d.has_errors());
}

}  // namespace
}  // namespace kadp::conf
