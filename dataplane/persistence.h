// Runs on: worker lcores.
//
// IPVS persistence (ip_vs_sched_persist): a client -- or every client of a
// network, under the service's netmask (persistence_granularity) -- keeps
// its real server across connections and source ports while its template
// lives. The template is an entry of the connection table (conn_table.h:
// kind kConnKindTemplate, never matched by a packet) keyed like IPVS's
//   <protocol, client & netmask, port 0, VIP, VIP port (0 for a port-0
//   service), kind template>
// and pointing at a real server by its stable dest id (Conn4::tpl_dest).
// Each flow it places holds a reference (IPVS n_control): the template is
// not expired while it controls flows, its deadline is re-armed (now +
// timeout) by every new flow, and it outlives the last of them by the
// persistence timeout.
//
// On use the template's real server is checked against the current
// snapshot (Service::dest_by_id): gone from the service, or unavailable
// (Dest::available false: a checker took it down without
// inhibit_on_failure), and it is replaced in place by a fresh pick -- one
// CAS, so racing workers agree. A real server at weight 0 that IPVS would
// keep (inhibit_on_failure, weight 0 in the configuration) keeps its
// templates, as IPVS does unless sysctl expire_quiescent_template is set
// (kadp has no such switch).
#pragma once

#include <cstdint>

#include "dataplane/conn_table.h"
#include "dataplane/counters.h"
#include "dataplane/service_table.h"

namespace kadp::dp {

// A packet's flow as the schedulers see it (IPv4).
inline SchedFlow sched_flow_of(const FlowKey4& k)
{
    SchedFlow f;
    f.saddr[0] = k.saddr;
    f.daddr[0] = k.daddr;
    f.sport = k.sport;
    f.dport = k.dport;
    f.family = kFamilyInet;
    f.proto = k.proto;
    return f;
}

// The template key of a new flow to the persistent service `svc`
// (wire-order flow key as the packet carries it).
FlowKey4 persist_template_key(const Service& svc, const FlowKey4& flow);

// Where a new flow of a persistent service goes.
struct PersistPick {
    const Dest* dest = nullptr;              // nullptr: drop the packet, counted as `drop`
    Conn4* tpl = nullptr;                    // the template controlling the flow, referenced; nullptr: none
    Counter drop = Counter::sched_no_dest;
};

// Finds (or creates, or repairs) the template of `flow` and returns its real
// server with a reference on the template for the new flow: set
// Conn4::control to its index + 1, or ConnTable4::release_template() it
// when the flow is not linked after all. Counts persist_template_new, _hit,
// _replaced and _race_lost. Lock-free and allocation-free.
PersistPick persist_pick(ConnTable4& table, std::uint32_t worker, const Service& svc, const FlowKey4& flow,
                         std::uint32_t now_ms, WorkerCounters& counters);

}  // namespace kadp::dp
