// Runs on: control thread. Cross checks of the LVS sections.
#include "conf/sections.h"

namespace kadp::conf {

void validate_lvs(Config& config, ParseContext& ctx)
{
    (void)config;
    (void)ctx;
}

}  // namespace kadp::conf
