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

// Deeper blocks are skipped: Node's destructor recurses over children.
constexpr std::size_t kMaxDepth = 64;

bool is_open(const Line& l) { return l.tokens.size() == 1 && l.tokens[0] == "{" && l.text == "{"; }
bool is_close(const Line& l) { return l.tokens.size() == 1 && l.tokens[0] == "}" && l.text == "}"; }

// keepalived counts braces over the whole input (includes too): a '}' taking
// the count below zero is "Extra '}' found", a count above zero at the end is
// "There are N missing '}'s or extra '{'s".
class BraceCount {
public:
    void open() { ++depth_; }
    void close(const SourceLoc& at, Diagnostics& diags)
    {
        if (depth_-- < 1) {
            diags.error(at, "Extra '}' found");
            depth_ = 0;
        }
    }
    void finish(Diagnostics& diags) const
    {
        if (depth_ > 0) {
            diags.error(SourceLoc{}, "There are " + std::to_string(depth_) + " missing '}'s or extra '{'s");
        }
    }

private:
    long depth_ = 0;
};

}  // namespace

// Without recursion (hostile input may nest thousands deep): `path` holds the
// nodes whose blocks are open. A '{' right after a line opens that line's
// block; any other '{' is ignored, as keepalived ignores it ("Unexpected '{'"),
// so the next '}' closes the enclosing block.
std::vector<Node> build_tree(const std::vector<Line>& lines, Diagnostics& diags)
{
    std::vector<Node> roots;
    std::vector<Node*> path;
    BraceCount braces;
    bool last_was_keyword = false;
    auto level = [&]() -> std::vector<Node>& { return path.empty() ? roots : path.back()->children; };
    std::size_t skipping = 0;  // depth inside a block nested too deeply to keep
    for (const Line& l : lines) {
        if (skipping > 0) {
            if (is_open(l)) ++skipping;
            if (is_close(l) && --skipping == 0) braces.close(l.loc, diags);
            continue;
        }
        if (is_open(l)) {
            braces.open();
            if (last_was_keyword && path.size() >= kMaxDepth) {
                diags.error(l.loc, "blocks nested too deeply; block skipped");
                skipping = 1;
                last_was_keyword = false;
                continue;
            }
            if (last_was_keyword && !level().back().has_block) {
                level().back().has_block = true;
                path.push_back(&level().back());
            } else {
                diags.error(l.loc, "Unexpected '{' - ignoring");
            }
            last_was_keyword = false;
            continue;
        }
        last_was_keyword = false;
        if (is_close(l)) {
            braces.close(l.loc, diags);
            if (!path.empty()) {
                path.pop_back();
            } else {
                diags.error(l.loc, "unexpected '}' with no block open");
            }
            continue;
        }
        level().push_back(Node{l.loc, l.tokens, l.text, false, {}});
        last_was_keyword = true;
    }
    braces.finish(diags);
    for (Node* open : path) {
        diags.error(open->loc, "missing '}': the block of '" + open->keyword() + "' opened here is never closed");
    }
    return roots;
}

}  // namespace kadp::conf
