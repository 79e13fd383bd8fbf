// Runs on: control thread (and `kadp -t`, the fuzzer). A re-implementation of
// keepalived 2.2.7's read_line(): every rule below was checked against the real
// binary (`keepalived -t`). Nothing recurses on input size, and every loop that
// keepalived lets run forever (a self-referring $NAME, ~SEQ, include loops) is
// capped and reported.
#include "conf/lexer.h"

#include <glob.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>

namespace kadp::conf {
namespace {

// A line needing more $NAME replacements than this is taken to never end
// (keepalived loops forever on `$X=$X`).
constexpr int kMaxReplacementsPerLine = 1024;
// Passes of conditional/definition/expansion over one line ($A=@id $A ...).
constexpr int kMaxRechecks = 64;
// ~SEQ parameters longer than this are rejected, as keepalived does.
constexpr std::size_t kMaxSeqParams = 62;
// Multi-line expansions waiting for an inner one to finish.
constexpr std::size_t kMaxMultilineNesting = 1000;

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_white(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\n' || c == '\r' || c == '\v'; }

void trim_trailing_blanks(std::string& s)
{
    while (!s.empty() && is_blank(s.back())) s.pop_back();
}

bool has_glob_chars(std::string_view s) { return s.find_first_of("*?[{") != std::string_view::npos; }

// keepalived's decomment(): drops leading blanks, a '#'/'!' comment outside
// double quotes, the backslash of `\#`/`\!` outside quotes, and trailing
// blanks. A backslash skips the next character (so `\"` does not open a
// quote). A line ending in a lone '\' keeps it, with the blanks before it
// removed (and, as in 2.2.7, even when a comment came between). Returns false
// when a double quote is left open.
bool decomment(std::string& s)
{
    std::size_t start = 0;
    while (start < s.size() && is_blank(s[start])) ++start;
    s.erase(0, start);
    bool quote = false;
    bool cont = false;
    std::optional<std::size_t> skip;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '"') {
            if (!skip) quote = !quote;
        } else if (c == '\\') {
            if (i + 1 >= s.size()) {
                s.erase(i);
                cont = true;
                break;
            }
            if (!quote && (s[i + 1] == '#' || s[i + 1] == '!')) {
                s.erase(i, 1);  // i now at the escaped char, which the loop skips
            } else {
                ++i;
            }
        } else if (!quote && !skip && (c == '#' || c == '!')) {
            skip = i;
        }
    }
    if (skip && *skip < s.size()) s.erase(*skip);
    trim_trailing_blanks(s);
    if (cont) s += '\\';
    return !quote;
}

// Strips a comment from text produced by $NAME expansion: 2.2.7 treats a '#'
// or '!' that a parameter brings in (e.g. ${_HASH}) as a comment start.
void strip_expanded_comment(std::string& s)
{
    bool quote = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '"') quote = !quote;
        if (!quote && (s[i] == '#' || s[i] == '!')) {
            s.erase(i);
            break;
        }
    }
    trim_trailing_blanks(s);
}

// Tokens as keepalived's alloc_strvec() makes them. `unmatched` is set when
// a '"' has no partner: the rest of the line is then dropped.
std::vector<std::string> split_words(std::string_view text, bool& unmatched)
{
    std::vector<std::string> tokens;
    unmatched = false;
    std::size_t i = 0;
    for (;;) {
        while (i < text.size() && is_white(text[i])) ++i;
        if (i >= text.size()) break;
        if (text[i] == '"') {
            std::size_t end = text.find('"', i + 1);
            if (end == std::string_view::npos) {
                unmatched = true;
                break;
            }
            tokens.emplace_back(text.substr(i + 1, end - i - 1));
            i = end + 1;
        } else {
            std::size_t end = i;
            while (end < text.size() && !is_white(text[end]) && text[end] != '"') ++end;
            tokens.emplace_back(text.substr(i, end - i));
            i = end;
        }
    }
    return tokens;
}

// A parameter: a single-line value, or (multiline) lines separated by '\n'.
// The value is shared so a multi-line expansion in progress survives a
// redefinition of its parameter.
struct Definition {
    std::shared_ptr<std::string> value = std::make_shared<std::string>();
    bool multiline = false;
    enum class Builtin { none, pwd, instance, random } builtin = Builtin::none;
};

