// Runs on: control thread (start-up and shutdown).
#include "dataplane/port.h"

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdio>

#include "dataplane/startup_error.h"
#include "dataplane/tx_stage.h"
#include "dataplane/worker.h"

namespace kadp::dp {
namespace {

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// "BB:DD.F" (8 chars with the dot) or "DDDD:BB:DD.F".
bool is_pci_bdf(const std::string& s)
{
    auto bdf_at = [&](std::size_t o) {
        return s.size() == o + 7 && is_hex(s[o]) && is_hex(s[o + 1]) && s[o + 2] == ':' && is_hex(s[o + 3]) &&
               is_hex(s[o + 4]) && s[o + 5] == '.' && std::isdigit(static_cast<unsigned char>(s[o + 6])) != 0;
    };
    if (bdf_at(0)) return true;
    return s.size() == 12 && std::all_of(s.begin(), s.begin() + 4, is_hex) && s[4] == ':' && bdf_at(5);
}

// The ethdev name the devargs give: up to the first ','; PCI with a domain.
std::string device_name(const std::string& devargs)
{
    std::string name = devargs.substr(0, devargs.find(','));
    if (is_pci_bdf(name) && name.size() == 7) name = "0000:" + name;
    return name;
}

std::string mib(std::uint64_t bytes)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return buf;
}

}  // namespace

std::string format_mac(const std::array<std::uint8_t, 6>& mac)
{
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return buf;
}

void PortSet::PoolDeleter::operator()(rte_mempool* p) const { rte_mempool_free(p); }

void PortSet::RingDeleter::operator()(rte_ring* r) const
{
    rte_mbuf* pkts[64];
    unsigned n = 0;
    while ((n = rte_ring_dequeue_burst(r, reinterpret_cast<void**>(pkts), 64, nullptr)) != 0) {
        rte_pktmbuf_free_bulk(pkts, n);
    }
    rte_ring_free(r);
}

// Owns a configured port: stopped (when started) and closed on destruction.
class PortSet::OpenPort {
public:
    explicit OpenPort(std::uint16_t port_id) : port_id_(port_id) {}
    ~OpenPort()
    {
        if (started_) rte_eth_dev_stop(port_id_);
        rte_eth_dev_close(port_id_);
    }
    OpenPort(const OpenPort&) = delete;
    OpenPort& operator=(const OpenPort&) = delete;
    void mark_started() { started_ = true; }

private:
    std::uint16_t port_id_;
    bool started_ = false;
};

PortSet::PortSet(std::span<const PortSpec> specs, std::uint32_t workers, LogFn log) : log_(std::move(log))
{
    for (const PortSpec& spec : specs) open(spec, workers);
}

PortSet::~PortSet() = default;

