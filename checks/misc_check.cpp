// Runs on: control thread. MISC_CHECK: misc_path (with its arguments) runs
// as a child process through the shared ScriptRunner (never blocking the
// loop); its end is judged by ctl::misc_check_verdict (keepalived's
// check_misc.c): exit 0 up, 1 down, 2..255 down or, with misc_dynamic, up
// with weight status - 2. A run still going after misc_timeout (default
// delay_loop) has its process group killed and counts as a failure. A
// script the configuration disabled (missing, insecure) or the runner
// refuses never succeeds; it is said once in the log (plus the failure's
// reason while the checker was up).
#include <cmath>
#include <exception>

#include "checks/checker.h"
#include "checks/checks_internal.h"
#include "control/misc_check_verdict.h"

namespace kadp::chk {
namespace {

Millis seconds_to_millis(double seconds)
{
    if (!(seconds > 0)) return Millis(0);
    return Millis(static_cast<Millis::rep>(std::llround(seconds * 1000.0)));
}

class MiscCheck final : public Checker {
public:
    MiscCheck(ctl::EventLoop& loop, const conf::Checker& config, LogFn log, ctl::ScriptRunner& runner)
        : Checker(loop, config, std::move(log)), runner_(&runner),
          spec_(ctl::ScriptSpec::from(config.misc_path, "MISC_CHECK of " + name())),
          timeout_(seconds_to_millis(config.misc_timeout > 0 ? config.misc_timeout : config.delay_loop.value))
    {
        if (!config.user.empty()) {
            spec_.user = config.user;
            spec_.group = config.group;
        }
        if (timeout_.count() == 0) timeout_ = Millis(1000);
    }
    ~MiscCheck() override { run_.reset(); }

private:
    void attempt() override
    {
        if (config().misc_path.disabled || config().misc_path.empty()) {
            if (!told_) {
                told_ = true;
                logger().warning("MISC_CHECK of " + name() + ": script [" + config().misc_path.command +
                    "] is disabled (missing or insecure, see the configuration warnings): it never succeeds");
            }
            done(false);
            return;
        }
        try {
            run_ = runner_->run(spec_, timeout_, [this](const ctl::ScriptResult& r) { finished(r); });
        } catch (const std::exception& e) {
            done(false, "Misc check for [" + config().misc_path.command + "] could not start: " + e.what());
        }
    }
    void abandon() override { run_.reset(); }

    void finished(const ctl::ScriptResult& r)
    {
        // A refusal (security, missing, unknown user) is logged by the runner,
        // once per configuration (HealthCheckers), and as this attempt's
        // reason while the checker is up: not again at every run.
        const ctl::MiscCheckVerdict v = ctl::misc_check_verdict(r, config().misc_dynamic);
        if (v.weight) report_weight(*v.weight);  // before done(): the server's next announcement uses it
        if (v.up) done(true);
        else done(false, "Misc check for [" + config().misc_path.command + "] " + v.reason + ".");
    }

    std::string success_line() const override
    {
        return "Misc check for [" + config().misc_path.command + "] of " + name() + " succeeded.";
    }
    std::string failure_line(int retries) const override
    {
        if (retries > 0) {
            return "MISC_CHECK on service " + name() + " failed after " + std::to_string(retries) + " retries.";
        }
        return "MISC_CHECK on service " + name() + " failed.";
    }

    ctl::ScriptRunner* runner_;
    ctl::ScriptSpec spec_;
    Millis timeout_;
    ctl::ScriptRunner::Handle run_;
    bool told_ = false;  // the disabled script was logged
};

}  // namespace

std::unique_ptr<Checker> make_misc_check(ctl::EventLoop& loop, const conf::Checker& config, LogFn log,
                                         ctl::ScriptRunner& runner)
{
    return std::make_unique<MiscCheck>(loop, config, std::move(log), runner);
}

}  // namespace kadp::chk
