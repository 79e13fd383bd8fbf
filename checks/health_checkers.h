// Runs on: control thread. Every health checker of a configuration, and
// what their verdicts do: a real server goes down when one of its checkers
// fails (after retry+1 consecutive failures) and comes back when all of
// them pass; `alpha` checkers start failed. A verdict goes to a
// HealthSink: the DPDK daemon's DesiredState (weight 0 = no new
// connections, then DpdkControl::apply()), or any other backend's.
// configure() is both start and reload: real servers whose checkers did not
// change keep them running, state and all; new ones start; removed ones stop.
// Each virtual_server's quorum (chk::Quorum) follows the live weight of its
// real servers: quorum_up / quorum_down run and the sink hears of it when it
// is gained or lost (a reload keeps the state and re-judges it, as
// keepalived does).
// One ScriptRunner serves every MISC_CHECK and the real servers'
// notify_up/notify_down and quorum_up/quorum_down scripts (run when a
// verdict changes, no arguments beyond the configured ones, result logged);
// its settings
// (script security, script_user) follow each configure().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "checks/checker.h"
#include "checks/quorum.h"
#include "checks/verdict.h"
#include "conf/model.h"
#include "control/desired_state.h"
#include "control/event_loop.h"
#include "control/log_limiter.h"
#include "control/script_runner.h"
#include "control/vs_expand.h"

namespace kadp::chk {

// Where verdicts go. Called on the control thread, from checker callbacks.
class HealthSink {
public:
    virtual ~HealthSink() = default;
    // No new connections for `rs`: removed from its service, or kept at
    // weight 0 with inhibit_on_failure (the DPDK data plane does the same
    // for both: weight 0; the kernel backend may tell them apart).
    virtual void server_down(const ctl::RsIdentity& rs, bool inhibit) = 0;
    // Back to its configured weight.
    virtual void server_up(const ctl::RsIdentity& rs) = 0;
    // The virtual server's live weight lost (`up` false) or regained its
    // quorum; with a sorry_server, it alone serves while the quorum is lost.
    virtual void quorum(const ctl::VsIdentity& vs, bool up) = 0;
    // Up with `weight` in place of the configured one (MISC_CHECK
    // misc_dynamic; 0 is up but takes no new connections).
    virtual void server_weight(const ctl::RsIdentity& rs, int weight) = 0;
};

// The DPDK daemon's sink: weight overrides in the DesiredState, then
// `apply` (DpdkControl::apply) so the next burst sees them.
class DesiredStateSink final : public HealthSink {
public:
    DesiredStateSink(ctl::DesiredState& desired, std::function<void()> apply)
        : desired_(&desired), apply_(std::move(apply)) {}
    void server_down(const ctl::RsIdentity& rs, bool) override
    {
        if (desired_->set_weight(rs, 0) && apply_) apply_();
    }
    void server_up(const ctl::RsIdentity& rs) override
    {
        if (desired_->clear_weight(rs) && apply_) apply_();
    }
    void server_weight(const ctl::RsIdentity& rs, int weight) override
    {
        if (desired_->set_weight(rs, weight) && apply_) apply_();
    }
    void quorum(const ctl::VsIdentity& vs, bool up) override
    {
        if (desired_->set_quorum_lost(vs, !up) && apply_) apply_();
    }

private:
    ctl::DesiredState* desired_;
    std::function<void()> apply_;
};

// How keepalived names a virtual server in its log: "[198.18.0.100]:tcp:80",
// "FWM 5", "[group NAME]:tcp".
std::string format_vs(const conf::VirtualServer& vs);

// One checker as `kadpctl checks` shows it.
struct CheckerReport {
    ctl::RsIdentity id;          // the real server (metrics labels it like the services)
    std::string virtual_server;  // format_vs: "[198.18.0.100]:tcp:80"
    std::string real_server;     // "[198.19.0.1]:tcp:80"
    std::string checked;         // what it connects to (Checker::name())
    const char* type = "";       // "TCP_CHECK", ...
    bool up = false;             // the checker's own state
    bool pending = false;        // no attempt has ended yet
    bool in_service = false;     // the real server takes new connections (all its checkers up)
    int weight = 0;              // the real server's weight now (0 while out)
    int retry = 0;               // failures retried before the checker fails
    CheckRecord record;
};

class HealthCheckers {
public:
    struct Options {
        std::uint64_t seed = 0;  // warmup randomness; 0: from std::random_device
    };

