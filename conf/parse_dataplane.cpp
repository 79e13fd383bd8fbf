// Runs on: control thread. The kadp-only `dataplane { }` block (DPDK ports,
// addresses, routes, table sizes). keepalived ignores it with a warning.
#include "conf/sections.h"

namespace kadp::conf {

void parse_dataplane(const Node& block, Config& config, ParseContext& ctx)
{
    (void)config;
    dispatch(block.children, {}, ctx);
}

void validate_dataplane(Config& config, ParseContext& ctx)
{
    (void)config;
    (void)ctx;
}

}  // namespace kadp::conf
