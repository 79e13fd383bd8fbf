// Runs on: control thread. vrrp_script, vrrp_sync_group, vrrp_instance.
#include "conf/sections.h"

namespace kadp::conf {

void parse_vrrp_script(const Node& block, Config& config, ParseContext& ctx)
{
    (void)config;
    dispatch(block.children, {}, ctx);
}

void parse_vrrp_sync_group(const Node& block, Config& config, ParseContext& ctx)
{
    (void)config;
    dispatch(block.children, {}, ctx);
}

void parse_vrrp_instance(const Node& block, Config& config, ParseContext& ctx)
{
    (void)config;
    dispatch(block.children, {}, ctx);
}

void resolve_vrrp(Config& config, ParseContext& ctx)
{
    (void)config;
    (void)ctx;
}

}  // namespace kadp::conf
