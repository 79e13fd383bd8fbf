// Runs on: control thread (before EAL starts).
#include "perf/kadp_bench_options.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace kadp::bench {
namespace {

constexpr int kExitUsage = 64;
constexpr int kExitNotImplemented = 2;
constexpr std::uint32_t kMaxFlows = 10'000'000;
constexpr std::uint32_t kMaxServers = 60'000;  // addresses of 198.19.0.0/16 below .255.254

void usage(std::FILE* to)
{
    std::fputs(
        "usage: kadp-bench [options] [-- EAL options]\n"
        "Runs kadp's worker code (NatPipeline + TX stage in the real worker loop) on one\n"
        "lcore over two net_ring ports fed with pre-built packets, and in the same run a\n"
        "plain rx_burst -> tx_burst loop (testpmd io forwarding) as the ceiling.\n"
        "  --mode nat|dr|tun         forwarding method (only nat is implemented)\n"
        "  --traffic established|new established: pre-populated connections, client->VIP\n"
        "                            and real-server->client packets alternate by burst;\n"
        "                            new: every packet is a SYN opening a connection\n"
        "  --flows N                 distinct connections, 1 .. 10000000 (default 1000)\n"
        "  --seconds S               measured window per run (default 3)\n"
        "  --warmup S                warm-up before each window (default 0.5)\n"
        "  --conn-table-size N       default max(2*flows, 1M); new traffic max(2*flows, 16M)\n"
        "  --servers K               real servers (default 8)\n"
        "  --sched rr|wrr|lc|wlc     scheduler (default rr)\n"
        "  --stages                  cycles per packet by stage\n"
        "  --json                    one JSON object on stdout\n"
        "EAL defaults: --no-huge -m 1024 --no-pci --no-telemetry --file-prefix kadp-bench-PID\n"
        "              -l 0,1 --log-level error (anything after -- replaces them)\n",
        to);
}

template <class T>
bool parse_uint(std::string_view s, T& out)
{
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

bool parse_seconds(const std::string& s, double& out)
{
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return end != s.c_str() && *end == '\0' && std::isfinite(out);
}

}  // namespace

const char* traffic_name(Traffic t) { return t == Traffic::established ? "established" : "new"; }

std::vector<std::string> default_eal_args(int pid)
{
    return {"--no-huge", "-m", "1024", "--no-pci", "--no-telemetry", "--file-prefix",
            "kadp-bench-" + std::to_string(pid), "-l", "0,1", "--log-level", "error"};
}

ParseResult parse_options(int argc, char** argv)
{
    ParseResult r;
    BenchOptions& o = r.options;
    for (int i = 0; i < argc; ++i) {
        if (i != 0) o.command_line += ' ';
        o.command_line += argv[i];
    }
    auto fail = [&r](const std::string& msg) {
        std::fprintf(stderr, "kadp-bench: %s (--help for usage)\n", msg.c_str());
        r.exit_code = kExitUsage;
        return r;
    };
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--") {
            for (++i; i < argc; ++i) o.eal_args.emplace_back(argv[i]);
            break;
        }
        if (a == "--help" || a == "-h") {
            usage(stdout);
            r.exit_code = 0;
            return r;
        }
        if (a == "--json") { o.json = true; continue; }
        if (a == "--stages") { o.stages = true; continue; }
        if (i + 1 >= argc) return fail("unknown option or missing value: " + a);
        const std::string v = argv[++i];
        if (a == "--mode") {
            if (v != "nat" && v != "dr" && v != "tun") return fail("--mode must be nat, dr or tun");
            o.mode = v;
        } else if (a == "--traffic") {
            if (v == "established") o.traffic = Traffic::established;
            else if (v == "new") o.traffic = Traffic::new_conns;
            else return fail("--traffic must be established or new");
        } else if (a == "--flows") {
            if (!parse_uint(v, o.flows) || o.flows < 1 || o.flows > kMaxFlows) {
                return fail("--flows must be 1 .. 10000000");
            }
        } else if (a == "--seconds") {
            if (!parse_seconds(v, o.seconds) || o.seconds <= 0 || o.seconds > 3600) {
                return fail("--seconds must be > 0 and <= 3600");
            }
        } else if (a == "--warmup") {
            if (!parse_seconds(v, o.warmup) || o.warmup < 0 || o.warmup > 600) {
                return fail("--warmup must be 0 .. 600");
            }
        } else if (a == "--conn-table-size") {
            if (!parse_uint(v, o.conn_table_size) || o.conn_table_size < 1024 || o.conn_table_size > (1ULL << 30)) {
                return fail("--conn-table-size must be 1024 .. 1073741824");
            }
        } else if (a == "--servers") {
            if (!parse_uint(v, o.servers) || o.servers < 1 || o.servers > kMaxServers) {
                return fail("--servers must be 1 .. 60000");
            }
        } else if (a == "--sched") {
            if (v != "rr" && v != "wrr" && v != "lc" && v != "wlc") return fail("--sched must be rr, wrr, lc or wlc");
            o.sched = v;
        } else {
            return fail("unknown option: " + a);
        }
    }
    if (o.mode != "nat") {
        std::fprintf(stderr, "kadp-bench: --mode %s: not implemented yet (the data plane forwards by NAT only)\n",
                     o.mode.c_str());
        r.exit_code = kExitNotImplemented;
        return r;
    }
    if (o.conn_table_size == 0) {
        const std::uint64_t floor = o.traffic == Traffic::established ? (1ULL << 20) : (1ULL << 24);
        o.conn_table_size = std::max<std::uint64_t>(2ULL * o.flows, floor);
    }
    if (o.conn_table_size < o.flows) return fail("--conn-table-size is smaller than --flows");
    return r;
}

}  // namespace kadp::bench
