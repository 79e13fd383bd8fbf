// Runs on: any (unit test). Checker blocks: common options, type defaults,
// HTTP url lists, SMTP host blocks, MISC scripts and the other checkers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conf/load.h"
#include "tests/unit/conf/load_fixture.h"

namespace kadp::conf {
namespace {

using namespace kadp::conf::testing;

using ::testing::ElementsAre;
using ::testing::Pair;

// One real server 198.18.1.1:8080 in a clean TCP service, with `body` inside
// real_server (its first line is line 6) and `global` before everything.
Loaded load_rs(const std::string& body, const std::string& global = "")
{
    std::string text = global + "virtual_server 198.18.0.1 80 {\n"
                                "    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n"
                                "    real_server 198.18.1.1 8080 {\n" +
                       body + "    }\n}\n";
    Loaded l;
    LoadOptions options;
    options.check_host = false;
    l.config = load_text(text, "t.conf", options, l.diags);
    return l;
}

const std::vector<Checker>& checkers(const Loaded& l) { return l.config.virtual_servers.at(0).real_servers.at(0).checkers; }

TEST(CheckerTcp, DefaultsComeFromTheRealServer)
{
    auto l = load_rs("        TCP_CHECK {\n        }\n");
    EXPECT_TRUE(l.diags.all().empty());
    const auto& c = checkers(l).at(0);
    EXPECT_EQ(c.type, CheckerType::tcp_check);
    EXPECT_EQ(c.connect_ip.to_string(), "198.18.1.1");
    EXPECT_EQ(c.connect_port, 8080);
    EXPECT_DOUBLE_EQ(c.connect_timeout.value, 5);
    EXPECT_EQ(c.retry.value, 1);
    EXPECT_DOUBLE_EQ(c.delay_before_retry.value, 1);
    EXPECT_DOUBLE_EQ(c.delay_loop.value, 60);
    EXPECT_DOUBLE_EQ(c.warmup.value, 60);
    EXPECT_FALSE(c.alpha.value);
}

TEST(CheckerTcp, CommonOptions)
{
    auto l = load_rs("        TCP_CHECK {\n"
                     "            connect_ip 198.18.2.1\n"
                     "            connect_port 81\n"
                     "            bindto 198.18.3.1\n"
                     "            bind_port 5000\n"
                     "            bind_if eth0\n"
                     "            fwmark 9\n"
                     "            connect_timeout 0.5\n"
                     "            nb_get_retry 3\n"
                     "            delay_before_retry 2\n"
                     "            delay_loop 6\n"
                     "            warmup 0\n"
                     "            alpha\n"
                     "            log_all_failures\n"
                     "            connect_timeout 0\n"
                     "            misc_path /bin/true\n"
                     "        }\n");
    expect_diag(l, Severity::warning, 14, "nb_get_retry is deprecated - please use 'retry'");
    expect_diag(l, Severity::error, 20, "connect_timeout");
    expect_diag(l, Severity::warning, 21, "Unknown keyword 'misc_path'");
    const auto& c = checkers(l).at(0);
    EXPECT_EQ(c.connect_ip.to_string(), "198.18.2.1");
    EXPECT_EQ(c.connect_port, 81);
    EXPECT_EQ(c.bindto.to_string(), "198.18.3.1");
    EXPECT_EQ(c.bind_port, 5000);
    EXPECT_EQ(c.bind_if, "eth0");
    EXPECT_EQ(c.fwmark, 9u);
    EXPECT_DOUBLE_EQ(c.connect_timeout.value, 0.5);
    EXPECT_EQ(c.retry.value, 3);
    EXPECT_DOUBLE_EQ(c.delay_before_retry.value, 2);
    EXPECT_DOUBLE_EQ(c.warmup.value, 0);
    EXPECT_TRUE(c.warmup.set);
    EXPECT_TRUE(c.alpha.value);
    EXPECT_EQ(c.log_all_failures, true);
}

TEST(CheckerTcp, BindtoOfAnotherFamilyIsSkipped)
{
    auto l = load_rs("        TCP_CHECK {\n            connect_ip 2001:db8::1\n            bindto 198.18.0.1\n        }\n");
    expect_diag(l, Severity::warning, 6, "does not match address family of connect_ip - skipping");
    EXPECT_TRUE(checkers(l).at(0).bindto.empty());
}

TEST(CheckerHttp, UrlsStatusCodesAndDigest)
{
    auto l = load_rs("        HTTP_GET {\n"
                     "            url {\n"
                     "                path /health\n"
                     "                digest 0123456789ABCDEF0123456789abcdef\n"
                     "                status_code 200 301-302 600 250-240\n"
                     "                virtualhost v.example\n"
                     "                regex ok\n"
                     "            }\n"
                     "            url {\n"
                     "                path /two\n"
                     "                digest XYZ\n"
                     "            }\n"
                     "            url {\n"
                     "            }\n"
                     "            http_protocol 1.1\n"
                     "            virtualhost www.example\n"
                     "        }\n"
                     "        SSL_GET {\n"
                     "            url {\n"
                     "                path /\n"
                     "            }\n"
                     "            http_protocol 2.0\n"
                     "            enable_sni\n"
                     "        }\n"
                     "        HTTP_GET {\n"
                     "        }\n");
    expect_diag(l, Severity::warning, 10, "Invalid HTTP_GET status code '600'");
    expect_diag(l, Severity::warning, 10, "Invalid HTTP_GET status code '250-240'");
    expect_diag(l, Severity::warning, 16, "digest 'XYZ' character length should be 32 rather than 3");
    expect_diag(l, Severity::warning, 18, "url has no path - ignoring");
    expect_diag(l, Severity::warning, 27, "Invalid http_protocol version 2.0");
    expect_diag(l, Severity::warning, 30, "HTTP/SSL_GET checker has no urls specified - ignoring");
    const auto& cs = checkers(l);
    ASSERT_EQ(cs.size(), 2u);  // the url-less HTTP_GET is dropped
    const auto& h = cs[0];
    ASSERT_EQ(h.url.size(), 2u);
    EXPECT_EQ(h.url[0].path, "/health");
    EXPECT_EQ(h.url[0].digest, "0123456789abcdef0123456789abcdef");
    EXPECT_THAT(h.url[0].status_code, ElementsAre(Pair(200, 200), Pair(301, 302)));
    EXPECT_EQ(h.url[0].virtualhost, "v.example");
    EXPECT_EQ(h.url[1].digest, "");
    EXPECT_THAT(h.url[1].status_code, ElementsAre(Pair(200, 299)));
    EXPECT_EQ(h.http_protocol, "1.1");
    EXPECT_EQ(h.virtualhost, "www.example");
    EXPECT_EQ(h.retry.value, 1);
    EXPECT_DOUBLE_EQ(h.delay_before_retry.value, 3);
    const auto& s = cs[1];
    EXPECT_EQ(s.type, CheckerType::ssl_get);
    EXPECT_EQ(s.http_protocol, "1.0");
    EXPECT_TRUE(s.enable_sni);
}

TEST(CheckerSmtp, HeloDefaultAndHostBlocks)
{
    auto l = load_rs("        SMTP_CHECK {\n"
                     "            connect_timeout 9\n"
                     "            host {\n"
                     "                connect_ip 198.18.2.1\n"
                     "                connect_port 2525\n"
                     "            }\n"
                     "            host {\n"
                     "                connect_ip 198.18.2.2\n"
                     "                retry 4\n"
                     "            }\n"
                     "        }\n"
                     "        SMTP_CHECK {\n"
                     "            helo_name \"mail check\"\n"
                     "        }\n",
                     "global_defs {\n    smtp_helo_name helo.example\n}\n");
    const auto& cs = checkers(l);
    ASSERT_EQ(cs.size(), 3u);
    EXPECT_EQ(cs[0].connect_ip.to_string(), "198.18.2.1");
    EXPECT_EQ(cs[0].connect_port, 2525);
    EXPECT_DOUBLE_EQ(cs[0].connect_timeout.value, 9);
    EXPECT_EQ(cs[0].helo_name, "helo.example");
    EXPECT_EQ(cs[0].loc.line, 11);
    EXPECT_EQ(cs[1].connect_ip.to_string(), "198.18.2.2");
    EXPECT_EQ(cs[1].connect_port, 8080);  // the real server's port
    EXPECT_EQ(cs[1].retry.value, 4);
    EXPECT_EQ(cs[2].helo_name, "mail check");
    EXPECT_EQ(cs[2].connect_ip.to_string(), "198.18.1.1");
}

TEST(CheckerMisc, PathTimeoutDynamicUser)
{
    auto l = load_rs("        MISC_CHECK {\n"
                     "            misc_path \"/bin/check a b\"\n"
                     "            misc_dynamic\n"
                     "            user nobody nogroup\n"
                     "            connect_port 5\n"
                     "        }\n"
                     "        MISC_CHECK {\n"
                     "            misc_path /bin/other\n"
                     "            misc_timeout 7\n"
                     "            delay_loop 20\n"
                     "        }\n"
                     "        MISC_CHECK {\n"
                     "        }\n");
    expect_diag(l, Severity::warning, 10, "Unknown keyword 'connect_port'");
    expect_diag(l, Severity::warning, 17, "No script path has been specified for MISC_CHECKER");
    const auto& cs = checkers(l);
    ASSERT_EQ(cs.size(), 2u);
    EXPECT_THAT(cs[0].misc_path.argv, ElementsAre("/bin/check", "a", "b"));
    EXPECT_TRUE(cs[0].misc_dynamic);
    EXPECT_EQ(cs[0].misc_path.user, "nobody");
    EXPECT_EQ(cs[0].misc_path.group, "nogroup");
    EXPECT_EQ(cs[0].retry.value, 0);                  // MISC_CHECK default
    EXPECT_DOUBLE_EQ(cs[0].misc_timeout, 60);         // default: delay_loop
    EXPECT_TRUE(cs[0].connect_ip.empty());
    EXPECT_DOUBLE_EQ(cs[1].misc_timeout, 7);
    EXPECT_DOUBLE_EQ(cs[1].delay_loop.value, 20);
}

TEST(CheckerOthers, RecognisedWithTheirDefaults)
{
    auto l = load_rs("        DNS_CHECK {\n            type A\n            name example.com\n            delay_loop 30\n        }\n"
                     "        UDP_CHECK {\n            payload 0102\n            require_reply\n        }\n"
                     "        PING_CHECK {\n        }\n"
                     "        FILE_CHECK {\n            track_file f\n            dynamic\n            weight 2\n"
                     "            connect_ip 198.18.2.2\n        }\n"
                     "        FILE_CHECK {\n        }\n"
                     "        BFD_CHECK {\n            name b\n        }\n");
    expect_diag(l, Severity::warning, 21, "Unknown keyword 'connect_ip'");
    expect_diag(l, Severity::warning, 23, "FILE_CHECK has no track_file specified - ignoring");
    const auto& cs = checkers(l);
    ASSERT_EQ(cs.size(), 5u);
    EXPECT_EQ(cs[0].type, CheckerType::dns_check);
    EXPECT_EQ(cs[0].retry.value, 3);
    EXPECT_DOUBLE_EQ(cs[0].delay_before_retry.value, 30);  // DNS: delay_loop
    EXPECT_EQ(cs[0].dns_type, 1);
    EXPECT_EQ(cs[0].dns_name, "example.com");
    EXPECT_TRUE(cs[0].other.empty());
    EXPECT_EQ(cs[1].type, CheckerType::udp_check);
    EXPECT_EQ(cs[1].other.size(), 2u);
    EXPECT_EQ(cs[2].type, CheckerType::ping_check);
    EXPECT_EQ(cs[3].type, CheckerType::file_check);
    EXPECT_TRUE(cs[3].connect_ip.empty());
    EXPECT_EQ(cs[4].type, CheckerType::bfd_check);
}

// keepalived 2.2.7's check_dns.c, its messages checked against `keepalived -t`.
TEST(CheckerDns, TypeAndNameWithKeepalivedsDefaultsAndMessages)
{
    auto l = load_rs("        DNS_CHECK {\n        }\n"                                // 6-7: SOA, root
                     "        DNS_CHECK {\n            type aaaa\n            name www.example.com. extra\n"
                     "            type PTR\n        }\n"                                // 8-12
                     "        DNS_CHECK {\n            name a.example.com\n            name ..\n"
                     "            name .com\n            name example..com\n            name example.org\n"
                     "            name example.net\n            type DNSKEY\n        }\n"); // 13-21
    expect_diag(l, Severity::warning, 11, "Unknown DNS check type PTR - ignoring");
    expect_diag(l, Severity::warning, 14, "DNS_CHECK name 'a.example.com' has empty label - ignoring");
    expect_diag(l, Severity::warning, 15, "DNS_CHECK name '..' has empty label - ignoring");
    expect_diag(l, Severity::warning, 16, "DNS_CHECK name '.com' has empty label - ignoring");
    expect_diag(l, Severity::warning, 17, "DNS_CHECK name 'example..com' has empty label - ignoring");
    expect_diag(l, Severity::warning, 19, "DNS_CHECK name already specified - ignoring");
    EXPECT_EQ(l.diags.all().size(), 6u) << all_diags(l);  // extra words: ignored silently, as keepalived does
    const auto& cs = checkers(l);
    ASSERT_EQ(cs.size(), 3u);
    EXPECT_EQ(cs[0].dns_type, 6);
    EXPECT_EQ(cs[0].dns_name, ".");
    EXPECT_EQ(cs[0].connect_port, 8080);
    EXPECT_EQ(cs[0].retry.value, 3);
    EXPECT_EQ(cs[1].dns_type, 28);
    EXPECT_EQ(cs[1].dns_name, "www.example.com.");
    EXPECT_EQ(cs[2].dns_type, 48);
    EXPECT_EQ(cs[2].dns_name, "example.org");
    EXPECT_EQ(dns_type_code("cname"), 5);
    EXPECT_EQ(dns_type_code("RRSIG"), 46);
    EXPECT_FALSE(dns_type_code("SRV"));
    EXPECT_STREQ(dns_type_name(15), "MX");
    EXPECT_STREQ(dns_type_name(33), "(unknown)");
}

}  // namespace
}  // namespace kadp::conf
