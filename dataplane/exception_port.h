// Runs on: control thread (start-up and shutdown). The exception ports: one
// DPDK TAP (net_tap) per data-plane interface, whose kernel side is named
// by the interface's `exception_interface`, carries the interface's MAC,
// MTU and addresses (and the `route`s leaving through it), so the kernel of
// kadp's host or namespace talks through the data-plane port with ordinary
// sockets (health checks, ssh, routing daemons). Plus the per-worker rings
// that carry frames towards the kernel (exception_path.h) and the mbuf pool
// the TAPs receive into.
//
// One RAII set: destruction stops and closes the TAPs (the kernel
// interfaces, their addresses and routes disappear with them), frees the
// rings with the mbufs still in them, then the pool. It must be destroyed
// after the workers stopped and before the data-plane ports' pools are
// freed (the rings hold mbufs of those pools).
//
// Workers read only what path() returns, which never changes after
// construction.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "conf/inet.h"
#include "dataplane/exception_path.h"
#include "dataplane/port.h"

namespace kadp::dp {

struct ExceptionSpec {
    std::string interface;                 // the data-plane interface's name (for messages)
    std::string tap;                       // kernel interface name (exception_interface)
    std::array<std::uint8_t, 6> mac{};     // the data-plane port's MAC
    int mtu = 1500;
    std::vector<conf::IpPrefix> addresses;
    std::vector<std::pair<conf::IpPrefix, conf::IpAddr>> routes;  // prefix via gateway
};

class ExceptionPorts {
public:
    struct Tap {
        std::string interface;
        std::string tap;
        std::string devargs;
        std::uint16_t port_id = 0;
        int ifindex = 0;
    };

    // specs[i] is data-plane port i's. Creates and starts the TAPs, gives
    // the kernel interfaces their addresses and routes, creates one
    // to-kernel ring per worker; `service_worker` services the TAPs.
    // Throws StartupError (what was made so far is undone).
    ExceptionPorts(std::span<const ExceptionSpec> specs, std::uint32_t workers, std::uint32_t service_worker,
                   LogFn log);
    ~ExceptionPorts();
    ExceptionPorts(const ExceptionPorts&) = delete;
    ExceptionPorts& operator=(const ExceptionPorts&) = delete;

    const ExceptionPath& path() const { return path_; }
    const std::vector<Tap>& taps() const { return taps_; }

    // Mbufs of the data-plane pools the to-kernel rings may hold at once
    // (PortSet::start's extra_mbufs).
    static unsigned ring_mbufs(std::uint32_t workers) { return workers * kExceptionRingSize; }

private:
    struct PoolDeleter {
        void operator()(rte_mempool* p) const;
    };
    struct RingDeleter {
        void operator()(rte_ring* r) const;  // frees the mbufs still in it
    };
    class OpenTap;  // stops and closes one TAP

    void open(std::size_t index, const ExceptionSpec& spec);

    LogFn log_;
    ExceptionPath path_;
    std::vector<Tap> taps_;
    // Destroyed bottom-up: TAPs, rings, pool.
    std::unique_ptr<rte_mempool, PoolDeleter> pool_;
    std::vector<std::unique_ptr<rte_ring, RingDeleter>> rings_;
    std::vector<std::unique_ptr<OpenTap>> open_;
};

}  // namespace kadp::dp
