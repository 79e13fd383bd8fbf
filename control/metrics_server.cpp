// Runs on: control thread. See metrics_server.h.
#include "control/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "control/metrics_text.h"
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
std::size_t head_end(const std::string& in)
{
    const std::size_t crlf = in.find("\r\n\r\n");
    const std::size_t lf = in.find("\n\n");
    if (crlf == std::string::npos && lf == std::string::npos) return std::string::npos;
    if (crlf == std::string::npos) return lf + 2;
    if (lf == std::string::npos) return crlf + 4;
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
    listen_watch_ = loop_->watch(listen_.get(), EPOLLIN, [this](std::uint32_t) { on_accept(); });
}

MetricsServer::~MetricsServer()
{
    while (!clients_.empty()) drop(clients_.begin()->first);
    loop_->unwatch(listen_watch_);
}

void MetricsServer::on_accept()
{
    for (;;) {
        Fd fd(accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (fd.get() < 0) {
            const int e = errno;
            if (e == EINTR || e == ECONNABORTED) continue;
            if (e != EAGAIN && e != EWOULDBLOCK) {
                // EMFILE and the like: the listener stays readable, so stop
                // watching it until the next tick instead of spinning.
                limited_.error("metrics: accept", "metrics: accept: " + errno_text(e) + "; not accepting for a second");
                loop_->modify(listen_watch_, 0);
                accept_paused_ = true;
            }
            return;
        }
        if (clients_.size() >= kMaxClients) {  // closed by Fd: the scraper retries
            limited_.warning("metrics: busy", "metrics: " + std::to_string(clients_.size()) + " clients at once, refusing more");
            continue;
        }
        const std::uint64_t id = next_client_++;
        auto c = std::make_unique<Client>();
        c->started = c->progress = Clock::now();
        const int raw = fd.get();
        c->fd = std::move(fd);
        try {
            c->watch = loop_->watch(raw, EPOLLIN, [this, id](std::uint32_t ev) { on_client(id, ev); });
        } catch (const std::exception& e) {
            limited_.error("metrics: client not watched", std::string("metrics: client not watched: ") + e.what());
            continue;
        }
        clients_.emplace(id, std::move(c));
    }
}

void MetricsServer::on_client(std::uint64_t id, std::uint32_t events)
{
    const auto it = clients_.find(id);
    if (it == clients_.end()) return;
    Client& c = *it->second;
    const bool keep = c.replying ? write_reply(c) : read_request(c);
    if (!keep || ((events & (EPOLLERR | EPOLLHUP)) != 0 && !c.replying)) drop(id);
}

bool MetricsServer::read_request(Client& c)
{
    char buf[1024];
    for (;;) {
        const ssize_t n = recv(c.fd.get(), buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        if (n == 0) return false;  // gone before its head was complete
        c.progress = Clock::now();
        c.in.append(buf, static_cast<std::size_t>(n));
        const std::size_t end = head_end(c.in);
        if (end != std::string::npos && end <= kMaxRequest) {
            answer(c, route_request(std::string_view(c.in).substr(0, end)));
            return write_reply(c);
        }
        if (c.in.size() >= kMaxRequest) {
            answer(c, {431, true});
            return write_reply(c);
        }
    }
}

void MetricsServer::answer(Client& c, HttpRoute route)
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
    std::string out = "HTTP/1.1 " + std::to_string(route.status) + " " +
                      reason_phrase(route.status) +
                      "\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\nConnection: close\r\n";
    if (route.status == 405) out += "Allow: GET, HEAD\r\n";
    out += "\r\n";
    if (route.body) out += body;
    c.in.clear();
    c.in.shrink_to_fit();
    c.out = std::move(out);
    c.sent = 0;
    c.replying = true;
    c.progress = Clock::now();
    loop_->modify(c.watch, EPOLLOUT);
}

bool MetricsServer::write_reply(Client& c)
{
    while (c.sent < c.out.size()) {
        const ssize_t n = send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;  // EPOLLOUT calls again
        }
        c.sent += static_cast<std::size_t>(n);
        c.progress = Clock::now();
    }
    shutdown(c.fd.get(), SHUT_WR);
    return false;  // all sent: Connection: close
}

void MetricsServer::drop(std::uint64_t id)
{
    const auto it = clients_.find(id);
    if (it == clients_.end()) return;
    loop_->unwatch(it->second->watch);
    clients_.erase(it);
}

void MetricsServer::tick()
{
    if (accept_paused_) accept_paused_ = !loop_->modify(listen_watch_, EPOLLIN);
    limited_.flush();
    const auto now = Clock::now();
    for (auto it = clients_.begin(); it != clients_.end();) {
        const Client& c = *it->second;
        const auto id = it->first;
        ++it;
        if (now - c.progress >= kIdleTimeout || now - c.started >= kMaxLifetime) drop(id);
    }
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
            out.push_back(std::move(h));
        }
    }
    return out;
}

}  // namespace kadp::ctl
