// Runs on: any (unit test). The JSON writer and `kadp --dump-config`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <locale>

#include "conf/json_dump.h"
#include "conf/json_writer.h"
#include "conf/load.h"

namespace kadp::conf {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string quoted(std::string_view s)
{
    std::string out;
    json_append_string(out, s);
    return out;
}

std::string number(double d)
{
    std::string out;
    json_append_number(out, d);
    return out;
}

// ------------------------------------------------------------------ writer
TEST(JsonWriter, EscapesQuotesBackslashAndControlCharacters)
{
    EXPECT_EQ(quoted("a\"b\\c"), R"("a\"b\\c")");
    EXPECT_EQ(quoted("\n\r\t\b\f"), R"("\n\r\t\b\f")");
    EXPECT_EQ(quoted(std::string_view("\x01\x1f\x7f", 3)), R"("\u0001\u001f\u007f")");
    EXPECT_EQ(quoted(std::string_view("a\0b", 3)), R"("a\u0000b")");
    EXPECT_EQ(quoted("/"), R"("/")");  // no need to escape the solidus
    EXPECT_EQ(quoted(""), R"("")");
}

TEST(JsonWriter, PassesValidUtf8AndReplacesInvalidBytes)
{
    EXPECT_EQ(quoted("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    const std::string fffd = "\xef\xbf\xbd";
    EXPECT_EQ(quoted("a\xffz"), "\"a" + fffd + "z\"");             // never valid
    EXPECT_EQ(quoted("a\xc3"), "\"a" + fffd + "\"");               // truncated at the end
    EXPECT_EQ(quoted("\xc0\xaf"), "\"" + fffd + fffd + "\"");      // overlong '/'
    EXPECT_EQ(quoted("\xed\xa0\x80"), "\"" + fffd + fffd + fffd + "\"");  // a UTF-16 surrogate
    EXPECT_EQ(quoted("\xf4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");  // > U+10FFFF
}

TEST(JsonWriter, DoublesAreShortestRoundTrip)
{
    EXPECT_EQ(number(0.1), "0.1");
    EXPECT_EQ(number(5.0), "5");
    EXPECT_EQ(number(0.25), "0.25");
    EXPECT_EQ(number(1.0 / 3), "0.3333333333333333");
    EXPECT_EQ(number(-2.5), "-2.5");
    EXPECT_EQ(number(-0.0), "0");
    EXPECT_EQ(number(1e21), "1e+21");
    EXPECT_EQ(number(std::numeric_limits<double>::quiet_NaN()), "null");
    EXPECT_EQ(number(std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonWriter, IntegersKeepEveryDigit)
{
    JsonWriter w(0);
    w.begin_array()
        .value(std::numeric_limits<std::int64_t>::min())
        .value(std::numeric_limits<std::uint64_t>::max())
        .value(std::uint16_t{65535})
        .value(std::uint8_t{7})
        .end_array();
    EXPECT_EQ(w.str(), "[-9223372036854775808,18446744073709551615,65535,7]");
}

// A process-wide locale with ',' as the decimal point must not leak in.
struct CommaDecimal : std::numpunct<char> {
    char do_decimal_point() const override { return ','; }
    char do_thousands_sep() const override { return '.'; }
    std::string do_grouping() const override { return "\3"; }
};

TEST(JsonWriter, NumbersIgnoreTheGlobalLocale)
{
    const std::locale saved = std::locale::global(std::locale(std::locale::classic(), new CommaDecimal));
    JsonWriter w(0);
    w.begin_array().value(0.5).value(1234567).end_array();
    std::locale::global(saved);
    EXPECT_EQ(w.str(), "[0.5,1234567]");
}

TEST(JsonWriter, PrettyPrintsWithTwoSpaces)
{
    JsonWriter w;
    w.begin_object();
    w.member("name", "vi_1");
    w.key("list").begin_array().value(1).value(true).null().end_array();
    w.key("empty_object").begin_object().end_object();
    w.key("empty_array").begin_array().end_array();
    w.key("nested").begin_object().member("x", 0.1).member("s", std::string("q\"")).end_object();
    w.member("opt", std::optional<int>{});
    w.member("opt2", std::optional<double>{1.5});
    w.end_object();
    EXPECT_TRUE(w.done());
    EXPECT_EQ(w.str(),
              "{\n"
              "  \"name\": \"vi_1\",\n"
              "  \"list\": [\n"
              "    1,\n"
              "    true,\n"
              "    null\n"
              "  ],\n"
              "  \"empty_object\": {},\n"
              "  \"empty_array\": [],\n"
              "  \"nested\": {\n"
              "    \"x\": 0.1,\n"
              "    \"s\": \"q\\\"\"\n"
              "  },\n"
              "  \"opt\": null,\n"
              "  \"opt2\": 1.5\n"
              "}");
}

TEST(JsonWriter, CompactModeAndTakeResets)
{
    JsonWriter w(0);
    w.begin_object().member("a", 1).key("b").begin_array().value("x").value(false).end_array().end_object();
    EXPECT_EQ(w.take(), R"({"a":1,"b":["x",false]})");
    EXPECT_FALSE(w.done());
    w.value("again");
    EXPECT_EQ(w.str(), R"("again")");
}

TEST(JsonWriter, RawInsertsANestedDocument)
{
    JsonWriter w(0);
    w.begin_object().key("inner").raw(R"({"k":[1]})").member("n", 2).end_object();
    EXPECT_EQ(w.str(), R"({"inner":{"k":[1]},"n":2})");
}

// ---------------------------------------------------------------- dump_json
// A model built by hand, so these tests pin the dump independently of the
// section parsers.
Config sample_config()
{
    Config c;
    c.global_defs.loc = {"k.conf", 1};
    c.global_defs.router_id = "lb1";
    c.global_defs.notification_email = {"ops@example.org"};
    c.global_defs.smtp_server = SmtpServer{*IpAddr::parse("198.18.0.25"), 2525};
    c.global_defs.vrrp_mcast_group4 = *IpAddr::parse("224.0.0.18");
    OtherKeyword no_swap;
    no_swap.loc = {"k.conf", 3};
    no_swap.keyword = "vrrp_no_swap";
    c.global_defs.other.push_back(no_swap);

    VrrpInstance vi;
    vi.loc = {"k.conf", 10};
    vi.name = "VI_1";
    vi.state = VrrpState::master;
    vi.interface = "eth0";
    vi.virtual_router_id = 51;
    vi.priority = 150;
    vi.advert_int = 0.1;
    vi.auth_type = AuthType::pass;
    vi.auth_pass = "Zq9sEcrT";
    VirtualIp vip;
    vip.loc = {"k.conf", 14};
    vip.address = *IpPrefix::parse("198.18.0.100/24");
    vip.text = "198.18.0.100/24";
    vi.virtual_ipaddress.push_back(vip);
    vi.unicast_peer.push_back(*IpAddr::parse("2001:db8::2"));
    vi.notify_master.command = "/usr/local/bin/notify \"a b\"";
    vi.notify_master.argv = {"/usr/local/bin/notify", "a b"};
    vi.notify_master.user = "nobody";
    TrackedScript chk;
    chk.loc = {"k.conf", 15};
    chk.name = "chk";
    vi.track_script.push_back(chk);
    // A secret that a section parser kept as an unrecognised keyword.
    OtherKeyword secret;
    secret.loc = {"k.conf", 16};
    secret.keyword = "auth_pass";
    secret.value = "Zq9sEcrT";
    vi.other.push_back(secret);
    c.vrrp_instances.push_back(vi);

    VirtualServer vs;
    vs.loc = {"k.conf", 20};
    vs.address = *IpAddr::parse("198.18.0.100");
    vs.port = 443;
    vs.lb_algo = "rr";
    vs.lb_kind = LbKind::dr;
    vs.protocol = Protocol::tcp;
    vs.persistence_timeout = 360;
    vs.delay_loop.assign(6);
    vs.connect_timeout.assign(3);
    RealServer rs;
    rs.loc = {"k.conf", 25};
    rs.address = *IpAddr::parse("198.18.1.10");
    rs.port = 8443;
    rs.weight = 3;
    rs.lvs_method = LbKind::dr;
    rs.retry.assign(4);
    rs.delay_loop.inherit(vs.delay_loop);
    rs.connect_timeout.inherit(vs.connect_timeout);
    Checker ck;
    ck.loc = {"k.conf", 27};
    ck.type = CheckerType::http_get;
    ck.connect_timeout.inherit(rs.connect_timeout);
    ck.retry.inherit(rs.retry);
    ck.delay_loop.inherit(rs.delay_loop);
    ck.delay_before_retry.assign(2.5);
    HttpUrl url;
    url.loc = {"k.conf", 28};
    url.path = "/health";
    url.status_code = {{200, 299}, {301, 301}};
    ck.url.push_back(url);
    rs.checkers.push_back(ck);
    vs.real_servers.push_back(rs);
    c.virtual_servers.push_back(vs);
    return c;
}

TEST(JsonDump, TopLevelKeysInOrder)
{
    const std::string out = dump_json(Config{});
    const char* keys[] = {"global_defs", "static_ipaddress", "static_routes", "vrrp_scripts",
                          "vrrp_sync_groups", "vrrp_instances", "virtual_server_groups", "virtual_servers",
                          "dataplane"};
    std::size_t last = 0;
    for (const char* k : keys) {
        auto pos = out.find("\n  \"" + std::string(k) + "\": ");
        ASSERT_NE(pos, std::string::npos) << k;
        EXPECT_GT(pos, last) << k;
        last = pos;
    }
    EXPECT_THAT(out, HasSubstr("\n  \"dataplane\": null\n}\n"));
    EXPECT_EQ(out.front(), '{');
}

// The default model, byte for byte: the schema of global_defs and the empty
// sections is pinned here.
TEST(JsonDump, DefaultModelGolden)
{
    EXPECT_EQ(dump_json(Config{}),
              "{\n"
              "  \"global_defs\": {\n"
              "    \"source\": null,\n"
              "    \"router_id\": \"\",\n"
              "    \"notification_email\": [],\n"
              "    \"notification_email_from\": \"\",\n"
              "    \"smtp_server\": null,\n"
              "    \"smtp_helo_name\": \"\",\n"
              "    \"smtp_connect_timeout\": 30,\n"
              "    \"enable_script_security\": false,\n"
              "    \"script_user\": null,\n"
              "    \"script_group\": null,\n"
              "    \"vrrp_garp_master_delay\": 5,\n"
              "    \"vrrp_garp_master_repeat\": 5,\n"
              "    \"vrrp_garp_master_refresh\": 0,\n"
              "    \"vrrp_garp_master_refresh_repeat\": 1,\n"
              "    \"vrrp_version\": 2,\n"
              "    \"vrrp_mcast_group4\": null,\n"
              "    \"vrrp_mcast_group6\": null,\n"
              "    \"vrrp_strict\": false,\n"
              "    \"lvs_sync_daemon\": null,\n"
              "    \"other\": []\n"
              "  },\n"
              "  \"static_ipaddress\": [],\n"
              "  \"static_routes\": [],\n"
              "  \"static_rules\": [],\n"
              "  \"vrrp_scripts\": [],\n"
              "  \"vrrp_sync_groups\": [],\n"
              "  \"vrrp_instances\": [],\n"
              "  \"virtual_server_groups\": [],\n"
              "  \"virtual_servers\": [],\n"
              "  \"other\": [],\n"
              "  \"dataplane\": null\n"
              "}\n");
}

TEST(JsonDump, ValuesAsKeepalivedSpellsThem)
{
    const std::string out = dump_json(sample_config());
    EXPECT_THAT(out, HasSubstr("\"router_id\": \"lb1\","));
    EXPECT_THAT(out, HasSubstr("\"smtp_server\": {\n      \"address\": \"198.18.0.25\",\n      \"port\": 2525\n    },"));
    EXPECT_THAT(out, HasSubstr("\"vrrp_mcast_group4\": \"224.0.0.18\","));
    EXPECT_THAT(out, HasSubstr("{\n        \"keyword\": \"vrrp_no_swap\",\n        \"value\": \"\",\n"
                               "        \"file\": \"k.conf\",\n        \"line\": 3\n      }"));
    EXPECT_THAT(out, HasSubstr("\"name\": \"VI_1\",\n      \"source\": {\n        \"file\": \"k.conf\",\n"
                               "        \"line\": 10\n      },\n      \"state\": \"MASTER\","));
    EXPECT_THAT(out, HasSubstr("\"virtual_router_id\": 51,"));
    EXPECT_THAT(out, HasSubstr("\"priority\": 150,"));
    EXPECT_THAT(out, HasSubstr("\"advert_int\": 0.1,"));
    EXPECT_THAT(out, HasSubstr("\"address\": \"198.18.0.100/24\","));
    EXPECT_THAT(out, HasSubstr("\"unicast_peer\": [\n        \"2001:db8::2\"\n      ],"));
    EXPECT_THAT(out, HasSubstr("\"unicast_src_ip\": null,"));
    EXPECT_THAT(out, HasSubstr("\"notify_master\": {\n        \"command\": \"/usr/local/bin/notify \\\"a b\\\"\",\n"
                               "        \"argv\": [\n          \"/usr/local/bin/notify\",\n          \"a b\"\n"
                               "        ],\n        \"user\": \"nobody\",\n        \"group\": null,\n"
                               "        \"disabled\": false\n      },"));
    EXPECT_THAT(out, HasSubstr("\"notify_backup\": null,"));
    EXPECT_THAT(out, HasSubstr("\"name\": \"chk\",\n          \"weight\": null,"));
    EXPECT_THAT(out, HasSubstr("\"accept\": null,"));
    // LVS
    EXPECT_THAT(out, HasSubstr("\"kind\": \"address\",\n      \"address\": \"198.18.0.100\",\n      \"port\": 443,\n"
                               "      \"fwmark\": null,\n      \"group\": null,"));
    EXPECT_THAT(out, HasSubstr("\"lb_algo\": \"rr\","));
    EXPECT_THAT(out, HasSubstr("\"lb_kind\": \"DR\","));
    EXPECT_THAT(out, HasSubstr("\"protocol\": \"TCP\","));
    EXPECT_THAT(out, HasSubstr("\"persistence_timeout\": 360,"));
    EXPECT_THAT(out, HasSubstr("\"persistence_granularity\": null,"));
    EXPECT_THAT(out, HasSubstr("\"sorry_server\": null,"));
    EXPECT_THAT(out, HasSubstr("\"weight\": 3,\n          \"lvs_method\": \"DR\","));
    EXPECT_THAT(out, HasSubstr("\"type\": \"HTTP_GET\","));
    EXPECT_THAT(out, HasSubstr("\"path\": \"/health\",\n                  \"digest\": null,\n"
                               "                  \"status_code\": [\n                    [\n"
                               "                      200,\n                      299\n                    ],"));
    EXPECT_THAT(out, HasSubstr("\"http_protocol\": \"1.0\","));
    EXPECT_THAT(out, HasSubstr("\"misc_path\": null,"));
    EXPECT_THAT(out, HasSubstr("\"dataplane\": null\n}\n"));
}

// Inherited settings: the resolved value under the keyword, and `set_here`
// lists what the level named itself.
TEST(JsonDump, InheritedValuesAndSetHere)
{
    const std::string out = dump_json(sample_config());
    // virtual_server: named delay_loop and connect_timeout.
    EXPECT_THAT(out, HasSubstr("      \"connect_timeout\": 3,\n      \"retry\": 0,\n"
                               "      \"delay_before_retry\": 0,\n      \"delay_loop\": 6,\n"
                               "      \"warmup\": 0,\n      \"alpha\": false,\n"
                               "      \"inhibit_on_failure\": false,\n"
                               "      \"set_here\": [\n        \"connect_timeout\",\n        \"delay_loop\"\n      ],"));
    // real_server: its own retry and lvs_method... except lvs_method was not set here.
    EXPECT_THAT(out, HasSubstr("          \"connect_timeout\": 3,\n          \"retry\": 4,\n"));
    EXPECT_THAT(out, HasSubstr("          \"set_here\": [\n            \"retry\"\n          ],"));
    // checker: inherits connect_timeout 3, retry 4, delay_loop 6; sets delay_before_retry.
    EXPECT_THAT(out, HasSubstr("              \"connect_timeout\": 3,\n              \"retry\": 4,\n"
                               "              \"delay_before_retry\": 2.5,\n              \"delay_loop\": 6,\n"));
    EXPECT_THAT(out, HasSubstr("              \"set_here\": [\n                \"delay_before_retry\"\n"
                               "              ],"));
}

TEST(JsonDump, RealServerLvsMethodSetHere)
{
    Config c = sample_config();
    c.virtual_servers[0].real_servers[0].lvs_method_set = true;
    EXPECT_THAT(dump_json(c), HasSubstr("\"set_here\": [\n            \"lvs_method\",\n            \"retry\"\n"));
}

TEST(JsonDump, AuthPassIsHiddenEverywhere)
{
    const Config c = sample_config();
    const std::string out = dump_json(c);
    EXPECT_THAT(out, Not(HasSubstr("Zq9sEcrT")));
    EXPECT_THAT(out, HasSubstr("\"authentication\": {\n        \"auth_type\": \"PASS\",\n"
                               "        \"auth_pass\": \"<hidden>\"\n      },"));
    EXPECT_THAT(out, HasSubstr("\"keyword\": \"auth_pass\",\n          \"value\": \"<hidden>\","));
}

TEST(JsonDump, NoAuthenticationIsNull)
{
    Config c = sample_config();
    c.vrrp_instances[0].auth_type = AuthType::none;
    c.vrrp_instances[0].auth_pass.clear();
    EXPECT_THAT(dump_json(c), HasSubstr("\"authentication\": null,"));
}

TEST(JsonDump, KindsOfVirtualServerAndGroupEntries)
{
    Config c;
    VirtualServer fw;
    fw.kind = VirtualServer::Kind::fwmark;
    fw.fwmark = 7;
    c.virtual_servers.push_back(fw);
    VirtualServer grp;
    grp.kind = VirtualServer::Kind::group;
    grp.group = "G1";
    c.virtual_servers.push_back(grp);
    VirtualServerGroup g;
    g.name = "G1";
    VirtualServerGroupEntry range;
    range.address = *IpAddr::parse("198.18.0.1");
    range.range_end = *IpAddr::parse("198.18.0.9");
    range.port = 80;
    g.entries.push_back(range);
    VirtualServerGroupEntry mark;
    mark.kind = VirtualServerGroupEntry::Kind::fwmark;
    mark.fwmark = 9;
    g.entries.push_back(mark);
    c.virtual_server_groups.push_back(g);
    const std::string out = dump_json(c);
    EXPECT_THAT(out, HasSubstr("\"kind\": \"fwmark\",\n      \"address\": null,\n      \"port\": null,\n"
                               "      \"fwmark\": 7,\n      \"group\": null,"));
    EXPECT_THAT(out, HasSubstr("\"kind\": \"group\",\n      \"address\": null,\n      \"port\": null,\n"
                               "      \"fwmark\": null,\n      \"group\": \"G1\","));
    EXPECT_THAT(out, HasSubstr("\"kind\": \"address\",\n          \"address\": \"198.18.0.1\",\n"
                               "          \"range_end\": \"198.18.0.9\",\n          \"port\": 80,\n"
                               "          \"fwmark\": null,"));
    EXPECT_THAT(out, HasSubstr("\"kind\": \"fwmark\",\n          \"address\": null,\n"
                               "          \"range_end\": null,\n          \"port\": null,\n"
                               "          \"fwmark\": 9,"));
}

TEST(JsonDump, DataplaneBlock)
{
    Config c;
    Dataplane dp;
    dp.loc = {"k.conf", 40};
    DataplaneInterface itf;
    itf.loc = {"k.conf", 41};
    itf.name = "eth0";
    itf.device = "net_af_packet0,iface=veth0";
    itf.address.push_back(*IpPrefix::parse("198.18.0.254/24"));
    itf.vlan = 100;
    itf.exception_interface = "kadp-eth0";
    dp.interfaces.push_back(itf);
    DataplaneRoute r;
    r.loc = {"k.conf", 46};
    r.prefix = *IpPrefix::parse("198.19.0.0/16");
    r.via = *IpAddr::parse("198.18.0.1");
    dp.routes.push_back(r);
    c.dataplane = dp;
    EXPECT_EQ(dump_json(c).substr(dump_json(c).find("  \"dataplane\"")),
              "  \"dataplane\": {\n"
              "    \"source\": {\n      \"file\": \"k.conf\",\n      \"line\": 40\n    },\n"
              "    \"interfaces\": [\n"
              "      {\n"
              "        \"name\": \"eth0\",\n"
              "        \"source\": {\n          \"file\": \"k.conf\",\n          \"line\": 41\n        },\n"
              "        \"device\": \"net_af_packet0,iface=veth0\",\n"
              "        \"address\": [\n          \"198.18.0.254/24\"\n        ],\n"
              "        \"mtu\": 1500,\n"
              "        \"vlan\": 100,\n"
              "        \"rx_queues\": null,\n"
              "        \"tx_queues\": null,\n"
              "        \"exception_interface\": \"kadp-eth0\"\n"
              "      }\n"
              "    ],\n"
              "    \"routes\": [\n"
              "      {\n"
              "        \"prefix\": \"198.19.0.0/16\",\n"
              "        \"via\": \"198.18.0.1\",\n"
              "        \"dev\": null,\n"
              "        \"source\": {\n          \"file\": \"k.conf\",\n          \"line\": 46\n        }\n"
              "      }\n"
              "    ],\n"
              "    \"conn_table_size\": 1048576,\n"
              "    \"conn_defense_high_pct\": 75,\n"
              "    \"conn_defense_full_pct\": 90,\n"
              "    \"stuck_worker_timeout_ms\": 1000\n"
              "  }\n"
              "}\n");
}

TEST(JsonDump, StableOutput)
{
    const Config c = sample_config();
    const std::string a = dump_json(c);
    const Config copy = c;  // NOLINT(performance-unnecessary-copy-initialization): a fresh object
    EXPECT_EQ(a, dump_json(copy));
    EXPECT_EQ(a, dump_json(c));
}

// ------------------------------------------------- through the real loader
const char* const kRepresentative = R"(
global_defs {
    router_id lb-test
    notification_email {
        ops@example.org
    }
    smtp_server 198.18.0.25 2525
}
vrrp_script chk_nginx {
    script "/usr/bin/pgrep nginx"
    interval 2
    weight -20
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass Xk7pQ2w
    }
    virtual_ipaddress {
        198.18.0.100/24
    }
    track_script {
        chk_nginx
    }
}
virtual_server 198.18.0.100 80 {
    delay_loop 6
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    connect_timeout 3
    real_server 198.18.1.10 8080 {
        weight 2
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            retry 2
        }
    }
}
dataplane {
    interface eth0 {
        device "net_af_packet0,iface=veth0"
        address 198.18.0.254/24
    }
}
)";

TEST(JsonDump, LoadedConfigNeverLeaksTheSecret)
{
    Diagnostics diags;
    LoadOptions options;
    options.check_host = false;  // its scripts do not exist on this host
    const Config c = load_text(kRepresentative, "rep.conf", options, diags);
    const std::string out = dump_json(c);
    EXPECT_THAT(out, Not(HasSubstr("Xk7pQ2w")));
    // Not even in pieces a sloppy dump could produce (the lexer's text, an `other` value).
    EXPECT_THAT(out, Not(HasSubstr("Xk7p")));
}

TEST(JsonDump, LoadedRepresentativeConfig)
{
    Diagnostics diags;
    LoadOptions options;
    options.check_host = false;  // its scripts do not exist on this host
    const Config c = load_text(kRepresentative, "rep.conf", options, diags);
    for (const auto& d : diags.all()) ADD_FAILURE() << Diagnostics::format(d);
    const std::string out = dump_json(c);
    EXPECT_THAT(out, HasSubstr("\"router_id\": \"lb-test\","));
    EXPECT_THAT(out, HasSubstr("\"notification_email\": [\n      \"ops@example.org\"\n    ],"));
    EXPECT_THAT(out, HasSubstr("\"name\": \"chk_nginx\","));
    EXPECT_THAT(out, HasSubstr("\"argv\": [\n          \"/usr/bin/pgrep\",\n          \"nginx\"\n        ],"));
    EXPECT_THAT(out, HasSubstr("\"weight\": -20,"));
    EXPECT_THAT(out, HasSubstr("\"state\": \"MASTER\","));
    EXPECT_THAT(out, HasSubstr("\"interface\": \"eth0\","));
    EXPECT_THAT(out, HasSubstr("\"virtual_router_id\": 51,"));
    EXPECT_THAT(out, HasSubstr("\"auth_pass\": \"<hidden>\""));
    EXPECT_THAT(out, HasSubstr("\"address\": \"198.18.0.100/24\","));
    EXPECT_THAT(out, HasSubstr("\"lb_algo\": \"wrr\","));
    EXPECT_THAT(out, HasSubstr("\"lb_kind\": \"NAT\","));
    EXPECT_THAT(out, HasSubstr("\"protocol\": \"TCP\","));
    EXPECT_THAT(out, HasSubstr("\"type\": \"HTTP_GET\","));
    // Inheritance: the checker's connect_timeout and delay_loop come from the
    // virtual_server, its retry is its own; HTTP_GET's delay_before_retry default is 3.
    EXPECT_THAT(out, HasSubstr("              \"connect_timeout\": 3,\n              \"retry\": 2,\n"
                               "              \"delay_before_retry\": 3,\n              \"delay_loop\": 6,\n"));
    EXPECT_THAT(out, HasSubstr("\"device\": \"net_af_packet0,iface=veth0\","));
    EXPECT_THAT(out, HasSubstr("\"exception_interface\": \"kadp-eth0\""));
    EXPECT_EQ(out, dump_json(load_text(kRepresentative, "rep.conf", LoadOptions{}, diags)));
}

}  // namespace
}  // namespace kadp::conf
