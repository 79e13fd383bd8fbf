// Runs on: any (unit test). The kernel backend's record of what it put into
// the kernel: written and read back entry for entry, bad lines named and
// skipped, the file replaced atomically and removed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "conf/load.h"
#include "control/kernel/kernel_record.h"

namespace kadp::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

conf::IpAddr ip(const char* text) { return conf::IpAddr::parse(text).value(); }

IpvsService endpoint(conf::Protocol p, const char* addr, std::uint16_t port) {
    IpvsService s;
    s.protocol = p;
    s.address = ip(addr);
    s.family = s.address.family;
    s.port = port;
    return s;
}

IpvsService mark(std::uint32_t fwmark, conf::IpAddr::Family family) {
    IpvsService s;
    s.fwmark = fwmark;
    s.family = family;
    return s;
}

// The static entries as the configuration parser gives them.
conf::Config statics(const std::string& text) {
    conf::LoadOptions options;
    options.check_host = false;
    conf::Diagnostics diags;
    conf::Config c = conf::load_text(text, "keepalived.conf", options, diags);
    EXPECT_FALSE(diags.has_errors());
    return c;
}

KernelRecord sample() {
    KernelRecord r;
    r.services = {endpoint(conf::Protocol::tcp, "198.18.0.10", 80), endpoint(conf::Protocol::udp, "2001:db8::10", 53),
                  endpoint(conf::Protocol::sctp, "198.18.0.11", 9), mark(5, conf::IpAddr::Family::v4),
                  mark(6, conf::IpAddr::Family::v6)};
    const conf::Config c = statics(
        "static_ipaddress {\n"
        "    198.18.0.10/32 dev lo label lo:kadp scope host\n"
        "    198.18.0.20/24 brd 198.18.0.255 dev lo\n"
        "    2001:db8::10/128 dev lo\n"
        "}\n"
        "static_routes {\n"
        "    198.18.50.0/24 via 198.18.1.11 dev lo metric 7\n"
        "    blackhole 198.18.51.0/24\n"
        "    2001:db8:50::/48 dev lo table 100\n"
        "}\n");
    r.addresses = c.static_ipaddress;
    r.routes = c.static_routes;
    return r;
}

std::vector<std::string> services_text(const KernelRecord& r) {
    std::vector<std::string> out;
    for (const IpvsService& s : r.services) {
        if (s.fwmark != 0) {
            out.push_back("FWM " + std::to_string(s.fwmark) + (s.family == conf::IpAddr::Family::v6 ? " v6" : " v4"));
        } else {
            out.push_back(std::string(conf::to_string(s.protocol)) + " " + s.address.to_string() + " " +
                          std::to_string(s.port));
        }
    }
    return out;
}

TEST(KernelRecord, ReadsBackEveryEntryItWrote) {
    const KernelRecord in = sample();
    const std::string text = format_record(in);
    std::vector<std::string> problems;
    const KernelRecord out = parse_record(text, "/run/kadp/kadp.state", problems);
    EXPECT_THAT(problems, IsEmpty());
    EXPECT_THAT(services_text(out), ElementsAre("TCP 198.18.0.10 80", "UDP 2001:db8::10 53", "SCTP 198.18.0.11 9",
                                                "FWM 5 v4", "FWM 6 v6"));
    ASSERT_EQ(out.services.size(), in.services.size());
    for (std::size_t i = 0; i < in.services.size(); ++i) {
        EXPECT_TRUE(out.services[i].same_service(in.services[i])) << i;
        EXPECT_EQ(out.services[i].family, in.services[i].family) << i;
    }
    ASSERT_EQ(out.addresses.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        const conf::IpAddress& a = in.addresses[i];
        const conf::IpAddress& b = out.addresses[i];
        EXPECT_EQ(b.address, a.address) << i;
        EXPECT_EQ(b.dev, a.dev) << i;
        EXPECT_EQ(b.broadcast, a.broadcast) << i;
        EXPECT_EQ(b.scope, a.scope) << i;
        EXPECT_EQ(b.label, a.label) << i;
        EXPECT_EQ(b.text, a.text) << i;
    }
    EXPECT_EQ(out.addresses[0].label, "lo:kadp");
    EXPECT_EQ(out.addresses[1].broadcast, ip("198.18.0.255"));
    ASSERT_EQ(out.routes.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(out.routes[i].text, in.routes[i].text) << i;  // a route's identity is its line
        EXPECT_EQ(out.routes[i].destination, in.routes[i].destination) << i;
        EXPECT_EQ(out.routes[i].via, in.routes[i].via) << i;
        EXPECT_EQ(out.routes[i].dev, in.routes[i].dev) << i;
        EXPECT_EQ(out.routes[i].metric, in.routes[i].metric) << i;
        EXPECT_EQ(out.routes[i].table, in.routes[i].table) << i;
        EXPECT_EQ(out.routes[i].blackhole, in.routes[i].blackhole) << i;
    }
    // Messages about a recorded entry name the record's line.
    EXPECT_EQ(out.addresses[0].loc.file, "/run/kadp/kadp.state");
    EXPECT_EQ(out.addresses[0].loc.line, 8);
    EXPECT_EQ(out.services[0].loc.line, 3);
    // Written again, it is the same text.
    EXPECT_EQ(format_record(out), text);
}

