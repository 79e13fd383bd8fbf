// Runs on: worker lcores.
#include "dataplane/persistence.h"

#include <cstring>

namespace kadp::dp {
namespace {

// Bounded retries of a replacement: another worker's replacement can only
// be unusable if the snapshot changed in between.
constexpr int kAttempts = 4;

// IPVS ip_vs_check_template: the real server is still one of the service's, and available.
const Dest* usable(const Service& svc, std::uint32_t dest_id) {
    const Dest* d = svc.dest_by_id(dest_id);
    return d != nullptr && d->available ? d : nullptr;
}

// A referenced template: its real server, or a fresh pick in its place.
PersistPick use_template(const Service& svc, Conn4& tpl, const FlowKey4& flow, std::uint32_t now_ms,
                         WorkerCounters& counters) {
    // Acquire: pairs with the acq_rel CAS of a worker that replaced it.
    std::uint32_t id = tpl.tpl_dest.load(std::memory_order_acquire);
    for (int i = 0; i < kAttempts; ++i) {
        if (const Dest* d = usable(svc, id)) {
            counters.inc(Counter::persist_template_hit);
            return {d, &tpl};
        }
        const Dest* fresh = svc.pick(sched_flow_of(flow));
        if (fresh == nullptr) break;
        // One CAS: workers replacing it at once agree on the winner's pick.
        if (tpl.tpl_dest.compare_exchange_strong(id, fresh->id, std::memory_order_acq_rel,
                                                 std::memory_order_acquire)) {
            counters.inc(Counter::persist_template_replaced);
            return {fresh, &tpl};
        }
    }
    ConnTable4::release_template(tpl, now_ms);
    return {};
}

}  // namespace

FlowKey4 persist_template_key(const Service& svc, const FlowKey4& flow) {
    // IPVS: the VIP port for a service on a port, 0 for a port-0 ("all
    // ports") service, whose template then covers every port of the VIP.
    const std::uint16_t vport = svc.key().port == 0 ? 0 : flow.dport;
    return FlowKey4{flow.saddr & svc.persist_mask(), flow.daddr, 0, vport, flow.proto, kConnKindTemplate};
}

PersistPick persist_pick(ConnTable4& table, std::uint32_t worker, const Service& svc, const FlowKey4& flow,
                         std::uint32_t now_ms, WorkerCounters& counters) {
    const FlowKey4 key = persist_template_key(svc, flow);
    ConnDir dir;
    Conn4* found = table.lookup(key, dir);
    if (found != nullptr && ConnTable4::acquire_template(*found, now_ms)) {
        return use_template(svc, *found, flow, now_ms, counters);
    }
    // None, or one the sweep is removing right now: a new one.
    const Dest* d = svc.pick(sched_flow_of(flow));
    if (d == nullptr) return {};
    Conn4* t = table.alloc(worker);
    if (t == nullptr) return {nullptr, nullptr, Counter::conn_table_full};
    t->caddr = key.saddr;
    t->vaddr = key.daddr;
    t->daddr = d->addr[0];
    t->cport = 0;
    t->vport = key.dport;
    t->dport = svc.key().port == 0 ? 0 : d->port;  // what ipvsadm -Lnc shows for it
    t->proto = key.proto;
    t->fwd = static_cast<std::uint8_t>(d->fwd);
    t->svc_id = svc.id();
    t->dest_id = d->id;
    t->two_way = 0;
    std::memset(t->pad_, 0, sizeof t->pad_);
    t->kind = kConnKindTemplate;
    t->persist_ms = svc.persist_ms();
    t->n_control.store(1, std::memory_order_relaxed);  // the new flow's reference
    t->tpl_dest.store(d->id, std::memory_order_relaxed);
    t->expires_ms.store(now_ms + svc.persist_ms(), std::memory_order_relaxed);
    const ConnTable4::TemplateLink won = table.link_template(worker, t, now_ms);
    if (won.tpl == nullptr) return {nullptr, nullptr, Counter::conn_bucket_full};
    if (won.tpl == t) {
        counters.inc(Counter::persist_template_new);
        return {d, t};
    }
    // Another worker created it at the same moment: its pick wins.
    counters.inc(Counter::persist_template_race_lost);
    if (won.referenced) return use_template(svc, *won.tpl, flow, now_ms, counters);
    const Dest* theirs = usable(svc, won.tpl->tpl_dest.load(std::memory_order_acquire));
    return {theirs != nullptr ? theirs : d, nullptr};
}

}  // namespace kadp::dp
