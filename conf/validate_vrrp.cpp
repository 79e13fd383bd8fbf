// Runs on: control thread. Cross checks of the VRRP sections.
#include "conf/sections.h"

namespace kadp::conf {

void validate_vrrp(Config& config, ParseContext& ctx)
{
    (void)config;
    (void)ctx;
}

}  // namespace kadp::conf
