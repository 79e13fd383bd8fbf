// Runs on: the fuzzer. Feeds arbitrary bytes as what an SMTP server sends
// to SMTP_CHECK: cut into lines as the checker cuts them (up to '\n', at
// most 4096 bytes buffered), each judged by smtp_reply_code
// (checks/checks_internal.h, keepalived's smtp_get_status), checked against
// the rule it implements.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "checks/checks_internal.h"

namespace {

void require(bool ok)
{
    if (!ok) __builtin_trap();
}

bool digit(char c) { return c >= '0' && c <= '9'; }

// The rule, written the long way: three digits, then a space or the end
// (a trailing '\r' ignored).
int reference(std::string_view line)
{
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2])) return -1;
    if (line.size() > 3 && line[3] != ' ') return -1;
    return std::stoi(std::string(line.substr(0, 3)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    while (!rest.empty()) {
        const std::size_t nl = rest.find('\n');
        if (nl == std::string_view::npos && rest.size() > 4096) return 0;  // the checker fails: buffer overflow
        const std::string_view line = rest.substr(0, nl);
        const int code = kadp::chk::smtp_reply_code(line);
        require(code == -1 || (code >= 0 && code <= 999));
        require(code == reference(line));
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
    }
    return 0;
}
