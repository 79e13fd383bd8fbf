// Runs on: control thread (pure logic: no I/O). HTTP_GET / SSL_GET's
// request and its verdict on the response, as keepalived 2.2.7 makes them:
// `GET PATH HTTP/1.0` (1.1 for http_protocol 1.1; 1.0C and 1.1 add
// `Connection: close`), `User-Agent: KeepAliveClient`, `Host: VHOST` or
// `Host: ADDR:PORT`. The response is read to EOF; the status code is the
// three digits after the first space of the status line (then a space;
// anything else is no code, 0); the digest is the MD5
// of the body bytes after the blank line, capped at Content-Length (what
// genhash prints). Fed in chunks of any size, so partial reads are the
// normal case.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kadp::chk {

struct HttpRequestSpec {
    std::string path;
    std::string http_protocol = "1.0";  // "1.0", "1.1", "1.0C"
    std::string virtualhost;            // empty: Host is ADDR:PORT
    std::string address;                // the connect address as text
    bool ipv6 = false;
    std::uint16_t port = 80;
};
std::string http_request(const HttpRequestSpec& spec);

// MD5 over a stream (OpenSSL EVP), RAII.
class Md5 {
public:
    Md5();
    ~Md5();
    Md5(const Md5&) = delete;
    Md5& operator=(const Md5&) = delete;
    void update(std::string_view data);
    // Lowercase hex; the object is spent afterwards.
    std::string final_hex();

private:
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
};

// Accumulates one response.
class HttpResponse {
public:
    // Bytes as they arrive; the header is kept until its blank line (at
    // most kMaxHeader bytes, after which the response is malformed).
    void feed(std::string_view data);

    bool header_complete() const { return header_done_; }
    bool malformed() const { return malformed_; }
    int status_code() const { return status_; }  // 0: none or unreadable
    std::optional<std::size_t> content_length() const { return content_length_; }
    std::size_t body_bytes() const { return body_bytes_; }
    // MD5 of the body (capped at Content-Length); call once, at EOF.
    std::string digest();

    static constexpr std::size_t kMaxHeader = 64 * 1024;

private:
    void parse_header();
    void body(std::string_view data);

    std::string header_;
    bool header_done_ = false;
    bool malformed_ = false;
    int status_ = 0;
    std::optional<std::size_t> content_length_;
    std::size_t body_bytes_ = 0;   // received (all of it)
    std::size_t hashed_ = 0;       // of them in the digest
    Md5 md5_;
};

struct UrlSpec {
    std::string path;
    std::string digest;                            // lowercase hex, empty: none
    std::vector<std::pair<int, int>> status_code;  // inclusive ranges
};

// The verdict on a response read to EOF: nullopt when it passes, else the
// reason in keepalived's words ("HTTP status code error to", "MD5 digest
// error to", "Read, no data received from").
std::optional<std::string> judge(const UrlSpec& url, HttpResponse& response);

}  // namespace kadp::chk
