// Runs on: control thread. Internal to conf/: one parser per top-level
// section, then default resolution and validation. Each file fills its part
// of the Config from the block tree.
#pragma once

#include "conf/load.h"
#include "conf/model.h"
#include "conf/tree.h"
#include "conf/values.h"

namespace kadp::conf {

void parse_global_defs(const Node& block, Config& config, ParseContext& ctx);
void parse_static_ipaddress(const Node& block, Config& config, ParseContext& ctx);
void parse_static_routes(const Node& block, Config& config, ParseContext& ctx);
void parse_vrrp_script(const Node& block, Config& config, ParseContext& ctx);
void parse_vrrp_sync_group(const Node& block, Config& config, ParseContext& ctx);
void parse_vrrp_instance(const Node& block, Config& config, ParseContext& ctx);
void parse_virtual_server_group(const Node& block, Config& config, ParseContext& ctx);
void parse_virtual_server(const Node& block, Config& config, ParseContext& ctx);
void parse_dataplane(const Node& block, Config& config, ParseContext& ctx);
void parse_metrics(const Node& block, Config& config, ParseContext& ctx);

// `ip addr` / `ip route` style lines, shared by static_* and vrrp_instance.
std::optional<IpAddress> parse_ip_address_line(const Node& line, ParseContext& ctx);
std::optional<Route> parse_route_line(const Node& line, ParseContext& ctx);
std::optional<Rule> parse_rule_line(const Node& line, ParseContext& ctx);
void parse_static_rules(const Node& block, Config& config, ParseContext& ctx);

// After every section is read: inheritance and defaults that depend on other
// sections (vrrp_version, garp settings, virtual_server -> real_server -> checker).
void resolve_vrrp(Config& config, ParseContext& ctx);
void resolve_lvs(Config& config, ParseContext& ctx);

// Cross-section checks: what keepalived rejects plus references that point nowhere.
void validate_vrrp(Config& config, ParseContext& ctx);
void validate_lvs(Config& config, ParseContext& ctx);
void validate_dataplane(Config& config, ParseContext& ctx);
// Scripts that will run: found, executable, secure, with a user to run as.
void validate_scripts(Config& config, ParseContext& ctx);

}  // namespace kadp::conf