TEST(KernelRecord, TheTextIsOneEntryALine) {
    KernelRecord r;
    r.services = {endpoint(conf::Protocol::tcp, "198.18.0.10", 80), mark(5, conf::IpAddr::Family::v6)};
    r.addresses = statics("static_ipaddress {\n    198.18.0.10/32 dev lo\n}\n").static_ipaddress;
    const std::string text = format_record(r);
    EXPECT_THAT(text, ::testing::EndsWith("service TCP 198.18.0.10 80\n"
                                          "service FWM 5 inet6\n"
                                          "static_ipaddress 198.18.0.10/32 dev lo\n"));
    EXPECT_THAT(text, ::testing::StartsWith("# kadp"));
}

TEST(KernelRecord, LinesItCannotReadAreNamedAndSkipped) {
    const std::string text =
        "# header\n"
        "\n"
        "service TCP 198.18.0.10 80\n"
        "service TCP 198.18.999.1 80\n"
        "service FWM 0 inet\n"
        "service FWM 7 ipx\n"
        "service TCP 198.18.0.10\n"
        "static_ipaddress 198.18.999.10/32 dev lo\n"
        "frobnicate 1\n"
        "static_routes 198.18.50.0/24 dev lo\n";
    std::vector<std::string> problems;
    const KernelRecord r = parse_record(text, "state", problems);
    EXPECT_THAT(services_text(r), ElementsAre("TCP 198.18.0.10 80"));
    EXPECT_THAT(r.addresses, IsEmpty());
    ASSERT_EQ(r.routes.size(), 1u);
    EXPECT_EQ(r.routes[0].text, "198.18.50.0/24 dev lo");
    ASSERT_EQ(problems.size(), 6u);
    EXPECT_THAT(problems[0], ::testing::StartsWith("state:4: expected 'service TCP|UDP|SCTP ADDRESS PORT'"));
    EXPECT_EQ(problems[1], "state:5: bad firewall mark '0'");
    EXPECT_EQ(problems[2], "state:6: bad family 'ipx'");
    EXPECT_THAT(problems[3], ::testing::StartsWith("state:7: "));
    EXPECT_THAT(problems[4], ::testing::StartsWith("state:8: "));
    EXPECT_EQ(problems[5], "state:9: unknown entry 'frobnicate'");
}

TEST(KernelRecord, LivesBesideTheControlSocket) {
    EXPECT_EQ(record_path_for("/run/kadp/kadp.sock"), "/run/kadp/kadp.state");
    EXPECT_EQ(record_path_for("/tmp/lb1.sock"), "/tmp/lb1.state");
    EXPECT_EQ(record_path_for("/tmp/ctl"), "/tmp/ctl.state");
}

TEST(KernelRecord, FileIsReplacedWholeAndRemoved) {
    char dir[] = "/tmp/kadp-record-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string path = std::string(dir) + "/kadp.state";
    std::vector<std::string> problems;
    EXPECT_FALSE(read_record(path, problems).has_value());  // no file: a clean stop before

    KernelRecord r = sample();
    EXPECT_EQ(write_record(path, r), "");
    r.services.resize(1);
    r.addresses.clear();
    EXPECT_EQ(write_record(path, r), "");
    EXPECT_NE(access((path + ".new").c_str(), F_OK), 0);  // no temporary left
    const auto back = read_record(path, problems);
    ASSERT_TRUE(back.has_value());
    EXPECT_THAT(problems, IsEmpty());
    EXPECT_THAT(services_text(*back), ElementsAre("TCP 198.18.0.10 80"));
    EXPECT_THAT(back->addresses, IsEmpty());
    EXPECT_EQ(back->routes.size(), 3u);

    remove_record(path);
    EXPECT_FALSE(read_record(path, problems).has_value());
    EXPECT_THAT(write_record(std::string(dir) + "/no/such/dir/kadp.state", r),
                ::testing::StartsWith("cannot write " + std::string(dir) + "/no/such/dir/kadp.state.new: "));
    rmdir(dir);
}

}  // namespace
}  // namespace kadp::ctl
