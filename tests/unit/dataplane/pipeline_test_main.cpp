// Runs on: any (unit test main). The main of each NatPipeline test binary
// (unit_nat_pipeline, unit_nat_icmp_frag, unit_dr_tun): EAL once per binary,
// then the globals of pipeline_fixture.h -- an mbuf pool, two net_ring ports,
// two net_ring exception TAPs and worker 0's to-kernel ring.
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "pipeline_fixture.h"

namespace kadp::dp::pipetest {

rte_mempool* g_pool = nullptr;
TestPort g_ports[2];
TestPort g_taps[2];
rte_ring* g_to_kernel = nullptr;
std::uint32_t g_now = 1000000;
std::uint32_t test_clock() { return g_now; }

namespace {

// A started net_ring port on two fresh rings (NAME_rx, NAME_tx of `ring_size`).
bool make_ring_port(TestPort& p, const std::string& name, unsigned ring_size)
{
    p.rx = rte_ring_create((name + "_rx").c_str(), ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    p.tx = rte_ring_create((name + "_tx").c_str(), ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (p.rx == nullptr || p.tx == nullptr) return false;
    const int id = rte_eth_from_rings((name + "_ring").c_str(), &p.rx, 1, &p.tx, 1, 0);
    if (id < 0) return false;
    p.port_id = static_cast<std::uint16_t>(id);
    rte_eth_conf conf{};
    return rte_eth_dev_configure(p.port_id, 1, 1, &conf) == 0 &&
           rte_eth_rx_queue_setup(p.port_id, 0, 64, 0, nullptr, g_pool) == 0 &&
           rte_eth_tx_queue_setup(p.port_id, 0, 64, 0, nullptr) == 0 && rte_eth_dev_start(p.port_id) == 0;
}

void close_port(const TestPort& p)
{
    rte_eth_dev_stop(p.port_id);
    rte_eth_dev_close(p.port_id);
}

}  // namespace
}  // namespace kadp::dp::pipetest

// EAL once for the whole binary: no hugepages, no PCI, a file prefix unique
// to this binary and process whose runtime directory is removed at the end
// (--in-memory is refused with --no-huge by DPDK 22.11).
int main(int argc, char** argv)
{
    ::testing::InitGoogleTest(&argc, argv);
    using namespace kadp::dp::pipetest;
    const std::string name = std::filesystem::path(argv[0]).filename().string();
    const std::string prefix = "kadp-" + name + "-" + std::to_string(getpid());
    std::vector<std::string> args = {name, "--no-huge", "-m", "256", "--no-pci", "--no-telemetry",
                                     "--file-prefix", prefix, "-l", "0", "--log-level", "error"};
    std::vector<char*> argv_eal;
    for (auto& a : args) argv_eal.push_back(a.data());
    if (rte_eal_init(static_cast<int>(argv_eal.size()), argv_eal.data()) < 0) {
        std::fprintf(stderr, "rte_eal_init failed\n");
        return 1;
    }
    g_pool = rte_pktmbuf_pool_create("pipeline_test", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    if (g_pool == nullptr) return 1;
    for (int i = 0; i < 2; ++i) {
        if (!make_ring_port(g_ports[i], "nat" + std::to_string(i), 1024) ||
            !make_ring_port(g_taps[i], "tap" + std::to_string(i), 64)) {
            std::fprintf(stderr, "net_ring port setup failed\n");
            return 1;
        }
    }
    g_to_kernel = rte_ring_create("to_kernel0", kToKernelRing, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (g_to_kernel == nullptr) return 1;
    const int rc = RUN_ALL_TESTS();
    for (const auto& p : g_taps) close_port(p);
    rte_ring_free(g_to_kernel);
    for (const auto& p : g_ports) close_port(p);
    rte_mempool_free(g_pool);
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
    return rc;
}
