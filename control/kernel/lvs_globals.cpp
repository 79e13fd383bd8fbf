// Runs on: control thread.
#include "control/kernel/lvs_globals.h"

#include <charconv>
#include <sstream>
#include <string>
#include <vector>

namespace kadp::ctl {
namespace {

std::vector<std::string> words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

}  // namespace

LvsGlobals lvs_globals(const conf::GlobalDefs& g, conf::Diagnostics& diags) {
    LvsGlobals out;
    for (const conf::OtherKeyword& k : g.other) {
        const auto w = words(k.value);
        if (k.keyword == "lvs_flush") {
            out.flush_at_start = true;
        } else if (k.keyword == "lvs_flush_on_stop") {
            out.on_stop = !w.empty() && w[0] == "VS" ? LvsGlobals::OnStop::delete_services
                                                    : LvsGlobals::OnStop::flush_all;
        } else if (k.keyword == "lvs_timeouts") {
            IpvsTimeouts t;
            bool ok = !w.empty() && w.size() % 2 == 0;
            for (std::size_t i = 0; ok && i + 1 < w.size(); i += 2) {
                std::uint32_t v = 0;
                const auto [p, ec] = std::from_chars(w[i + 1].data(), w[i + 1].data() + w[i + 1].size(), v);
                ok = ec == std::errc{} && p == w[i + 1].data() + w[i + 1].size() && v > 0;
                if (w[i] == "tcp") t.tcp = v;
                else if (w[i] == "tcpfin") t.tcp_fin = v;
                else if (w[i] == "udp") t.udp = v;
                else ok = false;
            }
            if (!ok) {
                diags.warning(k.loc, "lvs_timeouts '" + k.value +
                                         "': expected [tcp SECS] [tcpfin SECS] [udp SECS] with SECS > 0 - ignoring");
                continue;
            }
            out.timeouts = t;
        }
    }
    return out;
}

}  // namespace kadp::ctl
