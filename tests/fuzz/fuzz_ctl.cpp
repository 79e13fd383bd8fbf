// Runs on: the fuzzer. Feeds arbitrary bytes to both ends of the kadpctl
// socket (control/ctl_protocol.h):
// * the daemon's side, as control_socket.cpp reads a request: the first
//   line (at most kMaxRequest bytes) through parse_request, served by a
//   handler whose replies carry the request bytes in their strings; every
//   reply line must read back (parse_reply, *_from_json) to what was sent,
//   and format_request of a parsed request must parse to the same request;
// * kadpctl's side: the whole input as a reply line (JSON reader and the
//   reply decoders).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "control/control_handler.h"
#include "control/ctl_protocol.h"
#include "conf/json_writer.h"

namespace {

using namespace kadp::ctl;

void require(bool ok)
{
    if (!ok) __builtin_trap();
}

// Replies that echo the request's bytes, so the JSON writer and reader see
// every byte value.
class EchoHandler final : public ControlHandler {
public:
    explicit EchoHandler(std::string text) : text_(std::move(text)) {}
    ListReply list() override
    {
        ListReply r;
        r.backend = text_;
        r.conn_table_size = text_.size();
        return r;
    }
    ConnsReply conns(std::size_t limit) override
    {
        ConnsReply r;
        r.total = limit;
        r.truncated = true;
        return r;
    }
    StatusReply status() override
    {
        StatusReply r;
        r.backend = "dpdk";
        r.config_file = text_;
        r.counters = {{text_, 7}};
        return r;
    }
    ReloadReply reload(const std::string& trigger) override
    {
        ReloadReply r;
        r.trigger = trigger;
        r.message = text_;
        r.changes = {text_, ""};
        return r;
    }
    ChecksReply checks() override
    {
        ChecksReply r;
        CheckerStatus c;
        c.reason = text_;
        c.latency_ms = text_.size();
        r.checkers = {c};
        return r;
    }
    VrrpReply vrrp() override
    {
        VrrpReply r;
        VrrpInstanceDetail i;
        i.reason = text_;
        r.instances = {i};
        r.dropped = {{text_, 3}};
        return r;
    }
    StatsReply stats() override
    {
        StatsReply r;
        r.backend = "dpdk";
        r.totals = {{text_, 7}};
        return r;
    }

private:
    std::string text_;
};

Reply read_back(const std::string& line)
{
    require(!line.empty() && line.back() == '\n' && line.find('\n') == line.size() - 1);
    std::string error;
    auto reply = parse_reply(line, error);
    require(reply.has_value());
    return *reply;
}

// What a string reads back as: the JSON writer replaces bytes that are not
// well-formed UTF-8 (conf/json_writer.h); ASCII passes unchanged.
std::string json_round_trip(const std::string& text)
{
    std::string json;
    kadp::conf::json_append_string(json, text);
    std::string error;
    const auto v = JsonValue::parse(json, error);
    require(v && v->is_string());
    bool ascii = true;
    for (const char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (ascii) require(v->text() == text);
    return v->text();
}

void serve_and_read_back(const Request& request, const std::string& sent)
{
    EchoHandler handler(sent);
    const std::string text = json_round_trip(sent);
    const Reply reply = read_back(serve_request(handler, request));
    require(reply.ok && reply.command == to_string(request.command));
    std::string error;
    switch (request.command) {
    case Request::Command::list: {
        const auto r = list_from_json(reply.result, error);
        require(r && r->backend == text);
        break;
    }
    case Request::Command::conns: {
        const auto r = conns_from_json(reply.result, error);
        require(r && r->total == request.limit);
        break;
    }
    case Request::Command::status: {
        const auto r = status_from_json(reply.result, error);
        require(r && r->config_file == text && r->counters.size() == 1 && r->counters[0].first == text);
        break;
    }
    case Request::Command::reload: {
        const auto r = reload_from_json(reply.result, error);
        require(r && r->message == text && r->changes.size() == 2 && r->changes[0] == text);
        break;
    }
    case Request::Command::checks: {
        const auto r = checks_from_json(reply.result, error);
        require(r && r->checkers.size() == 1 && r->checkers[0].reason == text &&
                r->checkers[0].latency_ms == sent.size());
        break;
    }
    case Request::Command::vrrp: {
        const auto r = vrrp_from_json(reply.result, error);
        require(r && r->instances.size() == 1 && r->instances[0].reason == text && r->dropped.size() == 1 &&
                r->dropped[0].first == text);
        break;
    }
    case Request::Command::stats: {
        const auto r = stats_from_json(reply.result, error);
        require(r && r->totals.size() == 1 && r->totals[0].first == text);
        break;
    }
    }
}

void daemon_side(std::string_view input)
{
    const std::string line(input.substr(0, input.find('\n')));
    if (line.size() >= kMaxRequest) return;  // refused before parsing
    std::string error;
    const auto request = parse_request(line, error);
    if (!request) {
        require(!error.empty());
        const Reply reply = read_back(error_reply(error));
        require(!reply.ok && reply.error == error);
        return;
    }
    require(request->limit > 0);
    // What kadpctl would send for it means the same.
    const std::string again = format_request(*request);
    const auto reparsed = parse_request(std::string_view(again).substr(0, again.size() - 1), error);
    require(reparsed && reparsed->command == request->command && reparsed->limit == request->limit);
    serve_and_read_back(*request, std::string(input));
}

void client_side(std::string_view input)
{
    std::string error;
    const auto reply = parse_reply(input, error);
    if (!reply) {
        require(!error.empty());
        return;
    }
    if (!reply->ok) return;
    (void)list_from_json(reply->result, error);
    (void)conns_from_json(reply->result, error);
    (void)status_from_json(reply->result, error);
    (void)reload_from_json(reply->result, error);
    (void)checks_from_json(reply->result, error);
    (void)vrrp_from_json(reply->result, error);
    (void)stats_from_json(reply->result, error);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    daemon_side(input);
    client_side(input);
    return 0;
}
