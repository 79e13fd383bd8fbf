// Runs on: control thread (the main lcore).
#include "dataplane/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "dataplane/startup_error.h"

namespace kadp::dp {

std::string dpdk_error(int err) { return rte_strerror(err < 0 ? -err : err); }

Eal::Eal(const std::vector<std::string>& args)
{
    // rte_eal_init may permute argv; it gets its own copies.
    std::vector<std::string> storage;
    storage.reserve(args.size() + 1);
    storage.emplace_back("kadp");
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);

    if (rte_eal_init(static_cast<int>(storage.size()), argv.data()) < 0) {
        throw StartupError("cannot initialise DPDK EAL: " + dpdk_error(rte_errno) +
                           " (see the EAL lines above; options were given before '--')");
    }
    main_lcore_ = rte_get_main_lcore();
    unsigned lcore = 0;
    RTE_LCORE_FOREACH_WORKER(lcore) { workers_.push_back(lcore); }
    if (workers_.empty()) {
        rte_eal_cleanup();
        throw StartupError("no worker lcore: lcore " + std::to_string(main_lcore_) +
                           " runs the control thread, give EAL at least one more (e.g. -l 0,1)");
    }
}

Eal::~Eal() { rte_eal_cleanup(); }

}  // namespace kadp::dp
