// Runs on: control thread. The block structure of a configuration: each line
// becomes a node, and a line followed by `{ ... }` owns the lines inside as
// children. Section parsers walk this tree; they never see braces.
#pragma once

#include <string>
#include <vector>

#include "conf/diagnostics.h"
#include "conf/lexer.h"

namespace kadp::conf {

struct Node {
    SourceLoc loc;
    std::vector<std::string> tokens;  // tokens[0] is the keyword
    std::string text;                 // the whole line, for script keywords
    bool has_block = false;
    std::vector<Node> children;

    [[nodiscard]] const std::string& keyword() const { return tokens.front(); }
    [[nodiscard]] std::size_t arg_count() const { return tokens.size() - 1; }
    [[nodiscard]] const std::string& arg(std::size_t i) const { return tokens.at(i + 1); }
    // The line after the keyword, untouched (quotes kept), for re-splitting.
    [[nodiscard]] std::string rest() const;
};

// Unbalanced braces are reported as errors; the tree is still returned with
// what could be understood.
std::vector<Node> build_tree(const std::vector<Line>& lines, Diagnostics& diags);

}  // namespace kadp::conf
