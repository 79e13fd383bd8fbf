// Runs on: control thread.
#include "conf/values.h"

#include <charconv>
#include <cmath>
#include <sstream>

#include "conf/lexer.h"

namespace kadp::conf {

void dispatch(const std::vector<Node>& children, const KeywordTable& table, ParseContext& ctx)
{
    for (const Node& child : children) {
        bool found = false;
        for (const auto& [keyword, handler] : table) {
            if (keyword == child.keyword()) {
                handler(child);
                found = true;
                break;
            }
        }
        if (!found) warn_unknown(child, ctx);
    }
}

void warn_unknown(const Node& node, ParseContext& ctx)
{
    ctx.diags.warning(node.loc, "Unknown keyword '" + node.keyword() + "'" +
                                    (node.has_block ? " (its block is skipped)" : ""));
}

void keep_other(const Node& node, std::vector<OtherKeyword>& other)
{
    other.push_back(OtherKeyword{node.loc, node.keyword(), node.rest()});
}

bool need_args(const Node& node, std::size_t min, std::size_t max, ParseContext& ctx)
{
    std::size_t n = node.arg_count();
    if (n < min) {
        ctx.diags.error(node.loc, node.keyword() + ": missing " + (min - n == 1 ? "a value" : "values") +
                                      " (expects " + std::to_string(min) +
                                      (max > min ? " to " + std::to_string(max) : std::string()) + ")");
        return false;
    }
    if (n > max) {
        ctx.diags.warning(node.loc, node.keyword() + ": extra words after " + std::to_string(max) +
                                        " value(s) ignored");
    }
    return true;
}

void no_block(const Node& node, ParseContext& ctx)
{
    if (node.has_block) ctx.diags.warning(node.loc, node.keyword() + " takes no block; block ignored");
}

std::optional<long long> arg_int(const Node& node, std::size_t i, long long min, long long max, ParseContext& ctx)
{
    if (i >= node.arg_count()) {
        ctx.diags.error(node.loc, node.keyword() + ": missing value");
        return std::nullopt;
    }
    const std::string& s = node.arg(i);
    long long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v < min || v > max) {
        ctx.diags.error(node.loc, node.keyword() + ": '" + s + "' is not a whole number from " +
                                      std::to_string(min) + " to " + std::to_string(max));
        return std::nullopt;
    }
    return v;
}

namespace {
std::string format_seconds(double v)
{
    std::ostringstream o;
    o << v;
    return o.str();
}
}  // namespace

std::optional<double> arg_seconds(const Node& node, std::size_t i, double min, double max, ParseContext& ctx)
{
    if (i >= node.arg_count()) {
        ctx.diags.error(node.loc, node.keyword() + ": missing value");
        return std::nullopt;
    }
    const std::string& s = node.arg(i);
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::fixed);
    if (ec != std::errc{} || p != s.data() + s.size() || !std::isfinite(v) || v < min || v > max) {
        ctx.diags.error(node.loc, node.keyword() + ": '" + s + "' is not a time in seconds from " +
                                      format_seconds(min) + " to " + format_seconds(max));
        return std::nullopt;
    }
    return v;
}

std::optional<IpAddr> arg_ip(const Node& node, std::size_t i, ParseContext& ctx)
{
    if (i >= node.arg_count()) {
        ctx.diags.error(node.loc, node.keyword() + ": missing address");
        return std::nullopt;
    }
    auto ip = IpAddr::parse(node.arg(i));
    if (!ip) ctx.diags.error(node.loc, node.keyword() + ": '" + node.arg(i) + "' is not an IP address");
    return ip;
}

std::optional<std::uint16_t> arg_port(const Node& node, std::size_t i, ParseContext& ctx)
{
    auto v = arg_int(node, i, 0, 65535, ctx);
    if (!v) return std::nullopt;
    return static_cast<std::uint16_t>(*v);
}

bool arg_flag(const Node& node, ParseContext& ctx)
{
    if (node.arg_count() == 0) return true;
    const std::string& s = node.arg(0);
    if (s == "true" || s == "on" || s == "yes") return true;
    if (s == "false" || s == "off" || s == "no") return false;
    ctx.diags.error(node.loc, node.keyword() + ": '" + s + "' is not one of true/false, on/off, yes/no");
    return false;
}

Script arg_script(const Node& node, ParseContext& ctx)
{
    Script script;
    if (node.arg_count() == 0) {
        ctx.diags.error(node.loc, node.keyword() + ": missing command");
        return script;
    }
    // Like keepalived: the command is one (usually quoted) word; words after
    // it name the user and group to run it as.
    script.loc = node.loc;
    script.command = node.arg(0);
    script.argv = split_command(script.command);
    if (node.arg_count() > 1) script.user = node.arg(1);
    if (node.arg_count() > 2) script.group = node.arg(2);
    if (node.arg_count() > 3) ctx.diags.warning(node.loc, node.keyword() + ": extra words after the group ignored");
    if (script.argv.empty()) ctx.diags.error(node.loc, node.keyword() + ": empty command");
    return script;
}

}  // namespace kadp::conf
