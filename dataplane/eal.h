// Runs on: control thread (the main lcore). The DPDK Environment Abstraction
// Layer for the life of the process: rte_eal_init on construction,
// rte_eal_cleanup on destruction. The main lcore is the control thread;
// every other enabled lcore is a worker.
#pragma once

#include <string>
#include <vector>

namespace kadp::dp {

class Eal {
public:
    // `args` are the EAL options from kadp's command line (argv[0] excluded;
    // "kadp" is put in front). Throws StartupError with DPDK's reason when
    // rte_eal_init fails, and when there is no worker lcore. EAL can be
    // initialised once per process only.
    explicit Eal(const std::vector<std::string>& args);
    ~Eal();
    Eal(const Eal&) = delete;
    Eal& operator=(const Eal&) = delete;

    unsigned main_lcore() const { return main_lcore_; }
    // Enabled lcores other than the main one, ascending.
    const std::vector<unsigned>& worker_lcores() const { return workers_; }

private:
    unsigned main_lcore_ = 0;
    std::vector<unsigned> workers_;
};

}  // namespace kadp::dp
