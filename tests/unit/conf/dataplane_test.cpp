// Runs on: any (unit test). The kadp-only `dataplane { }` block.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conf/load.h"
#include "tests/unit/conf/load_fixture.h"

namespace kadp::conf {
namespace {

using ::testing::HasSubstr;
using namespace kadp::conf::testing;

Loaded load(std::string_view text)
{
    Loaded l;
    l.config = load_text(text, "dp.conf", LoadOptions{}, l.diags);
    return l;
}

std::vector<std::string> messages(const Diagnostics& d, Severity s)
{
    std::vector<std::string> out;
    for (const auto& x : d.all()) {
        if (x.severity == s) out.push_back(Diagnostics::format(x));
    }
    return out;
}

// Exactly one error, at `line`, containing `text`.
void expect_one_error(std::string_view config, int line, const std::string& text)
{
    const Loaded l = load(config);
    const auto errors = messages(l.diags, Severity::error);
    ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
    EXPECT_THAT(errors[0], HasSubstr("dp.conf:" + std::to_string(line) + ": error: "));
    EXPECT_THAT(errors[0], HasSubstr(text));
}

TEST(Dataplane, AbsentMeansNull)
{
    const Loaded l = load("global_defs {\n}\n");
    EXPECT_FALSE(l.config.dataplane.has_value());
}

TEST(Dataplane, FullBlockWithDefaults)
{
    const Loaded l = load(R"(dataplane {
    interface eth0 {
        device "net_af_packet0,iface=veth0"
        address 198.18.0.254/24
        address 2001:db8:1::fe/64
    }
    interface eth1 {
        device 0000:03:00.0
        address 198.19.0.254/24
        mtu 9000
        vlan 100
        rx_queues 4
        tx_queues 2
        exception_interface tap-up
    }
    route 198.19.128.0/17 via 198.19.0.1 dev eth1
    route default via 198.18.0.1
    route 2001:db8:2::/48 via 2001:db8:1::1
    conn_table_size 4194304
}
)");
    EXPECT_THAT(messages(l.diags, Severity::error), ::testing::IsEmpty());
    EXPECT_THAT(messages(l.diags, Severity::warning), ::testing::IsEmpty());
    ASSERT_TRUE(l.config.dataplane);
    const Dataplane& dp = *l.config.dataplane;
    EXPECT_EQ(dp.loc.line, 1);
    ASSERT_EQ(dp.interfaces.size(), 2u);
    const auto& e0 = dp.interfaces[0];
    EXPECT_EQ(e0.name, "eth0");
    EXPECT_EQ(e0.loc.line, 2);
    EXPECT_EQ(e0.device, "net_af_packet0,iface=veth0");
    ASSERT_EQ(e0.address.size(), 2u);
    EXPECT_EQ(e0.address[0].to_string(), "198.18.0.254/24");
    EXPECT_EQ(e0.address[1].to_string(), "2001:db8:1::fe/64");
    EXPECT_EQ(e0.mtu, 1500);
    EXPECT_FALSE(e0.vlan);
    EXPECT_FALSE(e0.rx_queues);
    EXPECT_FALSE(e0.tx_queues);
    EXPECT_EQ(e0.exception_interface, "kadp-eth0");
    const auto& e1 = dp.interfaces[1];
    EXPECT_EQ(e1.device, "0000:03:00.0");
    EXPECT_EQ(e1.mtu, 9000);
    EXPECT_EQ(e1.vlan, 100);
    EXPECT_EQ(e1.rx_queues, 4);
    EXPECT_EQ(e1.tx_queues, 2);
    EXPECT_EQ(e1.exception_interface, "tap-up");
    ASSERT_EQ(dp.routes.size(), 3u);
    EXPECT_EQ(dp.routes[0].prefix.to_string(), "198.19.128.0/17");
    EXPECT_EQ(dp.routes[0].via.to_string(), "198.19.0.1");
    EXPECT_EQ(dp.routes[0].dev, "eth1");
    EXPECT_EQ(dp.routes[0].loc.line, 16);
    EXPECT_EQ(dp.routes[1].prefix.to_string(), "0.0.0.0/0");
    EXPECT_EQ(dp.routes[1].dev, "");
    EXPECT_EQ(dp.routes[2].prefix.to_string(), "2001:db8:2::/48");
    EXPECT_EQ(dp.conn_table_size, 4194304u);
}

TEST(Dataplane, DefaultConnTableSize)
{
    const Loaded l = load("dataplane {\n}\n");
    ASSERT_TRUE(l.config.dataplane);
    EXPECT_EQ(l.config.dataplane->conn_table_size, 1048576u);
    EXPECT_FALSE(l.diags.has_errors());
}

TEST(Dataplane, InterfaceWithoutDevice)
{
    expect_one_error("dataplane {\n  interface eth0 {\n    address 198.18.0.1/24\n  }\n}\n", 2,
                     "interface eth0 has no device");
}

TEST(Dataplane, InterfaceWithoutBlock)
{
    expect_one_error("dataplane {\n  interface eth0\n}\n", 2, "needs a { ... } block");
}

TEST(Dataplane, DuplicateInterfaceName)
{
    expect_one_error(R"(dataplane {
  interface eth0 {
    device net_tap0
  }
  interface eth0 {
    device net_tap1
  }
}
)",
                     5, "duplicate interface eth0 (first at dp.conf:2)");
}

