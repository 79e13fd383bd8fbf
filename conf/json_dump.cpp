// Runs on: control thread.
#include "conf/json_dump.h"

namespace kadp::conf {

std::string dump_json(const Config& config)
{
    (void)config;
    return "{}\n";
}

}  // namespace kadp::conf
