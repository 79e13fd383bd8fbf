// Runs on: control thread. The kadp-only `metrics { }` block: where the
// control thread serves Prometheus metrics over HTTP (docs/metrics.md). Both
// backends read it; keepalived ignores the block with a warning.
//
//     metrics {
//         listen ADDR PORT    # IPv4 or IPv6 address (0.0.0.0 / :: for all), port 1..65535
//     }
//
// No block, or a block without `listen`: nothing listens (the default).
#include "conf/sections.h"

namespace kadp::conf {

void parse_metrics(const Node& block, Config& config, ParseContext& ctx)
{
    if (config.metrics) {
        ctx.diags.error(block.loc, "metrics given twice (first at " + config.metrics->loc.file + ":" +
                                       std::to_string(config.metrics->loc.line) + ")");
        return;
    }
    std::optional<Metrics> m;
    const KeywordTable table = {
        {"listen",
         [&](const Node& n) {
             no_block(n, ctx);
             if (!need_args(n, 2, 2, ctx)) return;
             if (m) {
                 ctx.diags.error(n.loc, "metrics: listen given twice");
                 return;
             }
             auto addr = IpAddr::parse(n.arg(0));
             if (!addr) {
                 ctx.diags.error(n.loc, "metrics listen: '" + n.arg(0) + "' is not an IPv4 or IPv6 address");
                 return;
             }
             auto port = arg_int(n, 1, 1, 65535, ctx);
             if (!port) return;
             m = Metrics{n.loc, *addr, static_cast<std::uint16_t>(*port)};
         }},
    };
    dispatch(block.children, table, ctx);
    if (m) config.metrics = std::move(m);
}

}  // namespace kadp::conf