TEST(Dataplane, DuplicateDevice)
{
    expect_one_error(R"(dataplane {
  interface eth0 {
    device 0000:03:00.0
  }
  interface eth1 {
    device 03:00.0
  }
}
)",
                     6, "device 03:00.0 is already used by interface eth0");
}

TEST(Dataplane, SameVdevNameWithOtherArgsIsTheSameDevice)
{
    expect_one_error(R"(dataplane {
  interface eth0 {
    device net_af_packet0,iface=veth0
  }
  interface eth1 {
    device net_af_packet0,iface=veth1
  }
}
)",
                     6, "is already used by interface eth0");
}

TEST(Dataplane, DifferentVdevsAreFine)
{
    const Loaded l = load(R"(dataplane {
  interface eth0 {
    device net_af_packet0,iface=veth0
  }
  interface eth1 {
    device net_af_packet1,iface=veth1
  }
}
)");
    EXPECT_FALSE(l.diags.has_errors()) << ::testing::PrintToString(messages(l.diags, Severity::error));
}

TEST(Dataplane, DeviceTwice)
{
    expect_one_error("dataplane {\n  interface eth0 {\n    device net_tap0\n    device net_tap1\n  }\n}\n", 4,
                     "device given twice");
}

TEST(Dataplane, BadAddressPrefix)
{
    expect_one_error("dataplane {\n  interface eth0 {\n    device net_tap0\n    address 198.18.0.1/33\n  }\n}\n", 4,
                     "'198.18.0.1/33' is not an address with a prefix length");
    expect_one_error("dataplane {\n  interface eth0 {\n    device net_tap0\n    address 198.18.0/24\n  }\n}\n", 4,
                     "is not an address");
}

TEST(Dataplane, AddressWithoutLengthWarns)
{
    const Loaded l = load("dataplane {\n  interface eth0 {\n    device net_tap0\n    address 198.18.0.1\n  }\n}\n");
    EXPECT_FALSE(l.diags.has_errors());
    const auto w = messages(l.diags, Severity::warning);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_THAT(w[0], HasSubstr("dp.conf:4: warning: address 198.18.0.1 has no /LEN: taken as /32"));
}

TEST(Dataplane, AddressInTwoInterfaces)
{
    expect_one_error(R"(dataplane {
  interface eth0 {
    device net_tap0
    address 198.18.0.1/24
  }
  interface eth1 {
    device net_tap1
    address 198.18.0.1/25
  }
}
)",
                     8, "address 198.18.0.1 is already on interface eth0 (at dp.conf:2)");
}

