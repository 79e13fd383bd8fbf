// Runs on: control thread. The Prometheus metrics endpoint: a tiny HTTP/1.1
// server on the control thread's event loop (conf `metrics { listen ADDR
// PORT }`, docs/metrics.md), never blocking it.
//
// * GET (or HEAD) /metrics answers 200 with render() (the text exposition
//   format, metrics_text.h; 503 until set_render() gave a source); another path 404, another method 405, a request
//   line that is not HTTP 400, a request head longer than kMaxRequest 431.
//   Every answer carries Connection: close and the connection is closed once
//   it is written: one request per connection, no keep-alive, no body read.
// * Bounded (bounded_clients.h, shared with the kadpctl socket): at most
//   kMaxClients at once (more are closed on accept); a client that makes no
//   progress for kIdleTimeout, or is not done after kMaxLifetime, is dropped
//   on the next tick(); an accept() failure other than EAGAIN (out of
//   descriptors) pauses accepting until the next tick() rather than spinning
//   on a readable listener. Memory per client: its request head (<=
//   kMaxRequest) and one rendered reply. Writes use MSG_NOSIGNAL.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "checks/health_checkers.h"
#include "conf/inet.h"
#include "conf/model.h"
#include "control/bounded_clients.h"
#include "control/control_handler.h"
#include "control/event_loop.h"
#include "control/log_limiter.h"
#include "control/log_sink.h"
#include "control/metrics_text.h"

namespace kadp::ctl {

struct MetricsServerError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What a request head asks for: the status line's code (200, 400, 404, 405,
// 431) and whether the body is wanted (false for HEAD). Pure; exposed for
// unit tests. `head`: the bytes before the blank line.
struct HttpRoute {
    int status = 400;
    bool body = true;
};
HttpRoute route_request(std::string_view head);

class MetricsServer {
public:
    static constexpr std::size_t kMaxClients = 16;
    static constexpr std::size_t kMaxRequest = 8192;
    static constexpr std::chrono::seconds kIdleTimeout{5};
    static constexpr std::chrono::seconds kMaxLifetime{30};

    using RenderFn = std::function<std::string()>;
    using LogFn = LogSink;

    // Binds ADDR:PORT (SO_REUSEADDR; IPV6_V6ONLY for an IPv6 address) and
    // listens, watched by `loop`, which outlives the server. Throws
    // MetricsServerError with the reason. Created before the backend starts
    // (a port in use stops start-up before anything is touched); scrapes
    // are answered 503 until set_render().
    MetricsServer(EventLoop& loop, const conf::IpAddr& address, std::uint16_t port, LogFn log);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // What builds one scrape (nullptr: none yet / any more); what it uses
    // outlives its use.
    void set_render(RenderFn render) { render_ = std::move(render); }

    // From the loop's tick: drops clients past their deadlines.
    void tick()
    {
        clients_->tick();
        limited_.flush();
    }

    std::size_t clients() const { return clients_->clients(); }
    std::uint16_t port() const { return port_; }  // the bound one (useful with port 0 in tests)

private:
    std::optional<std::string> serve(const BoundedClients::Request& r);
    std::string answer(HttpRoute route);

    EventLoop* loop_;
    RenderFn render_;
    LogFn log_;
    LogLimiter limited_{log_};  // failures clients can make repeat (BoundedClients limits its own lines)
    Fd listen_;
    std::uint16_t port_ = 0;
    std::unique_ptr<BoundedClients> clients_;  // after listen_: destroyed before it
};

// The server `config.metrics` asks for, or nullptr when it has no metrics
// block (the default: nothing listens). Throws MetricsServerError.
std::unique_ptr<MetricsServer> make_metrics_server(EventLoop& loop, const conf::Config& config, MetricsServer::LogFn log);

// A scrape from what `kadpctl status` and `kadpctl list` report, plus the
// per-worker counters `workers` returns (nullptr: none, the kernel backend)
// and the checkers' verdicts `health` returns (nullptr: none).
MetricsServer::RenderFn metrics_from(ControlHandler& handler,
                                     std::function<std::vector<WorkerCounterSet>()> workers = nullptr,
                                     std::function<std::vector<RealServerHealth>()> health = nullptr);

// The verdict of every real server `config` has, from `checkers`.
std::vector<RealServerHealth> checker_verdicts(const conf::Config& config, const chk::HealthCheckers& checkers);

}  // namespace kadp::ctl