    HealthCheckers(ctl::EventLoop& loop, HealthSink& sink, LogFn log, Options options);
    HealthCheckers(ctl::EventLoop& loop, HealthSink& sink, LogFn log) : HealthCheckers(loop, sink, std::move(log), Options{}) {}
    ~HealthCheckers();
    HealthCheckers(const HealthCheckers&) = delete;
    HealthCheckers& operator=(const HealthCheckers&) = delete;

    // Start (first call) or reload. Servers that start down (alpha) are
    // reported to the sink before it returns.
    void configure(const conf::Config& config);

    // Whether `rs` is alive now; nullopt for a server not configured.
    std::optional<bool> alive(const ctl::RsIdentity& rs) const;
    std::size_t servers() const { return servers_.size(); }
    std::size_t checkers() const;
    // notify scripts still running.
    std::size_t notifies_running() const { return notifies_.size(); }
    // Whether the virtual server holds its quorum; nullopt when not configured.
    std::optional<bool> quorum_up(const ctl::VsIdentity& vs) const;
    // Every checker, by virtual server and real server (configuration order
    // of the checkers within a real server).
    std::vector<CheckerReport> report() const;

private:
    struct Server {
        ctl::RsIdentity id;
        std::string rs_name;   // "[198.19.0.1]:tcp:80"
        std::string vs_name;
        bool inhibit = false;
        std::string fingerprint;  // the checkers' settings: unchanged = kept across a reload
        ServerHealth health{0, 0};
        int configured_weight = 1;
        std::optional<int> weight;  // set by a misc_dynamic MISC_CHECK: the weight while alive
        conf::Script notify_up, notify_down;
        std::vector<std::unique_ptr<Checker>> checkers;
    };

    // A virtual_server's quorum and what runs when it changes.
    struct VirtualServer {
        std::string name;  // "[198.18.0.100]:tcp:80"
        std::string sorry_name;  // "" without a sorry_server
        bool sorry_inhibit = false;
        conf::Script quorum_up, quorum_down;
        Quorum quorum{1, 0, false, 0};
    };

    // `log_all`: global_defs checker_log_all_failures.
    std::unique_ptr<Server> make_server(const conf::VirtualServer& vs, const conf::RealServer& rs, bool log_all);
    void start(Server& s);
    void changed(Server& s, bool checker_up);
    void announce(const Server& s, bool alive);
    void weight_changed(Server& s, int weight);
    void notify(const conf::Script& script, const std::string& what);
    // The live weight of a virtual server's real servers (keepalived's
    // weigh_live_realservers).
    long live_weight(const ctl::VsIdentity& vs) const;
    void judge_quorum(const ctl::VsIdentity& id, bool init);
    void configure_quorums(const conf::Config& config);
    void runner_log(ctl::LogLevel level, const std::string& line);

    ctl::EventLoop* loop_;
    HealthSink* sink_;
    LogFn log_;
    // misc_dynamic weights a script may change at every run: per server at
    // most 10 lines a minute, then a summary. (Up/down and quorum lines are
    // never suppressed: each is bounded by the checker's own delay_loop.)
    ctl::LogLimiter dynamic_weights_{log_, {10, std::chrono::seconds(60)}};
    ctl::LogLimiter limited_{log_};  // notify scripts failing, the runner past its once-only set
    std::mt19937_64 rng_;
    // Before the checkers and notify runs (their handles must not outlive it).
    std::unique_ptr<ctl::ScriptRunner> runner_;
    std::set<std::string> runner_said_;  // its lines, each logged once per configuration
    std::map<std::uint64_t, ctl::ScriptRunner::Handle> notifies_;
    std::uint64_t next_notify_ = 0;
    std::map<ctl::RsIdentity, std::unique_ptr<Server>> servers_;
    std::map<ctl::VsIdentity, VirtualServer> vss_;
    bool configuring_ = false;  // quorums are judged once the whole configuration is in
};

}  // namespace kadp::chk
