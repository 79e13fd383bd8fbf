// Runs on: control thread.
#include "conf/lexer.h"

#include <glob.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace kadp::conf {
namespace {

constexpr std::size_t kMaxLineBytes = 1024;  // keepalived's MAXBUF
constexpr int kMaxExpansionDepth = 16;       // $A -> $B -> ... guards loops

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string_view trim(std::string_view s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// Removes a `#` or `!` comment outside double quotes; `\#` and `\!` stay as
// literal characters (without the backslash).
std::string strip_comment(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '"') quoted = !quoted;
        if (!quoted && c == '\\' && i + 1 < s.size() && (s[i + 1] == '#' || s[i + 1] == '!')) {
            out += s[++i];
            continue;
        }
        if (!quoted && (c == '#' || c == '!')) break;
        out += c;
    }
    return out;
}

struct Definition {
    std::vector<std::string> lines;  // more than one for a multi-line definition
};

class LexState {
public:
    LexState(const LexOptions& options, Diagnostics& diags, std::vector<Line>& out)
        : options_(options), diags_(diags), out_(out) {}

    void lex_stream(std::istream& in, const std::string& name, const std::filesystem::path& dir,
                    int depth);

private:
    void handle_physical(std::string_view raw, const SourceLoc& loc, const std::filesystem::path& dir,
                         int depth);
    bool take_conditional(std::string_view& line) const;
    bool take_definition(std::string_view line, const SourceLoc& loc);
    std::vector<std::string> expand(const std::string& line, const SourceLoc& loc, int level);
    void emit_segments(const std::string& line, const SourceLoc& loc, const std::filesystem::path& dir,
                       int depth);
    void include(std::string_view pattern, const SourceLoc& loc, const std::filesystem::path& dir,
                 int depth);

    const LexOptions& options_;
    Diagnostics& diags_;
    std::vector<Line>& out_;
    std::map<std::string, Definition, std::less<>> params_;
    // A multi-line definition ends on the first line without a trailing '\'.
    std::string pending_name_;
    bool pending_ = false;
};

// `@ID rest` keeps `rest` only where the config-id is ID; `@^ID rest` keeps it
// everywhere else. Returns false when the line is dropped.
bool LexState::take_conditional(std::string_view& line) const
{
    if (line.empty() || line.front() != '@') return true;
    line.remove_prefix(1);
    bool invert = false;
    if (!line.empty() && line.front() == '^') {
        invert = true;
        line.remove_prefix(1);
    }
    std::size_t end = 0;
    while (end < line.size() && !std::isspace(static_cast<unsigned char>(line[end]))) ++end;
    std::string_view id = line.substr(0, end);
    line = trim(line.substr(end));
    bool match = id == options_.config_id;
    return invert ? !match : match;
}

// `$NAME=VALUE` defines a parameter; a value ending in '\' continues on the
// next line. Returns true when the line was a definition.
bool LexState::take_definition(std::string_view line, const SourceLoc& loc)
{
    if (line.size() < 3 || line[0] != '$' || !is_name_start(line[1])) return false;
    std::size_t i = 1;
    while (i < line.size() && is_name_char(line[i])) ++i;
    if (i >= line.size() || line[i] != '=') return false;
    std::string name(line.substr(1, i - 1));
    std::string_view value = trim(line.substr(i + 1));
    Definition def;
    bool continues = !value.empty() && value.back() == '\\';
    if (continues) value = trim(value.substr(0, value.size() - 1));
    if (!value.empty()) def.lines.emplace_back(value);
    if (params_.count(name) != 0) {
        // keepalived lets a later definition replace an earlier one silently.
    }
    (void)loc;
    params_[name] = std::move(def);
    if (continues) {
        pending_ = true;
        pending_name_ = name;
    }
    return true;
}

