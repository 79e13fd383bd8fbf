// Runs on: control thread (the daemon) and kadpctl. The kadpctl wire format
// over the Unix stream socket:
//
//   request  one line, at most kMaxRequest bytes with its '\n':
//              list | conns [LIMIT] | status | reload | checks | vrrp | stats
//   reply    one line of compact JSON, then the daemon closes:
//              {"ok":true,"command":"list","result":{...}}
//              {"ok":false,"error":"unknown command 'foo'"}
//
// "ok" is about the request (false: it could not be parsed or served); a
// reload the daemon rejected is ok:true with result.accepted:false. The
// result schemas are in docs/kadpctl.md (ctl_messages.h writes them).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "control/control_handler.h"
#include "control/json_value.h"

namespace kadp::ctl {

inline constexpr std::size_t kMaxRequest = 4096;
inline constexpr std::size_t kDefaultConnsLimit = 100000;

struct Request {
    enum class Command { list, conns, status, reload, checks, vrrp, stats } command = Command::list;
    std::size_t limit = kDefaultConnsLimit;  // conns
};

const char* to_string(Request::Command c);

// One request line without its '\n'. nullopt and `error` for anything else.
std::optional<Request> parse_request(std::string_view line, std::string& error);
// The line kadpctl sends (with '\n').
std::string format_request(const Request& r);

// Daemon: serves `r` with `handler`; the reply line with its '\n'.
std::string serve_request(ControlHandler& handler, const Request& r);
std::string error_reply(const std::string& message);

// kadpctl: a reply line read back. nullopt and `error` when it is not one.
struct Reply {
    bool ok = false;
    std::string error;    // when !ok
    std::string command;  // when ok
    JsonValue result;     // when ok
};
std::optional<Reply> parse_reply(std::string_view text, std::string& error);

}  // namespace kadp::ctl