// A `$NAME` / `${NAME}` / `${NAME params}` reference found in a line.
struct Reference {
    std::string name;
    std::size_t length = 0;  // of the whole reference, '$' included
    bool at_end = false;     // nothing follows it: a multi-line value may be used
    std::optional<long> param_min;
    std::optional<long> param_max;
    int param_count = 0;
};

// keepalived's find_definition() rules: a name is [A-Za-z_][A-Za-z0-9_]*; an
// unbraced one must be followed by blank, ',', ')' or the line end; a braced
// one may carry digit parameters (`${_RANDOM 1 6}`) before its '}'.
std::optional<Reference> parse_reference(std::string_view s, std::size_t dollar)
{
    std::size_t p = dollar + 1;
    bool braced = p < s.size() && s[p] == '{';
    if (braced) ++p;
    if (p >= s.size() || (!is_alpha(s[p]) && s[p] != '_')) return std::nullopt;
    std::size_t name_start = p;
    while (p < s.size() && (is_alnum(s[p]) || s[p] == '_')) ++p;
    Reference ref;
    ref.name.assign(s.substr(name_start, p - name_start));
    if (braced) {
        std::size_t params_start = p;
        while (p < s.size() && (s[p] == ' ' || is_digit(s[p]))) ++p;
        std::string_view params = s.substr(params_start, p - params_start);
        if (!params.empty() && params.find_first_not_of(' ') != std::string_view::npos) {
            if (params.back() == ' ') return std::nullopt;  // may not end with a space
            std::istringstream in{std::string(params)};
            long v = 0;
            while (in >> v) {
                if (++ref.param_count == 1) ref.param_min = v;
                else if (ref.param_count == 2) ref.param_max = v;
            }
        }
        if (p >= s.size() || s[p] != '}') return std::nullopt;
        ++p;
    } else if (p < s.size() && !is_blank(s[p]) && s[p] != ',' && s[p] != ')') {
        return std::nullopt;
    }
    ref.length = p - dollar;
    ref.at_end = p == s.size();
    return ref;
}

// One `~SEQ(var, start, step, end) text` in progress.
struct Sequence {
    std::string var;
    long next = 0;
    long step = 1;
    long last = 0;
    bool hex = false;
    std::string text;
};

// A multi-line parameter value being emitted one line per read.
struct MultilineCursor {
    std::shared_ptr<const std::string> value;
    std::size_t pos = 0;
    std::size_t seq_depth = 0;  // ~SEQs started before this expansion wait for it
};

// One file (or in-memory text) being read.
struct Source {
    std::istream* in = nullptr;
    std::string name;
    std::filesystem::path dir;  // relative includes and ${_PWD}
    int line = 0;
};

class Reader {
public:
    Reader(const LexOptions& options, Diagnostics& diags, std::vector<Line>& out)
        : options_(options), diags_(diags), out_(out)
    {
        add_builtin("_PWD", Definition::Builtin::pwd);
        add_builtin("_INSTANCE", Definition::Builtin::instance);
        add_builtin("_RANDOM", Definition::Builtin::random);
        auto& hash = params_["_HASH"];
        *hash.value = "#";
    }

    // Reads `in` and, through includes, every file it names. Includes are a
    // stack of open files, not recursion.
    void run(std::istream& in, const std::string& name, const std::filesystem::path& dir);

private:
    void add_builtin(const std::string& name, Definition::Builtin b) { params_[name].builtin = b; }
    SourceLoc loc() const { return SourceLoc{files_.back().name, files_.back().line}; }

    bool next_raw(std::string& buf, bool& from_file);
    bool read_chunk(std::string& buf);
    void next_sequence_line(std::string& buf);
    void next_multiline_line(std::string& buf);
    void end_multiline();
    bool process(std::string& buf);
    bool take_conditional(std::string& buf) const;
    bool take_definition(const std::string& buf);
    void continue_definition(std::string& buf);
    void end_definition();
    bool take_sequence(const std::string& buf);
    bool replace_params(std::string& buf, int& budget);
    std::string builtin_value(const Definition& def, const Reference& ref);
    void forget_looping(const std::map<std::string, int>& counts);
    bool count_generated();
    bool take_include(const std::string& buf);
    void open_include(const std::string& pattern, bool must_exist, bool must_match);
    void split_braces(std::string& buf);
    void emit(const std::string& buf);

