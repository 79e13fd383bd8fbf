// Runs on: any (unit test). HTTP_GET's request and its verdict on recorded
// responses: status codes against lists and ranges, the body's MD5 (capped
// at Content-Length, as genhash computes it), responses cut into chunks
// anywhere (the blank line split across reads), headers that never end.
#include "checks/http_response.h"

#include <string>

#include <gtest/gtest.h>

namespace kadp::chk {
namespace {

constexpr const char* kHelloMd5 = "b1946ac92492d2347c6235b4d2611184";  // md5("hello\n")
constexpr const char* kEmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";

const std::string kOk =
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\nContent-Length: 6\r\n"
    "Connection: close\r\n\r\nhello\n";

UrlSpec url(std::string digest = {}, std::vector<std::pair<int, int>> codes = {{200, 299}})
{
    return UrlSpec{"/", std::move(digest), std::move(codes)};
}

std::optional<std::string> judge_chunks(const std::string& wire, std::size_t chunk, const UrlSpec& u)
{
    HttpResponse r;
    for (std::size_t i = 0; i < wire.size(); i += chunk) r.feed(std::string_view(wire).substr(i, chunk));
    return judge(u, r);
}

TEST(HttpRequest, KeepalivedsRequestLines)
{
    HttpRequestSpec s;
    s.path = "/health";
    s.address = "198.19.0.1";
    s.port = 80;
    EXPECT_EQ(http_request(s), "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 198.19.0.1:80\r\n\r\n");
    s.http_protocol = "1.1";
    s.virtualhost = "www.example.com";
    EXPECT_EQ(http_request(s),
              "GET /health HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example.com\r\n\r\n");
    s.http_protocol = "1.0C";
    s.virtualhost.clear();
    s.address = "2001:db8::1";
    s.ipv6 = true;
    s.port = 8080;
    EXPECT_EQ(http_request(s),
              "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: [2001:db8::1]:8080\r\n\r\n");
}

TEST(HttpResponse, StatusContentLengthAndDigestInAnyChunking)
{
    for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u, 4096u}) {
        HttpResponse r;
        for (std::size_t i = 0; i < kOk.size(); i += chunk) r.feed(std::string_view(kOk).substr(i, chunk));
        ASSERT_TRUE(r.header_complete()) << chunk;
        EXPECT_EQ(r.status_code(), 200);
        EXPECT_EQ(r.content_length(), 6u);
        EXPECT_EQ(r.body_bytes(), 6u);
        EXPECT_EQ(r.digest(), kHelloMd5) << "chunk " << chunk;
    }
}

TEST(HttpResponse, DigestStopsAtContentLength)
{
    HttpResponse r;
    r.feed("HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\ntrailing junk");
    EXPECT_EQ(r.digest(), kHelloMd5);
    EXPECT_EQ(r.body_bytes(), 19u);
}

TEST(HttpResponse, WithoutContentLengthTheWholeBodyToEof)
{
    HttpResponse r;
    r.feed("HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nhel");
    r.feed("lo\n");
    EXPECT_FALSE(r.content_length());
    EXPECT_EQ(r.digest(), kHelloMd5);
}

TEST(HttpResponse, EmptyBody)
{
    HttpResponse r;
    r.feed("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(r.status_code(), 204);
    EXPECT_EQ(r.digest(), kEmptyMd5);
}

TEST(HttpResponse, UnreadableStatusLines)
{
    for (const char* line : {"HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n",
                             "HTTP/1.1 200\r\n\r\n", "garbage\r\n\r\n",
                             // a sign is not a digit (fuzz_http found "-03" read as -3)
                             "HTTP/1.1 -03 OK\r\n\r\n", "HTTP/1.1 +20 OK\r\n\r\n"}) {
        HttpResponse r;
        r.feed(line);
        EXPECT_TRUE(r.header_complete());
        EXPECT_EQ(r.status_code(), 0) << line;
        EXPECT_EQ(judge(url(), r), "HTTP status code error to") << line;
    }
}

TEST(Judge, DefaultRangeListsAndRanges)
{
    EXPECT_EQ(judge_chunks(kOk, 5, url()), std::nullopt);
    const std::string not_found = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    EXPECT_EQ(judge_chunks(not_found, 5, url()), "HTTP status code error to");
    EXPECT_EQ(judge_chunks(not_found, 5, url({}, {{200, 200}, {404, 404}})), std::nullopt);
    const std::string redirect = "HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n";
    EXPECT_EQ(judge_chunks(redirect, 3, url({}, {{300, 399}})), std::nullopt);
    EXPECT_EQ(judge_chunks(redirect, 3, url()), "HTTP status code error to");
}

TEST(Judge, DigestMatchAndMismatch)
{
    EXPECT_EQ(judge_chunks(kOk, 1, url(kHelloMd5)), std::nullopt);
    EXPECT_EQ(judge_chunks(kOk, 1, url(kEmptyMd5)), "MD5 digest error to");
    // The status is judged first: a 500 with the right body still fails on it.
    std::string err = kOk;
    err.replace(9, 3, "500");
    EXPECT_EQ(judge_chunks(err, 4, url(kHelloMd5)), "HTTP status code error to");
}

TEST(Judge, NoHeaderOrNeverEndingHeader)
{
    EXPECT_EQ(judge_chunks("", 1, url()), "Read, no data received from");
    EXPECT_EQ(judge_chunks("HTTP/1.1 200 OK\r\nServer: x\r\n", 3, url()), "Read, no data received from");
    HttpResponse r;
    const std::string big(HttpResponse::kMaxHeader + 10, 'x');
    r.feed("HTTP/1.1 200 OK\r\nX: ");
    r.feed(big);
    EXPECT_TRUE(r.malformed());
    EXPECT_EQ(judge(url(), r), "Read, no data received from");
}

}  // namespace
}  // namespace kadp::chk
