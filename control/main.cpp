// Runs on: control thread (the main lcore). kadp's entry point.
#include <iostream>
#include <string>
#include <vector>

#include "checks/genhash.h"
#include "control/cli.h"
#include "control/config_check.h"
#include "control/log.h"
#include "control/run_dataplane.h"
#include "dataplane/dpdk_info.h"
#include "kadp_version.h"

int main(int argc, char** argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    // keepalived's genhash, before anything touches EAL.
    if (!args.empty() && args[0] == "genhash") {
        return kadp::chk::genhash_main(std::vector<std::string>(args.begin() + 1, args.end()), std::cout, std::cerr);
    }
    auto cli = kadp::ctl::parse_cli(args);
    if (!cli.options) {
        std::cerr << "kadp: " << cli.error << "\n"
                  << "Try 'kadp --help'.\n";
        return 2;
    }
    const auto& o = *cli.options;
    if (o.help) {
        std::cout << kadp::ctl::usage_text();
        return 0;
    }
    if (o.version) {
        std::cout << "kadp " << KADP_VERSION << " (" << kadp::dp::dpdk_version() << ")\n";
        return 0;
    }
    if (o.config_test || o.dump_config) return kadp::ctl::run_config_check(o, std::cout, std::cerr);
    kadp::ctl::configure_log(o.log);
    return kadp::ctl::run_daemon(o);
}