    const LexOptions& options_;
    Diagnostics& diags_;
    std::vector<Line>& out_;
    std::map<std::string, Definition, std::less<>> params_;
    std::vector<Source> files_;
    std::vector<std::unique_ptr<std::ifstream>> streams_;
    std::vector<std::size_t> seq_marks_;  // sequences_.size() when each file was opened
    std::string residue_;                 // text after a '{' or '}' still to be read
    // Substitutions left for the line being read. Shared by every piece a
    // line splits into at braces: a parameter whose value holds a brace and
    // itself would otherwise yield pieces (and diagnostics) without end.
    int line_budget_ = 0;
    bool reading_residue_ = false;
    std::vector<Sequence> sequences_;
    std::vector<MultilineCursor> multiline_;  // back() is being emitted
    std::size_t multiline_seq_depth_ = 0;
    std::string pending_definition_;  // name of a multi-line definition being read
    std::size_t generated_ = 0;
    bool generated_reported_ = false;
    std::minstd_rand random_{1};  // fixed seed: kadp -t output is reproducible
};

// fgets() into keepalived's 1024-byte buffer: at most kMaxLineBytes bytes at a
// time, and the line number only advances when a chunk ends with '\n'.
bool Reader::read_chunk(std::string& buf)
{
    Source& f = files_.back();
    buf.clear();
    char c = 0;
    while (buf.size() < kMaxLineBytes && f.in->get(c)) {
        buf += c;
        if (c == '\n') break;
    }
    if (buf.empty()) return false;
    if (buf.back() == '\n') ++f.line;
    while (!buf.empty() && (buf.back() == '\n' || buf.back() == '\r')) buf.pop_back();
    return true;
}

bool Reader::count_generated()
{
    if (++generated_ <= options_.max_generated_lines) return true;
    if (!generated_reported_) {
        diags_.error(loc(), "more than " + std::to_string(options_.max_generated_lines) +
                                " lines generated by ~SEQ and multi-line parameters "
                                "(a definition that refers to itself?); generation stopped");
        generated_reported_ = true;
    }
    sequences_.clear();
    multiline_.clear();
    multiline_seq_depth_ = 0;
    return false;
}

void Reader::next_sequence_line(std::string& buf)
{
    Sequence& s = sequences_.back();
    char val[32];
    if (s.hex) {
        std::snprintf(val, sizeof val, "%lx", static_cast<unsigned long>(s.next));
    } else {
        std::snprintf(val, sizeof val, "%ld", s.next);
    }
    Definition def;
    *def.value = val;
    params_[s.var] = def;
    buf = s.text;
    long after = 0;
    bool overflow = __builtin_add_overflow(s.next, s.step, &after);
    s.next = after;
    if (overflow || (s.step > 0 && s.next > s.last) || (s.step < 0 && s.next < s.last)) sequences_.pop_back();
}

void Reader::end_multiline()
{
    multiline_.pop_back();
    multiline_seq_depth_ = multiline_.empty() ? 0 : multiline_.back().seq_depth;
}

void Reader::next_multiline_line(std::string& buf)
{
    MultilineCursor& m = multiline_.back();
    std::size_t end = m.value->find('\n', m.pos);
    if (end == std::string::npos) {
        buf.assign(*m.value, std::min(m.pos, m.value->size()));
        end_multiline();
    } else {
        buf.assign(*m.value, m.pos, end - m.pos);
        m.pos = end + 1;
    }
}

// The next line from, in keepalived's order: the rest of a line split at a
// brace, a running ~SEQ, a multi-line parameter, the file.
bool Reader::next_raw(std::string& buf, bool& from_file)
{
    from_file = false;
    reading_residue_ = !residue_.empty();
    if (reading_residue_) {
        buf = std::move(residue_);
        residue_.clear();
        return true;
    }
    if (sequences_.size() > multiline_seq_depth_ && sequences_.size() > seq_marks_.back()) {
        if (!count_generated()) return next_raw(buf, from_file);  // stacks now empty: no loop
        next_sequence_line(buf);
        return true;
    }
    if (!multiline_.empty()) {
        if (!count_generated()) return next_raw(buf, from_file);
        next_multiline_line(buf);
        return true;
    }
    from_file = true;
    while (read_chunk(buf)) {
        if (!buf.empty()) {
            if (!decomment(buf)) diags_.error(loc(), "unterminated quote");
            return true;
        }
        end_definition();  // an empty line ends a multi-line definition
    }
    return false;
}

