// Runs on: control thread. The typed configuration, with every default
// resolved as keepalived 2.2.7 resolves it. Written once by the parser
// (conf::load), then read-only; the control plane builds its desired state
// and the data-plane snapshots from it. Field names follow the keepalived
// keywords so `kadp --dump-config` and the docs use one vocabulary.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conf/diagnostics.h"
#include "conf/inet.h"

namespace kadp::conf {

// A value a lower level inherits from a higher one unless it sets its own
// (virtual_server -> real_server -> checker). `value` always holds the
// resolved value; `set` tells whether this level named it.
template <class T>
struct Inherited {
    T value{};
    bool set = false;
    void assign(T v) { value = std::move(v); set = true; }
    void inherit(const Inherited& parent) { if (!set) value = parent.value; }
};

// A configured command (script, notify*, misc_path, quorum_up/down).
struct Script {
    std::string command;            // the text as written
    std::vector<std::string> argv;  // split as keepalived splits it
    std::string user;               // empty: global script_user
    std::string group;
    SourceLoc loc;                  // the line that configured it
    std::string path;               // argv[0] resolved through PATH (when the host was checked)
    bool disabled = false;          // missing or insecure: never run (a warning said why)
    [[nodiscard]] bool empty() const { return argv.empty(); }
};

// Keywords kadp recognises but does not act on (yet), kept for the dump.
struct OtherKeyword {
    SourceLoc loc;
    std::string keyword;
    std::string value;
};

// ---------------------------------------------------------------- global_defs
struct SmtpServer {
    IpAddr address;
    std::uint16_t port = 25;
};

struct LvsSyncDaemon {
    std::string interface;
    std::string vrrp_instance;
    std::string id;  // sync id
    int maxlen = 0;
    int port = 0;
    int ttl = 0;
    IpAddr group;
};

struct GlobalDefs {
    SourceLoc loc;
    std::string router_id;  // default: the host name
    std::vector<std::string> notification_email;
    std::string notification_email_from;  // default keepalived@<host name>
    std::optional<SmtpServer> smtp_server;
    std::string smtp_helo_name;            // default: the host name
    double smtp_connect_timeout = 30;      // seconds
    bool enable_script_security = false;
    std::string script_user;               // default: keepalived_script if it exists, else root
    std::string script_group;
    double vrrp_garp_master_delay = 5;     // seconds
    int vrrp_garp_master_repeat = 5;
    double vrrp_garp_master_refresh = 0;   // 0 = off
    int vrrp_garp_master_refresh_repeat = 1;
    int vrrp_version = 2;
    IpAddr vrrp_mcast_group4;              // 224.0.0.18
    IpAddr vrrp_mcast_group6;              // ff02::12
    bool vrrp_strict = false;
    std::optional<LvsSyncDaemon> lvs_sync_daemon;
    std::vector<OtherKeyword> other;
};

// ------------------------------------------------- static addresses and routes
// `ip addr` syntax: ADDR[/LEN] [brd ADDR] [dev IF] [scope S] [label L] ...
struct IpAddress {
    SourceLoc loc;
    IpPrefix address;
    IpAddr broadcast;
    std::string dev;
    std::string scope;  // empty = global
    std::string label;
    std::string text;   // the line as written
};

// `ip route` syntax: [src IP] [to] DST [via|gw GW] [dev IF] [metric N] [table T] ...
struct Route {
    SourceLoc loc;
    IpPrefix destination;
    IpAddr via;
    IpAddr src;
    std::string dev;
    int metric = -1;    // -1 = not set
    std::string table;  // empty = main
    bool blackhole = false;
    std::string scope;  // empty = the kernel's default for the route
    std::string type;   // route type keyword (blackhole, unreachable, prohibit, throw, ...); empty = unicast
    std::string text;
};

// `ip rule` syntax: [from PREFIX|all] [to PREFIX|all] [preference N] [table T] ...
struct Rule {
    SourceLoc loc;
    std::optional<IpPrefix> from;  // unset: all
    std::optional<IpPrefix> to;
    int preference = -1;           // -1: not given (keepalived then picks one)
    std::string table;             // empty: main
    std::string text;
};

// ----------------------------------------------------------------------- VRRP
struct VrrpScript {
    SourceLoc loc;
    std::string name;
    Script script;
    double interval = 1;   // seconds
    double timeout = 0;    // seconds; unset: the interval
    int weight = 0;        // -253..253; 0: failure means FAULT
    bool weight_reverse = false;
    int rise = 1;
    int fall = 1;
    bool init_fail = false;
};

struct TrackedInterface {
    SourceLoc loc;
    std::string name;
    int weight = 0;
    bool reverse = false;  // `weight N reverse`: adjust the priority the other way
};

struct TrackedScript {
    SourceLoc loc;
    std::string name;
    std::optional<int> weight;  // overrides the script's weight when set
    bool reverse = false;       // `weight N reverse` (`noreverse`: false)
};

struct VrrpSyncGroup {
    SourceLoc loc;
    std::string name;
    std::vector<std::string> group;  // vrrp_instance names
    Script notify_master, notify_backup, notify_fault, notify_stop, notify;
    bool smtp_alert = false;
    bool global_tracking = false;
    std::vector<TrackedInterface> track_interface;  // applies to every member
    std::vector<TrackedScript> track_script;        // vrrp_script names
    std::vector<OtherKeyword> other;
};

enum class VrrpState { backup, master };
enum class AuthType { none, pass, ah };

// An entry of virtual_ipaddress / virtual_ipaddress_excluded: the same
// `ip addr` line as static_ipaddress (an empty dev: the instance's interface).
using VirtualIp = IpAddress;

struct VrrpInstance {
    SourceLoc loc;
    std::string name;
    VrrpState state = VrrpState::backup;  // as configured; the protocol starts in BACKUP
    std::string interface;
    SourceLoc interface_loc;              // where `interface` was given, for diagnostics
    int virtual_router_id = 0;            // 1..255, required
    int priority = 100;                   // 1..255; 255 for `state MASTER` without priority
    double advert_int = 1;                // seconds (v3: 10 ms steps)
    int version = 2;                      // global vrrp_version unless set here
    bool nopreempt = false;
    double preempt_delay = 0;             // seconds
    AuthType auth_type = AuthType::none;
    std::string auth_pass;                // at most 8 bytes, never logged
    std::vector<VirtualIp> virtual_ipaddress;
    std::vector<VirtualIp> virtual_ipaddress_excluded;
    std::vector<Route> virtual_routes;
    std::vector<Rule> virtual_rules;
    std::vector<TrackedInterface> track_interface;
    std::vector<TrackedScript> track_script;
    IpAddr unicast_src_ip;
    std::vector<IpAddr> unicast_peer;
    IpAddr mcast_src_ip;
    Script notify_master, notify_backup, notify_fault, notify_stop, notify;
    bool smtp_alert = false;
    double garp_master_delay = 5;         // global vrrp_garp_master_* unless set here
    int garp_master_repeat = 5;
    double garp_master_refresh = 0;
    int garp_master_refresh_repeat = 1;
    bool use_vmac = false;
    bool dont_track_primary = false;
    std::optional<bool> accept;           // `accept` / `no_accept`; unset: keepalived's default
    std::string sync_group;               // filled by validation from vrrp_sync_group
    std::vector<OtherKeyword> other;
};

// ----------------------------------------------------------------------- LVS
struct VirtualServerGroupEntry {
    SourceLoc loc;
    enum class Kind { address, fwmark } kind = Kind::address;
    IpAddr address;        // first address of a range
    IpAddr range_end;      // same as address when no range (A.B.C.D-E)
    std::uint16_t port = 0;
    std::uint32_t fwmark = 0;
    std::string family;    // fwmark entries: "inet" or "inet6" when given, else empty
};

struct VirtualServerGroup {
    SourceLoc loc;
    std::string name;
    std::vector<VirtualServerGroupEntry> entries;
};

enum class LbKind { nat, dr, tun };

// `lvs_method TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
struct Tunnel {
    std::string type = "ipip";  // ipip, gue or gre
    std::uint16_t port = 0;     // gue only
    std::string checksum;       // nocsum, csum, remcsum; empty = kernel default
};
enum class Protocol { tcp, udp, sctp };

enum class CheckerType { tcp_check, http_get, ssl_get, smtp_check, misc_check, dns_check, udp_check,
                         ping_check, file_check, bfd_check };

struct HttpUrl {
    SourceLoc loc;
    std::string path;
    std::string digest;                            // lowercase hex MD5, empty = none
    std::vector<std::pair<int, int>> status_code;  // inclusive ranges; default 200-299
    std::string virtualhost;                       // empty: the checker's
};

struct Checker {
    SourceLoc loc;
    CheckerType type = CheckerType::tcp_check;
    // Where to connect: the real server unless set.
    IpAddr connect_ip;
    std::uint16_t connect_port = 0;
    IpAddr bindto;
    std::uint16_t bind_port = 0;
    std::string bind_if;
    std::uint32_t fwmark = 0;
    // The virtual server's protocol (resolved): keepalived names a checker
    // after it ("[198.19.0.1]:udp:53"), whatever the checker speaks.
    Protocol service_protocol = Protocol::tcp;
    // Inherited virtual_server -> real_server -> checker, resolved here.
    Inherited<double> connect_timeout;     // seconds, default 5
    Inherited<int> retry;                  // default 1 (MISC_CHECK 0)
    Inherited<double> delay_before_retry;  // seconds, default 1 (HTTP_GET/SSL_GET 3)
    Inherited<double> delay_loop;          // seconds, default 60
    Inherited<double> warmup;              // seconds, default 0
    Inherited<bool> alpha;
    std::optional<bool> log_all_failures;  // unset: global checker_log_all_failures
    // HTTP_GET / SSL_GET
    std::vector<HttpUrl> url;
    std::string virtualhost;
    std::string http_protocol = "1.0";     // "1.0", "1.1" or "1.0C"
    bool enable_sni = false;
    bool tls_compliant = false;
    bool fast_recovery = false;
    // SMTP_CHECK
    std::string helo_name;                 // default: global smtp_helo_name
    // MISC_CHECK
    Script misc_path;
    double misc_timeout = 0;               // seconds; default: delay_loop
    bool misc_dynamic = false;
    std::string user;                      // MISC_CHECK `user USER [GROUP]`; empty = script_user
    std::string group;
    // DNS_CHECK
    std::uint16_t dns_type = 6;            // `type`; keepalived's default is SOA (6)
    std::string dns_name = ".";            // `name`; default the root
    std::vector<OtherKeyword> other;
};

struct SorryServer {
    IpAddr address;
    std::uint16_t port = 0;
    std::optional<LbKind> lvs_method;      // sorry_server_lvs_method; resolved: the VS lb_kind
    Tunnel tunnel;                         // when lvs_method is TUN
};

struct RealServer {
    SourceLoc loc;
    IpAddr address;
    std::uint16_t port = 0;
    int weight = 1;
    LbKind lvs_method = LbKind::nat;       // the virtual server's lb_kind unless set here
    bool lvs_method_set = false;
    Tunnel tunnel;                         // lvs_method TUN options (else the VS's)
    std::string virtualhost;               // empty: the virtual server's
    std::optional<bool> smtp_alert;        // unset: global smtp_alert(_checker)
    std::string snmp_name;
    Inherited<bool> inhibit_on_failure;
    Inherited<bool> alpha;
    Inherited<double> connect_timeout;
    Inherited<int> retry;
    Inherited<double> delay_before_retry;
    Inherited<double> delay_loop;
    Inherited<double> warmup;
    Script notify_up, notify_down;
    int uthreshold = 0;                    // 0 = no limit
    int lthreshold = 0;
    std::vector<Checker> checkers;
    std::vector<OtherKeyword> other;
};

struct VirtualServer {
    SourceLoc loc;
    enum class Kind { address, fwmark, group } kind = Kind::address;
    IpAddr address;
    std::uint16_t port = 0;
    std::uint32_t fwmark = 0;
    std::string group;
    std::string lb_algo = "wlc";           // rr wrr lc wlc lblc lblcr dh sh mh sed nq fo ovf twos
    LbKind lb_kind = LbKind::nat;
    Tunnel tunnel;                         // lb_kind TUN options
    std::string ip_family;                 // "inet" / "inet6" when given (fwmark and group services)
    std::string persistence_engine;        // e.g. "sip"; empty = none
    std::optional<bool> smtp_alert;        // unset: global smtp_alert(_checker)
    std::string snmp_name;
    Protocol protocol = Protocol::udp;     // keepalived's default, with a warning
    std::optional<double> persistence_timeout;  // seconds; 360 when given bare
    IpAddr persistence_granularity;        // netmask; empty = none
    bool ha_suspend = false;
    std::string virtualhost;
    std::optional<SorryServer> sorry_server;
    bool sorry_server_inhibit = false;
    bool omega = false;
    int quorum = 1;
    int hysteresis = 0;
    Script quorum_up, quorum_down;
    std::vector<std::string> lb_flags;     // sh-port, sh-fallback, mh-port, mh-fallback, ops
    Inherited<bool> inhibit_on_failure;
    Inherited<bool> alpha;
    Inherited<double> connect_timeout;
    Inherited<int> retry;
    Inherited<double> delay_before_retry;
    Inherited<double> delay_loop;
    Inherited<double> warmup;
    std::vector<RealServer> real_servers;
    std::vector<OtherKeyword> other;
};

// ------------------------------------------------------------------ dataplane
// Written by conf/parse_dataplane.cpp (defaults resolved there); read by the
// control thread when it sets up DPDK ports, TAPs and the route table.
struct DataplaneInterface {
    SourceLoc loc;
    std::string name;      // what vrrp_instance `interface` refers to
    std::string device;    // DPDK devargs: a PCI address or a vdev spec
    std::vector<IpPrefix> address;  // each also gives a connected route
    int mtu = 1500;        // bytes of IP packet, 68..9216
    std::optional<int> vlan;        // 802.1Q VLAN id 1..4094; unset: untagged
    std::optional<int> rx_queues;   // unset: one per worker lcore (as the PMD allows)
    std::optional<int> tx_queues;
    std::string exception_interface;  // kernel TAP name; default "kadp-" + name
};

struct DataplaneRoute {
    SourceLoc loc;
    IpPrefix prefix;
    IpAddr via;
    std::string dev;       // empty: chosen by the connected route of `via`
};

struct Dataplane {
    SourceLoc loc;
    std::vector<DataplaneInterface> interfaces;
    std::vector<DataplaneRoute> routes;
    std::uint64_t conn_table_size = 1u << 20;  // connections, 1024..134217728
    // The SYN-flood defense's marks, percent of the table (docs/dataplane.md);
    // `conn_defense off` sets both to kConnDefenseOff.
    std::uint32_t conn_defense_high_pct = 75;
    std::uint32_t conn_defense_full_pct = 90;
    // A worker whose loop has not turned for this long is stuck
    // (control/stuck_workers.h); 100..60000, applied by a reload.
    std::uint32_t stuck_worker_timeout_ms = 1000;
};
inline constexpr std::uint32_t kConnDefenseOff = 101;  // a mark no occupancy reaches

// ------------------------------------------------------------------ metrics
// The kadp-only `metrics { listen ADDR PORT }` block (conf/parse_metrics.cpp):
// where the control thread serves Prometheus metrics (docs/metrics.md).
// Absent: no metrics listener.
struct Metrics {
    SourceLoc loc;
    IpAddr address;
    std::uint16_t port = 0;
};

// ---------------------------------------------------------------- the whole
struct Config {
    GlobalDefs global_defs;
    std::vector<IpAddress> static_ipaddress;
    std::vector<Route> static_routes;
    std::vector<Rule> static_rules;
    std::vector<VrrpScript> vrrp_scripts;
    std::vector<VrrpSyncGroup> vrrp_sync_groups;
    std::vector<VrrpInstance> vrrp_instances;
    std::vector<VirtualServerGroup> virtual_server_groups;
    std::vector<VirtualServer> virtual_servers;
    std::optional<Dataplane> dataplane;
    std::optional<Metrics> metrics;
    // Top-level sections keepalived 2.2.7 has and kadp does not act on yet
    // (static_rules, track_file, bfd_instance, SSL, net_namespace, ...).
    std::vector<OtherKeyword> other;
};

const char* to_string(LbKind k);
const char* to_string(Protocol p);
const char* to_string(CheckerType t);
// DNS_CHECK `type`: the record types keepalived 2.2.7 accepts (A, NS, CNAME,
// SOA, MX, TXT, AAAA, RRSIG, DNSKEY; any letter case) and their codes.
std::optional<std::uint16_t> dns_type_code(std::string_view label);
const char* dns_type_name(std::uint16_t code);  // "(unknown)" for another code
const char* to_string(VrrpState s);
const char* to_string(AuthType a);

}  // namespace kadp::conf
