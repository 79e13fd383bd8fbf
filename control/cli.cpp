// Runs on: control thread.
#include "control/cli.h"

#include <algorithm>

namespace kadp::ctl {
namespace {

// EAL options that take a value as the next word (so that value is not
// mistaken for one of ours).
bool eal_takes_value(const std::string& opt)
{
    static const char* const kWithValue[] = {
        "-l", "-c", "-n", "-r", "-m", "-a", "-b", "--lcores", "--vdev", "--file-prefix", "--socket-mem",
        "--socket-limit", "--proc-type", "--base-virtaddr", "--iova-mode", "--log-level", "--main-lcore",
        "--service-lcores", "--allow", "--block", "--huge-dir", "--syslog", "--vfio-intr", "--trace",
        "--trace-dir", "--trace-bufsz", "--trace-mode", "--mbuf-pool-ops-name", "--huge-unlink",
        "--force-max-simd-bitwidth", "-d",
    };
    return std::any_of(std::begin(kWithValue), std::end(kWithValue), [&](const char* o) { return opt == o; });
}

}  // namespace

CliResult parse_cli(const std::vector<std::string>& args)
{
    CliOptions o;
    bool after_separator = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string& dst) -> bool {
            if (i + 1 >= args.size()) return false;
            dst = args[++i];
            return true;
        };
        if (a == "--") {
            after_separator = true;
        } else if (a == "-f" || a == "--use-file") {
            if (!value(o.config_file)) return {std::nullopt, a + " needs a file name"};
        } else if (a.rfind("--use-file=", 0) == 0) {
            o.config_file = a.substr(11);
        } else if (a == "-i" || a == "--config-id") {
            if (!value(o.config_id)) return {std::nullopt, a + " needs an id"};
        } else if (a.rfind("--config-id=", 0) == 0) {
            o.config_id = a.substr(12);
        } else if (a == "-t" || a == "--config-test") {
            o.config_test = true;
        } else if (a == "--dump-config") {
            o.dump_config = true;
        } else if (a == "--backend" || a.rfind("--backend=", 0) == 0) {
            std::string name;
            if (a == "--backend") {
                if (!value(name)) return {std::nullopt, "--backend needs dpdk, kernel or auto"};
            } else {
                name = a.substr(10);
            }
            auto b = backend_from_name(name);
            if (!b) return {std::nullopt, "--backend '" + name + "': expected dpdk, kernel or auto"};
            o.backend = *b;
        } else if (a == "--control-socket") {
            if (!value(o.control_socket) || o.control_socket.empty())
                return {std::nullopt, "--control-socket needs a path"};
        } else if (a.rfind("--control-socket=", 0) == 0) {
            o.control_socket = a.substr(17);
            if (o.control_socket.empty()) return {std::nullopt, "--control-socket needs a path"};
        } else if (a == "--log-level" || a.rfind("--log-level=", 0) == 0) {
            std::string name;
            if (a == "--log-level") {
                if (!value(name)) return {std::nullopt, "--log-level needs error, warning, info or debug"};
            } else {
                name = a.substr(12);
            }
            const auto level = log_level_from_name(name);
            if (!level) return {std::nullopt, "--log-level '" + name + "': expected error, warning, info or debug"};
            o.log.level = *level;
        } else if (a == "-D" || a == "--log-detail") {
            o.log.level = LogLevel::debug;
        } else if (a == "-S" || a == "--log-facility" || a.rfind("--log-facility=", 0) == 0) {
            std::string name;
            if (a.rfind("--log-facility=", 0) == 0) {
                name = a.substr(15);
            } else if (!value(name)) {
                return {std::nullopt, a + " needs a facility (0-7, local0-local7, daemon, user)"};
            }
            const auto facility = syslog_facility_from_name(name);
            if (!facility) return {std::nullopt, a + " '" + name + "': expected 0-7, local0-local7, daemon or user"};
            o.log.syslog_facility = *facility;
        } else if (a == "--log-console") {
            o.log.console = true;
        } else if (a == "--no-exception-path") {
            o.exception_path = false;
        } else if (a == "--strict") {
            o.strict = true;
        } else if (a == "-h" || a == "--help") {
            o.help = true;
        } else if (a == "-v" || a == "--version") {
            o.version = true;
        } else if (!after_separator && !a.empty() && a[0] == '-') {
            o.eal_args.push_back(a);
            if (eal_takes_value(a) && i + 1 < args.size()) o.eal_args.push_back(args[++i]);
        } else {
            return {std::nullopt, "unexpected argument '" + a + "'"};
        }
    }
    return {o, {}};
}

std::string usage_text()
{
    return "Usage: kadp [EAL options] [--] [options]\n"
           "       kadp genhash -s ADDR -p PORT -u URL [-S] [-V VHOST]   (keepalived's genhash)\n"
           "\n"
           "A keepalived-compatible load balancer: a DPDK data plane, or Linux IPVS.\n"
           "\n"
           "Options:\n"
           "  -f, --use-file FILE   configuration file (default /etc/kadp/keepalived.conf)\n"
           "  -t, --config-test     check the configuration and exit\n"
           "                        (0 clean, 4 file missing or unreadable, 5 errors)\n"
           "      --strict          with -t: warnings count as errors too (exit 5)\n"
           "      --dump-config     print the resolved configuration as JSON and exit\n"
           "  -i, --config-id ID    config-id for @ID lines (default: host name up to the first dot)\n"
           "      --backend B       dpdk, kernel or auto (default: dpdk when the configuration\n"
           "                        has a dataplane block, kernel otherwise)\n"
           "      --control-socket PATH  kadpctl's Unix socket (default /run/kadp/kadp.sock, mode 0600)\n"
           "      --no-exception-path  no kernel TAP per dataplane interface: what is for the\n"
           "                        node's own addresses is dropped (tests, kadp without a kernel path)\n"
           "      --log-level L     error, warning, info (default) or debug: lines below L are dropped\n"
           "  -D, --log-detail      keepalived's option: --log-level debug\n"
           "  -S, --log-facility F  log to syslog, facility 0-7 (local0-local7), daemon or user,\n"
           "                        instead of stderr\n"
           "      --log-console     with -S: stderr as well (keepalived's -l; kadp's -l is EAL's)\n"
           "  -v, --version         print the version and exit\n"
           "  -h, --help            print this help and exit\n"
           "\n"
           "EAL options (--lcores, -l, --vdev, -a, --no-huge, -m, --in-memory, --file-prefix, ...)\n"
           "go to DPDK unchanged (dpdk backend only). Diagnostics are printed as\n"
           "FILE:LINE: error|warning: message. `kadpctl` (list, conns, status, reload) works\n"
           "the same with either backend.\n"
           "SIGTERM / SIGINT stop kadp cleanly; SIGHUP (or `kadpctl reload`) reloads the configuration.\n";
}

}  // namespace kadp::ctl
