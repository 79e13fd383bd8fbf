// Runs on: control thread.
#include "checks/http_response.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace kadp::chk {

std::string http_request(const HttpRequestSpec& spec)
{
    const bool v11 = spec.http_protocol == "1.1";
    const bool close = v11 || spec.http_protocol == "1.0C";
    std::string host;
    if (!spec.virtualhost.empty()) host = spec.virtualhost;  // its own port, if any, as written
    else if (spec.ipv6) host = "[" + spec.address + "]:" + std::to_string(spec.port);
    else host = spec.address + ":" + std::to_string(spec.port);
    std::string r = "GET " + spec.path + (v11 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n");
    r += "User-Agent: KeepAliveClient\r\n";
    if (close) r += "Connection: close\r\n";
    r += "Host: " + host + "\r\n\r\n";
    return r;
}

struct Md5::Ctx {
    EVP_MD_CTX* ctx = nullptr;
};

Md5::Md5() : ctx_(std::make_unique<Ctx>())
{
    ctx_->ctx = EVP_MD_CTX_new();
    if (ctx_->ctx == nullptr || EVP_DigestInit_ex(ctx_->ctx, EVP_md5(), nullptr) != 1)
        throw std::runtime_error("OpenSSL cannot compute MD5");
}

Md5::~Md5()
{
    if (ctx_ && ctx_->ctx != nullptr) EVP_MD_CTX_free(ctx_->ctx);
}

void Md5::update(std::string_view data)
{
    if (!data.empty()) EVP_DigestUpdate(ctx_->ctx, data.data(), data.size());
}

std::string Md5::final_hex()
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_->ctx, md, &len);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 15];
    }
    return out;
}

void HttpResponse::feed(std::string_view data)
{
    if (malformed_) return;
    if (header_done_) {
        body(data);
        return;
    }
    // The blank line may straddle two chunks: search from a little before.
    const std::size_t from = header_.size() >= 3 ? header_.size() - 3 : 0;
    header_.append(data);
    const std::size_t end = header_.find("\r\n\r\n", from);
    if (end == std::string::npos) {
        if (header_.size() > kMaxHeader) malformed_ = true;
        return;
    }
    std::string rest = header_.substr(end + 4);
    header_.resize(end + 2);
    header_done_ = true;
    parse_header();
    body(rest);
}

// As keepalived's extract_status_code: the 3 digits after the first space
// of the status line, followed by a space.
void HttpResponse::parse_header()
{
    const std::string_view line = std::string_view(header_).substr(0, header_.find("\r\n"));
    const auto sp = line.find(' ');
    if (sp != std::string_view::npos && sp + 4 < line.size()) {
        const std::string_view code = line.substr(sp + 1, 3);
        const bool spaced = line[sp + 4] == ' ';
        // Digits only: from_chars would take "-03" as -3 (found by fuzz_http).
        const bool digits = std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
        int v = 0;
        const auto [p, ec] = std::from_chars(code.data(), code.data() + code.size(), v);
        if (spaced && digits && ec == std::errc{} && p == code.data() + code.size()) status_ = v;
    }
    // Content-Length, any case, first occurrence.
    std::size_t pos = 0;
    while ((pos = header_.find("\r\n", pos)) != std::string::npos) {
        pos += 2;
        static constexpr std::string_view kName = "content-length:";
        if (header_.size() - pos < kName.size()) break;
        bool match = true;
        for (std::size_t i = 0; i < kName.size() && match; ++i)
            match = std::tolower(static_cast<unsigned char>(header_[pos + i])) == kName[i];
        if (!match) continue;
        std::size_t v = pos + kName.size();
        while (v < header_.size() && (header_[v] == ' ' || header_[v] == '\t')) ++v;
        std::size_t n = 0;
        const auto [p, ec] = std::from_chars(header_.data() + v, header_.data() + header_.size(), n);
        if (ec == std::errc{} && p != header_.data() + v) content_length_ = n;
        break;
    }
}

void HttpResponse::body(std::string_view data)
{
    body_bytes_ += data.size();
    std::size_t take = data.size();
    if (content_length_) take = std::min(take, *content_length_ - std::min(*content_length_, hashed_));
    md5_.update(data.substr(0, take));
    hashed_ += take;
}

std::string HttpResponse::digest() { return md5_.final_hex(); }

std::optional<std::string> judge(const UrlSpec& url, HttpResponse& response)
{
    if (!response.header_complete() || response.malformed()) return "Read, no data received from";
    const int code = response.status_code();
    const bool listed = std::any_of(url.status_code.begin(), url.status_code.end(),
                                    [code](const auto& r) { return code >= r.first && code <= r.second; });
    if (code < 100 || code > 599 || !listed) return "HTTP status code error to";
    if (!url.digest.empty() && response.digest() != url.digest) return "MD5 digest error to";
    return std::nullopt;
}

}  // namespace kadp::chk
