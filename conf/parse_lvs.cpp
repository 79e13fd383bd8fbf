// Runs on: control thread. virtual_server_group, virtual_server, real_server.
#include "conf/sections.h"

namespace kadp::conf {

void parse_virtual_server_group(const Node& block, Config& config, ParseContext& ctx)
{
    (void)config;
    dispatch(block.children, {}, ctx);
}

void parse_virtual_server(const Node& block, Config& config, ParseContext& ctx)
{
    (void)config;
    dispatch(block.children, {}, ctx);
}

}  // namespace kadp::conf
