// Runs on: control thread (and `kadp --dump-config`). The resolved model as
// JSON; keys are keepalived's keyword names. Schema: docs/configuration.md.
#pragma once

#include <string>

#include "conf/model.h"

namespace kadp::conf {

std::string dump_json(const Config& config);

}  // namespace kadp::conf
