// Runs on: its own main thread, which plays kadp's control thread. The
// health checkers of a keepalived.conf without a backend, for integration
// tests on hosts without IPVS or DPDK ports: loads FILE, runs
// chk::HealthCheckers on an EventLoop until SIGTERM/SIGINT, and prints each
// log line as "kadp: LINE" and each verdict as "verdict: down|up ADDR:PORT"
// on stdout (line-buffered).
//
//   kadp_check_probe -f FILE
#include <cstdio>
#include <iostream>
#include <string>

#include "checks/health_checkers.h"
#include "conf/load.h"
#include "control/event_loop.h"

namespace {

using namespace kadp;

void say(const std::string& line)
{
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

struct PrintSink final : chk::HealthSink {
    void server_down(const ctl::RsIdentity& rs, bool inhibit) override
    {
        say(std::string("verdict: ") + (inhibit ? "inhibit " : "down ") + rs.address.to_string() + ":" +
            std::to_string(rs.port));
    }
    void server_up(const ctl::RsIdentity& rs) override
    {
        say("verdict: up " + rs.address.to_string() + ":" + std::to_string(rs.port));
    }
    void server_weight(const ctl::RsIdentity& rs, int weight) override
    {
        say("verdict: weight " + std::to_string(weight) + " " + rs.address.to_string() + ":" + std::to_string(rs.port));
    }
    void quorum(const ctl::VsIdentity&, bool) override {}
};

}  // namespace

int main(int argc, char** argv)
{
    if (argc != 3 || std::string(argv[1]) != "-f") {
        std::cerr << "usage: kadp_check_probe -f FILE\n";
        return 2;
    }
    conf::Diagnostics diags;
    conf::LoadOptions options;
    options.check_host = false;
    const auto config = conf::load_file(argv[2], options, diags);
    for (const auto& d : diags.all()) std::cerr << conf::Diagnostics::format(d) << "\n";
    if (!config) return 4;
    if (diags.has_errors()) return 5;
    try {
        ctl::block_control_signals();
        ctl::EventLoop loop;
        PrintSink sink;
        chk::HealthCheckers checkers(loop, sink, [](const std::string& l) { say("kadp: " + l); });
        checkers.configure(*config);
        say("probe: running");
        const int sig = loop.run({});
        say("probe: stopped by signal " + std::to_string(sig));
    } catch (const std::exception& e) {
        std::cerr << "kadp_check_probe: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
