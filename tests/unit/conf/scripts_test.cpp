// Runs on: any (unit test, needs the host's /bin and a temp dir; the cases
// with other owners need root). keepalived 2.2.7's checks on the scripts a
// configuration runs (found, executable, secure, with a user) and what its
// `-t` says about them; the same rows run against the real keepalived in
// tests/scripts/conf_corpus_vs_keepalived.sh.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "conf/load.h"
#include "conf/script_security.h"

namespace kadp::conf {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class Scripts : public ::testing::Test {
protected:
    void SetUp() override
    {
        // Under /tmp: sticky and root's, so the directory itself is secure.
        char tmpl[] = "/tmp/kadp-scripts-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        chmod(dir_.c_str(), 0755);
        script_ = make(dir_ / "check.sh", 0755);
    }
    void TearDown() override { fs::remove_all(dir_); }

    static std::string make(const fs::path& p, mode_t mode, uid_t uid = 0, gid_t gid = 0)
    {
        std::ofstream(p) << "#!/bin/sh\nexit 0\n";
        if (geteuid() == 0) {
            EXPECT_EQ(chown(p.c_str(), uid, gid), 0);
        }
        chmod(p.c_str(), mode);  // after chown, which clears set-uid
        return p.string();
    }
    fs::path mkdir(const std::string& name, mode_t mode, gid_t gid = 0)
    {
        const fs::path d = dir_ / name;
        fs::create_directory(d);
        if (geteuid() == 0) {
            EXPECT_EQ(chown(d.c_str(), 0, gid), 0);
        }
        chmod(d.c_str(), mode);
        return d;
    }

    // One instance on `lo` (exists in every namespace) tracking `chk`.
    Config load(const std::string& globals, const std::string& command)
    {
        return load_conf("global_defs {\n" + globals + "}\n" +  // lines 1..
                         "vrrp_script chk {\n  script \"" + command + "\"\n}\n"
                         "vrrp_instance V {\n  interface lo\n  virtual_router_id 9\n"
                         "  virtual_ipaddress {\n    198.18.0.9\n  }\n  track_script {\n    chk\n  }\n}\n");
    }
    Config load_conf(const std::string& text)
    {
        diags_ = Diagnostics{};
        LoadOptions o;  // check_host on: that is what is under test
        return load_text(text, "s.conf", o, diags_);
    }
    static constexpr const char* kSecure = "  enable_script_security\n  script_user root\n";

    bool has(const std::string& text) const
    {
        for (const auto& d : diags_.all())
            if (d.message.find(text) != std::string::npos) return true;
        return false;
    }

