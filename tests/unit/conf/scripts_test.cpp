// Runs on: any (unit test, needs the host's /bin and a temp dir). keepalived's
// checks on the scripts a configuration runs: found, secure, with a user.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "conf/load.h"

namespace kadp::conf {
namespace {

using ::testing::HasSubstr;

class Scripts : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/kadp-scripts-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        chmod(dir_.c_str(), 0755);
        script_ = (dir_ / "check.sh").string();
        std::ofstream(script_) << "#!/bin/sh\nexit 0\n";
        chmod(script_.c_str(), 0755);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    // One instance on `lo` (exists in every namespace) tracking `chk`.
    Config load(const std::string& globals, const std::string& command)
    {
        std::string text = "global_defs {\n" + globals + "}\n" +            // lines 1..
                           "vrrp_script chk {\n  script \"" + command + "\"\n}\n"
                           "vrrp_instance V {\n  interface lo\n  virtual_router_id 9\n"
                           "  virtual_ipaddress {\n    198.18.0.9\n  }\n  track_script {\n    chk\n  }\n}\n";
        diags_ = Diagnostics{};
        LoadOptions o;  // check_host on: that is what is under test
        return load_text(text, "s.conf", o, diags_);
    }

    bool has(const std::string& text) const
    {
        for (const auto& d : diags_.all())
            if (d.message.find(text) != std::string::npos) return true;
        return false;
    }

    std::filesystem::path dir_;
    std::string script_;
    Diagnostics diags_;
};

TEST_F(Scripts, WithoutScriptSecurityRunningScriptsIsReported)
{
    auto c = load("", script_ + " arg");
    EXPECT_TRUE(has("SECURITY VIOLATION - scripts are being executed but script_security not enabled."));
    EXPECT_FALSE(c.vrrp_scripts[0].script.disabled);
    EXPECT_EQ(c.vrrp_scripts[0].script.path, script_);
}

TEST_F(Scripts, MissingScriptIsDisabled)
{
    auto c = load("", (dir_ / "absent.sh").string());
    EXPECT_TRUE(has("Disabling track script chk since not found/accessible"));
    EXPECT_TRUE(c.vrrp_scripts[0].script.disabled);
    EXPECT_FALSE(has("SECURITY VIOLATION"));  // nothing left that would run
}

TEST_F(Scripts, BareNameIsFoundThroughPath)
{
    auto c = load("  enable_script_security\n  script_user root\n", "true");
    EXPECT_EQ(c.vrrp_scripts[0].script.path.rfind("/", 0), 0u);
    EXPECT_FALSE(c.vrrp_scripts[0].script.disabled);
    EXPECT_EQ(diags_.all().size(), 0u) << Diagnostics::format(diags_.all().front());
}

TEST_F(Scripts, ScriptUnderWorldWritableTmpIsInsecure)
{
    auto c = load("  enable_script_security\n  script_user root\n", script_);
    // /tmp is world-writable: a script under it is never secure.
    EXPECT_TRUE(has("due to insecure path"));
    EXPECT_TRUE(c.vrrp_scripts[0].script.disabled);
}

TEST_F(Scripts, LinkInAnInsecurePlaceToASecureScriptIsInsecure)
{
    // /bin/true is secure, but anyone could replace the link under /tmp.
    std::filesystem::create_symlink("/bin/true", dir_ / "link");
    auto c = load("  enable_script_security\n  script_user root\n", (dir_ / "link").string());
    EXPECT_TRUE(has("due to insecure path"));
    EXPECT_TRUE(c.vrrp_scripts[0].script.disabled);
}

TEST_F(Scripts, SecureScriptWithRootUserIsClean)
{
    auto c = load("  enable_script_security\n  script_user root\n", "/bin/true");
    EXPECT_FALSE(c.vrrp_scripts[0].script.disabled);
    EXPECT_FALSE(has("insecure"));
}

TEST_F(Scripts, UnknownScriptUserDisablesScripts)
{
    auto c = load("  enable_script_security\n  script_user kadp-no-such-user\n", "/bin/true");
    EXPECT_TRUE(has("Unable to set user kadp-no-such-user for track script chk"));
    EXPECT_TRUE(c.vrrp_scripts[0].script.disabled);
}

TEST_F(Scripts, UntrackedScriptIsNotChecked)
{
    diags_ = Diagnostics{};
    LoadOptions o;
    load_text("vrrp_script chk {\n  script \"/nonexistent/x\"\n}\n", "s.conf", o, diags_);
    EXPECT_EQ(diags_.all().size(), 0u);
}

TEST_F(Scripts, HostChecksCanBeTurnedOff)
{
    diags_ = Diagnostics{};
    LoadOptions o;
    o.check_host = false;
    auto c = load_text("vrrp_script chk {\n  script \"/nonexistent/x\"\n}\nvrrp_instance V {\n interface lo\n"
                       " virtual_router_id 9\n virtual_ipaddress {\n  198.18.0.9\n }\n track_script {\n  chk\n }\n}\n",
                       "s.conf", o, diags_);
    EXPECT_EQ(diags_.all().size(), 0u);
    EXPECT_FALSE(c.vrrp_scripts[0].script.disabled);
}

}  // namespace
}  // namespace kadp::conf

namespace kadp::conf {
namespace {

TEST(ScriptsNotify, MissingNotifyScriptIsDisabledSilentlyAndPresentOneCounts)
{
    LoadOptions o;
    Diagnostics d1;
    auto c = load_text("vrrp_instance V {\n interface lo\n virtual_router_id 9\n notify_master /nonexistent/n\n"
                       " virtual_ipaddress {\n  198.18.0.9\n }\n}\n", "n.conf", o, d1);
    EXPECT_EQ(d1.all().size(), 0u);
    EXPECT_TRUE(c.vrrp_instances[0].notify_master.disabled);

    Diagnostics d2;
    load_text("vrrp_instance V {\n interface lo\n virtual_router_id 9\n notify_master /bin/true\n"
              " virtual_ipaddress {\n  198.18.0.9\n }\n}\n", "n.conf", o, d2);
    ASSERT_EQ(d2.all().size(), 1u);
    EXPECT_EQ(d2.all()[0].loc.line, 4);
    EXPECT_THAT(d2.all()[0].message, ::testing::HasSubstr("SECURITY VIOLATION"));
}

}  // namespace
}  // namespace kadp::conf
