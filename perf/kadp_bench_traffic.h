// Runs on: control thread (building templates) / the benchmark lcore
// (Feeder::refill, once per loop, inside the measured loop).
//
// The benchmark's network, in 198.18.0.0/15 (TESTING.md):
//   port 0 "lan" 198.18.0.254/24, VIP 198.18.0.100:80/tcp; clients live in
//          198.18.128.0/17 behind the router 198.18.0.1 (one neighbour);
//   port 1 "srv" 198.19.255.254/16, real servers 198.19.0.1 .. (one
//          neighbour each), port 80.
// Flow f's client is 198.18.128.1 + f / 60000, port 1024 + f % 60000.
//
// Frames are 60 bytes (Ethernet + IPv4 + TCP, no payload, padded), kept as
// 64-byte templates. The Feeder closes the loop without allocating: what
// the worker transmitted on one port is restored from the next template
// (one 64-byte copy) and enqueued on the RX ring of the port that traffic
// enters by. The baseline loop runs the same Feeder, so its cost is in both.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "dataplane/neigh_table.h"

struct rte_mempool;
struct rte_ring;

namespace kadp::bench {

inline constexpr std::uint16_t kFrameLen = 60;
inline constexpr std::size_t kTemplateSize = 64;

// Host-order addresses.
inline constexpr std::uint32_t kLanIp = 0xc61200fe;      // 198.18.0.254
inline constexpr std::uint32_t kVip = 0xc6120064;        // 198.18.0.100
inline constexpr std::uint32_t kRouter = 0xc6120001;     // 198.18.0.1
inline constexpr std::uint32_t kClientBase = 0xc6128001; // 198.18.128.1
inline constexpr std::uint32_t kSrvIp = 0xc613fffe;      // 198.19.255.254
inline constexpr std::uint32_t kServerBase = 0xc6130001; // 198.19.0.1
inline constexpr std::uint16_t kVport = 80;
inline constexpr std::uint16_t kServerPort = 80;
inline constexpr std::uint32_t kPortsPerClient = 60000;
inline constexpr std::uint32_t kClientAddrs = 32000;     // inside 198.18.128.0/17

inline const dp::MacAddr kLanMac = {0x02, 0, 0, 0, 0, 0x0a};
inline const dp::MacAddr kSrvMac = {0x02, 0, 0, 0, 0, 0x0b};
inline const dp::MacAddr kRouterMac = {0x02, 0, 0, 0, 0, 0x01};
dp::MacAddr server_mac(std::uint32_t index);

inline constexpr std::uint8_t kTcpSyn = 0x02;
inline constexpr std::uint8_t kTcpAck = 0x10;

// Client (host order) of flow (or new-connection sequence number) `f`.
inline std::uint32_t client_addr(std::uint64_t f) {
    return kClientBase + static_cast<std::uint32_t>((f / kPortsPerClient) % kClientAddrs);
}
inline std::uint16_t client_port(std::uint64_t f) { return static_cast<std::uint16_t>(1024 + f % kPortsPerClient); }

// A 60-byte Ethernet/IPv4/TCP frame with correct checksums into out[0..64).
// Addresses and ports in host order.
void build_tcp_frame(std::uint8_t* out, const dp::MacAddr& dst_mac, const dp::MacAddr& src_mac, std::uint32_t saddr,
                     std::uint32_t daddr, std::uint16_t sport, std::uint16_t dport, std::uint8_t flags,
                     std::uint32_t seq, std::uint32_t ack);

// Client -> VIP for flow f.
void build_in_frame(std::uint8_t* out, std::uint64_t f, std::uint8_t flags);
// Real server -> client for flow f (server address/port in wire order, as Conn4 holds them).
void build_out_frame(std::uint8_t* out, std::uint64_t f, std::uint32_t server_be, std::uint16_t server_port_be,
                     std::uint32_t server_index, std::uint8_t flags);

// Where the frames come from, by the RX port they enter on.
class FrameSource {
public:
    virtual ~FrameSource() = default;
    // Writes the next frame for RX port `port` (0 or 1) into `frame`.
    virtual void next(std::uint16_t port, std::uint8_t* frame) = 0;
    // Restarts the sequence (before each run).
    virtual void rewind() = 0;
};

// Established traffic: port 0 takes the client -> VIP templates, port 1 the
// real server -> client ones, each in flow order, wrapping.
class TemplateSource final : public FrameSource {
public:
    TemplateSource(const std::uint8_t* in, const std::uint8_t* out, std::size_t count)
        : in_(in), out_(out), count_(count) {}
    void next(std::uint16_t port, std::uint8_t* frame) override;
    void rewind() override { cursor_[0] = cursor_[1] = 0; }

private:
    const std::uint8_t* in_;
    const std::uint8_t* out_;
    std::size_t count_;
    std::size_t cursor_[2] = {0, 0};
};

// New connections: a SYN to the VIP from the next client address/port of an
// endless sequence starting at `first` (past the pre-populated flows); the
// addresses and checksums are patched incrementally into a base template.
class SynSource final : public FrameSource {
public:
    explicit SynSource(std::uint64_t first);
    void next(std::uint16_t port, std::uint8_t* frame) override;
    void rewind() override { seq_ = first_; }
    std::uint64_t issued() const { return seq_ - first_; }

private:
    alignas(64) std::uint8_t base_[kTemplateSize];
    std::uint64_t first_;
    std::uint64_t seq_;
};

struct FeederPort {
    std::uint16_t port_id = 0;
    rte_ring* rx = nullptr;  // the PMD's RX ring: we enqueue
    rte_ring* tx = nullptr;  // the PMD's TX ring: we dequeue
};

class Feeder {
public:
    // Traffic entering on port p leaves on port 1 - p, so the mbufs taken off
    // port 1 - p's TX ring refill port p's RX ring. `rx_ports` says which
    // ports get traffic (established: both; new: port 0 only). `depth`:
    // packets kept queued on each fed RX ring.
    Feeder(std::array<FeederPort, 2> ports, std::array<bool, 2> rx_ports, FrameSource& source, rte_mempool* pool,
           unsigned depth);

    // Fills the RX rings to `depth` from the pool (before a run; false when the pool is short).
    bool prime();
    // Once per loop: recycle what was transmitted, top up what was dropped.
    void refill();
    // Frees everything still queued on the rings (after a run).
    void drain();

    std::uint64_t topped_up() const { return topped_up_; }

private:
    void fill(std::uint16_t port, void** objs, unsigned n);

    std::array<FeederPort, 2> ports_;
    std::array<bool, 2> fed_;
    FrameSource* source_;
    rte_mempool* pool_;
    unsigned depth_;
    std::uint64_t topped_up_ = 0;  // mbufs allocated to replace dropped ones
};

}  // namespace kadp::bench
