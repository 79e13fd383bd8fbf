// Runs on: control thread.
#include "vrrp/vrrp_service.h"

#include <sys/epoll.h>

#include <array>
#include <chrono>
#include <exception>
#include <span>
#include <stdexcept>
#include <utility>

#include "vrrp/codec.h"

namespace kadp::vrrp {

// One device's socket and the instances it carries.
struct VrrpService::Link {
    std::unique_ptr<VrrpSocket> socket;
    ctl::EventLoop::WatchId watch = 0;
    std::map<std::uint8_t, Running*> by_vrid;
};

struct VrrpService::Running {
    Running(ctl::EventLoop& loop, InstanceConfig cfg, conf::VrrpInstance vi)
        : fsm(std::move(cfg)), model(std::move(vi)), timer(loop) {}
    Instance fsm;
    conf::VrrpInstance model;  // as configured: interface, notify scripts
    Link* link = nullptr;
    ctl::Timer timer;
    std::uint16_t ip_id = 0;  // keepalived numbers each instance's packets from 1
    Advert mine;              // what validate() compares a received advert with
};

namespace {

TimePoint now() { return std::chrono::steady_clock::now(); }

bool same_addresses(const std::vector<conf::VirtualIp>& a, const std::vector<conf::VirtualIp>& b)
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].text != b[i].text) return false;
    }
    return true;
}

// What an instance runs on: equal = a reload leaves it running.
bool same_settings(const conf::VrrpInstance& a, const conf::VrrpInstance& b, const InstanceConfig& ca,
                   const InstanceConfig& cb)
{
    return a.interface == b.interface && ca.version == cb.version && ca.vrid == cb.vrid &&
           ca.priority == cb.priority && ca.advert_interval == cb.advert_interval &&
           ca.initial_master == cb.initial_master && ca.nopreempt == cb.nopreempt &&
           ca.preempt_delay == cb.preempt_delay && ca.auth_type == cb.auth_type && ca.auth_data == cb.auth_data &&
           ca.advert_addresses == cb.advert_addresses && same_addresses(ca.owned, cb.owned) &&
           ca.source == cb.source && ca.unicast_peers == cb.unicast_peers && ca.group == cb.group &&
           ca.garp_master_delay == cb.garp_master_delay && ca.garp_master_repeat == cb.garp_master_repeat &&
           ca.garp_master_refresh == cb.garp_master_refresh &&
           ca.garp_master_refresh_repeat == cb.garp_master_refresh_repeat;
}

Advert own_advert(const InstanceConfig& c)
{
    Advert a;
    a.version = static_cast<std::uint8_t>(c.version);
    a.vrid = c.vrid;
    a.priority = c.priority;
    a.interval_cs = static_cast<std::uint16_t>(c.advert_interval.count() / 10'000);
    a.auth_type = c.auth_type;
    a.auth_data = c.auth_data;
    a.addresses = c.advert_addresses;
    a.source = c.source;
    return a;
}

}  // namespace

VrrpService::VrrpService(ctl::EventLoop& loop, VrrpBackend& backend, LogFn log)
    : loop_(&loop), backend_(&backend), log_(std::move(log))
{
}

VrrpService::~VrrpService()
{
    stop();
    notifies_.clear();
    for (auto& [device, link] : links_) loop_->unwatch(link->watch);
}

VrrpService::Link& VrrpService::link_for(const std::string& device)
{
    auto it = links_.find(device);
    if (it != links_.end()) return *it->second;
    auto link = std::make_unique<Link>();
    link->socket = std::make_unique<VrrpSocket>(device, true);
    Link* raw = link.get();
    link->watch = loop_->watch(link->socket->fd(), EPOLLIN, [this, raw](std::uint32_t) { on_readable(*raw); });
    return *links_.emplace(device, std::move(link)).first->second;
}

std::unique_ptr<VrrpService::Running> VrrpService::make(const conf::Config& config, const conf::VrrpInstance& vi)
{
    conf::IpAddr group = multicast_group(conf::IpAddr::Family::v4);
    if (!config.global_defs.vrrp_mcast_group4.empty()) group = config.global_defs.vrrp_mcast_group4;
    const conf::IpAddr primary = backend_->primary_address(vi.interface);
    InstanceConfig cfg = InstanceConfig::from_model(vi, primary, group);
    if (cfg.source.empty()) {
        throw std::runtime_error("(" + vi.name + ") interface " + vi.interface +
                                 " has no IPv4 address to send adverts from (set unicast_src_ip or mcast_src_ip)");
    }
    auto r = std::make_unique<Running>(*loop_, cfg, vi);
    r->mine = own_advert(cfg);
    return r;
}

