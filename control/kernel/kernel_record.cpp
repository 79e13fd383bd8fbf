// Runs on: control thread.
#include "control/kernel/kernel_record.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "conf/load.h"

namespace kadp::ctl {
namespace {

std::vector<std::string> words(std::string_view line) {
    std::vector<std::string> out;
    std::istringstream in{std::string(line)};
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

template <typename T>
bool number(const std::string& text, T& out) {
    const char* end = text.data() + text.size();
    const auto r = std::from_chars(text.data(), end, out);
    return r.ec == std::errc() && r.ptr == end;
}

std::optional<conf::Protocol> protocol_of(const std::string& word) {
    if (word == "TCP") return conf::Protocol::tcp;
    if (word == "UDP") return conf::Protocol::udp;
    if (word == "SCTP") return conf::Protocol::sctp;
    return std::nullopt;
}

// "service TCP ADDR PORT" / "service FWM MARK inet|inet6" -> the identity.
std::optional<IpvsService> parse_service(const std::vector<std::string>& w, std::string& why) {
    IpvsService s;
    if (w.size() == 4 && w[1] == "FWM") {
        if (!number(w[2], s.fwmark) || s.fwmark == 0) {
            why = "bad firewall mark '" + w[2] + "'";
            return std::nullopt;
        }
        if (w[3] != "inet" && w[3] != "inet6") {
            why = "bad family '" + w[3] + "'";
            return std::nullopt;
        }
        s.family = w[3] == "inet6" ? conf::IpAddr::Family::v6 : conf::IpAddr::Family::v4;
        return s;
    }
    const auto protocol = w.size() == 4 ? protocol_of(w[1]) : std::nullopt;
    const auto address = w.size() == 4 ? conf::IpAddr::parse(w[2]) : std::nullopt;
    if (!protocol || !address || !number(w[3], s.port)) {
        why = "expected 'service TCP|UDP|SCTP ADDRESS PORT' or 'service FWM MARK inet|inet6'";
        return std::nullopt;
    }
    s.protocol = *protocol;
    s.address = *address;
    s.family = address->family;
    return s;
}

// A static_ipaddress / static_routes line, read by the configuration's own
// parser (so it is the same entry the configuration would give).
bool parse_static(const std::string& keyword, std::string_view rest, const conf::SourceLoc& loc, KernelRecord& out,
                  std::string& why) {
    conf::LoadOptions options;
    options.allow_include = false;
    options.check_host = false;
    conf::Diagnostics diags;
    const conf::Config c =
        conf::load_text(keyword + " {\n" + std::string(rest) + "\n}\n", loc.file, options, diags);
    for (const auto& d : diags.all()) {
        if (d.severity == conf::Severity::error) {
            why = d.message;
            return false;
        }
    }
    if (keyword == "static_ipaddress" && c.static_ipaddress.size() == 1) {
        out.addresses.push_back(c.static_ipaddress.front());
        out.addresses.back().loc = loc;
        return true;
    }
    if (keyword == "static_routes" && c.static_routes.size() == 1) {
        out.routes.push_back(c.static_routes.front());
        out.routes.back().loc = loc;
        return true;
    }
    why = "not one " + keyword + " entry";
    return false;
}

}  // namespace

std::string format_record(const KernelRecord& record) {
    std::string out =
        "# kadp (kernel backend): what this kadp put into the kernel. Removed at a clean stop;\n"
        "# found at start, it tells the next kadp which leftovers are its own.\n";
    for (const IpvsService& s : record.services) {
        if (s.fwmark != 0) {
            out += "service FWM " + std::to_string(s.fwmark) +
                   (s.family == conf::IpAddr::Family::v6 ? " inet6\n" : " inet\n");
        } else {
            out += std::string("service ") + conf::to_string(s.protocol) + " " + s.address.to_string() + " " +
                   std::to_string(s.port) + "\n";
        }
    }
    for (const conf::IpAddress& a : record.addresses) out += "static_ipaddress " + a.text + "\n";
    for (const conf::Route& r : record.routes) out += "static_routes " + r.text + "\n";
    return out;
}

KernelRecord parse_record(std::string_view text, const std::string& name, std::vector<std::string>& problems) {
    KernelRecord out;
    int line_no = 0;
    while (!text.empty()) {
        const std::size_t eol = text.find('\n');
        const std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
        ++line_no;
        const std::vector<std::string> w = words(line);
        if (w.empty() || w[0][0] == '#') continue;
        const conf::SourceLoc loc{name, line_no};
        std::string why;
        if (w[0] == "service") {
            if (auto s = parse_service(w, why)) {
                s->loc = loc;
                out.services.push_back(*s);
                continue;
            }
        } else if (w[0] == "static_ipaddress" || w[0] == "static_routes") {
            const std::string_view rest = line.substr(line.find(w[0]) + w[0].size());
            if (parse_static(w[0], rest, loc, out, why)) continue;
        } else {
            why = "unknown entry '" + w[0] + "'";
        }
        problems.push_back(name + ":" + std::to_string(line_no) + ": " + why);
    }
    return out;
}

std::string record_path_for(const std::string& control_socket) {
    const std::string suffix = ".sock";
    if (control_socket.size() > suffix.size() &&
        control_socket.compare(control_socket.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return control_socket.substr(0, control_socket.size() - suffix.size()) + ".state";
    }
    return control_socket + ".state";
}

std::optional<KernelRecord> read_record(const std::string& path, std::vector<std::string>& problems) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return parse_record(text.str(), path, problems);
}

std::string write_record(const std::string& path, const KernelRecord& record) {
    const std::string tmp = path + ".new";
    const std::string text = format_record(record);
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr) return "cannot write " + tmp + ": " + std::strerror(errno);
    const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    const int saved = errno;
    // The data must be on disk before the rename makes it the record.
    const bool synced = written && std::fflush(f) == 0 && fsync(fileno(f)) == 0;
    std::fclose(f);
    if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(written ? errno : saved);
        std::remove(tmp.c_str());
        return "cannot write " + path + ": " + why;
    }
    return {};
}

void remove_record(const std::string& path) { std::remove(path.c_str()); }

}  // namespace kadp::ctl