// Replaces $NAME and ${NAME}. A parameter defined over several lines expands
// into several lines when it stands alone on its line.
std::vector<std::string> LexState::expand(const std::string& line, const SourceLoc& loc, int level)
{
    if (line.find('$') == std::string::npos) return {line};
    if (level > kMaxExpansionDepth) {
        diags_.error(loc, "parameter expansion nested too deeply (a definition refers to itself?)");
        return {line};
    }
    std::string_view t = trim(line);
    if (t.size() > 1 && t[0] == '$') {
        std::string_view name = t.substr(1);
        if (name.size() > 2 && name.front() == '{' && name.back() == '}') name = name.substr(1, name.size() - 2);
        auto it = params_.find(name);
        if (it != params_.end() && it->second.lines.size() > 1) {
            std::vector<std::string> result;
            for (const auto& l : it->second.lines) {
                auto sub = expand(l, loc, level + 1);
                result.insert(result.end(), sub.begin(), sub.end());
            }
            return result;
        }
    }
    std::string out;
    bool changed = false;
    for (std::size_t i = 0; i < line.size();) {
        if (line[i] != '$' || i + 1 >= line.size()) {
            out += line[i++];
            continue;
        }
        std::size_t start = i + 1;
        std::size_t end = start;
        bool braced = line[start] == '{';
        if (braced) {
            end = line.find('}', start);
            if (end == std::string::npos) {
                out += line[i++];
                continue;
            }
        } else {
            if (!is_name_start(line[start])) {
                out += line[i++];
                continue;
            }
            while (end < line.size() && is_name_char(line[end])) ++end;
        }
        std::string_view name = braced ? std::string_view(line).substr(start + 1, end - start - 1)
                                       : std::string_view(line).substr(start, end - start);
        auto it = params_.find(name);
        if (it == params_.end()) {
            // keepalived leaves an unknown parameter in place.
            out.append(line, i, (braced ? end + 1 : end) - i);
        } else {
            std::string joined;
            for (std::size_t k = 0; k < it->second.lines.size(); ++k) {
                if (k != 0) joined += ' ';
                joined += it->second.lines[k];
            }
            out += joined;
            changed = true;
        }
        i = braced ? end + 1 : end;
    }
    if (!changed) return {out};
    return expand(out, loc, level + 1);
}

// Every '{' and '}' outside quotes becomes a line of its own.
void LexState::emit_segments(const std::string& line, const SourceLoc& loc,
                             const std::filesystem::path& dir, int depth)
{
    std::vector<std::string> segments;
    std::string cur;
    bool quoted = false;
    for (char c : line) {
        if (c == '"') quoted = !quoted;
        if (!quoted && (c == '{' || c == '}')) {
            if (!trim(cur).empty()) segments.emplace_back(trim(cur));
            segments.emplace_back(1, c);
            cur.clear();
            continue;
        }
        cur += c;
    }
    if (!trim(cur).empty()) segments.emplace_back(trim(cur));

    for (auto& seg : segments) {
        auto tokens = split_tokens(seg);
        if (tokens.empty()) continue;
        if (tokens[0] == "include") {
            if (tokens.size() < 2) {
                diags_.error(loc, "include needs a file name or pattern");
            } else {
                if (tokens.size() > 2) diags_.warning(loc, "include takes one pattern; extra words ignored");
                include(tokens[1], loc, dir, depth);
            }
            continue;
        }
        out_.push_back(Line{loc, std::move(tokens), seg});
    }
}

void LexState::include(std::string_view pattern, const SourceLoc& loc, const std::filesystem::path& dir,
                       int depth)
{
    if (!options_.allow_include) {
        diags_.error(loc, "include is not allowed here");
        return;
    }
    if (depth + 1 > options_.max_include_depth) {
        diags_.error(loc, "include nested more than " + std::to_string(options_.max_include_depth) +
                              " levels deep (an include loop?)");
        return;
    }
    std::filesystem::path p{std::string(pattern)};
    if (p.is_relative()) p = dir / p;
    glob_t g{};
    int rc = glob(p.c_str(), 0, nullptr, &g);
    if (rc == GLOB_NOMATCH) {
        // keepalived: a plain include that matches nothing is not an error.
        globfree(&g);
        return;
    }
    if (rc != 0) {
        diags_.error(loc, "include " + std::string(pattern) + ": cannot expand the pattern");
        globfree(&g);
        return;
    }
    std::vector<std::string> files(g.gl_pathv, g.gl_pathv + g.gl_pathc);
    globfree(&g);
    for (const auto& f : files) {
        std::error_code ec;
        if (std::filesystem::is_directory(f, ec)) continue;
        std::ifstream in(f);
        if (!in) {
            diags_.error(loc, "include " + f + ": cannot open the file");
            continue;
        }
        lex_stream(in, f, std::filesystem::path(f).parent_path(), depth + 1);
    }
}