// `@ID rest` keeps rest only when the config-id is ID; `@^ID rest` only when it
// is not. A line with nothing after the id is dropped.
bool Reader::take_conditional(std::string& buf) const
{
    bool invert = buf.size() > 1 && buf[1] == '^';
    std::size_t id_start = invert ? 2 : 1;
    std::size_t id_end = buf.find_first_of(" \t", id_start);
    if (id_end == std::string::npos) return false;
    bool match = std::string_view(buf).substr(id_start, id_end - id_start) == options_.config_id;
    if (match == invert) return false;
    while (id_end < buf.size() && is_blank(buf[id_end])) ++id_end;
    buf.erase(0, id_end);
    return true;
}

// `$NAME=VALUE`: no blank before '=', blanks after it skipped. A value ending
// in '\' continues on the following lines (blanks before the '\' dropped).
bool Reader::take_definition(const std::string& buf)
{
    if (buf.size() < 2 || (!is_alpha(buf[1]) && buf[1] != '_')) return false;
    std::size_t eq = 2;
    while (eq < buf.size() && buf[eq] != '=') {
        if (!is_alnum(buf[eq]) && buf[eq] != '_') return false;
        ++eq;
    }
    if (eq >= buf.size()) return false;
    std::string name = buf.substr(1, eq - 1);
    std::size_t v = eq + 1;
    while (v < buf.size() && is_blank(buf[v])) ++v;
    std::string value = buf.substr(v);
    Definition def;
    if (!value.empty() && value.back() == '\\') {
        value.pop_back();
        trim_trailing_blanks(value);
        if (!value.empty()) value += '\n';
        def.multiline = true;
        pending_definition_ = name;
    }
    *def.value = std::move(value);
    params_[name] = std::move(def);
    return true;
}

// A line of a multi-line definition: appended; the first line not ending in
// '\' is the last one.
void Reader::continue_definition(std::string& buf)
{
    auto it = params_.find(pending_definition_);
    bool more = !buf.empty() && buf.back() == '\\';
    if (more) {
        buf.pop_back();
        trim_trailing_blanks(buf);
        buf += '\n';
    }
    if (it != params_.end() && (buf.size() >= 2 || (!buf.empty() && !more))) {
        Definition& def = it->second;
        if (def.value.use_count() > 1) def.value = std::make_shared<std::string>(*def.value);
        *def.value += buf;
    }
    if (!more) end_definition();
    buf.clear();
}

// A multi-line definition that ends with no text is an ordinary empty one.
void Reader::end_definition()
{
    auto it = params_.find(pending_definition_);
    if (it != params_.end() && it->second.value->empty()) it->second.multiline = false;
    pending_definition_.clear();
}

std::string Reader::builtin_value(const Definition& def, const Reference& ref)
{
    switch (def.builtin) {
    case Definition::Builtin::pwd:
    {
        std::error_code ec;
        auto abs = std::filesystem::absolute(files_.back().dir, ec);
        return (ec ? files_.back().dir : abs.lexically_normal()).string();
    }
    case Definition::Builtin::instance:
        return options_.config_id;
    case Definition::Builtin::random: {
        long lo = ref.param_min.value_or(0);
        long hi = ref.param_max.value_or(32767);
        if (hi < lo) std::swap(lo, hi);
        std::uniform_int_distribution<long> dist(lo, hi);
        return std::to_string(dist(random_));
    }
    case Definition::Builtin::none:
        break;
    }
    return *def.value;
}

// After a line that never finished expanding, drop the parameters it used most:
// they refer to themselves, and later lines then cost nothing.
void Reader::forget_looping(const std::map<std::string, int>& counts)
{
    int most = 0;
    for (const auto& [name, n] : counts) most = std::max(most, n);
    for (const auto& [name, n] : counts) {
        if (n == most) params_.erase(name);
    }
}

