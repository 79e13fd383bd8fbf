// Runs on: control thread. Inheritance virtual_server -> real_server -> checker.
#include "conf/sections.h"

namespace kadp::conf {

void resolve_lvs(Config& config, ParseContext& ctx)
{
    (void)config;
    (void)ctx;
}

}  // namespace kadp::conf