void VrrpService::configure(const conf::Config& config)
{
    if (!runner_) {
        ctl::ScriptSettings settings = ctl::ScriptSettings::from(config.global_defs);
        settings.log = log_;
        runner_ = std::make_unique<ctl::ScriptRunner>(*loop_, std::move(settings));
    } else {
        ctl::ScriptSettings settings = ctl::ScriptSettings::from(config.global_defs);
        settings.log = log_;
        runner_->set_settings(std::move(settings));
    }
    // Build everything first: an instance that cannot start (no source
    // address, no socket) leaves the running ones as they were.
    std::vector<std::unique_ptr<Running>> built;
    for (const conf::VrrpInstance& vi : config.vrrp_instances) {
        built.push_back(make(config, vi));
        built.back()->link = &link_for(backend_->device(vi.interface));
    }
    std::map<std::string, std::unique_ptr<Running>> next;
    std::vector<Running*> fresh;
    for (auto& r : built) {
        const std::string name = r->model.name;
        const auto old = instances_.find(name);
        if (old != instances_.end() && old->second->link == r->link &&
            same_settings(old->second->model, r->model, old->second->fsm.config(), r->fsm.config())) {
            old->second->model = r->model;  // notify scripts and the like may change freely
            next.emplace(name, std::move(old->second));
            instances_.erase(old);
            continue;
        }
        fresh.push_back(r.get());
        next.emplace(name, std::move(r));
    }
    // What is left was removed or changed: it stops as at shutdown.
    for (auto& [name, r] : instances_) {
        if (r->fsm.state() != State::stop) carry_out(*r, r->fsm.stop(now()));
        r->timer.cancel();
        const auto v = r->link->by_vrid.find(r->fsm.config().vrid);
        if (v != r->link->by_vrid.end() && v->second == r.get()) r->link->by_vrid.erase(v);
    }
    instances_ = std::move(next);
    for (Running* r : fresh) {
        auto [it, added] = r->link->by_vrid.emplace(r->fsm.config().vrid, r);
        if (!added) {
            log_("(" + r->fsm.config().name + ") VRID " + std::to_string(r->fsm.config().vrid) + " on " +
                 r->model.interface + " is already used by (" + it->second->fsm.config().name + "): not started");
            continue;
        }
        carry_out(*r, r->fsm.start(now()));
    }
}

void VrrpService::stop()
{
    for (auto& [name, r] : instances_) {
        if (r->fsm.state() == State::stop) continue;
        carry_out(*r, r->fsm.stop(now()));
        r->timer.cancel();
    }
}

void VrrpService::on_readable(Link& link)
{
    std::array<std::uint8_t, 2048> buf;
    for (int i = 0; i < 64; ++i) {  // a burst, then back to the loop
        const ssize_t n = link.socket->receive(buf);
        if (n <= 0) return;
        deliver(link, std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)));
    }
}

void VrrpService::drop(const std::string& reason, const std::string& line)
{
    // keepalived logs every such packet; one line per reason and 1,000
    // packets keeps a flood from filling the log.
    if (dropped_[reason]++ % 1000 == 0) log_(line);
}

void VrrpService::deliver(Link& link, std::span<const std::uint8_t> packet)
{
    DecodeOptions options;
    options.check_ttl = false;  // per instance below: only multicast instances insist on 255
    const Result<Advert> d = decode_ipv4(packet, options);
    if (!d) {
        drop(std::string(name(d.reason)), "VRRP packet on " + link.socket->ifname() + " dropped: " + d.text);
        return;
    }
    const Advert& a = d.value;
    const auto it = link.by_vrid.find(a.vrid);
    if (it == link.by_vrid.end()) return;  // another router's VRID: not ours to judge
    Running& r = *it->second;
    const std::string& iname = r.fsm.config().name;
    if (r.fsm.config().unicast_peers.empty() && a.ttl != kTtl) {
        drop(std::string(name(Reason::bad_ttl)),
             "(" + iname + ") invalid TTL/HL. Received " + std::to_string(a.ttl) + " and expect " + std::to_string(kTtl));
        return;
    }
    // The codec's checks of what only this end knows (auth type and
    // password); the state machine checks the rest with keepalived's lines.
    const Status v = validate(a, r.mine, ValidateOptions{false});
    if (v.reason == Reason::auth_type_mismatch || v.reason == Reason::bad_password) {
        drop(std::string(name(v.reason)), "(" + iname + ") " + v.text);
        return;
    }
    carry_out(r, r.fsm.on_advert(now(), a));
}

