// Runs on: control thread. What the checker kinds share inside checks/.
#pragma once

#include <memory>

#include "checks/checker.h"
#include "checks/connection.h"

namespace kadp::chk {

inline Endpoint endpoint_of(const conf::Checker& c)
{
    return Endpoint{c.connect_ip, c.connect_port, c.bindto, c.bind_port};
}

std::unique_ptr<Checker> make_tcp_check(ctl::EventLoop& loop, const conf::Checker& config, LogFn log);
std::unique_ptr<Checker> make_http_check(ctl::EventLoop& loop, const conf::Checker& config, LogFn log);

}  // namespace kadp::chk
