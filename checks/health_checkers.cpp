// Runs on: control thread.
#include "checks/health_checkers.h"

#include <algorithm>
#include <exception>
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
          << c.http_protocol << '|' << c.enable_sni << '|' << c.misc_path.command << '|' << c.misc_path.user << '|'
          << c.misc_path.group << '|' << c.misc_path.disabled << '|' << c.misc_timeout << '|' << c.misc_dynamic << '|'
          << c.user << '|' << c.group << '|' << c.dns_type << '|' << c.dns_name << '|';
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

// Checkers first (their timers, sockets and scripts), then notify runs,
// then the rest (the runner last of what uses it).
HealthCheckers::~HealthCheckers()
{
    for (auto& [id, s] : servers_) s->checkers.clear();
    notifies_.clear();
}

// The runner's refusals and failed starts come at every run of a script:
// said once per configuration (past 4096 different ones, rate-limited).
// Its debug lines (each run's end) differ at every run: passed on.
void HealthCheckers::runner_log(ctl::LogLevel level, const std::string& line)
{
    if (level == ctl::LogLevel::debug) log_.debug(line);
    else if (runner_said_.size() < 4096) {
        if (runner_said_.insert(line).second) log_.at(level, line);
    } else {
        limited_.at(level, "script runner", line);
    }
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

std::vector<CheckerReport> HealthCheckers::report() const
{
    std::vector<CheckerReport> out;
    for (const auto& [id, s] : servers_) {
        const bool alive = s->health.alive();
        for (const auto& c : s->checkers) {
            CheckerReport r;
            r.id = s->id;
            r.virtual_server = s->vs_name;
            r.real_server = s->rs_name;
            r.checked = c->name();
            r.type = checker_type_name(c->config().type);
            r.up = c->up();
            r.pending = !c->state().has_run();
            r.in_service = alive;
            r.weight = alive ? s->weight.value_or(s->configured_weight) : 0;
            r.retry = c->state().policy().retry;
            r.record = c->record();
            out.push_back(std::move(r));
        }
    }
    return out;
}

std::unique_ptr<HealthCheckers::Server> HealthCheckers::make_server(const conf::VirtualServer& vs,
                                                                    const conf::RealServer& rs, bool log_all)
{
    auto s = std::make_unique<Server>();
    s->id = ctl::RsIdentity{ctl::vs_identity(vs), rs.address, rs.port};
    s->rs_name = format_trio(rs.address, vs.protocol, rs.port);
    s->vs_name = format_vs(vs);
    s->inhibit = rs.inhibit_on_failure.value;
    s->configured_weight = rs.weight;
    s->notify_up = rs.notify_up;
    s->notify_down = rs.notify_down;
    s->fingerprint = fingerprint(rs) + (log_all ? "log_all" : "");
    std::size_t failed = 0;
    for (conf::Checker c : rs.checkers) {
        if (!c.log_all_failures) c.log_all_failures = log_all;
        if (c.connect_ip.empty()) {  // MISC_CHECK: named after its real server (keepalived's FMT_RS)
            c.connect_ip = rs.address;
            if (c.connect_port == 0) c.connect_port = rs.port;
        }
        auto checker = make_checker(*loop_, c, log_, runner_.get());
        if (!checker) {
            log_.warning(std::string(conf::to_string(c.type)) + " of real server " + s->rs_name + " for VS " + s->vs_name + " (" +
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
        c->on_weight([this, &s](int weight) { weight_changed(s, weight); });
        c->start(Checker::first_delay(c->config(), rng_), [this, &s](bool up) { changed(s, up); });
    }
}

void HealthCheckers::changed(Server& s, bool checker_up)
{
    const bool flipped = checker_up ? s.health.checker_recovered() : s.health.checker_failed();
    if (flipped) announce(s, s.health.alive());
}

void HealthCheckers::weight_changed(Server& s, int weight)
{
    if (s.weight == weight) return;
    s.weight = weight;
    if (!s.health.alive()) return;  // used when it comes back
    dynamic_weights_.info("weight of " + s.rs_name + " of VS " + s.vs_name,
                "Setting weight of service " + s.rs_name + " of VS " + s.vs_name + " to " + std::to_string(weight) +
                    " (misc_dynamic)");
    sink_->server_weight(s.id, weight);
    judge_quorum(s.id.vs, false);
}

// keepalived's perform_svr_state lines, then the notify script.
void HealthCheckers::announce(const Server& s, bool alive)
{
    if (alive) {
        log_.info(std::string(s.inhibit ? "Enabling service " : "Adding service ") + s.rs_name +
                  (s.inhibit ? " of VS " : " to VS ") + s.vs_name);
        if (s.weight) sink_->server_weight(s.id, *s.weight);
        else sink_->server_up(s.id);
        notify(s.notify_up, "notify_up of service " + s.rs_name + " of VS " + s.vs_name);
    } else {
        log_.info(std::string(s.inhibit ? "Disabling service " : "Removing service ") + s.rs_name +
                  (s.inhibit ? " of VS " : " from VS ") + s.vs_name);
        sink_->server_down(s.id, s.inhibit);
        notify(s.notify_down, "notify_down of service " + s.rs_name + " of VS " + s.vs_name);
    }
    judge_quorum(s.id.vs, false);
}

long HealthCheckers::live_weight(const ctl::VsIdentity& vs) const
{
    long sum = 0;
    for (auto it = servers_.lower_bound(ctl::RsIdentity{vs, {}, 0}); it != servers_.end() && it->first.vs == vs; ++it) {
        const Server& s = *it->second;
        if (s.health.alive()) sum += std::max(0, s.weight.value_or(s.configured_weight));
    }
    return sum;
}

// keepalived's update_quorum_state: its log lines, the sorry server in or
// out, then the quorum_up / quorum_down script.
void HealthCheckers::judge_quorum(const ctl::VsIdentity& id, bool init)
{
    if (configuring_) return;
    const auto it = vss_.find(id);
    if (it == vss_.end()) return;
    VirtualServer& vs = it->second;
    const Quorum::Result r = vs.quorum.update(live_weight(id), init);
    const std::string sums = std::to_string(vs.quorum.quorum()) + (r.change == Quorum::Change::gained ? "+" : "-") +
                             std::to_string(vs.quorum.hysteresis()) + "=" + std::to_string(r.threshold);
    switch (r.change) {
    case Quorum::Change::none: return;
    case Quorum::Change::gained:
        log_.info("Gained quorum " + sums + " <= " + std::to_string(r.weight) + " for VS " + vs.name);
        if (!vs.sorry_name.empty()) {
            log_.info(std::string(vs.sorry_inhibit ? "Disabling" : "Removing") + " sorry server " + vs.sorry_name +
                      " from VS " + vs.name);
            log_.info("Adding alive servers to the pool for VS " + vs.name);
        }
        sink_->quorum(id, true);
        notify(vs.quorum_up, "quorum_up of VS " + vs.name);
        return;
    case Quorum::Change::lost:
        log_.warning(std::string(init ? "Starting with quorum down " : "Lost quorum ") + sums + " > " +
                     std::to_string(r.weight) + " for VS " + vs.name);
        if (!vs.sorry_name.empty()) {
            log_.info(std::string(vs.sorry_inhibit ? "Enabling" : "Adding") + " sorry server " + vs.sorry_name +
                      " to VS " + vs.name);
            log_.info("Removing alive servers from the pool for VS " + vs.name);
        }
        sink_->quorum(id, false);
        notify(vs.quorum_down, "quorum_down of VS " + vs.name);
        return;
    }
}

std::optional<bool> HealthCheckers::quorum_up(const ctl::VsIdentity& vs) const
{
    const auto it = vss_.find(vs);
    if (it == vss_.end()) return std::nullopt;
    return it->second.quorum.up();
}

// After a (re)configuration: every virtual server's quorum, new ones judged
// from their servers' state now, kept ones carrying their state over; then
// each judged as at start ("Starting with quorum down" brings in a sorry
// server).
void HealthCheckers::configure_quorums(const conf::Config& config)
{
    std::map<ctl::VsIdentity, VirtualServer> next;
    for (const conf::VirtualServer& cvs : config.virtual_servers) {
        const ctl::VsIdentity id = ctl::vs_identity(cvs);
        if (next.contains(id)) continue;
        VirtualServer vs;
        vs.name = format_vs(cvs);
        if (cvs.sorry_server) vs.sorry_name = format_trio(cvs.sorry_server->address, cvs.protocol, cvs.sorry_server->port);
        vs.sorry_inhibit = cvs.sorry_server_inhibit;
        vs.quorum_up = cvs.quorum_up;
        vs.quorum_down = cvs.quorum_down;
        const bool has_sorry = cvs.sorry_server.has_value();
        if (const auto old = vss_.find(id); old != vss_.end()) {
            vs.quorum = old->second.quorum;
            vs.quorum.reconfigure(cvs.quorum, cvs.hysteresis, has_sorry);
        } else {
            vs.quorum = Quorum(cvs.quorum, cvs.hysteresis, has_sorry, live_weight(id));
        }
        next.emplace(id, std::move(vs));
    }
    vss_ = std::move(next);
    for (const auto& [id, vs] : vss_) {
        // What the sink holds may predate a reload's changes: tell it again.
        sink_->quorum(id, vs.quorum.up());
        judge_quorum(id, true);
    }
}

// keepalived runs notify scripts without a timeout; kadp gives them a
// generous one so a hung script cannot pile up children forever.
// `what`: "notify_up of service [..]:tcp:80 of VS [..]:tcp:80".
void HealthCheckers::notify(const conf::Script& script, const std::string& what)
{
    if (script.empty() || !runner_) return;
    if (script.disabled) {
        runner_log(ctl::LogLevel::warning, what + ": [" + script.command + "] is disabled (missing or insecure): not run");
        return;
    }
    constexpr Millis kNotifyTimeout{60000};
    const std::uint64_t id = next_notify_++;
    try {
        notifies_.emplace(id, runner_->run(ctl::ScriptSpec::from(script, what), kNotifyTimeout,
                                           [this, id, what, command = script.command](const ctl::ScriptResult& r) {
                                               // Every run's end at debug; a failure (a
                                               // script failing at every flap) limited.
                                               if (r.succeeded()) log_.debug(what + ": [" + command + "] " + r.describe());
                                               else limited_.warning(what, what + ": [" + command + "] " + r.describe());
                                               notifies_.erase(id);
                                           }));
    } catch (const std::exception& e) {
        limited_.warning(what, what + ": [" + script.command + "] not started: " + e.what());
    }
}

void HealthCheckers::configure(const conf::Config& config)
{
    struct Configuring {
        bool* flag;
        explicit Configuring(bool* f) : flag(f) { *flag = true; }
        ~Configuring() { *flag = false; }
        Configuring(const Configuring&) = delete;
        Configuring& operator=(const Configuring&) = delete;
    };
    std::optional<Configuring> configuring(&configuring_);
    ctl::ScriptSettings settings = ctl::ScriptSettings::from(config.global_defs);
    settings.log = ctl::LogSink([this](ctl::LogLevel level, const std::string& line) { runner_log(level, line); },
                                [this](ctl::LogLevel level) { return log_.enabled(level); });
    runner_said_.clear();
    if (runner_) runner_->set_settings(std::move(settings));
    else runner_ = std::make_unique<ctl::ScriptRunner>(*loop_, std::move(settings));
    std::map<ctl::RsIdentity, std::unique_ptr<Server>> next;
    std::vector<Server*> fresh;
    std::map<const Server*, bool> was_alive;  // fresh servers replacing one with other checkers
    std::set<const Server*> had_weight;       // ... whose old checkers had set a misc_dynamic weight
    const bool log_all = global_log_all_failures(config);
    for (const conf::VirtualServer& vs : config.virtual_servers) {
        for (const conf::RealServer& rs : vs.real_servers) {
            auto s = make_server(vs, rs, log_all);
            if (next.contains(s->id)) continue;  // a duplicate: keepalived drops it too
            const auto old = servers_.find(s->id);
            if (old != servers_.end() && old->second->fingerprint == s->fingerprint) {
                // Unchanged checkers: they go on, state and all; the
                // weight is not a checker setting and may have changed.
                old->second->inhibit = s->inhibit;
                old->second->configured_weight = s->configured_weight;
                old->second->rs_name = s->rs_name;
                old->second->vs_name = s->vs_name;
                old->second->notify_up = s->notify_up;
                old->second->notify_down = s->notify_down;
                next.emplace(s->id, std::move(old->second));
                servers_.erase(old);
                continue;
            }
            if (old != servers_.end()) {
                was_alive[s.get()] = old->second->health.alive();
                if (old->second->weight) had_weight.insert(s.get());
            }
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
                log_.warning("Real server " + s->rs_name + " of VS " + s->vs_name +
                     " starts down (alpha): no new connections until its checkers succeed");
                sink_->server_down(s->id, s->inhibit);
            } else {
                announce(*s, s->health.alive());
            }
        } else if (s->health.alive() && had_weight.contains(s)) {
            sink_->server_up(s->id);  // the old checkers' dynamic weight goes with them
        }
    }
    configuring.reset();
    configure_quorums(config);
}

}  // namespace kadp::chk
