// Runs on: control thread.
#include "checks/verdict.h"

namespace kadp::chk {

Step CheckerState::on_success()
{
    Step s;
    s.next = p_.delay_loop;
    // keepalived reports the first success even of a checker that starts up.
    if (!up_ || !has_run_) s.event = Step::Event::success;
    up_ = true;
    has_run_ = true;
    retry_it_ = 0;
    return s;
}

Step CheckerState::on_failure()
{
    Step s;
    s.next = p_.delay_loop;
    if ((up_ || !has_run_) && retry_it_ >= p_.retry) {
        s.event = Step::Event::failure;
        s.retries = has_run_ ? p_.retry : 0;
        up_ = false;
        retry_it_ = 0;
    } else if (up_) {
        s.next = p_.delay_before_retry;
        ++retry_it_;
    }
    // else: down already (alpha, or failed before): try again after delay_loop.
    has_run_ = true;
    return s;
}

bool ServerHealth::checker_failed()
{
    const bool was = alive();
    if (failed_ < checkers_) ++failed_;
    return was != alive();
}

bool ServerHealth::checker_recovered()
{
    const bool was = alive();
    if (failed_ > 0) --failed_;
    return was != alive();
}

}  // namespace kadp::chk
