// Runs on: control thread. global_defs: the typed settings kadp acts on, and
// every other keyword keepalived 2.2.7 accepts there, kept as `other`.
#include <climits>

#include "conf/sections.h"

namespace kadp::conf {
namespace {

// Accepted by keepalived 2.2.7 in global_defs (man page keepalived.conf(5)),
// not (yet) acted on by kadp. net_namespace, instance, use_pid_dir,
// linkbeat_use_polling, child_wait_time, namespace_with_ipsets and
// net_namespace_ipvs are top-level keywords in 2.2.7 (keepalived reports them
// as unknown inside global_defs), so they are not listed here.
constexpr std::string_view kOtherGlobal[] = {
    "tmp_config_directory", "config_save_dir", "process_names", "process_name", "vrrp_process_name",
    "checker_process_name", "bfd_process_name", "startup_script", "startup_script_timeout", "shutdown_script",
    "shutdown_script_timeout", "smtp_alert", "smtp_alert_vrrp", "smtp_alert_checker", "checker_log_all_failures",
    "no_email_faults", "default_interface", "lvs_timeouts", "lvs_flush", "lvs_flush_on_stop",
    "vrrp_garp_lower_prio_delay", "vrrp_down_timer_adverts", "vrrp_garp_lower_prio_repeat", "vrrp_garp_interval",
    "vrrp_gna_interval", "vrrp_min_garp", "vrrp_garp_extra_if", "vrrp_lower_prio_no_advert",
    "vrrp_higher_prio_send_advert", "nftables", "nftables_priority", "nftables_counters", "nftables_ifindex",
    "nftables_ipvs", "nftables_ipvs_priority", "nftables_ipvs_start_fwmark", "vrrp_iptables", "vrrp_ipsets",
    "disable_local_igmp", "vrrp_check_unicast_src", "vrrp_skip_check_adv_addr", "vrrp_notify_priority_changes",
    "max_auto_priority", "min_auto_priority_delay", "vrrp_priority", "checker_priority", "bfd_priority",
    "vrrp_no_swap", "checker_no_swap", "bfd_no_swap", "vrrp_cpu_affinity", "checker_cpu_affinity",
    "bfd_cpu_affinity", "vrrp_rt_priority", "checker_rt_priority", "bfd_rt_priority", "vrrp_rlimit_rttime",
    "checker_rlimit_rttime", "bfd_rlimit_rttime", "snmp_socket", "enable_snmp_vrrp", "enable_snmp_checker",
    "enable_snmp_rfc", "enable_snmp_rfcv2", "enable_snmp_rfcv3", "enable_traps", "enable_dbus",
    "dbus_service_name", "notify_fifo", "notify_fifo_script", "vrrp_notify_fifo", "vrrp_notify_fifo_script",
    "lvs_notify_fifo", "lvs_notify_fifo_script", "fifo_write_vrrp_states_on_reload", "dynamic_interfaces",
    "vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force", "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_cmd_rcv_bufs_force",
    "lvs_netlink_monitor_rcv_bufs", "lvs_netlink_monitor_rcv_bufs_force", "process_monitor_rcv_bufs",
    "process_monitor_rcv_bufs_force", "vrrp_rx_bufs_policy", "vrrp_rx_bufs_multiplier", "rs_init_notifies",
    "no_checker_emails", "umask", "vrrp_startup_delay", "log_unknown_vrids", "vmac_prefix", "vmac_addr_prefix",
    "random_seed", "reload_check_config", "include_check", "reload_time_file", "reload_repeat", "reload_file",
    "data_use_instance",
};

// keepalived stores garp delays in whole seconds, up to UINT_MAX microseconds.
constexpr long long kMaxTimerSec = UINT_MAX / 1000000;

std::optional<std::string> one_word(const Node& n, ParseContext& ctx)
{
    no_block(n, ctx);
    if (!need_args(n, 1, 1, ctx)) return std::nullopt;
    return n.arg(0);
}

// notification_email { ... }: keepalived reads every word of the block as an
// address (its value-block reader), so `a@x b@y` on one line gives two.
void parse_emails(const Node& n, GlobalDefs& g, ParseContext& ctx)
{
    if (!n.has_block) {
        ctx.diags.error(n.loc, "notification_email needs a { ... } block of addresses");
        return;
    }
    for (const Node& line : n.children) {
        no_block(line, ctx);
        for (const std::string& t : line.tokens) g.notification_email.push_back(t);
    }
}

void parse_smtp_server(const Node& n, GlobalDefs& g, ParseContext& ctx)
{
    no_block(n, ctx);
    if (!need_args(n, 1, 2, ctx)) return;
    auto ip = arg_ip(n, 0, ctx);
    if (!ip) return;
    SmtpServer s{*ip, 25};
    if (n.arg_count() > 1) {
        auto port = arg_int(n, 1, 1, 65535, ctx);
        if (!port) return;
        s.port = static_cast<std::uint16_t>(*port);
    }
    g.smtp_server = s;
}

// vrrp_mcast_group4/6: keepalived skips a non-multicast group; kadp refuses it
// rather than run on a group the operator did not ask for.
void parse_mcast_group(const Node& n, IpAddr& into, bool v6, ParseContext& ctx)
{
    no_block(n, ctx);
    if (!need_args(n, 1, 1, ctx)) return;
    auto ip = arg_ip(n, 0, ctx);
    if (!ip) return;
    bool ok = v6 ? (ip->is_v6() && ip->bytes[0] == 0xff) : (ip->is_v4() && (ip->bytes[0] & 0xf0) == 0xe0);
    if (!ok) {
        ctx.diags.error(n.loc, n.keyword() + " [" + n.arg(0) + "] is not " + (v6 ? "an IPv6" : "an IPv4") +
                                   " multicast address");
        return;
    }
    into = *ip;
}

void parse_script_user(const Node& n, GlobalDefs& g, ParseContext& ctx)
{
    no_block(n, ctx);
    if (!need_args(n, 1, 2, ctx)) return;
    g.script_user = n.arg(0);
    if (n.arg_count() > 1) g.script_group = n.arg(1);
}

// lvs_sync_daemon IF [[inst] VI] [id N] [maxlen N] [port N] [ttl N] [group IP]
void parse_lvs_sync_daemon(const Node& n, GlobalDefs& g, ParseContext& ctx)
{
    no_block(n, ctx);
    if (!need_args(n, 1, 16, ctx)) return;
    LvsSyncDaemon d;
    d.interface = n.arg(0);
    for (std::size_t i = 1; i < n.arg_count(); ++i) {
        const std::string& w = n.arg(i);
        bool has_value = i + 1 < n.arg_count();
        if (w == "inst" && has_value) {
            d.vrrp_instance = n.arg(++i);
        } else if (w == "id" && has_value) {
            auto v = arg_int(n, ++i, 0, 255, ctx);
            if (!v) return;
            d.id = n.arg(i);
        } else if (w == "maxlen" && has_value) {
            auto v = arg_int(n, ++i, 1, 65535 - 20 - 8, ctx);
            if (!v) return;
            d.maxlen = static_cast<int>(*v);
        } else if (w == "port" && has_value) {
            auto v = arg_int(n, ++i, 1, 65535, ctx);
            if (!v) return;
            d.port = static_cast<int>(*v);
        } else if (w == "ttl" && has_value) {
            auto v = arg_int(n, ++i, 1, 255, ctx);
            if (!v) return;
            d.ttl = static_cast<int>(*v);
        } else if (w == "group" && has_value) {
            auto ip = arg_ip(n, ++i, ctx);
            if (!ip) return;
            d.group = *ip;
        } else if (i == 1 && d.vrrp_instance.empty()) {
            d.vrrp_instance = w;  // the old form: lvs_sync_daemon IF VI [id]
        } else if (i == 2 && d.id.empty() && !has_value) {
            d.id = w;
        } else {
            ctx.diags.error(n.loc, "lvs_sync_daemon: unknown option or missing value '" + w + "'");
            return;
        }
    }
    if (g.lvs_sync_daemon) {
        ctx.diags.warning(n.loc, "lvs_sync_daemon has already been specified - ignoring");
        return;
    }
    g.lvs_sync_daemon = d;
}

template <class T>
void set_int(const Node& n, T& into, long long min, long long max, ParseContext& ctx)
{
    no_block(n, ctx);
    if (!need_args(n, 1, 1, ctx)) return;
    if (auto v = arg_int(n, 0, min, max, ctx)) into = static_cast<T>(*v);
}

}  // namespace

void parse_global_defs(const Node& block, Config& config, ParseContext& ctx)
{
    GlobalDefs& g = config.global_defs;
    if (g.loc.line == 0) g.loc = block.loc;
    auto word = [&](std::string& into) {
        return [&into, &ctx](const Node& n) {
            if (auto w = one_word(n, ctx)) into = *w;
        };
    };
    KeywordTable table = {
        {"router_id", word(g.router_id)},
        {"notification_email", [&](const Node& n) { parse_emails(n, g, ctx); }},
        {"notification_email_from", word(g.notification_email_from)},
        {"smtp_server", [&](const Node& n) { parse_smtp_server(n, g, ctx); }},
        {"smtp_helo_name", word(g.smtp_helo_name)},
        {"smtp_connect_timeout", [&](const Node& n) { set_int(n, g.smtp_connect_timeout, 1, kMaxTimerSec, ctx); }},
        {"enable_script_security", [&](const Node& n) { g.enable_script_security = arg_flag(n, ctx); }},
        {"script_user", [&](const Node& n) { parse_script_user(n, g, ctx); }},
        {"vrrp_garp_master_delay", [&](const Node& n) { set_int(n, g.vrrp_garp_master_delay, 0, kMaxTimerSec, ctx); }},
        {"vrrp_garp_master_repeat", [&](const Node& n) { set_int(n, g.vrrp_garp_master_repeat, 1, INT_MAX, ctx); }},
        {"vrrp_garp_master_refresh",
         [&](const Node& n) { set_int(n, g.vrrp_garp_master_refresh, 0, kMaxTimerSec, ctx); }},
        {"vrrp_garp_master_refresh_repeat",
         [&](const Node& n) { set_int(n, g.vrrp_garp_master_refresh_repeat, 1, INT_MAX, ctx); }},
        {"vrrp_version", [&](const Node& n) { set_int(n, g.vrrp_version, 2, 3, ctx); }},
        {"vrrp_mcast_group4", [&](const Node& n) { parse_mcast_group(n, g.vrrp_mcast_group4, false, ctx); }},
        {"vrrp_mcast_group6", [&](const Node& n) { parse_mcast_group(n, g.vrrp_mcast_group6, true, ctx); }},
        {"vrrp_strict", [&](const Node& n) { g.vrrp_strict = arg_flag(n, ctx); }},
        {"lvs_sync_daemon", [&](const Node& n) { parse_lvs_sync_daemon(n, g, ctx); }},
    };
    for (std::string_view k : kOtherGlobal) table.emplace_back(k, [&g](const Node& n) { keep_other(n, g.other); });
    dispatch(block.children, table, ctx);
}

}  // namespace kadp::conf
