// Runs on: control thread. See metrics_server.h.
#include "control/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "control/metrics_text.h"
#include "control/observe_reports.h"
#include "control/vs_expand.h"

namespace kadp::ctl {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

const char* reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Bad Request";
    }
}

// Where the head ends (after the blank line), or npos while incomplete.
// Bare LF line ends are accepted as RFC 9112 2.2 allows.
std::size_t head_end(std::string_view in)
{
    const std::size_t crlf = in.find("\r\n\r\n");
    const std::size_t lf = in.find("\n\n");
    if (crlf == std::string_view::npos && lf == std::string_view::npos) return std::string_view::npos;
    if (crlf == std::string_view::npos) return lf + 2;
    if (lf == std::string_view::npos) return crlf + 4;
    return std::min(crlf + 4, lf + 2);
}

bool is_token_char(char c) { return c >= 'A' && c <= 'Z'; }

}  // namespace

HttpRoute route_request(std::string_view head)
{
    std::string_view line = head.substr(0, head.find('\n'));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0) return {400, true};
    const std::size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return {400, true};
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    for (const char c : method)
        if (!is_token_char(c)) return {400, true};
    if (version != "HTTP/1.1" && version != "HTTP/1.0") return {400, true};
    if (target.empty() || target.front() != '/') return {400, true};
    const bool head_only = method == "HEAD";
    if (method != "GET" && !head_only) return {405, true};
    const std::string_view path = target.substr(0, target.find('?'));
    return {path == "/metrics" ? 200 : 404, !head_only};
}

