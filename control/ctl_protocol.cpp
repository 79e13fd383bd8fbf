// Runs on: control thread (parse_request, serve_request) / kadpctl
// (format_request, parse_reply).
#include "control/ctl_protocol.h"

#include <charconv>
#include <vector>

#include "conf/json_writer.h"

namespace kadp::ctl {
namespace {

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

std::string ok_reply(const char* command, const std::string& result_json) {
    std::string out = "{\"ok\":true,\"command\":";
    conf::json_append_string(out, command);
    out += ",\"result\":";
    out += result_json;
    out += "}\n";
    return out;
}

// Printable and short in messages: the request may be anything.
std::string quoted(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return "'" + out + (s.size() > 40 ? "...'" : "'");
}

}  // namespace

const char* to_string(Request::Command c) {
    switch (c) {
    case Request::Command::list: return "list";
    case Request::Command::conns: return "conns";
    case Request::Command::status: return "status";
    case Request::Command::reload: return "reload";
    case Request::Command::checks: return "checks";
    case Request::Command::vrrp: return "vrrp";
    case Request::Command::stats: return "stats";
    }
    return "?";
}

std::optional<Request> parse_request(std::string_view line, std::string& error) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto w = words(line);
    if (w.empty()) {
        error = "empty request (expected list, conns, status, reload, checks, vrrp or stats)";
        return std::nullopt;
    }
    Request r;
    std::size_t max_args = 0;
    if (w[0] == "list") {
        r.command = Request::Command::list;
    } else if (w[0] == "conns") {
        r.command = Request::Command::conns;
        max_args = 1;
        if (w.size() > 1) {
            std::size_t n = 0;
            const auto [p, ec] = std::from_chars(w[1].data(), w[1].data() + w[1].size(), n);
            if (ec != std::errc{} || p != w[1].data() + w[1].size() || n == 0) {
                error = "conns: limit " + quoted(w[1]) + " is not a positive number";
                return std::nullopt;
            }
            r.limit = n;
        }
    } else if (w[0] == "status") {
        r.command = Request::Command::status;
    } else if (w[0] == "reload") {
        r.command = Request::Command::reload;
    } else if (w[0] == "checks") {
        r.command = Request::Command::checks;
    } else if (w[0] == "vrrp") {
        r.command = Request::Command::vrrp;
    } else if (w[0] == "stats") {
        r.command = Request::Command::stats;
    } else {
        error = "unknown command " + quoted(w[0]) + " (expected list, conns, status, reload, checks, vrrp or stats)";
        return std::nullopt;
    }
    if (w.size() > 1 + max_args) {
        error = std::string(to_string(r.command)) + ": unexpected argument " + quoted(w[1 + max_args]);
        return std::nullopt;
    }
    return r;
}

std::string format_request(const Request& r) {
    std::string line = to_string(r.command);
    if (r.command == Request::Command::conns) line += " " + std::to_string(r.limit);
    return line + "\n";
}

std::string serve_request(ControlHandler& handler, const Request& r) {
    switch (r.command) {
    case Request::Command::list: return ok_reply("list", to_json(handler.list()));
    case Request::Command::conns: return ok_reply("conns", to_json(handler.conns(r.limit)));
    case Request::Command::status: return ok_reply("status", to_json(handler.status()));
    case Request::Command::reload: return ok_reply("reload", to_json(handler.reload("kadpctl")));
    case Request::Command::checks: return ok_reply("checks", to_json(handler.checks()));
    case Request::Command::vrrp: return ok_reply("vrrp", to_json(handler.vrrp()));
    case Request::Command::stats: return ok_reply("stats", to_json(handler.stats()));
    }
    return error_reply("unknown command");
}

std::string error_reply(const std::string& message) {
    std::string out = "{\"ok\":false,\"error\":";
    conf::json_append_string(out, message);
    out += "}\n";
    return out;
}

std::optional<Reply> parse_reply(std::string_view text, std::string& error) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    std::string parse_error;
    auto v = JsonValue::parse(text, parse_error);
    if (!v || !v->is_object()) {
        error = "the daemon's reply is not JSON (" + (v ? std::string("not an object") : parse_error) + ")";
        return std::nullopt;
    }
    const JsonValue* ok = v->get("ok");
    if (ok == nullptr || !ok->is_bool()) {
        error = "the daemon's reply has no \"ok\"";
        return std::nullopt;
    }
    Reply r;
    r.ok = ok->as_bool();
    if (!r.ok) {
        r.error = v->str("error", "unknown error");
        return r;
    }
    r.command = v->str("command");
    const JsonValue* result = v->get("result");
    if (result == nullptr || !result->is_object()) {
        error = "the daemon's reply has no \"result\"";
        return std::nullopt;
    }
    r.result = *result;
    return r;
}

}  // namespace kadp::ctl
