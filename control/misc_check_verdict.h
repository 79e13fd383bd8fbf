// Runs on: any (pure). What a MISC_CHECK script's end means for its real
// server, by keepalived 2.2.7's rules (check_misc.c):
// * exit 0: up (with misc_dynamic too: the weight is left as it is);
// * exit 1: down;
// * exit 2..255: down, or with misc_dynamic up with weight = status - 2
//   (0..253);
// * killed by a signal, timed out (even if the script then exits 0 on our
//   SIGTERM), or not started at all (missing, refused, exec failed): down.
#pragma once

#include <optional>
#include <string>

#include "control/script_runner.h"

namespace kadp::ctl {

struct MiscCheckVerdict {
    bool up = false;
    std::optional<int> weight;  // misc_dynamic: the real server's new weight
    std::string reason;         // for the log line: "exited with status 1", "timed out", ...
};

MiscCheckVerdict misc_check_verdict(const ScriptResult& result, bool misc_dynamic);

}  // namespace kadp::ctl
