// Runs on: control thread (start-up). The one exception type of data-plane
// start-up: its message is the whole operator-facing line, without the
// "kadp: " prefix.
#pragma once

#include <stdexcept>
#include <string>

namespace kadp::dp {

class StartupError : public std::runtime_error {
public:
    explicit StartupError(const std::string& what) : std::runtime_error(what) {}
};

// rte_strerror(rte_errno) (or of -ret when given) as a std::string.
std::string dpdk_error(int err);

}  // namespace kadp::dp
