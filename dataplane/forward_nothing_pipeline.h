// Runs on: worker lcore. PLACEHOLDER pipeline until the NAT pipeline plugs
// in: frees every packet it receives and counts it. Nothing is forwarded.
#pragma once

#include <cstdint>

#include "dataplane/pipeline.h"

namespace kadp::dp {

class ForwardNothingPipeline final : public PacketPipeline {
public:
    void process(const RxQueueRef& rx, rte_mbuf** pkts, std::uint16_t n, TxStage& out) override;

    // Written by the owning worker; read by the control thread after the
    // workers stopped.
    std::uint64_t dropped() const { return dropped_; }

    static PipelineFactory factory();

private:
    std::uint64_t dropped_ = 0;
};

}  // namespace kadp::dp
