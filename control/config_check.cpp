// Runs on: control thread.
#include "control/config_check.h"

#include <ostream>

#include "conf/json_dump.h"
#include "conf/load.h"

namespace kadp::ctl {

int run_config_check(const CliOptions& options, std::ostream& out, std::ostream& err)
{
    conf::LoadOptions load;
    load.config_id = options.config_id;
    conf::Diagnostics diags;
    auto config = conf::load_file(options.config_file, load, diags);
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
