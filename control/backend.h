// Runs on: control thread (process start). `--backend dpdk|kernel|auto`:
// which backend forwards the virtual services.
#pragma once

#include <optional>
#include <string_view>

namespace kadp::ctl {

enum class Backend { automatic, dpdk, kernel };

// "auto", "dpdk", "kernel"; nullopt for anything else.
std::optional<Backend> backend_from_name(std::string_view name);
const char* to_string(Backend b);

}  // namespace kadp::ctl