TEST(Dataplane, AddressTwiceOnOneInterface)
{
    expect_one_error("dataplane {\n  interface eth0 {\n    device net_tap0\n    address 2001:db8::1/64\n"
                     "    address 2001:db8::1/64\n  }\n}\n",
                     5, "address 2001:db8::1 given twice");
}

TEST(Dataplane, RouteSyntax)
{
    const char* head = "dataplane {\n  interface eth0 {\n    device net_tap0\n    address 198.18.0.254/24\n  }\n";
    expect_one_error(std::string(head) + "  route 198.19.0.0/16 198.18.0.1\n}\n", 6,
                     "expected `route PREFIX via GATEWAY [dev NAME]`");
    expect_one_error(std::string(head) + "  route 198.19.0.0/16 via 198.18.0.1 device eth0\n}\n", 6,
                     "expected `route PREFIX via GATEWAY [dev NAME]`");
    expect_one_error(std::string(head) + "  route 198.19.0.0/16 via 198.18.0.x\n}\n", 6,
                     "gateway '198.18.0.x' is not an IP address");
    expect_one_error(std::string(head) + "  route 198.19.0.0/99 via 198.18.0.1\n}\n", 6,
                     "'198.19.0.0/99' is not a prefix");
    expect_one_error(std::string(head) + "  route 198.19.0.1/16 via 198.18.0.1\n}\n", 6,
                     "has host bits set beyond /16");
    expect_one_error(std::string(head) + "  route 2001:db8::/32 via 198.18.0.1\n}\n", 6,
                     "different address families");
}

TEST(Dataplane, RouteGatewayNotReachable)
{
    expect_one_error(R"(dataplane {
  interface eth0 {
    device net_tap0
    address 198.18.0.254/24
  }
  route 198.19.0.0/16 via 198.18.1.1
}
)",
                     6, "gateway 198.18.1.1 is not in a connected prefix of any dataplane interface");
}

TEST(Dataplane, RouteGatewayOnTheWrongDev)
{
    expect_one_error(R"(dataplane {
  interface eth0 {
    device net_tap0
    address 198.18.0.254/24
  }
  interface eth1 {
    device net_tap1
    address 198.18.1.254/24
  }
  route 198.19.0.0/16 via 198.18.0.1 dev eth1
}
)",
                     10, "gateway 198.18.0.1 is not in a connected prefix of interface eth1");
}

TEST(Dataplane, RouteGatewayIsOwnAddress)
{
    expect_one_error(R"(dataplane {
  interface eth0 {
    device net_tap0
    address 198.18.0.254/24
  }
  route 198.19.0.0/16 via 198.18.0.254
}
)",
                     6, "gateway 198.18.0.254 is one of this node's own addresses");
}

TEST(Dataplane, RouteDevUnknown)
{
    expect_one_error(R"(dataplane {
  interface eth0 {
    device net_tap0
    address 198.18.0.254/24
  }
  route 198.19.0.0/16 via 198.18.0.1 dev eth9
}
)",
                     6, "dev eth9 is not a dataplane interface");
}

TEST(Dataplane, DuplicateRoute)
{
    expect_one_error(R"(dataplane {
  interface eth0 {
    device net_tap0
    address 198.18.0.254/24
  }
  route 198.19.0.0/16 via 198.18.0.1
  route 198.19.0.0/16 via 198.18.0.2
}
)",
                     7, "route 198.19.0.0/16 given twice (first at dp.conf:6)");
}

TEST(Dataplane, ConnTableSizeRange)
{
    expect_one_error("dataplane {\n  conn_table_size 1023\n}\n", 2, "from 1024 to 134217728");
    expect_one_error("dataplane {\n  conn_table_size 134217729\n}\n", 2, "from 1024 to 134217728");
    expect_one_error("dataplane {\n  conn_table_size lots\n}\n", 2, "'lots' is not a whole number");
    EXPECT_FALSE(load("dataplane {\n  conn_table_size 134217728\n}\n").diags.has_errors());
    EXPECT_FALSE(load("dataplane {\n  conn_table_size 1024\n}\n").diags.has_errors());
}