// keepalived's replace_param(): scans for '$' left to right; after a
// replacement the scan resumes at the start of the inserted text, so values
// are expanded recursively. A multi-line parameter may only end the line: its
// first line replaces the reference and the rest follow as lines of their own.
// Returns true when something was replaced.
bool Reader::replace_params(std::string& buf, int& budget)
{
    bool found = false;
    std::map<std::string, int> counts;
    std::size_t cur = 0;
    while ((cur = buf.find('$', cur)) != std::string::npos && cur + 1 < buf.size()) {
        auto ref = parse_reference(buf, cur);
        auto it = ref ? params_.find(ref->name) : params_.end();
        if (it == params_.end() || (it->second.multiline && !ref->at_end) ||
            (ref->param_count > 0 && it->second.builtin != Definition::Builtin::random) || ref->param_count > 2) {
            ++cur;
            continue;
        }
        if (--budget < 0) {
            diags_.error(loc(), "parameter substitution does not end (a definition refers to itself?)");
            forget_looping(counts);
            return false;
        }
        ++counts[ref->name];
        const Definition& def = it->second;
        std::string text = builtin_value(def, *ref);
        std::size_t first_len = def.multiline ? text.find('\n') : std::string::npos;
        std::string_view replacement = std::string_view(text).substr(0, first_len);
        if (buf.size() - ref->length + replacement.size() > kMaxLineBytes) {
            diags_.error(loc(), "parameter substitution would exceed the maximum line length of " +
                                    std::to_string(kMaxLineBytes) + " bytes");
            if (counts[ref->name] > 64) forget_looping(counts);
            return false;
        }
        if (def.multiline) {
            if (multiline_.size() >= kMaxMultilineNesting) {
                diags_.error(loc(), "multi-line parameters nested more than " +
                                        std::to_string(kMaxMultilineNesting) + " deep (a definition refers to itself?)");
                multiline_.clear();
                multiline_seq_depth_ = 0;
                return false;
            }
            std::size_t rest = first_len == std::string::npos ? text.size() : first_len + 1;
            multiline_.push_back(MultilineCursor{def.value, rest, multiline_seq_depth_});
            multiline_seq_depth_ = sequences_.size();
        }
        bool stop = text.find_first_not_of(" \t") != std::string::npos &&
                    text[text.find_first_not_of(" \t")] == '~';
        buf.replace(cur, ref->length, replacement);
        found = true;
        if (stop) break;  // a value starting '~' (a ~SEQ) is not expanded further here
    }
    return found;
}

// `~SEQ(var, end)`, `~SEQ(var, start, end)`, `~SEQ(var, start, step, end)`
// (`~SEQx` prints in hex): the rest of the line is read once per value, with
// $var set. Numbers are C literals (0x.. allowed) and may be parameters.
bool Reader::take_sequence(const std::string& buf)
{
    const SourceLoc at = loc();
    auto invalid = [&](const std::string& why) {
        diags_.error(at, why + " '" + buf + "'");
        return true;
    };
    std::size_t p = 4;
    bool hex = p < buf.size() && buf[p] == 'x';
    if (hex) ++p;
    while (p < buf.size() && is_blank(buf[p])) ++p;
    if (p >= buf.size() || buf[p] != '(') return invalid("Invalid ~SEQ specification");
    ++p;
    while (p < buf.size() && is_blank(buf[p])) ++p;
    std::size_t var_start = p;
    while (p < buf.size() && !is_blank(buf[p]) && buf[p] != ',' && buf[p] != ')') ++p;
    std::string var = buf.substr(var_start, p - var_start);
    while (p < buf.size() && is_blank(buf[p])) ++p;
    if (p >= buf.size() || buf[p] == ')' || var.empty()) return invalid("Invalid ~SEQ definition");
    ++p;
    std::size_t close = buf.find(')', p);
    if (close == std::string::npos) return invalid("Invalid ~SEQ definition");
    std::string args = buf.substr(p, close + 1 - p);
    if (args.size() > kMaxSeqParams) return invalid("~SEQ parameter strings too long");
    int budget = kMaxReplacementsPerLine;
    std::size_t ml_before = multiline_.size();
    replace_params(args, budget);
    if (multiline_.size() != ml_before) {
        multiline_.resize(ml_before);
        return invalid("~SEQ parameter is multiline definition");
    }
    std::vector<long> nums;
    const char* s = args.c_str();
    for (;;) {
        char* end = nullptr;
        errno = 0;
        nums.push_back(std::strtol(s, &end, 0));
        s = end;
        while (is_blank(*s)) ++s;
        if (*s == ')') break;
        if (*s != ',' || nums.size() == 3) return invalid("Invalid ~SEQ definition");
        ++s;
    }
    Sequence seq;
    seq.var = std::move(var);
    seq.hex = hex;
    if (nums.size() == 1) {
        seq.last = nums[0];
        seq.step = seq.last < 1 ? -1 : 1;
        seq.next = seq.last < 0 ? -1 : 1;
    } else if (nums.size() == 2) {
        seq.next = nums[0];
        seq.last = nums[1];
        seq.step = seq.next <= seq.last ? 1 : -1;
    } else {
        seq.next = nums[0];
        seq.step = nums[1];
        seq.last = nums[2];
        if (seq.step == 0 || (seq.next < seq.last && seq.step < 0) || (seq.next > seq.last && seq.step > 0)) {
            return invalid("Invalid ~SEQ values");
        }
    }
    if (hex && (seq.next < 0 || seq.last < 0)) return invalid("~SEQx is only valid for positive numbers");
    std::size_t t = close + 1;
    while (t < buf.size() && is_blank(buf[t])) ++t;
    seq.text = buf.substr(t);
    sequences_.push_back(std::move(seq));
    return true;
}

