// Runs on: any (unit test; the test's main thread plays the control thread).
// No shell between the configuration and a script: a vrrp_script, a notify
// script and a MISC_CHECK written with shell syntax in them (`;`, `$(...)`,
// backquotes, `&&`, `|`, `>`) are loaded from a keepalived.conf and run
// through the ScriptRunner as kadp runs them (execve of the split argv):
// the would-be injections arrive as literal arguments and create nothing.
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "conf/diagnostics.h"
#include "conf/load.h"
#include "conf/model.h"
#include "control/event_loop.h"
#include "control/script_runner.h"

namespace kadp::ctl {
namespace {

using namespace std::chrono_literals;

class ScriptInjection : public ::testing::Test {
protected:
    void SetUp() override
    {
        block_control_signals();
        char tmpl[] = "/tmp/kadp-inj-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    // Runs `script` and returns what it printed (stdout and stderr).
    std::string run(const conf::Script& script)
    {
        ScriptRunner runner(loop_, ScriptSettings{});
        ScriptSpec spec = ScriptSpec::from(script, "injection");
        spec.capture_output = 4096;
        std::string output;
        bool done = false;
        auto h = runner.run(spec, 5s, [&](const ScriptResult& r) {
            output = r.output;
            done = r.succeeded();
            kill(getpid(), SIGTERM);
        });
        LoopHandlers lh;
        int ticks = 0;
        lh.on_tick = [&] {
            if (++ticks >= 5) kill(getpid(), SIGTERM);
        };
        EXPECT_EQ(loop_.run(lh), SIGTERM);
        EXPECT_TRUE(done) << script.command;
        return output;
    }

    // The files an injection would have created.
    std::vector<std::string> made() const
    {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(dir_)) out.push_back(e.path().filename());
        return out;
    }

    EventLoop loop_;
    std::string dir_;
};

TEST_F(ScriptInjection, ShellSyntaxInConfiguredCommandsIsNeverInterpreted)
{
    const std::string d = dir_;
    // Each command is /bin/echo with the injection as its arguments.
    const std::string semicolon = "/bin/echo ok; touch " + d + "/semicolon";
    const std::string subst = "/bin/echo $(touch " + d + "/subst)";
    const std::string backquote = "/bin/echo `touch " + d + "/backquote`";
    const std::string chain = "/bin/echo a && touch " + d + "/and | touch " + d + "/pipe > " + d + "/redirect";
    const std::string text = "global_defs {\n    script_user root\n}\n"
                             "vrrp_script chk {\n    script \"" + semicolon + "\"\n    interval 1\n}\n"
                             "vrrp_instance VI_1 {\n    state BACKUP\n    interface lan\n    virtual_router_id 51\n"
                             "    priority 100\n    virtual_ipaddress {\n        198.18.0.100\n    }\n"
                             "    notify_master \"" + subst + "\"\n    notify_backup \"" + chain + "\"\n"
                             "    track_script {\n        chk\n    }\n}\n"
                             "virtual_server 198.18.0.100 80 {\n    lb_kind NAT\n    protocol TCP\n"
                             "    real_server 198.18.1.1 80 {\n        MISC_CHECK {\n            misc_path \"" +
                             backquote + "\"\n        }\n    }\n}\n";
    conf::LoadOptions options;
    options.check_host = false;
    conf::Diagnostics diags;
    const conf::Config config = conf::load_text(text, "injection.conf", options, diags);
    ASSERT_FALSE(diags.has_errors());
    ASSERT_EQ(config.vrrp_scripts.size(), 1u);
    ASSERT_EQ(config.vrrp_instances.size(), 1u);
    ASSERT_EQ(config.virtual_servers.size(), 1u);
    ASSERT_EQ(config.virtual_servers[0].real_servers.size(), 1u);
    ASSERT_EQ(config.virtual_servers[0].real_servers[0].checkers.size(), 1u);

    const conf::Script& vrrp_script = config.vrrp_scripts[0].script;
    const conf::Script& notify_master = config.vrrp_instances[0].notify_master;
    const conf::Script& notify_backup = config.vrrp_instances[0].notify_backup;
    const conf::Script& misc = config.virtual_servers[0].real_servers[0].checkers[0].misc_path;

    EXPECT_EQ(vrrp_script.argv, (std::vector<std::string>{"/bin/echo", "ok;", "touch", d + "/semicolon"}));
    EXPECT_EQ(run(vrrp_script), "ok; touch " + d + "/semicolon\n");
    EXPECT_EQ(run(notify_master), "$(touch " + d + "/subst)\n");
    EXPECT_EQ(run(notify_backup), "a && touch " + d + "/and | touch " + d + "/pipe > " + d + "/redirect\n");
    EXPECT_EQ(run(misc), "`touch " + d + "/backquote`\n");
    EXPECT_TRUE(made().empty()) << "an injection ran: " << made().front();
}

}  // namespace
}  // namespace kadp::ctl