MetricsServer::MetricsServer(EventLoop& loop, const conf::IpAddr& address, std::uint16_t port, LogFn log)
    : loop_(&loop), log_(std::move(log))
{
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (address.is_v4()) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        std::memcpy(&sin->sin_addr, address.bytes.data(), 4);
        len = sizeof *sin;
    } else if (address.is_v6()) {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        std::memcpy(&sin6->sin6_addr, address.bytes.data(), 16);
        len = sizeof *sin6;
    } else {
        throw MetricsServerError("metrics: no listen address");
    }
    const std::string where = "metrics listen " + address.to_string() + " " + std::to_string(port);
    listen_ = Fd(socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (listen_.get() < 0) throw MetricsServerError(where + ": socket: " + errno_text(errno));
    const int one = 1;
    setsockopt(listen_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (address.is_v6()) setsockopt(listen_.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(listen_.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0)
        throw MetricsServerError(where + ": bind: " + errno_text(errno));
    if (listen(listen_.get(), 16) != 0) throw MetricsServerError(where + ": listen: " + errno_text(errno));
    sockaddr_storage bound{};
    socklen_t blen = sizeof bound;
    if (getsockname(listen_.get(), reinterpret_cast<sockaddr*>(&bound), &blen) == 0) {
        port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                                 : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    }
    clients_ = std::make_unique<BoundedClients>(
        *loop_, listen_.get(), BoundedClients::Limits{kMaxClients, kMaxRequest, kIdleTimeout, kMaxLifetime},
        [this](const BoundedClients::Request& r) { return serve(r); }, std::string(), "metrics", log_);
}

MetricsServer::~MetricsServer() = default;

std::optional<std::string> MetricsServer::serve(const BoundedClients::Request& r)
{
    const std::size_t end = head_end(r.bytes);
    if (end != std::string_view::npos && end <= kMaxRequest) return answer(route_request(r.bytes.substr(0, end)));
    if (r.full) return answer({431, true});
    return std::nullopt;  // more to come (or gone before its head was complete: dropped)
}

std::string MetricsServer::answer(HttpRoute route)
{
    std::string body;
    const char* type = "text/plain; charset=utf-8";
    if (route.status == 200 && !render_) {
        route.status = 503;
        body = "kadp is starting or stopping; retry\n";
    } else if (route.status == 200) {
        try {
            body = render_();
            type = "text/plain; version=0.0.4; charset=utf-8";
        } catch (const std::exception& e) {
            limited_.error("metrics: render failed", std::string("metrics: render failed: ") + e.what());
            route.status = 500;
            body = "metrics not available\n";
        }
    } else {
        body = std::string(reason_phrase(route.status)) + "\n";
    }
    std::string out = "HTTP/1.1 " + std::to_string(route.status) + " " + reason_phrase(route.status) +
                      "\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\nConnection: close\r\n";
    if (route.status == 405) out += "Allow: GET, HEAD\r\n";
    out += "\r\n";
    if (route.body) out += body;
    return out;
}

std::unique_ptr<MetricsServer> make_metrics_server(EventLoop& loop, const conf::Config& config, MetricsServer::LogFn log)
{
    if (!config.metrics) return nullptr;
    auto server = std::make_unique<MetricsServer>(loop, config.metrics->address, config.metrics->port, log);
    if (log) log("metrics on http://" + (config.metrics->address.is_v6() ? "[" + config.metrics->address.to_string() + "]"
                                                                          : config.metrics->address.to_string()) +
                 ":" + std::to_string(server->port()) + "/metrics");
    return server;
}

MetricsServer::RenderFn metrics_from(ControlHandler& handler, std::function<std::vector<WorkerCounterSet>()> workers,
                                     std::function<std::vector<RealServerHealth>()> health)
{
    return [&handler, workers = std::move(workers), health = std::move(health)] {
        const StatusReply status = handler.status();
        const ListReply list = handler.list();
        const std::vector<WorkerCounterSet> per_worker = workers ? workers() : std::vector<WorkerCounterSet>{};
        const std::vector<RealServerHealth> verdicts = health ? health() : std::vector<RealServerHealth>{};
        return render_metrics(status, list, per_worker, verdicts);
    };
}

std::vector<RealServerHealth> checker_verdicts(const conf::Config& config, const chk::HealthCheckers& checkers)
{
    std::map<RsIdentity, std::vector<CheckerHealth>> by_server;
    for (const chk::CheckerReport& r : checkers.report()) {
        CheckerHealth c;
        c.type = r.type;
        c.target = r.checked;
        c.up = r.up;
        c.ran = r.record.ran;
        c.result = checker_result_kind(r.record.ran, r.record.ok, r.record.reason);
        c.latency_ms = static_cast<std::uint64_t>(r.record.latency.count() < 0 ? 0 : r.record.latency.count());
        c.consecutive_failures = static_cast<std::uint64_t>(r.record.consecutive_failures);
        c.failures = r.record.failures;
        c.last_check = r.record.ran ? unix_seconds(r.record.finished) : 0;
        c.last_transition = unix_seconds(r.record.transition);
        by_server[r.id].push_back(std::move(c));
    }
    std::vector<RealServerHealth> out;
    for (const conf::VirtualServer& vs : config.virtual_servers) {
        const VsIdentity id = vs_identity(vs);
        RealServerHealth base;
        switch (vs.kind) {
        case conf::VirtualServer::Kind::address:
            base.vip = vs.address.to_string();
            base.port = std::to_string(vs.port);
            base.protocol = ipvs_protocol_name(vs.protocol);
            break;
        case conf::VirtualServer::Kind::fwmark:
            base.vip = std::to_string(vs.fwmark);
            base.port = "0";
            base.protocol = "fwmark";
            break;
        case conf::VirtualServer::Kind::group:
            base.vip = "group " + vs.group;
            base.port = "0";
            base.protocol = ipvs_protocol_name(vs.protocol);
            break;
        }
        for (const conf::RealServer& rs : vs.real_servers) {
            const auto alive = checkers.alive(RsIdentity{id, rs.address, rs.port});
            if (!alive) continue;
            RealServerHealth h = base;
            h.real_server = rs.address.to_string();
            h.real_port = std::to_string(rs.port);
            h.up = *alive;
            if (const auto it = by_server.find(RsIdentity{id, rs.address, rs.port}); it != by_server.end())
                h.checkers = std::move(it->second);
            out.push_back(std::move(h));
        }
    }
    return out;
}

}  // namespace kadp::ctl
