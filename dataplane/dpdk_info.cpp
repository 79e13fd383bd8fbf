// Runs on: any.
#include "dataplane/dpdk_info.h"

#include <rte_version.h>

namespace kadp::dp {

std::string dpdk_version() { return rte_version(); }

}  // namespace kadp::dp
