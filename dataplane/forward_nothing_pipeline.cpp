// Runs on: worker lcore (process) / control thread (factory).
#include "dataplane/forward_nothing_pipeline.h"

#include <rte_mbuf.h>

namespace kadp::dp {

void ForwardNothingPipeline::process(const RxQueueRef& rx, rte_mbuf** pkts, std::uint16_t n, TxStage& out)
{
    static_cast<void>(rx);
    static_cast<void>(out);
    rte_pktmbuf_free_bulk(pkts, n);
    dropped_ += n;
}

PipelineFactory ForwardNothingPipeline::factory()
{
    return [](const WorkerInfo&) -> std::unique_ptr<PacketPipeline> { return std::make_unique<ForwardNothingPipeline>(); };
}

}  // namespace kadp::dp
