// Runs on: control thread (start-up and shutdown). The DPDK ports of the
// `dataplane { interface ... }` block, their mbuf pools and TX rings, as one
// RAII set: destruction drains the rings, stops and closes the ports, then
// frees the pools (in that order: a closing port returns its mbufs to them).
//
// Workers read only PortState::port_id and the ring pointers, which never
// change after start().
//
// Mbuf pool sizing: one pool per NUMA socket, shared by every queue of the
// ports on that socket, with room for everything that can hold an mbuf at
// once:
//   n = sum over its ports of (rx_queues * rx_desc + tx_queues * tx_desc
//                              + (tx ring ? kTxRingSize : 0))
//     + lcores * (1.5 * kPoolCache + kRxBurst + ports * TxStage::kDepth)
//     + kPoolSlack + extra_mbufs (the exception rings, start())
// rounded up to 2^k - 1 (rte_mempool's best size). Each mbuf holds an MTU
// plus Ethernet, VLAN and CRC (at least RTE_MBUF_DEFAULT_DATAROOM) plus
// headroom, about 2.4 KiB at MTU 1500. A pool that does not fit in EAL's
// memory (-m / --socket-mem) fails start-up with the figures.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "control/log_sink.h"
#include "dataplane/lcore_plan.h"

struct rte_mempool;
struct rte_ring;

namespace kadp::dp {

inline constexpr std::uint16_t kRxDesc = 1024;
inline constexpr std::uint16_t kTxDesc = 1024;
inline constexpr unsigned kTxRingSize = 1024;
inline constexpr unsigned kPoolCache = 256;
inline constexpr unsigned kPoolSlack = 1024;

struct PortSpec {
    std::string name;     // the config's interface name
    std::string devargs;  // vdev spec or PCI address
    int mtu = 1500;
    std::optional<int> rx_queues;  // unset: one per worker, as the PMD allows
    std::optional<int> tx_queues;
};

struct PortState {
    std::string name;
    std::string devargs;
    std::uint16_t port_id = 0;
    int socket_id = 0;
    std::uint16_t rx_queues = 0;
    std::uint16_t tx_queues = 0;
    std::uint16_t rx_desc = 0;
    std::uint16_t tx_desc = 0;
    std::array<std::uint8_t, 6> mac{};
    rte_ring* tx_ring = nullptr;   // set by start() when the plan needs one
};

std::string format_mac(const std::array<std::uint8_t, 6>& mac);

using LogFn = ctl::LogSink;

class PortSet {
public:
    // Probes (vdevs) or finds (PCI devices allowed with -a, --vdev) every
    // port and configures it with its queue counts. Throws StartupError.
    PortSet(std::span<const PortSpec> specs, std::uint32_t workers, LogFn log);
    ~PortSet();
    PortSet(const PortSet&) = delete;
    PortSet& operator=(const PortSet&) = delete;

    std::vector<PortQueues> queues() const;

    // Creates the TX rings the plan asks for and the mbuf pools, sets up the
    // queues and starts every port. `extra_mbufs`: what else may hold mbufs
    // of the pools at once (the exception path's rings). Throws StartupError.
    void start(const LcorePlan& plan, unsigned lcores, unsigned extra_mbufs = 0);

    const std::vector<PortState>& ports() const { return ports_; }
    // The mbuf pool of the first port's socket (after start()): what a
    // worker builds packets of its own from (GARPs, ARP requests) before it
    // has received any packet.
    rte_mempool* first_pool() const { return pools_.empty() ? nullptr : pools_.front().get(); }

private:
    struct PoolDeleter {
        void operator()(rte_mempool* p) const;
    };
    struct RingDeleter {
        void operator()(rte_ring* r) const;  // frees the mbufs still in it
    };
    class OpenPort;  // stops and closes one port

    void open(const PortSpec& spec, std::uint32_t workers);
    void create_pools(const LcorePlan& plan, unsigned lcores, unsigned extra_mbufs);
    void start_port(std::size_t index);

    LogFn log_;
    std::vector<PortState> ports_;
    std::vector<int> mtus_;
    // Destroyed bottom-up: rings, then ports, then pools.
    std::vector<std::unique_ptr<rte_mempool, PoolDeleter>> pools_;  // one per socket in use
    std::vector<int> pool_sockets_;
    std::vector<std::unique_ptr<OpenPort>> open_;
    std::vector<std::unique_ptr<rte_ring, RingDeleter>> rings_;
};

}  // namespace kadp::dp
