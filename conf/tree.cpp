// Runs on: control thread.
#include "conf/tree.h"

#include <cctype>

namespace kadp::conf {

std::string Node::rest() const
{
    // Skip the keyword as split_tokens would (it may be quoted) and the blanks after it.
    std::size_t i = 0;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i < text.size() && text[i] == '"') {
        std::size_t end = text.find('"', i + 1);
        i = end == std::string::npos ? text.size() : end + 1;
    } else {
        while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    }
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    return text.substr(i);
}

namespace {

bool is_open(const Line& l) { return l.tokens.size() == 1 && l.tokens[0] == "{" && l.text == "{"; }
bool is_close(const Line& l) { return l.tokens.size() == 1 && l.tokens[0] == "}" && l.text == "}"; }

// Skips to the '}' that closes a block already opened, without recursion
// (hostile input may nest thousands deep).
void skip_block(const std::vector<Line>& lines, std::size_t& pos, const SourceLoc& opened_at, Diagnostics& diags)
{
    std::size_t open = 1;
    while (pos < lines.size()) {
        const Line& l = lines[pos++];
        if (is_open(l)) ++open;
        if (is_close(l) && --open == 0) return;
    }
    diags.error(opened_at, "missing '}': the block opened here is never closed");
}

// Parses lines[pos...] into `out` until a matching '}' (when nested) or the end.
void build(const std::vector<Line>& lines, std::size_t& pos, std::vector<Node>& out, bool nested,
           const SourceLoc& opened_at, Diagnostics& diags, int depth)
{
    while (pos < lines.size()) {
        const Line& l = lines[pos];
        if (is_close(l)) {
            ++pos;
            if (nested) return;
            diags.error(l.loc, "unexpected '}' with no block open");
            continue;
        }
        if (is_open(l)) {
            // A '{' with no keyword before it: keepalived skips the block.
            ++pos;
            diags.error(l.loc, "'{' without a keyword before it; block skipped");
            skip_block(lines, pos, l.loc, diags);
            continue;
        }
        Node node{l.loc, l.tokens, l.text, false, {}};
        ++pos;
        if (pos < lines.size() && is_open(lines[pos])) {
            const SourceLoc at = lines[pos].loc;
            ++pos;
            node.has_block = true;
            if (depth > 64) {
                diags.error(at, "blocks nested too deeply; block skipped");
                skip_block(lines, pos, at, diags);
            } else {
                build(lines, pos, node.children, true, at, diags, depth + 1);
            }
        }
        out.push_back(std::move(node));
    }
    if (nested) diags.error(opened_at, "missing '}': the block opened here is never closed");
}

}  // namespace

std::vector<Node> build_tree(const std::vector<Line>& lines, Diagnostics& diags)
{
    std::vector<Node> roots;
    std::size_t pos = 0;
    build(lines, pos, roots, false, SourceLoc{}, diags, 0);
    return roots;
}

}  // namespace kadp::conf
