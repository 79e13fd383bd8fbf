// Runs on: control thread. What the checker kinds share inside checks/.
#pragma once

#include <memory>
#include <string_view>

#include "checks/checker.h"
#include "checks/connection.h"
#include "control/script_runner.h"

namespace kadp::chk {

// keepalived's smtp_get_status: the reply code of one line (a trailing
// \r ignored), or -1 unless it is 3 digits followed by a space or nothing.
int smtp_reply_code(std::string_view line);

inline Endpoint endpoint_of(const conf::Checker& c)
{
    return Endpoint{c.connect_ip, c.connect_port, c.bindto, c.bind_port};
}

std::unique_ptr<Checker> make_tcp_check(ctl::EventLoop& loop, const conf::Checker& config, LogFn log);
std::unique_ptr<Checker> make_dns_check(ctl::EventLoop& loop, const conf::Checker& config, LogFn log);
std::unique_ptr<Checker> make_smtp_check(ctl::EventLoop& loop, const conf::Checker& config, LogFn log);
std::unique_ptr<Checker> make_http_check(ctl::EventLoop& loop, const conf::Checker& config, LogFn log);
std::unique_ptr<Checker> make_misc_check(ctl::EventLoop& loop, const conf::Checker& config, LogFn log,
                                         ctl::ScriptRunner& runner);

}  // namespace kadp::chk