void PortSet::open(const PortSpec& spec, std::uint32_t workers)
{
    const std::string where = "interface " + spec.name + " (device \"" + spec.devargs + "\"): ";
    const std::string name = device_name(spec.devargs);
    std::uint16_t port_id = 0;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port_id) != 0) {
        if (is_pci_bdf(name)) {
            throw StartupError(where + "PCI device " + name +
                               " is not available to DPDK: bind it to vfio-pci and allow it with -a " + name);
        }
        // A vdev that fails to probe does not stop EAL, so check both the
        // probe and the port it should have created.
        const int ret = rte_dev_probe(spec.devargs.c_str());
        // DPDK's return code here says little ("Bad address" for an unknown
        // driver); its own log lines just above say what went wrong.
        if (ret < 0) {
            throw StartupError(where + "cannot attach the device (unknown driver, bad devargs or the driver "
                                       "refused it; see the lines above)");
        }
        if (rte_eth_dev_get_port_by_name(name.c_str(), &port_id) != 0) {
            throw StartupError(where + "probed, but no port named " + name + " appeared");
        }
    }
    // Owned from here: closed on any failure below.
    open_.push_back(std::make_unique<OpenPort>(port_id));

    rte_eth_dev_info info{};
    int ret = rte_eth_dev_info_get(port_id, &info);
    if (ret != 0) throw StartupError(where + "cannot read device info: " + dpdk_error(ret));

    PortState st;
    st.name = spec.name;
    st.devargs = spec.devargs;
    st.port_id = port_id;
    st.socket_id = rte_eth_dev_socket_id(port_id);
    if (st.socket_id < 0) st.socket_id = static_cast<int>(rte_socket_id());  // vdevs: the control thread's
    std::string error;
    const auto rxq = choose_queue_count(spec.rx_queues, info.max_rx_queues, workers, "rx", error);
    if (!rxq) throw StartupError(where + error);
    const auto txq = choose_queue_count(spec.tx_queues, info.max_tx_queues, workers, "tx", error);
    if (!txq) throw StartupError(where + error);
    st.rx_queues = *rxq;
    st.tx_queues = *txq;

    if (spec.mtu < info.min_mtu || spec.mtu > info.max_mtu) {
        throw StartupError(where + "mtu " + std::to_string(spec.mtu) + " is outside what the device takes (" +
                           std::to_string(info.min_mtu) + ".." + std::to_string(info.max_mtu) + ")");
    }
    rte_eth_conf conf{};
    conf.rxmode.mtu = static_cast<std::uint32_t>(spec.mtu);
    const std::uint64_t rss = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
    if (st.rx_queues > 1 && rss != 0) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = rss;
    }
    ret = rte_eth_dev_configure(port_id, st.rx_queues, st.tx_queues, &conf);
    if (ret != 0) throw StartupError(where + "cannot configure " + std::to_string(st.rx_queues) + " rx/" +
                                     std::to_string(st.tx_queues) + " tx queues: " + dpdk_error(ret));
    // Drivers without an MTU setting (net_null, ...) keep the configured one.
    ret = rte_eth_dev_set_mtu(port_id, static_cast<std::uint16_t>(spec.mtu));
    if (ret != 0 && ret != -ENOTSUP) {
        throw StartupError(where + "cannot set mtu " + std::to_string(spec.mtu) + ": " + dpdk_error(ret));
    }
    st.rx_desc = kRxDesc;
    st.tx_desc = kTxDesc;
    ret = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &st.rx_desc, &st.tx_desc);
    if (ret != 0) throw StartupError(where + "cannot size the descriptor rings: " + dpdk_error(ret));
    ports_.push_back(st);
    mtus_.push_back(spec.mtu);
}

std::vector<PortQueues> PortSet::queues() const
{
    std::vector<PortQueues> q;
    for (const PortState& p : ports_) q.push_back({p.rx_queues, p.tx_queues});
    return q;
}

void PortSet::start(const LcorePlan& plan, unsigned lcores, unsigned extra_mbufs)
{
    for (std::size_t i = 0; i < ports_.size(); ++i) {
        if (!plan.ports[i].tx_ring) continue;
        // Many producers (any worker), one consumer (the drainer).
        const std::string ring_name = "kadp_tx_" + std::to_string(i);
        rte_ring* r = rte_ring_create(ring_name.c_str(), kTxRingSize, ports_[i].socket_id, RING_F_SC_DEQ);
        if (r == nullptr) {
            throw StartupError("interface " + ports_[i].name + ": cannot create its TX ring: " +
                               dpdk_error(rte_errno) + "; give EAL more memory (-m / --socket-mem)");
        }
        rings_.emplace_back(r);
        ports_[i].tx_ring = r;
    }
    create_pools(plan, lcores, extra_mbufs);
    for (std::size_t i = 0; i < ports_.size(); ++i) start_port(i);
}

