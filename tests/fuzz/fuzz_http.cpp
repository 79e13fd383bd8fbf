// Runs on: the fuzzer. Feeds arbitrary bytes as an HTTP_GET response
// (checks/http_response.h: status line, Content-Length, body digest) and
// judges it. The first byte picks a chunk size: the response fed in chunks
// must give exactly what it gives fed in one piece (the checker reads
// whatever recv() returns, so a split anywhere is the normal case).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "checks/http_response.h"

namespace {

void require(bool ok)
{
    if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using kadp::chk::HttpResponse;
    if (size == 0) return 0;
    const std::size_t chunk = std::size_t{data[0]} % 16 + 1;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

    HttpResponse whole;
    whole.feed(text);
    HttpResponse split;
    for (std::size_t i = 0; i < text.size(); i += chunk) split.feed(text.substr(i, chunk));

    // A header longer than kMaxHeader is cut at different points; below it
    // the two must agree on everything.
    if (text.size() <= HttpResponse::kMaxHeader) {
        require(whole.header_complete() == split.header_complete());
        require(whole.malformed() == split.malformed());
        require(whole.status_code() == split.status_code());
        require(whole.content_length() == split.content_length());
        require(whole.body_bytes() == split.body_bytes());
    }
    require(whole.status_code() == 0 || (whole.status_code() >= 0 && whole.status_code() <= 999));
    require(whole.body_bytes() <= text.size());

    kadp::chk::UrlSpec url;
    url.path = "/";
    url.status_code = {{200, 299}};
    url.digest = "9e107d9d372bb6826bd81d3542a419d6";
    const auto verdict_whole = kadp::chk::judge(url, whole);
    const auto verdict_split = kadp::chk::judge(url, split);
    if (text.size() <= HttpResponse::kMaxHeader) require(verdict_whole == verdict_split);
    return 0;
}
