// Runs on: any (a development machine; no EAL). Times what the control
// thread does with a large configuration at start-up and on reload.
//
// kadp-bench-control: generates a keepalived.conf with 5,000 virtual servers
// of 20 real servers each (all in 198.18.0.0/15: VIPs 198.18.x.y, real
// servers 198.19.x.y, ports varied so every key is unique; --tcp-check adds
// a TCP_CHECK block to every real server), then times
//   load_ms      conf::load_text: lex, block tree, parse, resolve, validate
//   build_ms     SnapshotBuilder::build of the dp::Snapshot, from nothing
//   rebuild_ms   the same with the first snapshot as `prev` (a reload that
//                keeps every identity: counters and rr/wrr positions carry over)
//   dump_ms      conf::dump_json of the model (kadp --dump-config)
// and prints one JSON object with each figure (the best of --repeat runs)
// and the peak RSS (getrusage ru_maxrss) after each stage. Figures, never
// pass/fail.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conf/json_dump.h"
#include "conf/load.h"
#include "control/snapshot_builder.h"
#include "dataplane/snapshot.h"
#include "bench_util.h"

namespace kadp::perf {
namespace {

struct Options {
    std::uint32_t virtual_servers = 5000;
    std::uint32_t real_servers = 20;
    std::uint32_t repeat = 3;
    bool tcp_check = false;
    std::string write_path;  // --write=FILE keeps the generated configuration
};

constexpr const char* kAlgos[] = {"rr", "wrr", "lc", "wlc"};

// Host number n (0-based) of a /16 as "a.b.x.y", skipping .0 and .255.
std::string host_in(std::string_view prefix16, std::uint32_t n) {
    return std::string(prefix16) + "." + std::to_string(n / 254 % 256) + "." + std::to_string(n % 254 + 1);
}

std::string generate(const Options& opt) {
    std::string s;
    s.reserve(static_cast<std::size_t>(opt.virtual_servers) * opt.real_servers * (opt.tcp_check ? 120 : 60));
    s += "# kadp-bench-control: " + std::to_string(opt.virtual_servers) + " virtual servers x " +
         std::to_string(opt.real_servers) + " real servers\n";
    s += "global_defs {\n    router_id kadp_bench\n}\n";
    constexpr std::uint32_t kHostsPer16 = 254 * 256;
    for (std::uint32_t v = 0; v < opt.virtual_servers; ++v) {
        // VIP and port: unique per virtual server even beyond one /16 of VIPs.
        const std::uint32_t vport = 80 + v / kHostsPer16;
        s += "virtual_server " + host_in("198.18", v) + " " + std::to_string(vport) + " {\n";
        s += "    delay_loop 6\n    lb_algo ";
        s += kAlgos[v % 4];
        s += "\n    lb_kind NAT\n    protocol TCP\n";
        for (std::uint32_t r = 0; r < opt.real_servers; ++r) {
            const std::uint32_t g = v * opt.real_servers + r;
            s += "    real_server " + host_in("198.19", g) + " " + std::to_string(8000 + g / kHostsPer16) + " {\n";
            s += "        weight " + std::to_string(1 + g % 100) + "\n";
            if (opt.tcp_check) s += "        TCP_CHECK {\n            connect_timeout 3\n        }\n";
            s += "    }\n";
        }
        s += "}\n";
    }
    return s;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

long peak_rss_kib() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;  // KiB on Linux
}

bool print_errors(const conf::Diagnostics& diags, const char* stage) {
    if (!diags.has_errors()) return false;
    std::size_t shown = 0;
    for (const auto& d : diags.all()) {
        if (d.severity != conf::Severity::error) continue;
        std::fprintf(stderr, "kadp-bench-control: %s: %s\n", stage, conf::Diagnostics::format(d).c_str());
        if (++shown == 5) break;
    }
    return true;
}

void usage() {
    std::fprintf(stderr,
                 "usage: kadp-bench-control [--quick] [--tcp-check] [--vs=N] [--rs=N] [--repeat=N] "
                 "[--write=FILE]\n"
                 "  --quick       200 virtual servers x 5 real servers, one run (smoke test)\n"
                 "  --tcp-check   a TCP_CHECK block in every real server\n"
                 "  --write=FILE  also write the generated keepalived.conf there\n");
}

int run_main(int argc, char** argv) {
    Options opt;
    for (const std::string_view a : arguments(argc, argv)) {
        if (a == "--quick") {
            opt.virtual_servers = 200;
            opt.real_servers = 5;
            opt.repeat = 1;
        } else if (a == "--tcp-check") {
            opt.tcp_check = true;
        } else if (a.starts_with("--vs=")) {
            if (!parse_u32(a.substr(5), opt.virtual_servers)) return usage(), 2;
        } else if (a.starts_with("--rs=")) {
            if (!parse_u32(a.substr(5), opt.real_servers)) return usage(), 2;
        } else if (a.starts_with("--repeat=")) {
            if (!parse_u32(a.substr(9), opt.repeat)) return usage(), 2;
        } else if (a.starts_with("--write=") && a.size() > 8) {
            opt.write_path = std::string(a.substr(8));
        } else {
            return help_or_bad_option(a, usage);
        }
    }
    // 198.18.0.0/16 and 198.19.0.0/16 hold 65,024 hosts each; ports make
    // the keys unique beyond that, up to these bounds.
    if (opt.virtual_servers > 1'000'000 || static_cast<std::uint64_t>(opt.virtual_servers) * opt.real_servers > 10'000'000) {
        std::fprintf(stderr, "kadp-bench-control: at most 1,000,000 virtual servers and 10,000,000 real servers\n");
        return 2;
    }

    const long rss_start = peak_rss_kib();
    auto t0 = std::chrono::steady_clock::now();
    const std::string text = generate(opt);
    const double generate_ms = ms_since(t0);
    if (!opt.write_path.empty()) {
        std::ofstream(opt.write_path) << text;
    }

    conf::LoadOptions load_options;
    load_options.check_host = false;  // the numbers must not depend on this host's interfaces
    load_options.allow_include = false;
    double load_ms = 1e300, build_ms = 1e300, rebuild_ms = 1e300, dump_ms = 1e300;
    long rss_after_load = 0, rss_after_build = 0, rss_after_dump = 0;
    std::size_t services = 0, warnings = 0, json_bytes = 0, dests = 0;
    const std::uint32_t total_dests = opt.virtual_servers * opt.real_servers;

    for (std::uint32_t rep = 0; rep < opt.repeat; ++rep) {
        conf::Diagnostics diags;
        t0 = std::chrono::steady_clock::now();
        const conf::Config config = conf::load_text(text, "bench.conf", load_options, diags);
        load_ms = std::min(load_ms, ms_since(t0));
        if (print_errors(diags, "load")) return 1;
        warnings = diags.warning_count();
        rss_after_load = std::max(rss_after_load, peak_rss_kib());

        // Ids for every service and dest (the defaults stop at 4,096 / 65,536).
        dp::StatsRegistry registry(1, std::max(opt.virtual_servers, dp::StatsRegistry::kDefaultMaxServices),
                                   std::max(total_dests, dp::StatsRegistry::kDefaultMaxDests));
        ctl::SnapshotBuilder builder(registry);
        conf::Diagnostics build_diags;
        t0 = std::chrono::steady_clock::now();
        std::unique_ptr<dp::Snapshot> first = builder.build(config, nullptr, {}, build_diags);
        build_ms = std::min(build_ms, ms_since(t0));
        if (print_errors(build_diags, "build") || !first) return 1;
        services = first->services().size();
        dests = 0;
        for (const auto& svc : first->services().services()) dests += svc->dests().size();

        conf::Diagnostics rebuild_diags;
        t0 = std::chrono::steady_clock::now();
        std::unique_ptr<dp::Snapshot> second = builder.build(config, first.get(), {}, rebuild_diags);
        rebuild_ms = std::min(rebuild_ms, ms_since(t0));
        if (print_errors(rebuild_diags, "rebuild") || !second) return 1;
        rss_after_build = std::max(rss_after_build, peak_rss_kib());

        t0 = std::chrono::steady_clock::now();
        const std::string json = conf::dump_json(config);
        dump_ms = std::min(dump_ms, ms_since(t0));
        json_bytes = json.size();
        rss_after_dump = std::max(rss_after_dump, peak_rss_kib());
        // Snapshots go before the registry whose counters they lease.
        second.reset();
        first.reset();
    }

    std::printf(
        "{\"bench\":\"control\",\"virtual_servers\":%u,\"real_servers_per_vs\":%u,\"tcp_check\":%s,"
        "\"repeat\":%u,\"conf_bytes\":%zu,\"generate_ms\":%.2f,\"load_ms\":%.2f,\"build_ms\":%.2f,"
        "\"rebuild_ms\":%.2f,\"dump_ms\":%.2f,\"json_bytes\":%zu,\"services\":%zu,\"dests\":%zu,"
        "\"warnings\":%zu,\"peak_rss_kib_start\":%ld,\"peak_rss_kib_after_load\":%ld,"
        "\"peak_rss_kib_after_build\":%ld,\"peak_rss_kib_after_dump\":%ld}\n",
        opt.virtual_servers, opt.real_servers, json_bool(opt.tcp_check), opt.repeat, text.size(),
        generate_ms, load_ms, build_ms, rebuild_ms, dump_ms, json_bytes, services, dests, warnings, rss_start,
        rss_after_load, rss_after_build, rss_after_dump);
    return 0;
}

}  // namespace
}  // namespace kadp::perf

int main(int argc, char** argv) { return kadp::perf::run_main(argc, argv); }