void PortSet::create_pools(const LcorePlan& plan, unsigned lcores, unsigned extra_mbufs)
{
    for (std::size_t i = 0; i < ports_.size(); ++i) {
        if (std::find(pool_sockets_.begin(), pool_sockets_.end(), ports_[i].socket_id) != pool_sockets_.end()) {
            continue;
        }
        const int socket = ports_[i].socket_id;
        std::uint64_t need = std::uint64_t{lcores} * (kPoolCache * 3 / 2 + kRxBurst +
                                                      ports_.size() * TxStage::kDepth) + kPoolSlack +
                             extra_mbufs;
        int max_mtu = 0;
        for (std::size_t j = 0; j < ports_.size(); ++j) {
            const PortState& p = ports_[j];
            if (p.socket_id != socket) continue;
            need += std::uint64_t{p.rx_queues} * p.rx_desc + std::uint64_t{p.tx_queues} * p.tx_desc;
            if (plan.ports[j].tx_ring) need += kTxRingSize;
            max_mtu = std::max(max_mtu, mtus_[j]);
        }
        const auto count = static_cast<unsigned>(std::bit_ceil(need + 1) - 1);
        // Ethernet header, one VLAN tag, CRC.
        const unsigned frame = static_cast<unsigned>(max_mtu) + RTE_ETHER_HDR_LEN + 4 + RTE_ETHER_CRC_LEN;
        const auto data_room =
            static_cast<std::uint16_t>(RTE_PKTMBUF_HEADROOM + std::max<unsigned>(frame, RTE_MBUF_DEFAULT_DATAROOM));
        const std::string pool_name = "kadp_mbuf_s" + std::to_string(socket);
        rte_mempool* pool = rte_pktmbuf_pool_create(pool_name.c_str(), count, kPoolCache, 0, data_room, socket);
        if (pool == nullptr) {
            const std::uint64_t per_mbuf = sizeof(rte_mbuf) + data_room + 64;  // + mempool object header, roughly
            throw StartupError("cannot allocate the mbuf pool for socket " + std::to_string(socket) + " (" +
                               std::to_string(count) + " mbufs of " + std::to_string(data_room) + " B, about " +
                               mib(count * per_mbuf) + "): " + dpdk_error(rte_errno) +
                               "; give EAL more memory (-m / --socket-mem)");
        }
        pools_.emplace_back(pool);
        pool_sockets_.push_back(socket);
    }
}

void PortSet::start_port(std::size_t index)
{
    PortState& st = ports_[index];
    const std::string where = "interface " + st.name + " (device \"" + st.devargs + "\"): ";
    const auto pool_at = std::find(pool_sockets_.begin(), pool_sockets_.end(), st.socket_id) - pool_sockets_.begin();
    rte_mempool* pool = pools_[static_cast<std::size_t>(pool_at)].get();
    const auto socket = static_cast<unsigned>(st.socket_id);
    for (std::uint16_t q = 0; q < st.rx_queues; ++q) {
        const int ret = rte_eth_rx_queue_setup(st.port_id, q, st.rx_desc, socket, nullptr, pool);
        if (ret != 0) throw StartupError(where + "cannot set up rx queue " + std::to_string(q) + ": " + dpdk_error(ret));
    }
    for (std::uint16_t q = 0; q < st.tx_queues; ++q) {
        const int ret = rte_eth_tx_queue_setup(st.port_id, q, st.tx_desc, socket, nullptr);
        if (ret != 0) throw StartupError(where + "cannot set up tx queue " + std::to_string(q) + ": " + dpdk_error(ret));
    }
    int ret = rte_eth_dev_start(st.port_id);
    if (ret != 0) throw StartupError(where + "cannot start: " + dpdk_error(ret));
    open_[index]->mark_started();

    // Only frames for our MAC, but every multicast group (VRRP adverts).
    ret = rte_eth_promiscuous_disable(st.port_id);
    if (ret != 0 && ret != -ENOTSUP) {
        throw StartupError(where + "cannot turn promiscuous mode off: " + dpdk_error(ret));
    }
    ret = rte_eth_allmulticast_enable(st.port_id);
    if (ret == -ENOTSUP) {
        log_.warning("interface " + st.name + ": the driver has no all-multicast mode; multicast may not be received");
    } else if (ret != 0) {
        throw StartupError(where + "cannot turn all-multicast on: " + dpdk_error(ret));
    }
    rte_ether_addr mac{};
    ret = rte_eth_macaddr_get(st.port_id, &mac);
    if (ret != 0) throw StartupError(where + "cannot read the MAC address: " + dpdk_error(ret));
    std::copy(std::begin(mac.addr_bytes), std::end(mac.addr_bytes), st.mac.begin());
}

}  // namespace kadp::dp