void VrrpService::carry_out(Running& r, Actions actions)
{
    const std::string& iface = r.model.interface;
    for (Action& action : actions) {
        if (auto* s = std::get_if<SendAdvert>(&action)) {
            const Result<std::vector<std::uint8_t>> p = encode_ipv4(s->advert, ++r.ip_id);
            if (!p) {
                log_("(" + r.fsm.config().name + ") cannot send an advert: " + p.text);
                continue;
            }
            const conf::IpAddr dst = s->advert.destination.empty() ? r.fsm.config().group : s->advert.destination;
            if (r.link != nullptr) r.link->socket->send(p.value, dst);
        } else if (auto* o = std::get_if<OwnVips>(&action)) {
            backend_->own(iface, o->addresses);
        } else if (auto* rel = std::get_if<ReleaseVips>(&action)) {
            backend_->release(iface, rel->addresses);
        } else if (auto* g = std::get_if<SendGarp>(&action)) {
            for (unsigned i = 0; i < g->repeat; ++i) backend_->gratuitous_arp(iface, g->addresses);
        } else if (auto* n = std::get_if<Notify>(&action)) {
            notify(r, n->state);
        } else if (auto* l = std::get_if<Log>(&action)) {
            if (!l->detail) log_(l->line);
        }
    }
    arm(r);
}

void VrrpService::arm(Running& r)
{
    const auto deadline = r.fsm.next_deadline();
    if (!deadline) {
        r.timer.cancel();
        return;
    }
    const auto left = *deadline - now();
    // Millisecond timers: round up, so on_timer never comes early.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left);
    r.timer.arm(ms.count() > 0 ? ms : std::chrono::milliseconds(0), [this, &r] { carry_out(r, r.fsm.on_timer(now())); });
}

// keepalived: notify_master / _backup / _fault / _stop with no arguments
// of their own, then `notify` with "INSTANCE" NAME STATE PRIORITY.
void VrrpService::notify(const Running& r, State state)
{
    if (!runner_) return;
    const conf::VrrpInstance& vi = r.model;
    const conf::Script* specific = state == State::master   ? &vi.notify_master
                                   : state == State::backup ? &vi.notify_backup
                                   : state == State::fault  ? &vi.notify_fault
                                   : state == State::stop   ? &vi.notify_stop
                                                            : nullptr;
    std::vector<std::pair<ctl::ScriptSpec, std::string>> runs;
    if (specific != nullptr && !specific->empty() && !specific->disabled) {
        runs.emplace_back(ctl::ScriptSpec::from(*specific, "notify of (" + vi.name + ")"), specific->command);
    }
    if (!vi.notify.empty() && !vi.notify.disabled) {
        ctl::ScriptSpec spec = ctl::ScriptSpec::from(vi.notify, "notify of (" + vi.name + ")");
        spec.argv.insert(spec.argv.end(), {"INSTANCE", vi.name, to_string(state), std::to_string(r.fsm.effective_priority())});
        runs.emplace_back(std::move(spec), vi.notify.command);
    }
    for (auto& [spec, command] : runs) {
        const std::uint64_t id = next_notify_++;
        const std::string what = "(" + vi.name + ") notify [" + command + "]";
        try {
            notifies_.emplace(id, runner_->run(std::move(spec), std::chrono::milliseconds(60000),
                                               [this, id, what](const ctl::ScriptResult& res) {
                                                   if (!res.succeeded()) log_(what + " " + res.describe());
                                                   notifies_.erase(id);
                                               }));
        } catch (const std::exception& e) {
            log_(what + " not started: " + e.what());
        }
    }
}

std::vector<VrrpService::InstanceStatus> VrrpService::status() const
{
    std::vector<InstanceStatus> out;
    for (const auto& [name, r] : instances_) {
        out.push_back(InstanceStatus{name, r->model.interface, r->fsm.config().vrid, r->fsm.state(),
                                     r->fsm.effective_priority()});
    }
    return out;
}

}  // namespace kadp::vrrp