void LexState::handle_physical(std::string_view raw, const SourceLoc& loc, const std::filesystem::path& dir,
                               int depth)
{
    if (raw.size() > kMaxLineBytes) {
        diags_.warning(loc, "line longer than " + std::to_string(kMaxLineBytes) +
                                " bytes; keepalived would truncate it");
    }
    std::string_view line = trim(raw);

    if (pending_) {
        auto& def = params_[pending_name_];
        bool continues = !line.empty() && line.back() == '\\';
        std::string_view value = continues ? trim(line.substr(0, line.size() - 1)) : line;
        if (!value.empty()) def.lines.emplace_back(value);
        pending_ = continues;
        return;
    }
    if (!take_conditional(line)) return;
    if (take_definition(line, loc)) return;

    std::string text = strip_comment(line);
    if (trim(text).empty()) return;
    for (const auto& expanded : expand(text, loc, 0)) emit_segments(expanded, loc, dir, depth);
}

void LexState::lex_stream(std::istream& in, const std::string& name, const std::filesystem::path& dir,
                          int depth)
{
    std::string raw;
    int lineno = 0;
    while (std::getline(in, raw)) {
        ++lineno;
        if (!raw.empty() && raw.back() == '\r') raw.pop_back();
        handle_physical(raw, SourceLoc{name, lineno}, dir, depth);
    }
    pending_ = false;  // a definition does not continue into the next file
}

}  // namespace

std::vector<std::string> split_tokens(std::string_view text)
{
    std::vector<std::string> tokens;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        if (i >= text.size()) break;
        std::string tok;
        if (text[i] == '"') {
            std::size_t end = text.find('"', i + 1);
            if (end == std::string_view::npos) end = text.size();
            tok.assign(text.substr(i + 1, end - i - 1));
            i = end + 1;
        } else {
            while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) tok += text[i++];
        }
        tokens.push_back(std::move(tok));
    }
    return tokens;
}

std::vector<std::string> split_command(std::string_view text)
{
    std::vector<std::string> argv;
    std::string cur;
    bool in_word = false;
    char quote = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (quote != 0) {
            if (c == quote) {
                quote = 0;
            } else if (c == '\\' && quote == '"' && i + 1 < text.size()) {
                cur += text[++i];
            } else {
                cur += c;
            }
            continue;
        }
        if (std::isspace(static_cast<unsigned char>(c))) {
            if (in_word) argv.push_back(std::move(cur));
            cur.clear();
            in_word = false;
            continue;
        }
        in_word = true;
        if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '\\' && i + 1 < text.size()) {
            cur += text[++i];
        } else {
            cur += c;
        }
    }
    if (in_word) argv.push_back(std::move(cur));
    return argv;
}

bool lex_file(const std::string& path, const LexOptions& options, Diagnostics& diags, std::vector<Line>& out)
{
    std::ifstream in(path);
    if (!in) {
        diags.error(SourceLoc{path, 0}, "cannot open the configuration file");
        return false;
    }
    LexState state(options, diags, out);
    state.lex_stream(in, path, std::filesystem::path(path).parent_path(), 0);
    return true;
}

std::vector<Line> lex_text(std::string_view text, const std::string& name, const LexOptions& options,
                           Diagnostics& diags)
{
    std::vector<Line> out;
    std::istringstream in{std::string(text)};
    LexState state(options, diags, out);
    state.lex_stream(in, name, std::filesystem::path("."), 0);
    return out;
}

}  // namespace kadp::conf