    fs::path dir_;
    std::string script_;
    Diagnostics diags_;
};

TEST_F(Scripts, WithoutScriptSecurityRunningScriptsIsAViolation)
{
    auto c = load("", script_ + " arg");
    EXPECT_TRUE(has("SECURITY VIOLATION - scripts are being executed but script_security not enabled."));
    EXPECT_FALSE(has("There are insecure scripts"));
    EXPECT_TRUE(diags_.has_security_violation());  // `kadp -t` exits 6
    EXPECT_FALSE(c.vrrp_scripts[0].script.disabled);
    EXPECT_EQ(c.vrrp_scripts[0].script.path, script_);
}

TEST_F(Scripts, WithoutScriptSecurityAnInsecureScriptRunsAndIsMentioned)
{
    const auto w = mkdir("w777", 0777);
    auto c = load("", make(w / "s.sh", 0755));
    EXPECT_TRUE(has("SECURITY VIOLATION - scripts are being executed but script_security not enabled. "
                    "There are insecure scripts."));
    EXPECT_FALSE(c.vrrp_scripts[0].script.disabled);
}

TEST_F(Scripts, CheckerScriptsAreAViolationOfTheirOwn)
{
    load_conf("virtual_server 198.18.0.55 53 {\n delay_loop 10\n lb_algo rr\n lb_kind DR\n protocol UDP\n"
              " real_server 198.18.1.61 53 {\n  MISC_CHECK {\n   misc_path \"" + script_ + "\"\n  }\n }\n}\n"
              "vrrp_instance V {\n interface lo\n virtual_router_id 9\n notify_master " + script_ +
              "\n virtual_ipaddress {\n  198.18.0.9\n }\n}\n");
    EXPECT_TRUE(has("SECURITY VIOLATION - check scripts are being executed but script_security not enabled."));
    EXPECT_TRUE(has("SECURITY VIOLATION - scripts are being executed but script_security not enabled."));
    EXPECT_TRUE(diags_.has_security_violation());
}

TEST_F(Scripts, MissingScriptIsDisabled)
{
    auto c = load("", (dir_ / "absent.sh").string());
    EXPECT_TRUE(has("Disabling track script chk since not found/accessible"));
    EXPECT_TRUE(c.vrrp_scripts[0].script.disabled);
    EXPECT_FALSE(has("SECURITY VIOLATION"));  // nothing left that would run
    EXPECT_FALSE(diags_.has_security_violation());
}

TEST_F(Scripts, BareNameIsFoundThroughPath)
{
    auto c = load(kSecure, "true");
    EXPECT_EQ(c.vrrp_scripts[0].script.path.rfind("/", 0), 0u);
    EXPECT_FALSE(c.vrrp_scripts[0].script.disabled);
    EXPECT_EQ(diags_.all().size(), 0u) << Diagnostics::format(diags_.all().front());
}

TEST_F(Scripts, NotExecutableScriptIsDisabledWithoutAMessage)
{
    // keepalived -t exits 0; only its daemon log says "not executable".
    auto c = load(kSecure, make(dir_ / "plain.sh", 0666));
    EXPECT_TRUE(c.vrrp_scripts[0].script.disabled);
    EXPECT_EQ(diags_.all().size(), 0u) << Diagnostics::format(diags_.all().front());
}

TEST_F(Scripts, ScriptsUnderStickyDirectoriesAreSecure)
{
    // keepalived accepts /tmp and any sticky directory, even world-writable.
    auto c = load(kSecure, script_);
    EXPECT_FALSE(c.vrrp_scripts[0].script.disabled);
    const auto sticky = mkdir("sticky", 01777);
    c = load(kSecure, make(sticky / "s.sh", 0755));
    EXPECT_FALSE(c.vrrp_scripts[0].script.disabled);
    EXPECT_EQ(diags_.all().size(), 0u) << Diagnostics::format(diags_.all().front());
}

// What root runs: {where, verdict}, as keepalived 2.2.7 decides.
TEST_F(Scripts, RootScriptsFollowKeepalivedsRule)
{
    if (geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
    const group* other = getgrnam("nogroup");
    const passwd* nobody = getpwnam("nobody");
    const auto w777 = mkdir("w777", 0777);
    const auto g775 = mkdir("g775", 0775);
    const std::string secure = make(dir_ / "ok.sh", 0755);
    struct Row {
        std::string what;
        std::string path;
        bool refused;
    };
    std::vector<Row> rows = {
        {"directory 0777", make(w777 / "s.sh", 0755), true},
        {"directory 0775, group root", make(g775 / "s.sh", 0755), false},
        {"file 0777", make(dir_ / "f777.sh", 0777), true},
        {"file 0775, group root", make(dir_ / "f775.sh", 0775), false},
        {"link in a 0777 directory to a secure file", (w777 / "link").string(), false},
        {"secure link into a 0777 directory", (dir_ / "link-in").string(), true},
    };
    fs::create_symlink(secure, w777 / "link");
    fs::create_symlink(w777 / "s.sh", dir_ / "link-in");
    if (other != nullptr) {
        const auto g775o = mkdir("g775o", 0775, other->gr_gid);
        rows.push_back({"directory 0775, another group", make(g775o / "s.sh", 0755), true});
        rows.push_back({"file 0775, another group", make(dir_ / "f775o.sh", 0775, 0, other->gr_gid), true});
    }
    if (nobody != nullptr) rows.push_back({"file of nobody", make(dir_ / "fn.sh", 0755, nobody->pw_uid), true});
    for (const auto& r : rows) {
        auto c = load(kSecure, r.path);
        EXPECT_EQ(c.vrrp_scripts[0].script.disabled, r.refused) << r.what;
        EXPECT_EQ(has("Disabling track script chk due to insecure"), r.refused) << r.what;
        const ScriptCheck check = check_script(r.path, 0, 0);
        EXPECT_EQ(check.verdict == ScriptCheck::Verdict::insecure, r.refused) << r.what;
        EXPECT_EQ(check.path, fs::canonical(r.path).string()) << r.what;
    }
    EXPECT_EQ(check_script((w777 / "s.sh").string(), 0, 0).unsafe, w777.string());
    EXPECT_EQ(check_script((dir_ / "link-in").string(), 0, 0).unsafe, w777.string());
}

TEST_F(Scripts, ANonRootUserNeedsProtectionOnlyForRootPrivileges)
{
    if (geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
    const passwd* nobody = getpwnam("nobody");
    if (nobody == nullptr) GTEST_SKIP() << "no user nobody";
    const uid_t uid = nobody->pw_uid;
    const gid_t gid = nobody->pw_gid;
    const auto w777 = mkdir("w777", 0777);
    const std::string own = make(dir_ / "own.sh", 0755, uid, gid);  // writable by that very user
    const std::string in_w777 = make(w777 / "s.sh", 0755);
    const std::string suid = make(w777 / "suid.sh", 04755);
    EXPECT_EQ(check_script(own, uid, gid).verdict, ScriptCheck::Verdict::ok);
    EXPECT_EQ(check_script(in_w777, uid, gid).verdict, ScriptCheck::Verdict::ok);
    EXPECT_EQ(check_script(suid, uid, gid).verdict, ScriptCheck::Verdict::insecure);  // set-uid root
    EXPECT_EQ(check_script(in_w777, uid, 0).verdict, ScriptCheck::Verdict::insecure);  // group root

    auto c = load("  enable_script_security\n  script_user nobody\n", own);
    EXPECT_FALSE(c.vrrp_scripts[0].script.disabled);
    EXPECT_EQ(diags_.all().size(), 0u) << Diagnostics::format(diags_.all().front());
    c = load("  enable_script_security\n  script_user nobody root\n", in_w777);
    EXPECT_TRUE(c.vrrp_scripts[0].script.disabled);
}

TEST_F(Scripts, ADirectoryTheUserCannotSearchHidesTheScript)
{
    if (geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
    const passwd* nobody = getpwnam("nobody");
    if (nobody == nullptr) GTEST_SKIP() << "no user nobody";
    const auto closed = mkdir("closed", 0700);
    const std::string s = make(closed / "s.sh", 0755);
    EXPECT_EQ(check_script(s, nobody->pw_uid, nobody->pw_gid).verdict, ScriptCheck::Verdict::not_found);
    EXPECT_EQ(check_script(s, 0, 0).verdict, ScriptCheck::Verdict::ok);
}

TEST_F(Scripts, InsecureNotifyAndMiscScriptsAreDisabledSilently)
{
    const auto w777 = mkdir("w777", 0777);
    const std::string s = make(w777 / "s.sh", 0755);
    auto c = load_conf(std::string("global_defs {\n") + kSecure + "}\n" +
                       "virtual_server 198.18.0.55 53 {\n delay_loop 10\n lb_algo rr\n lb_kind DR\n protocol UDP\n"
                       " real_server 198.18.1.61 53 {\n  MISC_CHECK {\n   misc_path \"" + s + "\"\n  }\n }\n}\n"
                       "vrrp_instance V {\n interface lo\n virtual_router_id 9\n notify_master " + s +
                       "\n virtual_ipaddress {\n  198.18.0.9\n }\n}\n");
    EXPECT_TRUE(c.vrrp_instances[0].notify_master.disabled);
    EXPECT_TRUE(c.virtual_servers[0].real_servers[0].checkers[0].misc_path.disabled);
    EXPECT_EQ(diags_.all().size(), 0u) << Diagnostics::format(diags_.all().front());
}

TEST_F(Scripts, UnknownScriptUserDisablesScripts)
{
    auto c = load("  enable_script_security\n  script_user kadp-no-such-user\n", "/bin/true");
    EXPECT_TRUE(has("Unable to set user kadp-no-such-user for track script chk"));
    EXPECT_TRUE(c.vrrp_scripts[0].script.disabled);
}

TEST_F(Scripts, UntrackedScriptIsCheckedWhenThereAreInstances)
{
    // keepalived's VRRP process checks every vrrp_script it has.
    load_conf("vrrp_script chk {\n  script \"/nonexistent/x\"\n}\nvrrp_instance V {\n interface lo\n"
              " virtual_router_id 9\n virtual_ipaddress {\n  198.18.0.9\n }\n}\n");
    EXPECT_TRUE(has("Disabling track script chk since not found/accessible"));
}

TEST_F(Scripts, ScriptWithoutInstancesIsNotChecked)
{
    load_conf("vrrp_script chk {\n  script \"/nonexistent/x\"\n}\n");
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
    EXPECT_THAT(d2.all()[0].message, HasSubstr("SECURITY VIOLATION"));
}

}  // namespace
}  // namespace kadp::conf
