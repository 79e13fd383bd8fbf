// Runs on: any (pure).
#include "control/misc_check_verdict.h"

namespace kadp::ctl {

MiscCheckVerdict misc_check_verdict(const ScriptResult& result, bool misc_dynamic)
{
    MiscCheckVerdict v;
    if (result.timed_out) {
        v.reason = "timed out";
        return v;
    }
    switch (result.status) {
    case ScriptResult::Status::not_started:
    case ScriptResult::Status::unkillable:
        v.reason = result.describe();
        return v;
    case ScriptResult::Status::killed:
        v.reason = "due to signal " + std::to_string(result.signal);
        return v;
    case ScriptResult::Status::exited:
        break;
    }
    const int status = result.exit_code;
    v.reason = "exited with status " + std::to_string(status);
    if (status == 0) {
        v.up = true;
    } else if (misc_dynamic && status >= 2 && status <= 255) {
        v.up = true;
        v.weight = status - 2;
    }
    return v;
}

}  // namespace kadp::ctl
