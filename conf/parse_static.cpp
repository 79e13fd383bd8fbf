// Runs on: control thread. static_ipaddress, static_routes and the `ip addr` /
// `ip route` line syntax they share with vrrp_instance.
#include "conf/sections.h"

namespace kadp::conf {

std::optional<IpAddress> parse_ip_address_line(const Node& line, ParseContext& ctx)
{
    (void)line;
    (void)ctx;
    return std::nullopt;
}

std::optional<Route> parse_route_line(const Node& line, ParseContext& ctx)
{
    (void)line;
    (void)ctx;
    return std::nullopt;
}

void parse_static_ipaddress(const Node& block, Config& config, ParseContext& ctx)
{
    (void)config;
    dispatch(block.children, {}, ctx);
}

void parse_static_routes(const Node& block, Config& config, ParseContext& ctx)
{
    (void)config;
    dispatch(block.children, {}, ctx);
}

}  // namespace kadp::conf
