// Runs on: the control thread (pushes commands, pops events) and one worker
// lcore (pops commands, pushes events). The small messages between them that
// do not belong in a snapshot: two bounded single-producer/single-consumer
// queues per worker (Boost.Lockfree spsc_queue, storage fixed at
// construction, so neither side allocates or locks).
//
// Commands, control -> worker: things only a thread with a TX queue can do,
// e.g. a gratuitous ARP when this node takes a VIP over (VRRP master, or
// start-up), so switches and neighbours learn where it is now.
// Events, worker -> control: what an operator must hear about but a worker
// may not log (fast-path discipline): once a second a worker reports each
// alarm counter that rose (a full connection table, mbufs running out...);
// the control thread writes the log line.
#pragma once

#include <boost/lockfree/spsc_queue.hpp>

#include <cstdint>

#include "dataplane/counters.h"

namespace kadp::dp {

struct WorkerCommand {
    enum class Kind : std::uint8_t { send_garp };
    Kind kind = Kind::send_garp;
    std::uint16_t port = 0;  // port index
    std::uint32_t ip = 0;    // wire order
};

struct WorkerEvent {
    enum class Kind : std::uint8_t { counter_rose };
    Kind kind = Kind::counter_rose;
    Counter counter{};
    std::uint64_t delta = 0;  // by how much since the previous report
};

// The counters a worker reports as events when they rise.
inline constexpr Counter kAlarmCounters[] = {
    Counter::conn_table_full, Counter::conn_bucket_full, Counter::mbuf_alloc_fail,
    Counter::neigh_unresolved_dropped, Counter::conn_defense_raised,
};

struct WorkerChannel {
    static constexpr std::size_t kCommands = 64;
    static constexpr std::size_t kEvents = 256;
    boost::lockfree::spsc_queue<WorkerCommand, boost::lockfree::capacity<kCommands>> commands;
    boost::lockfree::spsc_queue<WorkerEvent, boost::lockfree::capacity<kEvents>> events;
};

}  // namespace kadp::dp
