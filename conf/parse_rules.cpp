// Runs on: control thread. static_rules and virtual_rules: policy-routing
// rules in `ip rule` syntax. kadp does not install them yet (the kernel
// backend will); they are parsed so that what keepalived reports about them,
// kadp reports too.
#include <algorithm>
#include <charconv>

#include "conf/sections.h"

namespace kadp::conf {
namespace {

// Options that take one value; the value is not checked beyond presence.
constexpr std::string_view kWithValue[] = {
    "iif", "iifname", "oif", "oifname", "tos", "dsfield", "fwmark", "realms", "goto", "suppress_prefixlength",
    "suppress_ifgroup", "uidrange", "ipproto", "sport", "dport", "protocol", "l3mdev", "track_group", "nat", "map-to",
};
constexpr std::string_view kFlags[] = {"not", "no_track", "inet", "inet6", "unreachable", "blackhole", "prohibit",
                                       "l3mdev"};

bool is_one_of(std::string_view w, const auto& list)
{
    return std::find(std::begin(list), std::end(list), w) != std::end(list);
}

// `all` or a prefix; false (after a warning) when it is neither.
bool take_prefix(const Node& line, const std::string& word, const char* which, std::optional<IpPrefix>& out,
                 ParseContext& ctx)
{
    if (word == "all") return true;
    auto p = IpPrefix::parse(word);
    if (!p) {
        ctx.diags.warning(line.loc, std::string("Invalid rule ") + which + " address " + word + " - rule ignored");
        return false;
    }
    out = *p;
    return true;
}

}  // namespace

std::optional<Rule> parse_rule_line(const Node& line, ParseContext& ctx)
{
    no_block(line, ctx);
    Rule r;
    r.loc = line.loc;
    r.text = line.text;
    const auto& w = line.tokens;
    for (std::size_t i = 0; i < w.size(); ++i) {
        const std::string& word = w[i];
        bool has_value = i + 1 < w.size();
        if ((word == "from" || word == "to") && has_value) {
            if (!take_prefix(line, w[++i], word.c_str(), word == "from" ? r.from : r.to, ctx)) return std::nullopt;
        } else if ((word == "preference" || word == "priority" || word == "order" || word == "pref") && has_value) {
            const std::string& v = w[++i];
            unsigned long n = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec != std::errc{} || p != v.data() + v.size() || n > 0xffffffffUL) {
                ctx.diags.warning(line.loc, "Invalid rule preference " + v + " - rule ignored");
                return std::nullopt;
            }
            r.preference = static_cast<int>(std::min<unsigned long>(n, 0x7fffffffUL));
        } else if ((word == "table" || word == "lookup") && has_value) {
            r.table = w[++i];
        } else if (is_one_of(word, kWithValue) && has_value) {
            ++i;
        } else if (is_one_of(word, kFlags)) {
            // understood, nothing to keep yet
        } else {
            ctx.diags.warning(line.loc, "Unknown rule option '" + word + "' - rule ignored");
            return std::nullopt;
        }
    }
    if (!r.from && !r.to && r.table.empty()) {
        ctx.diags.warning(line.loc, "Rule matches everything and does nothing - ignored");
        return std::nullopt;
    }
    if (r.preference < 0)
        ctx.diags.warning(line.loc, "Rule has no preference specified - keepalived would pick one; this is "
                                    "probably not what you want");
    return r;
}

void parse_static_rules(const Node& block, Config& config, ParseContext& ctx)
{
    for (const Node& line : block.children)
        if (auto r = parse_rule_line(line, ctx)) config.static_rules.push_back(std::move(*r));
}

}  // namespace kadp::conf
