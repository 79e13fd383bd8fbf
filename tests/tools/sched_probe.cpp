// Runs on: any (a test tool). kadp_sched_probe: the dest kadp's scheduler
// picks for given clients, so a test can set it beside what Linux IPVS
// picked for the same clients (tests/scripts/sched_vs_kernel_vm.sh).
//
//   kadp_sched_probe ALGO FLAGS ADDR:PORT:WEIGHT... < clients
//
// FLAGS: a comma list of sh-port, sh-fallback, mh-port, mh-fallback, or "-".
// The dests in the order the kernel walks its list. Each stdin line is
// "CLIENT_ADDR:PORT"; the output line is "CLIENT_ADDR:PORT DEST_ADDR:PORT"
// (or "none"). IPv4 only; every dest is idle (stateless hashing schedulers).
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "dataplane/sched/sched.h"

namespace {

bool parse_addr_port(const std::string& s, std::uint32_t& addr_be, std::uint16_t& port) {
    const auto colon = s.find(':');
    if (colon == std::string::npos) return false;
    in_addr a{};
    if (inet_pton(AF_INET, s.substr(0, colon).c_str(), &a) != 1) return false;
    addr_be = a.s_addr;
    port = static_cast<std::uint16_t>(std::stoul(s.substr(colon + 1)));
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace kadp::dp;
    if (argc < 4) {
        std::fprintf(stderr, "usage: kadp_sched_probe ALGO FLAGS ADDR:PORT:WEIGHT... < clients\n");
        return 2;
    }
    const auto algo = sched_from_name(argv[1]);
    if (!algo) {
        std::fprintf(stderr, "kadp_sched_probe: unknown scheduler %s\n", argv[1]);
        return 2;
    }
    std::uint32_t flags = 0;
    const std::string f = argv[2];
    if (f.find("fallback") != std::string::npos) flags |= kSchedFallback;
    if (f.find("port") != std::string::npos) flags |= kSchedPort;

    std::vector<std::unique_ptr<DestStats>> stats;
    std::vector<DestRef> refs;
    std::vector<std::string> names;
    for (int i = 3; i < argc; ++i) {
        const std::string d = argv[i];
        const auto last = d.rfind(':');
        std::uint32_t addr_be = 0;
        std::uint16_t port = 0;
        if (last == std::string::npos || !parse_addr_port(d.substr(0, last), addr_be, port)) {
            std::fprintf(stderr, "kadp_sched_probe: bad dest %s\n", d.c_str());
            return 2;
        }
        stats.push_back(std::make_unique<DestStats>());
        DestRef r{static_cast<std::int32_t>(std::stol(d.substr(last + 1))), stats.back().get()};
        r.addr_fold = ntohl(addr_be);
        r.port = port;
        refs.push_back(r);
        names.push_back(d.substr(0, last));
    }
    const SchedState state(*algo, refs, nullptr, flags);
    std::string line;
    while (std::getline(std::cin, line)) {
        SchedFlow flow;
        std::uint16_t port = 0;
        if (!parse_addr_port(line, flow.saddr[0], port)) continue;
        flow.sport = htons(port);
        flow.daddr[0] = htonl(0xc6120064U);  // 198.18.0.100
        flow.dport = htons(80);
        flow.family = AF_INET;
        flow.proto = IPPROTO_TCP;
        const std::uint32_t i = state.pick(flow);
        std::cout << line << ' ' << (i == kNoDest ? std::string("none") : names[i]) << '\n';
    }
    return 0;
}
