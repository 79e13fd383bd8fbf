// Runs on: control thread (start-up and shutdown).
#include "dataplane/exception_port.h"

#include <net/if.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <algorithm>
#include <bit>

#include "dataplane/rtnl.h"
#include "dataplane/startup_error.h"

namespace kadp::dp {
namespace {

constexpr std::uint16_t kTapRxDesc = 256;
constexpr std::uint16_t kTapTxDesc = 256;
constexpr unsigned kTapPoolCache = 64;

}  // namespace

void ExceptionPorts::PoolDeleter::operator()(rte_mempool* p) const { rte_mempool_free(p); }

void ExceptionPorts::RingDeleter::operator()(rte_ring* r) const
{
    rte_mbuf* pkts[64];
    unsigned n = 0;
    while ((n = rte_ring_dequeue_burst(r, reinterpret_cast<void**>(pkts), 64, nullptr)) != 0) {
        rte_pktmbuf_free_bulk(pkts, n);
    }
    rte_ring_free(r);
}

// Owns a probed TAP: stopped (when started) and closed on destruction,
// which removes the kernel interface.
class ExceptionPorts::OpenTap {
public:
    explicit OpenTap(std::uint16_t port_id) : port_id_(port_id) {}
    ~OpenTap()
    {
        if (started_) rte_eth_dev_stop(port_id_);
        rte_eth_dev_close(port_id_);
    }
    OpenTap(const OpenTap&) = delete;
    OpenTap& operator=(const OpenTap&) = delete;
    void mark_started() { started_ = true; }

private:
    std::uint16_t port_id_;
    bool started_ = false;
};

ExceptionPorts::ExceptionPorts(std::span<const ExceptionSpec> specs, std::uint32_t workers,
                               std::uint32_t service_worker, LogFn log)
    : log_(std::move(log))
{
    // Room for every TAP's RX descriptors, and for the kernel's frames
    // waiting in the data-plane ports' TX queues and rings.
    int max_mtu = 0;
    for (const ExceptionSpec& s : specs) max_mtu = std::max(max_mtu, s.mtu);
    const std::uint64_t need =
        specs.size() * (std::uint64_t{kTapRxDesc} + kTxDesc + kTxRingSize) + kPoolSlack + kTapPoolCache * 2;
    const auto count = static_cast<unsigned>(std::bit_ceil(need + 1) - 1);
    const unsigned frame = static_cast<unsigned>(max_mtu) + RTE_ETHER_HDR_LEN + 4 + RTE_ETHER_CRC_LEN;
    const auto data_room =
        static_cast<std::uint16_t>(RTE_PKTMBUF_HEADROOM + std::max<unsigned>(frame, RTE_MBUF_DEFAULT_DATAROOM));
    pool_.reset(rte_pktmbuf_pool_create("kadp_exc", count, kTapPoolCache, 0, data_room,
                                        static_cast<int>(rte_socket_id())));
    if (!pool_) {
        throw StartupError("cannot allocate the exception ports' mbuf pool (" + std::to_string(count) +
                           " mbufs): " + dpdk_error(rte_errno) + "; give EAL more memory (-m / --socket-mem)");
    }
    for (std::uint32_t w = 0; w < workers; ++w) {
        // One producer (worker w), one consumer (the service worker).
        const std::string name = "kadp_exc_w" + std::to_string(w);
        rte_ring* r = rte_ring_create(name.c_str(), kExceptionRingSize, static_cast<int>(rte_socket_id()),
                                      RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (r == nullptr) {
            throw StartupError("cannot create the exception ring of worker " + std::to_string(w) + ": " +
                               dpdk_error(rte_errno) + "; give EAL more memory (-m / --socket-mem)");
        }
        rings_.emplace_back(r);
        path_.to_kernel.push_back(r);
    }
    path_.service_worker = service_worker;
    std::vector<std::uint16_t> ids;
    for (std::size_t i = 0; i < specs.size(); ++i) {
        open(i, specs[i]);
        ids.push_back(taps_.back().port_id);
    }
    path_.tap_port_ids = std::move(ids);
}

ExceptionPorts::~ExceptionPorts() = default;

void ExceptionPorts::open(std::size_t index, const ExceptionSpec& spec)
{
    // A name of our own: the configuration may use net_tap0.. for data ports.
    const std::string name = "net_tap_kexc" + std::to_string(index);
    Tap t;
    t.interface = spec.interface;
    t.tap = spec.tap;
    t.devargs = name + ",iface=" + spec.tap + ",mac=" + format_mac(spec.mac);
    const std::string where = "interface " + spec.interface + ": exception port " + spec.tap + " (device \"" +
                              t.devargs + "\"): ";
    // A TAP of that name already there would be taken over by the PMD
    // silently; refuse it (another kadp, or a leftover).
    if (if_nametoindex(spec.tap.c_str()) != 0) {
        throw StartupError(where + "a kernel interface " + spec.tap + " already exists");
    }
    if (rte_dev_probe(t.devargs.c_str()) < 0) {
        throw StartupError(where + "cannot create the TAP (is /dev/net/tun there, and are we root?); see the "
                                   "lines above");
    }
    if (rte_eth_dev_get_port_by_name(name.c_str(), &t.port_id) != 0) {
        throw StartupError(where + "probed, but no port named " + name + " appeared");
    }
    open_.push_back(std::make_unique<OpenTap>(t.port_id));
    rte_eth_conf conf{};
    int ret = rte_eth_dev_configure(t.port_id, 1, 1, &conf);
    if (ret != 0) throw StartupError(where + "cannot configure: " + dpdk_error(ret));
    ret = rte_eth_dev_set_mtu(t.port_id, static_cast<std::uint16_t>(spec.mtu));
    if (ret != 0) throw StartupError(where + "cannot set mtu " + std::to_string(spec.mtu) + ": " + dpdk_error(ret));
    const auto socket = static_cast<unsigned>(rte_socket_id());
    ret = rte_eth_rx_queue_setup(t.port_id, 0, kTapRxDesc, socket, nullptr, pool_.get());
    if (ret != 0) throw StartupError(where + "cannot set up its rx queue: " + dpdk_error(ret));
    ret = rte_eth_tx_queue_setup(t.port_id, 0, kTapTxDesc, socket, nullptr);
    if (ret != 0) throw StartupError(where + "cannot set up its tx queue: " + dpdk_error(ret));
    ret = rte_eth_dev_start(t.port_id);  // also sets the kernel interface up
    if (ret != 0) throw StartupError(where + "cannot start: " + dpdk_error(ret));
    open_.back()->mark_started();
    rte_ether_addr mac{};
    if (rte_eth_macaddr_get(t.port_id, &mac) != 0 ||
        !std::equal(std::begin(mac.addr_bytes), std::end(mac.addr_bytes), spec.mac.begin())) {
        throw StartupError(where + "the TAP did not take the port's MAC " + format_mac(spec.mac));
    }
    t.ifindex = static_cast<int>(if_nametoindex(spec.tap.c_str()));
    if (t.ifindex == 0) throw StartupError(where + "no kernel interface " + spec.tap + " after start");
    std::string addrs;
    // An IPv4 address the kernel refuses stops start-up (the node's own
    // traffic would not work); an IPv6 one (IPv6 disabled in this
    // namespace) or a route (the host's own default route, say) is only
    // reported: the data plane works without them.
    for (const conf::IpPrefix& p : spec.addresses) {
        const std::string err = rtnl_add_address(t.ifindex, p);
        if (!err.empty() && p.addr.is_v4()) {
            throw StartupError(where + "cannot add address " + p.to_string() + ": " + err);
        }
        if (!err.empty()) {
            log_.warning("exception port " + spec.tap + ": cannot add address " + p.to_string() + ": " + err +
                 " (IPv6 disabled?); the kernel goes without it");
            continue;
        }
        addrs += " " + p.to_string();
    }
    unsigned routes = 0;
    for (const auto& [prefix, gw] : spec.routes) {
        const std::string err = rtnl_add_route(t.ifindex, prefix, gw);
        if (!err.empty()) {
            log_.warning("exception port " + spec.tap + ": cannot add route " + prefix.to_string() + " via " + gw.to_string() +
                 ": " + err + "; the kernel goes without it");
            continue;
        }
        ++routes;
    }
    log_("exception port " + spec.tap + " for " + spec.interface + " up, mac " + format_mac(spec.mac) + ", mtu " +
         std::to_string(spec.mtu) + (addrs.empty() ? ", no address" : ", address" + addrs) +
         (routes == 0 ? "" : ", " + std::to_string(routes) + (routes == 1 ? " route" : " routes")));
    taps_.push_back(std::move(t));
}

}  // namespace kadp::dp
