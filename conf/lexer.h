// Runs on: control thread (and `kadp -t`, the fuzzer). Turns keepalived.conf
// text into logical lines exactly as keepalived 2.2.7 reads it: comments,
// quoting, brace splitting, `include` globs, `$NAME` parameters and `@ID`
// conditional lines. The parser only ever sees the result.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "conf/diagnostics.h"

namespace kadp::conf {

// One logical line: a `{` or `}` is always a line of its own.
struct Line {
    SourceLoc loc;
    std::vector<std::string> tokens;  // quotes removed
    std::string text;                 // the line after comments and expansion, trimmed
};

struct LexOptions {
    std::string config_id;     // for @ID lines and ${_INSTANCE}; -i ID or the hostname
    bool allow_include = true; // off for the fuzzer, which must not read files
    int max_include_depth = 32;
    // Lines produced by ~SEQ blocks and multi-line $NAME expansions, in total.
    // keepalived has no limit (and hangs on a self-referring definition);
    // kadp reports an error instead of exhausting memory.
    std::size_t max_generated_lines = 100000;
};

// keepalived reads a file with fgets() into a 1024-byte buffer: a longer line
// is read as several lines of at most this many bytes.
inline constexpr std::size_t kMaxLineBytes = 1023;

// Lexes a file and everything it includes. Returns false (after an error
// diagnostic) when the file itself cannot be read.
bool lex_file(const std::string& path, const LexOptions& options, Diagnostics& diags,
              std::vector<Line>& out);

// Lexes text held in memory; `name` is used in diagnostics and includes are
// relative to the current directory.
std::vector<Line> lex_text(std::string_view text, const std::string& name,
                           const LexOptions& options, Diagnostics& diags);

// Splits one line into tokens the way keepalived 2.2.7 does: whitespace
// separates, "..." is one token with the quotes removed, a '"' inside a word
// ends the word, and an unmatched '"' drops the rest of the line.
std::vector<std::string> split_tokens(std::string_view text);

// Splits a script command line (script, notify*, misc_path, quorum_up/down)
// into argv: both quote kinds and C-style backslash escapes, as keepalived
// re-splits those lines.
std::vector<std::string> split_command(std::string_view text);

}  // namespace kadp::conf
