// Runs on: any (unit test). DesiredState: what changes its version and what
// a new configuration keeps of the checkers' verdicts.
#include "control/desired_state.h"

#include <gtest/gtest.h>

#include "conf/load_fixture.h"

namespace kadp::ctl {
namespace {

const char* kTwoServers =
    "virtual_server 198.18.0.100 80 {\n"
    "    protocol TCP\n"
    "    real_server 198.19.0.1 80 {\n    }\n"
    "    real_server 198.19.0.2 80 {\n    }\n"
    "}\n";

conf::Config load_ok(const std::string& text) {
    conf::testing::Loaded l = conf::testing::load(text);
    EXPECT_FALSE(l.diags.has_errors()) << conf::testing::all_diags(l);
    return std::move(l.config);
}

RsIdentity rs_of(const conf::Config& c, std::size_t i) {
    const conf::VirtualServer& vs = c.virtual_servers[0];
    return RsIdentity{vs_identity(vs), vs.real_servers[i].address, vs.real_servers[i].port};
}

TEST(DesiredState, OnlyRealChangesBumpTheVersion) {
    DesiredState d(load_ok(kTwoServers));
    const RsIdentity rs = rs_of(d.config(), 0);
    std::uint64_t v = d.version();
    EXPECT_TRUE(d.set_weight(rs, 0));
    EXPECT_GT(d.version(), v);
    v = d.version();
    EXPECT_FALSE(d.set_weight(rs, 0));
    EXPECT_FALSE(d.clear_weight(rs_of(d.config(), 1)));
    EXPECT_EQ(d.version(), v);
    EXPECT_TRUE(d.set_weight(rs, 3));
    EXPECT_EQ(d.weights().at(rs), 3);
    EXPECT_TRUE(d.clear_weight(rs));
    EXPECT_TRUE(d.weights().empty());

    const conf::IpAddr vip = d.config().virtual_servers[0].address;
    v = d.version();
    EXPECT_FALSE(d.set_vip_owned(vip, true));  // owned unless released
    EXPECT_EQ(d.version(), v);
    EXPECT_TRUE(d.set_vip_owned(vip, false));
    EXPECT_EQ(d.released_vips().count(vip), 1u);
    EXPECT_TRUE(d.set_vip_owned(vip, true));
    EXPECT_TRUE(d.released_vips().empty());

    const VsIdentity vs = vs_identity(d.config().virtual_servers[0]);
    v = d.version();
    EXPECT_FALSE(d.set_quorum_lost(vs, false));
    EXPECT_EQ(d.version(), v);
    EXPECT_TRUE(d.set_quorum_lost(vs, true));
    EXPECT_GT(d.version(), v);
    EXPECT_EQ(d.verdicts().quorum_lost.count(vs), 1u);
    EXPECT_FALSE(d.set_quorum_lost(vs, true));
    EXPECT_TRUE(d.set_quorum_lost(vs, false));
    EXPECT_TRUE(d.quorum_lost().empty());
}

TEST(DesiredState, ANewConfigurationDropsTheQuorumVerdictOfAVirtualServerItLost) {
    DesiredState d(load_ok(kTwoServers));
    const VsIdentity vs = vs_identity(d.config().virtual_servers[0]);
    d.set_quorum_lost(vs, true);
    d.set_config(load_ok(kTwoServers));
    EXPECT_EQ(d.quorum_lost().count(vs), 1u);
    d.set_config(load_ok("virtual_server 198.18.0.101 80 {\n    protocol TCP\n}\n"));
    EXPECT_TRUE(d.quorum_lost().empty());
}

TEST(DesiredState, ANewConfigurationKeepsVerdictsOfRealServersItStillHas) {
    DesiredState d(load_ok(kTwoServers));
    const RsIdentity kept = rs_of(d.config(), 0);
    const RsIdentity gone = rs_of(d.config(), 1);
    d.set_weight(kept, 0);
    d.set_weight(gone, 0);
    const std::uint64_t v = d.version();
    d.set_config(load_ok(
        "virtual_server 198.18.0.100 80 {\n    protocol TCP\n    real_server 198.19.0.1 80 {\n    }\n}\n"));
    EXPECT_GT(d.version(), v);
    ASSERT_EQ(d.weights().size(), 1u);
    EXPECT_EQ(d.weights().count(kept), 1u);
    EXPECT_EQ(real_server_identities(d.config()).size(), 1u);
}

}  // namespace
}  // namespace kadp::ctl
