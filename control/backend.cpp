// Runs on: control thread (process start).
#include "control/backend.h"

namespace kadp::ctl {

std::optional<Backend> backend_from_name(std::string_view name)
{
    if (name == "auto") return Backend::automatic;
    if (name == "dpdk") return Backend::dpdk;
    if (name == "kernel") return Backend::kernel;
    return std::nullopt;
}

const char* to_string(Backend b)
{
    switch (b) {
    case Backend::automatic: return "auto";
    case Backend::dpdk: return "dpdk";
    case Backend::kernel: return "kernel";
    }
    return "?";
}

}  // namespace kadp::ctl
