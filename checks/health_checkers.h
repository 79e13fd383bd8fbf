// Runs on: control thread. Every health checker of a configuration, and
// what their verdicts do: a real server goes down when one of its checkers
// fails (after retry+1 consecutive failures) and comes back when all of
// them pass; `alpha` checkers start failed. A verdict goes to a
// HealthSink: the DPDK daemon's DesiredState (weight 0 = no new
// connections, then DpdkControl::apply()), or any other backend's.
// configure() is both start and reload: real servers whose checkers did not
// change keep them running, state and all; new ones start; removed ones stop.
// One ScriptRunner serves every MISC_CHECK and the real servers'
// notify_up/notify_down scripts (run when a server's verdict changes, no
// arguments beyond the configured ones, result logged); its settings
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
#include "checks/verdict.h"
#include "conf/model.h"
#include "control/desired_state.h"
#include "control/event_loop.h"
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

private:
    ctl::DesiredState* desired_;
    std::function<void()> apply_;
};

// A sink that keeps the overrides itself and hands the whole map on at
// every change: what KernelDaemon::set_weight_overrides takes.
class OverridesSink final : public HealthSink {
public:
    explicit OverridesSink(std::function<void(const ctl::WeightOverrides&)> publish) : publish_(std::move(publish)) {}
    void server_down(const ctl::RsIdentity& rs, bool) override
    {
        overrides_[rs] = 0;
        if (publish_) publish_(overrides_);
    }
    void server_up(const ctl::RsIdentity& rs) override
    {
        if (overrides_.erase(rs) != 0 && publish_) publish_(overrides_);
    }
    void server_weight(const ctl::RsIdentity& rs, int weight) override
    {
        const auto [it, added] = overrides_.try_emplace(rs, weight);
        if (!added && it->second == weight) return;
        it->second = weight;
        if (publish_) publish_(overrides_);
    }
    // After a reload: forget servers the configuration no longer has.
    void retain(const std::set<ctl::RsIdentity>& ids)
    {
        std::erase_if(overrides_, [&ids](const auto& e) { return !ids.contains(e.first); });
    }
    const ctl::WeightOverrides& overrides() const { return overrides_; }

private:
    std::function<void(const ctl::WeightOverrides&)> publish_;
    ctl::WeightOverrides overrides_;
};

// How keepalived names a virtual server in its log: "[198.18.0.100]:tcp:80",
// "FWM 5", "[group NAME]:tcp".
std::string format_vs(const conf::VirtualServer& vs);

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

private:
    struct Server {
        ctl::RsIdentity id;
        std::string rs_name;   // "[198.19.0.1]:tcp:80"
        std::string vs_name;
        bool inhibit = false;
        std::string fingerprint;  // the checkers' settings: unchanged = kept across a reload
        ServerHealth health{0, 0};
        std::optional<int> weight;  // set by a misc_dynamic MISC_CHECK: the weight while alive
        conf::Script notify_up, notify_down;
        std::vector<std::unique_ptr<Checker>> checkers;
    };

    // `log_all`: global_defs checker_log_all_failures.
    std::unique_ptr<Server> make_server(const conf::VirtualServer& vs, const conf::RealServer& rs, bool log_all);
    void start(Server& s);
    void changed(Server& s, bool checker_up);
    void announce(const Server& s, bool alive);
    void weight_changed(Server& s, int weight);
    void notify(const Server& s, const conf::Script& script, const char* which);
    void runner_log(const std::string& line);

    ctl::EventLoop* loop_;
    HealthSink* sink_;
    LogFn log_;
    std::mt19937_64 rng_;
    // Before the checkers and notify runs (their handles must not outlive it).
    std::unique_ptr<ctl::ScriptRunner> runner_;
    std::set<std::string> runner_said_;  // its lines, each logged once per configuration
    std::map<std::uint64_t, ctl::ScriptRunner::Handle> notifies_;
    std::uint64_t next_notify_ = 0;
    std::map<ctl::RsIdentity, std::unique_ptr<Server>> servers_;
};

}  // namespace kadp::chk
