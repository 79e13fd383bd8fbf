// Runs on: control thread.
#include "control/config_check.h"

#include <ostream>

#include "conf/json_dump.h"
#include "conf/load.h"
#include "control/vs_expand.h"
#include "dataplane/sched/sched.h"

namespace kadp::ctl {

namespace {

// The data plane runs IPVS's schedulers but not every one a kernel may have
// (twos): with the dpdk backend, say so now rather than when kadp starts.
void check_dataplane_schedulers(const conf::Config& config, const CliOptions& options, conf::Diagnostics& diags)
{
    Backend backend = options.backend;
    if (backend == Backend::automatic) backend = config.dataplane ? Backend::dpdk : Backend::kernel;
    if (backend != Backend::dpdk) return;
    for (const conf::VirtualServer& vs : config.virtual_servers) {
        if (dp::sched_from_name(vs.lb_algo)) continue;
        diags.error(vs.loc, "virtual server " + describe(vs) + " (" + vs.loc.file + ":" + std::to_string(vs.loc.line) +
                                "): lb_algo " + vs.lb_algo + " is not supported by the data plane (supported: " +
                                dp::sched_names() + ")");
    }
}

}  // namespace

int run_config_check(const CliOptions& options, std::ostream& out, std::ostream& err)
{
    conf::LoadOptions load;
    load.config_id = options.config_id;
    conf::Diagnostics diags;
    auto config = conf::load_file(options.config_file, load, diags);
    if (config) check_dataplane_schedulers(*config, options, diags);
    for (const auto& d : diags.all()) err << conf::Diagnostics::format(d) << '\n';
    if (!config) return kExitNoConfig;
    const int failed = diags.has_security_violation() ? kExitScriptSecurity : kExitConfigError;
    if (diags.has_errors()) {
        err << options.config_file << ": " << diags.error_count() << " error(s), " << diags.warning_count()
            << " warning(s)\n";
        return failed;
    }
    if (options.strict && diags.warning_count() > 0) {
        err << options.config_file << ": " << diags.warning_count() << " warning(s), failing because of --strict\n";
        return failed;
    }
    if (options.dump_config) out << conf::dump_json(*config);
    return diags.has_security_violation() ? kExitScriptSecurity : kExitOk;
}

}  // namespace kadp::ctl
