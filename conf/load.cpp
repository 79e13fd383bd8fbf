// Runs on: control thread.
#include "conf/load.h"

#include <unistd.h>

#include <climits>
#include <filesystem>

#include "conf/lexer.h"
#include "conf/sections.h"
#include "conf/tree.h"

namespace kadp::conf {
namespace {

std::string host_name()
{
    char buf[HOST_NAME_MAX + 1] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

// Top-level keywords of keepalived 2.2.7 that kadp recognises without acting
// on them (yet): kept in Config::other for the dump, no warning.
bool is_recognised_top_level(std::string_view keyword)
{
    static constexpr std::string_view kKnown[] = {
        "net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "instance", "use_pid_dir",
        "linkbeat_use_polling", "linkbeat_interfaces", "child_wait_time", "track_group",
        "track_file", "vrrp_track_file", "vrrp_track_process", "garp_group", "bfd_instance",
        "SSL",
    };
    for (auto k : kKnown)
        if (k == keyword) return true;
    return false;
}

// A top-level section that takes a name (vrrp_instance NAME { ... }) or not.
void parse_top(const std::vector<Node>& roots, Config& config, ParseContext& ctx)
{
    using Fn = void (*)(const Node&, Config&, ParseContext&);
    struct Section {
        std::string_view keyword;
        Fn fn;
    };
    static constexpr Section kSections[] = {
        {"global_defs", parse_global_defs},
        {"static_ipaddress", parse_static_ipaddress},
        {"static_routes", parse_static_routes},
        {"static_rules", parse_static_rules},
        {"vrrp_script", parse_vrrp_script},
        {"vrrp_sync_group", parse_vrrp_sync_group},
        {"vrrp_instance", parse_vrrp_instance},
        {"virtual_server_group", parse_virtual_server_group},
        {"virtual_server", parse_virtual_server},
        {"dataplane", parse_dataplane},
        {"metrics", parse_metrics},
    };
    for (const Node& node : roots) {
        bool found = false;
        for (const auto& s : kSections) {
            if (s.keyword != node.keyword()) continue;
            found = true;
            if (!node.has_block) {
                ctx.diags.error(node.loc, node.keyword() + " needs a { ... } block");
                break;
            }
            s.fn(node, config, ctx);
            break;
        }
        if (!found && is_recognised_top_level(node.keyword())) {
            keep_other(node, config.other);
            found = true;
        }
        if (!found) warn_unknown(node, ctx);
    }
}

Config finish(const std::vector<Line>& lines, ParseContext& ctx)
{
    Config config;
    auto roots = build_tree(lines, ctx.diags);
    config.global_defs.router_id = ctx.host_name;
    config.global_defs.smtp_helo_name = ctx.host_name;
    config.global_defs.notification_email_from = "keepalived@" + ctx.host_name;
    config.global_defs.vrrp_mcast_group4 = *IpAddr::parse("224.0.0.18");
    config.global_defs.vrrp_mcast_group6 = *IpAddr::parse("ff02::12");
    parse_top(roots, config, ctx);
    resolve_vrrp(config, ctx);
    resolve_lvs(config, ctx);
    validate_vrrp(config, ctx);
    validate_lvs(config, ctx);
    validate_dataplane(config, ctx);
    validate_scripts(config, ctx);
    return config;
}

}  // namespace

std::string default_config_id()
{
    std::string h = host_name();
    return h.substr(0, h.find('.'));
}

std::optional<Config> load_file(const std::string& path, const LoadOptions& options, Diagnostics& diags)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        diags.error(SourceLoc{path, 0}, "is a directory, not a configuration file");
        return std::nullopt;
    }
    LexOptions lex;
    lex.config_id = options.config_id.empty() ? default_config_id() : options.config_id;
    lex.allow_include = options.allow_include;
    std::vector<Line> lines;
    if (!lex_file(path, lex, diags, lines)) return std::nullopt;
    ParseContext ctx{diags, options, host_name()};
    return finish(lines, ctx);
}

Config load_text(std::string_view text, const std::string& name, const LoadOptions& options, Diagnostics& diags)
{
    LexOptions lex;
    lex.config_id = options.config_id.empty() ? default_config_id() : options.config_id;
    lex.allow_include = options.allow_include;
    auto lines = lex_text(text, name, lex, diags);
    ParseContext ctx{diags, options, host_name()};
    return finish(lines, ctx);
}

}  // namespace kadp::conf
