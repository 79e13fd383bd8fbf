// Runs on: worker lcores (read) / control thread (filled once at start-up,
// before the workers launch; never changed while they run).
//
// What a worker needs of the exception path (docs/dataplane.md, "Exception
// path"): the rings carrying frames for the kernel, and the TAP port of
// each data-plane port.
//
// * to_kernel[w]: worker w's ring, single producer (worker w, at the end of
//   each burst) / single consumer (the service worker, which writes the
//   frames to the TAPs). A frame's mbuf `port` field holds the data-plane
//   port index it came in on (its TAP's index), not DPDK's port id.
// * The service worker alone polls every TAP's RX queue 0 (frames the
//   kernel sends, bridged onto the matching data-plane port) and transmits
//   on every TAP's TX queue 0; no other worker touches the TAPs.
#pragma once

#include <cstdint>
#include <vector>

struct rte_ring;

namespace kadp::dp {

struct ExceptionPath {
    std::vector<rte_ring*> to_kernel;          // by worker index
    std::vector<std::uint16_t> tap_port_ids;   // DPDK port id of each data-plane port's TAP, by port index
    std::uint32_t service_worker = 0;          // worker index that services the TAPs

    bool enabled() const { return !tap_port_ids.empty(); }
};

// Frames the service worker moves per ring / per TAP and loop: bounded, so
// the kernel's traffic gets a share of every loop however busy the data
// plane is, and a flood towards the kernel cannot stall the data plane.
inline constexpr std::uint16_t kExceptionBurst = 32;
// Each worker's to_kernel ring (frames, a power of two).
inline constexpr unsigned kExceptionRingSize = 512;

}  // namespace kadp::dp