// Conditional, definition, ~SEQ and expansion passes over one line, repeated
// while an expansion brings in another '@' or '$'. Returns false when the line
// was consumed.
bool Reader::process(std::string& buf)
{
    if (!reading_residue_) line_budget_ = kMaxReplacementsPerLine;
    int& budget = line_budget_;
    for (int pass = 0;; ++pass) {
        if (pass == kMaxRechecks) {
            diags_.error(loc(), "parameter substitution does not end (a definition refers to itself?)");
            return false;
        }
        if (buf.empty()) return false;
        if (buf[0] == '@' && !take_conditional(buf)) return false;
        if (buf[0] == '$' && take_definition(buf)) return false;
        if (buf.compare(0, 4, "~SEQ") == 0) {
            take_sequence(buf);
            return false;
        }
        if (buf.compare(0, 4, "~LST") == 0) {
            diags_.error(loc(), "~LST is not supported by kadp (use ~SEQ or write the lines out)");
            return false;
        }
        if (buf[0] == '~' || buf.find('$') == std::string::npos) return true;
        if (!replace_params(buf, budget)) return true;
        strip_expanded_comment(buf);
        if (buf.empty() || (buf[0] != '@' && buf.find('$') == std::string::npos)) return !buf.empty();
    }
}

// `include PATTERN`: the rest of the line (comments already gone, quotes
// kept) is a glob (with {a,b}) relative to the including file's directory.
// A pattern without wildcards that matches nothing is reported; a wildcard
// that matches nothing is not. includer/includem/includew/includeb/includea
// make a missing file an error.
bool Reader::take_include(const std::string& buf)
{
    std::size_t kw_end = 0;
    while (kw_end < buf.size() && !is_white(buf[kw_end])) ++kw_end;
    std::string_view kw = std::string_view(buf).substr(0, kw_end);
    bool strict = kw == "includer" || kw == "includem" || kw == "includew" || kw == "includeb" || kw == "includea";
    if (kw != "include" && !strict) return false;
    std::size_t p = kw_end;
    while (p < buf.size() && is_white(buf[p])) ++p;
    if (p >= buf.size()) return false;  // a bare `include` is an unknown keyword
    open_include(buf.substr(p), strict, kw == "includew" || kw == "includea");
    return true;
}

