// Runs on: control thread (the daemon encodes replies) and in kadpctl
// (decodes them). What the kadpctl socket carries, backend-neutral: the DPDK
// and the kernel backend fill the same replies (ControlHandler), the daemon
// writes them as JSON, kadpctl reads them back and renders ipvsadm's text.
// The JSON schema is documented in docs/kadpctl.md; the wire format (one
// request line in, one JSON line out) in control/ctl_protocol.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conf/diagnostics.h"
#include "control/ipvs_model.h"
#include "control/json_value.h"

namespace kadp::conf {
class JsonWriter;
}

namespace kadp::ctl {

// `list`: what `ipvsadm -Ln` shows.
struct ListReply {
    std::string backend;                // "dpdk" / "kernel"
    std::string ipvs_version = "1.2.1";  // the header line's version (kernel: IPVS's own)
    std::uint64_t conn_table_size = 0;   // the header line's size=
    std::vector<IpvsService> services;   // backend order; the text listing sorts like ipvsadm
};

// `conns`: what `ipvsadm -Lnc` shows.
struct ConnsReply {
    std::vector<IpvsConn> conns;
    std::uint64_t total = 0;  // connections seen (conns holds at most the limit)
    bool truncated = false;
};

// The result of one reload (SIGHUP or `kadpctl reload`).
struct ReloadReply {
    bool accepted = false;
    std::uint64_t generation = 0;  // running after the attempt
    std::int64_t time = 0;         // unix seconds
    std::string trigger;           // "SIGHUP" / "kadpctl"
    std::string message;           // one line: what changed, or why it was rejected
    std::vector<conf::Diagnostic> diagnostics;  // errors and warnings of the file, file:line
    std::vector<std::string> changes;           // one line per added/removed/changed service or real server
};

struct PortStatus {
    std::string name;
    std::string device;
    std::uint16_t port_id = 0;
    std::string mac;
    std::uint64_t rx_packets = 0;
    std::uint64_t rx_bytes = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_bytes = 0;
    std::uint64_t rx_missed = 0;   // dropped by the port: no descriptor free
    std::uint64_t rx_errors = 0;
    std::uint64_t rx_nombuf = 0;   // dropped by the port: mbuf pool empty
    std::uint64_t tx_errors = 0;
    std::string link;  // "up" / "down" (control/port_link.h); empty: not known
};

// One DPDK mempool: mbufs handed out (dataplane/mempool_usage.h). A leak
// shows as in_use that does not come back once traffic stops.
struct MempoolStatus {
    std::string name;
    std::uint64_t size = 0;
    std::uint64_t available = 0;
    std::uint64_t in_use = 0;
};

// `status`.
// One vrrp_instance as `kadpctl status` shows it.
struct VrrpInstanceStatus {
    std::string name;
    std::string interface;
    std::uint64_t vrid = 0;
    std::string state;  // INIT, BACKUP, MASTER, FAULT, STOP
    std::uint64_t priority = 0;  // effective
    // Adverts for its VRID refused before its state machine, by reason
    // (vrrp/advert_screen.h, docs/vrrp.md "Hostile adverts"); non-zero only.
    std::vector<std::pair<std::string, std::uint64_t>> dropped;
};

struct StatusReply {
    std::string backend;
    std::string version;  // kadp's
    std::int64_t pid = 0;
    std::uint64_t uptime_seconds = 0;
    std::string config_file;
    std::uint64_t generation = 0;
    std::vector<unsigned> worker_lcores;
    std::vector<PortStatus> ports;
    std::vector<MempoolStatus> mempools;  // DPDK backend; by name
    std::vector<std::pair<std::string, std::uint64_t>> counters;  // summed over the workers, table order
    std::uint64_t conn_capacity = 0;
    std::uint64_t conn_in_use = 0;
    std::uint64_t services = 0;
    std::uint64_t real_servers = 0;
    std::optional<ReloadReply> last_reload;
    std::vector<VrrpInstanceStatus> vrrp;
    // Every advert the VRRP service refused before a state machine, by
    // reason: the instances' drops plus those no instance could be named for
    // (decode failures, VRIDs nobody here runs); non-zero only.
    std::vector<std::pair<std::string, std::uint64_t>> vrrp_dropped;
    // What no longer works as configured, one line each (an exception TAP
    // deleted under kadp: control/exception_watch.h); empty: nothing.
    std::vector<std::string> degraded;
    std::uint64_t exception_taps_lost = 0;
    // DPDK workers whose loop has not turned for the stuck threshold
    // (control/stuck_workers.h); each also has a `degraded` line.
    std::uint64_t workers_stuck = 0;
    // Reloads since start (SIGHUP and kadpctl); a rejected one changed nothing.
    std::uint64_t reloads_accepted = 0;
    std::uint64_t reloads_rejected = 0;
};

// --- JSON, both ways --------------------------------------------------------
// One port as `status` and `stats` both carry it.
void port_to_json(conf::JsonWriter& w, const PortStatus& p);
PortStatus port_from_json(const JsonValue& v);

// The encoders write one compact JSON object; the decoders accept what the
// encoders write (and ignore members they do not know), returning nullopt
// and a message when a required member is missing or mistyped.
std::string to_json(const ListReply& r);
std::string to_json(const ConnsReply& r);
std::string to_json(const ReloadReply& r);
std::string to_json(const StatusReply& r);

std::optional<ListReply> list_from_json(const JsonValue& v, std::string& error);
std::optional<ConnsReply> conns_from_json(const JsonValue& v, std::string& error);
std::optional<ReloadReply> reload_from_json(const JsonValue& v, std::string& error);
std::optional<StatusReply> status_from_json(const JsonValue& v, std::string& error);

// ipvsadm's names: "TCP"/"UDP"/"SCTP"; "Masq"/"Route"/"Tunnel".
const char* ipvs_protocol_name(conf::Protocol p);
const char* ipvs_forward_name(conf::LbKind k);

}  // namespace kadp::ctl
