// Runs on: kadpctl (a separate short-lived process). The command line of
// `kadpctl [-s SOCKET] [--json] COMMAND`, its exit codes, and the text it
// prints for status and reload (list and conns print ipvsadm's layout,
// ipvsadm_format.h). The socket I/O is in kadpctl_main.cpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/ctl_messages.h"
#include "control/ctl_observe.h"
#include "control/ctl_protocol.h"
#include "control/ipvsadm_format.h"

namespace kadp::ctl {

// Exit codes (docs/kadpctl.md).
inline constexpr int kCtlOk = 0;
inline constexpr int kCtlFailed = 1;       // the daemon refused: reload rejected, request error
inline constexpr int kCtlUsage = 2;        // bad command line
inline constexpr int kCtlUnreachable = 3;  // no daemon on the socket, or no valid reply

struct CtlOptions {
    std::string socket = "/run/kadp/kadp.sock";
    bool json = false;
    bool help = false;
    bool version = false;
    Request request;
    ListFormat list;  // list: --stats / --rate / --exact
    bool all = false;  // stats: every counter, zeros too
};

struct CtlArgs {
    std::optional<CtlOptions> options;  // nullopt: `error` says why
    std::string error;
};

// argv[0] excluded. Options may come before or after the command.
CtlArgs parse_kadpctl_args(const std::vector<std::string>& args);
std::string kadpctl_usage();

// What kadpctl prints for a reply (`reply_json` is the raw line, printed
// as-is with --json) and the exit code; text goes to `out`, errors to `err`.
int render_reply(const CtlOptions& o, const std::string& reply_json, std::string& out, std::string& err);

std::string render_status(const StatusReply& s);
std::string render_reload(const ReloadReply& r);
// kadpctl_observe.cpp
std::string render_port(const PortStatus& p);
std::string render_checks(const ChecksReply& r);
std::string render_vrrp(const VrrpReply& r);
std::string render_stats(const StatsReply& s, bool all);

}  // namespace kadp::ctl
