// Runs on: any. What DPDK this binary was built against and runs with.
#pragma once

#include <string>

namespace kadp::dp {

std::string dpdk_version();

}  // namespace kadp::dp