TEST(Dataplane, StuckWorkerTimeout)
{
    const Loaded d = load("dataplane {\n}\n");
    ASSERT_TRUE(d.config.dataplane);
    EXPECT_EQ(d.config.dataplane->stuck_worker_timeout_ms, 1000u);
    const Loaded l = load("dataplane {\n  stuck_worker_timeout 250\n}\n");
    EXPECT_FALSE(l.diags.has_errors());
    ASSERT_TRUE(l.config.dataplane);
    EXPECT_EQ(l.config.dataplane->stuck_worker_timeout_ms, 250u);
    EXPECT_EQ(load("dataplane {\n  stuck_worker_timeout 100\n}\n").config.dataplane->stuck_worker_timeout_ms, 100u);
    EXPECT_EQ(load("dataplane {\n  stuck_worker_timeout 60000\n}\n").config.dataplane->stuck_worker_timeout_ms, 60000u);
    expect_one_error("dataplane {\n  stuck_worker_timeout 99\n}\n", 2,
                     "stuck_worker_timeout: '99' is not a whole number from 100 to 60000");
    expect_one_error("dataplane {\n  stuck_worker_timeout 60001\n}\n", 2, "from 100 to 60000");
    expect_one_error("dataplane {\n  stuck_worker_timeout 1.5\n}\n", 2, "'1.5' is not a whole number");
    expect_one_error("dataplane {\n  stuck_worker_timeout\n}\n", 2, "stuck_worker_timeout");
    const Loaded twice = load("dataplane {\n  stuck_worker_timeout 200\n  stuck_worker_timeout 300\n}\n");
    EXPECT_FALSE(twice.diags.has_errors());
    EXPECT_EQ(twice.config.dataplane->stuck_worker_timeout_ms, 300u);
    EXPECT_EQ(twice.diags.warning_count(), 1u);
}

TEST(Dataplane, ConnDefenseMarks)
{
    const Loaded d = load("dataplane {\n}\n");
    ASSERT_TRUE(d.config.dataplane);
    EXPECT_EQ(d.config.dataplane->conn_defense_high_pct, 75u);
    EXPECT_EQ(d.config.dataplane->conn_defense_full_pct, 90u);
    const Loaded l = load("dataplane {\n  conn_defense 50 80\n}\n");
    EXPECT_FALSE(l.diags.has_errors());
    ASSERT_TRUE(l.config.dataplane);
    EXPECT_EQ(l.config.dataplane->conn_defense_high_pct, 50u);
    EXPECT_EQ(l.config.dataplane->conn_defense_full_pct, 80u);
    const Loaded off = load("dataplane {\n  conn_defense off\n}\n");
    EXPECT_FALSE(off.diags.has_errors());
    ASSERT_TRUE(off.config.dataplane);
    EXPECT_EQ(off.config.dataplane->conn_defense_high_pct, kConnDefenseOff);
    EXPECT_EQ(off.config.dataplane->conn_defense_full_pct, kConnDefenseOff);
    expect_one_error("dataplane {\n  conn_defense 90 80\n}\n", 2, "HIGH (90) above FULL (80)");
    expect_one_error("dataplane {\n  conn_defense 0 80\n}\n", 2, "from 1 to 100");
    expect_one_error("dataplane {\n  conn_defense 50 101\n}\n", 2, "from 1 to 100");
    expect_one_error("dataplane {\n  conn_defense on\n}\n", 2, "two percentages (HIGH FULL) or 'off'");
}

TEST(Dataplane, MoreThanOneBlock)
{
    const Loaded l = load("dataplane {\n  conn_table_size 2048\n}\ndataplane {\n  conn_table_size 4096\n}\n");
    const auto errors = messages(l.diags, Severity::error);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_THAT(errors[0], HasSubstr("dp.conf:4: error: more than one dataplane block (the first is at dp.conf:1)"));
    ASSERT_TRUE(l.config.dataplane);
    EXPECT_EQ(l.config.dataplane->conn_table_size, 2048u);  // the first one stands
}