void Reader::open_include(const std::string& pattern, bool must_exist, bool must_match)
{
    const SourceLoc at = loc();
    if (!options_.allow_include) {
        diags_.error(at, "include is not allowed here");
        return;
    }
    if (static_cast<int>(files_.size()) > options_.max_include_depth) {
        diags_.error(at, "include nested more than " + std::to_string(options_.max_include_depth) +
                             " levels deep (an include loop?)");
        return;
    }
    std::filesystem::path p{pattern};
    if (p.is_relative()) p = files_.back().dir / p;
    glob_t g{};
    int rc = glob(p.c_str(), GLOB_MARK | GLOB_BRACE, nullptr, &g);
    std::vector<std::string> matches;
    if (rc == 0) matches.assign(g.gl_pathv, g.gl_pathv + g.gl_pathc);
    globfree(&g);
    if (rc != 0 && rc != GLOB_NOMATCH) {
        diags_.error(at, "include '" + pattern + "': cannot expand the pattern");
        return;
    }
    if (matches.empty()) {
        if (has_glob_chars(pattern)) {
            if (must_match) diags_.error(at, "No config files matched '" + pattern + "'");
        } else if (must_exist) {
            diags_.error(at, "Config files missing '" + pattern + "'");
        } else {
            diags_.warning(at, "Config files missing '" + pattern + "'");
        }
        return;
    }
    // glob() sorts; open in reverse so the first match is read first.
    for (auto f = matches.rbegin(); f != matches.rend(); ++f) {
        if (!f->empty() && f->back() == '/') {
            diags_.warning(at, "Configuration file '" + *f + "' is a directory - skipping");
            continue;
        }
        auto in = std::make_unique<std::ifstream>(*f);
        if (!*in) {
            diags_.error(at, "include " + *f + ": cannot open the file");
            continue;
        }
        files_.push_back(Source{in.get(), *f, std::filesystem::path(*f).parent_path(), 0});
        streams_.push_back(std::move(in));
        seq_marks_.push_back(sequences_.size());
    }
}

// Every '{' or '}' outside double quotes ends the line: a leading brace is a
// line of its own, the text from any other brace on is read next. An
// unmatched '"' stops the search.
void Reader::split_braces(std::string& buf)
{
    std::size_t p = 0;
    if (buf[0] != '{' && buf[0] != '}') {
        p = std::string::npos;
        for (std::size_t i = 0; i < buf.size(); ++i) {
            if (buf[i] == '"') {
                std::size_t close = buf.find('"', i + 1);
                if (close == std::string::npos) break;
                i = close;
            } else if (buf[i] == '{' || buf[i] == '}') {
                p = i;
                break;
            }
        }
    }
    if (p == std::string::npos) return;
    std::size_t rest = p;
    if (p == 0) {
        rest = 1;
        while (rest < buf.size() && is_blank(buf[rest])) ++rest;
    }
    if (rest < buf.size()) {
        residue_ = buf.substr(rest);
        trim_trailing_blanks(residue_);
        buf.erase(rest);
    }
    trim_trailing_blanks(buf);
}

void Reader::emit(const std::string& buf)
{
    bool unmatched = false;
    auto tokens = split_words(buf, unmatched);
    if (unmatched) diags_.error(loc(), "Unmatched quote: '" + buf + "'");
    if (tokens.empty()) return;
    out_.push_back(Line{loc(), std::move(tokens), buf});
}

void Reader::run(std::istream& in, const std::string& name, const std::filesystem::path& dir)
{
    files_.push_back(Source{&in, name, dir, 0});
    seq_marks_.push_back(0);
    std::string buf;
    while (!files_.empty()) {
        bool from_file = false;
        if (!next_raw(buf, from_file)) {
            // End of this file: its ~SEQs and a definition still open end too.
            end_definition();
            sequences_.resize(std::min(sequences_.size(), seq_marks_.back()));
            multiline_.clear();
            multiline_seq_depth_ = 0;
            files_.pop_back();
            seq_marks_.pop_back();
            if (!streams_.empty()) streams_.pop_back();  // files_[k + 1] reads streams_[k]
            continue;
        }
        if (!pending_definition_.empty()) {
            continue_definition(buf);
            continue;
        }
        if (!process(buf)) continue;
        if (take_include(buf)) continue;
        split_braces(buf);
        emit(buf);
    }
}

}  // namespace

std::vector<std::string> split_tokens(std::string_view text)
{
    bool unmatched = false;
    return split_words(text, unmatched);
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
    Reader reader(options, diags, out);
    reader.run(in, path, std::filesystem::path(path).parent_path());
    return true;
}

std::vector<Line> lex_text(std::string_view text, const std::string& name, const LexOptions& options,
                           Diagnostics& diags)
{
    std::vector<Line> out;
    std::istringstream in{std::string(text)};
    Reader reader(options, diags, out);
    reader.run(in, name, std::filesystem::path("."));
    return out;
}

}  // namespace kadp::conf
