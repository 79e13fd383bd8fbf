// Runs on: control thread.
#include "checks/health_checkers.h"

#include <sstream>
#include <utility>

namespace kadp::chk {
namespace {

// Every checker setting that changes what a check does or when: equal
// fingerprints mean the running checkers may go on as they are.
std::string fingerprint(const conf::RealServer& rs)
{
    std::ostringstream o;
    o.precision(17);
    for (const conf::Checker& c : rs.checkers) {
        o << conf::to_string(c.type) << '|' << c.connect_ip.to_string() << '|' << c.connect_port << '|'
          << c.bindto.to_string() << '|' << c.bind_port << '|' << c.bind_if << '|' << c.connect_timeout.value << '|'
          << c.retry.value << '|' << c.delay_before_retry.value << '|' << c.delay_loop.value << '|' << c.warmup.value
          << '|' << c.alpha.value << '|' << c.log_all_failures.value_or(false) << '|' << c.virtualhost << '|'
          << c.http_protocol << '|' << c.enable_sni << '|';
        for (const conf::HttpUrl& u : c.url) {
            o << "url:" << u.path << '|' << u.digest << '|' << u.virtualhost << '|';
            for (const auto& [lo, hi] : u.status_code) o << lo << '-' << hi << ',';
        }
        o << ';';
    }
    return o.str();
}

// global_defs `checker_log_all_failures [BOOL]` (kept by the parser in
// `other`): the default of every checker's log_all_failures.
bool global_log_all_failures(const conf::Config& config)
{
    bool on = false;
    for (const conf::OtherKeyword& k : config.global_defs.other) {
        if (k.keyword != "checker_log_all_failures") continue;
        on = !(k.value == "false" || k.value == "no" || k.value == "off" || k.value == "0");
    }
    return on;
}

}  // namespace

std::string format_vs(const conf::VirtualServer& vs)
{
    switch (vs.kind) {
    case conf::VirtualServer::Kind::address: return format_trio(vs.address, vs.protocol, vs.port);
    case conf::VirtualServer::Kind::fwmark: return "FWM " + std::to_string(vs.fwmark);
    case conf::VirtualServer::Kind::group: break;
    }
    return "[group " + vs.group + "]:" + conf::to_string(vs.protocol);
}

HealthCheckers::HealthCheckers(ctl::EventLoop& loop, HealthSink& sink, LogFn log, Options options)
    : loop_(&loop), sink_(&sink), log_(std::move(log)),
      rng_(options.seed != 0 ? options.seed : (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}())
{
}

// Checkers first (their timers and sockets), then the rest.
HealthCheckers::~HealthCheckers()
{
    for (auto& [id, s] : servers_) s->checkers.clear();
}

std::size_t HealthCheckers::checkers() const
{
    std::size_t n = 0;
    for (const auto& [id, s] : servers_) n += s->checkers.size();
    return n;
}

std::optional<bool> HealthCheckers::alive(const ctl::RsIdentity& rs) const
{
    const auto it = servers_.find(rs);
    if (it == servers_.end()) return std::nullopt;
    return it->second->health.alive();
}

std::unique_ptr<HealthCheckers::Server> HealthCheckers::make_server(const conf::VirtualServer& vs,
                                                                    const conf::RealServer& rs, bool log_all)
{
    auto s = std::make_unique<Server>();
    s->id = ctl::RsIdentity{ctl::vs_identity(vs), rs.address, rs.port};
    s->rs_name = format_trio(rs.address, vs.protocol, rs.port);
    s->vs_name = format_vs(vs);
    s->inhibit = rs.inhibit_on_failure.value;
    s->fingerprint = fingerprint(rs) + (log_all ? "log_all" : "");
    std::size_t failed = 0;
    for (conf::Checker c : rs.checkers) {
        if (!c.log_all_failures) c.log_all_failures = log_all;
        auto checker = make_checker(*loop_, c, log_);
        if (!checker) {
            log_(std::string(conf::to_string(c.type)) + " of real server " + s->rs_name + " for VS " + s->vs_name + " (" +
                 c.loc.file + ":" + std::to_string(c.loc.line) + ") is not run by kadp yet: it does not judge the server");
            continue;
        }
        if (!checker->up()) ++failed;
        s->checkers.push_back(std::move(checker));
    }
    s->health = ServerHealth(s->checkers.size(), failed);
    return s;
}

void HealthCheckers::start(Server& s)
{
    for (auto& c : s.checkers) {
        log_("Activating healthchecker for service " + c->name() + " for VS " + s.vs_name);
        c->start(Checker::first_delay(c->config(), rng_), [this, &s](bool up) { changed(s, up); });
    }
}

void HealthCheckers::changed(Server& s, bool checker_up)
{
    const bool flipped = checker_up ? s.health.checker_recovered() : s.health.checker_failed();
    if (flipped) announce(s, s.health.alive());
}

// keepalived's perform_svr_state lines.
void HealthCheckers::announce(const Server& s, bool alive)
{
    if (alive) {
        log_(std::string(s.inhibit ? "Enabling service " : "Adding service ") + s.rs_name +
             (s.inhibit ? " of VS " : " to VS ") + s.vs_name);
        sink_->server_up(s.id);
    } else {
        log_(std::string(s.inhibit ? "Disabling service " : "Removing service ") + s.rs_name +
             (s.inhibit ? " of VS " : " from VS ") + s.vs_name);
        sink_->server_down(s.id, s.inhibit);
    }
}

void HealthCheckers::configure(const conf::Config& config)
{
    std::map<ctl::RsIdentity, std::unique_ptr<Server>> next;
    std::vector<Server*> fresh;
    std::map<const Server*, bool> was_alive;  // fresh servers replacing one with other checkers
    const bool log_all = global_log_all_failures(config);
    for (const conf::VirtualServer& vs : config.virtual_servers) {
        for (const conf::RealServer& rs : vs.real_servers) {
            auto s = make_server(vs, rs, log_all);
            if (next.contains(s->id)) continue;  // a duplicate: keepalived drops it too
            const auto old = servers_.find(s->id);
            if (old != servers_.end() && old->second->fingerprint == s->fingerprint) {
                // Unchanged checkers: they go on, state and all.
                old->second->inhibit = s->inhibit;
                old->second->rs_name = s->rs_name;
                old->second->vs_name = s->vs_name;
                next.emplace(s->id, std::move(old->second));
                servers_.erase(old);
                continue;
            }
            if (old != servers_.end()) was_alive[s.get()] = old->second->health.alive();
            fresh.push_back(s.get());
            next.emplace(s->id, std::move(s));
        }
    }
    // What is left was removed from the configuration (its weight verdict
    // goes with it: DesiredState::set_config) or replaced: stop it.
    for (auto& [id, s] : servers_) {
        if (!next.contains(id)) log_("Removing healthcheckers of service " + s->rs_name + " for VS " + s->vs_name);
    }
    servers_.clear();
    servers_ = std::move(next);
    for (Server* s : fresh) {
        start(*s);
        const auto w = was_alive.find(s);
        const bool before = w != was_alive.end() ? w->second : true;  // a new server starts with its configured weight
        if (before != s->health.alive()) {
            if (!s->health.alive() && w == was_alive.end()) {
                log_("Real server " + s->rs_name + " of VS " + s->vs_name +
                     " starts down (alpha): no new connections until its checkers succeed");
                sink_->server_down(s->id, s->inhibit);
            } else {
                announce(*s, s->health.alive());
            }
        }
    }
}

}  // namespace kadp::chk
