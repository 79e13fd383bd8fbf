// Runs on: control thread. global_defs.
#include "conf/sections.h"

namespace kadp::conf {

void parse_global_defs(const Node& block, Config& config, ParseContext& ctx)
{
    (void)config;
    dispatch(block.children, {}, ctx);
}

}  // namespace kadp::conf