TEST(Dataplane, InterfaceSettingRanges)
{
    const std::string head = "dataplane {\n  interface eth0 {\n    device net_tap0\n";
    expect_one_error(head + "    mtu 67\n  }\n}\n", 4, "mtu: '67' is not a whole number from 68 to 9216");
    expect_one_error(head + "    mtu 9217\n  }\n}\n", 4, "from 68 to 9216");
    expect_one_error(head + "    vlan 0\n  }\n}\n", 4, "vlan: '0' is not a whole number from 1 to 4094");
    expect_one_error(head + "    vlan 4095\n  }\n}\n", 4, "from 1 to 4094");
    expect_one_error(head + "    rx_queues 0\n  }\n}\n", 4, "rx_queues: '0' is not a whole number from 1 to 1024");
    expect_one_error(head + "    tx_queues 1025\n  }\n}\n", 4, "tx_queues: '1025' is not a whole number");
}

TEST(Dataplane, Ipv6NeedsMtu1280)
{
    expect_one_error("dataplane {\n  interface eth0 {\n    device net_tap0\n    address 2001:db8::1/64\n"
                     "    mtu 1279\n  }\n}\n",
                     2, "mtu 1279 is below 1280");
}

TEST(Dataplane, ExceptionInterfaceNames)
{
    const std::string head = "dataplane {\n  interface eth0 {\n    device net_tap0\n";
    expect_one_error(head + "    exception_interface a/b\n  }\n}\n", 4, "exception_interface 'a/b'");
    expect_one_error(head + "    exception_interface sixteen-chars-xx\n  }\n}\n", 4, "1 to 15 characters");
    // The default kadp-NAME must fit IFNAMSIZ too.
    expect_one_error("dataplane {\n  interface uplink-left {\n    device net_tap0\n  }\n}\n", 2,
                     "the default exception_interface 'kadp-uplink-left' is longer than 15 characters");
    expect_one_error(R"(dataplane {
  interface eth0 {
    device net_tap0
    exception_interface tap0
  }
  interface eth1 {
    device net_tap1
    exception_interface tap0
  }
}
)",
                     6, "exception_interface tap0 is already interface eth0's");
}

TEST(Dataplane, UnknownKeywordWarns)
{
    const Loaded l = load("dataplane {\n  interface eth0 {\n    device net_tap0\n    speed 10G\n  }\n  hugepages 4\n}\n");
    EXPECT_FALSE(l.diags.has_errors());
    const auto w = messages(l.diags, Severity::warning);
    ASSERT_EQ(w.size(), 2u);
    EXPECT_THAT(w[0], HasSubstr("dp.conf:4: warning: Unknown keyword 'speed'"));
    EXPECT_THAT(w[1], HasSubstr("dp.conf:6: warning: Unknown keyword 'hugepages'"));
}

// With a dataplane block, VRRP runs on its ports: an instance interface that
// is not one is an error (reported by validate_vrrp, exactly once).
TEST(Dataplane, VrrpInstanceInterfaceMustBeADataplanePort)
{
    const Loaded l = load(R"(vrrp_instance VI_1 {
    interface eth7
    virtual_router_id 51
    virtual_ipaddress {
        198.18.0.100/24
    }
}
dataplane {
  interface eth0 {
    device net_tap0
    address 198.18.0.254/24
  }
}
)");
    const auto errors = messages(l.diags, Severity::error);
    ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
    EXPECT_THAT(errors[0], HasSubstr("dp.conf:2: error: "));
    EXPECT_THAT(errors[0], HasSubstr("eth7"));
    EXPECT_THAT(errors[0], HasSubstr("is not a dataplane interface"));
}

}  // namespace
}  // namespace kadp::conf
