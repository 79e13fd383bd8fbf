// Runs on: control thread. HTTP_GET and SSL_GET: for each `url` in turn, a
// connection (TLS for SSL_GET: non-blocking handshake, SNI with enable_sni,
// no certificate verification as in keepalived 2.2.7), the GET request,
// the response read to EOF and judged (http_response.h). Every wait is
// bounded by connect_timeout, as keepalived bounds each step. One check
// passes when every url passes; it fails at the first url that fails.
#include <openssl/err.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "checks/checker.h"
#include "checks/checks_internal.h"
#include "checks/connection.h"
#include "checks/http_response.h"

namespace kadp::chk {
namespace {

// The OpenSSL error queue as text (and emptied: it is per thread).
std::string ssl_errors()
{
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        out += (out.empty() ? "" : "; ") + std::string(buf);
    }
    return out;
}

class HttpCheck final : public Checker {
public:
    HttpCheck(ctl::EventLoop& loop, const conf::Checker& config, LogFn log)
        : Checker(loop, config, std::move(log)), tls_(config.type == conf::CheckerType::ssl_get), conn_(loop) {}
    ~HttpCheck() override { conn_.close(); }

private:
    void attempt() override
    {
        url_ = 0;
        next_url();
    }
    void abandon() override
    {
        conn_.close();
        response_.reset();
    }

    void fail(std::string_view why) { done(false, std::string(why) + " server " + name() + "."); }

    void next_url()
    {
        response_.reset();
        sent_ = 0;
        const int err = conn_.connect(endpoint_of(config()), connect_timeout(), [this](int e) { connected(e); });
        if (err != 0) connected(err);
    }

    void connected(int err)
    {
        if (err == ETIMEDOUT) return fail("Timeout connecting");
        if (err != 0) return fail("Error connecting");
        if (!tls_) return send_request();
        std::string why;
        const std::string sni = config().enable_sni ? vhost() : std::string();
        if (!conn_.start_tls(sni, why)) return fail("SSL handshake/communication error (" + why + ") connecting to");
        handshake();
    }

    void handshake()
    {
        ERR_clear_error();
        const int r = SSL_do_handshake(conn_.ssl());
        if (r == 1) return send_request();
        const int e = SSL_get_error(conn_.ssl(), r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            conn_.wait(e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT, connect_timeout(), [this](bool timed_out) {
                if (timed_out) return fail("Timeout connecting");
                handshake();
            });
            return;
        }
        const std::string detail = ssl_errors();
        fail("SSL handshake/communication error" + (detail.empty() ? std::string() : " (" + detail + ")") +
             " connecting to");
    }

    std::string vhost() const
    {
        const conf::HttpUrl& u = config().url[url_];
        return u.virtualhost.empty() ? config().virtualhost : u.virtualhost;
    }

    void send_request()
    {
        if (sent_ == 0) {
            HttpRequestSpec spec;
            spec.path = config().url[url_].path;
            spec.http_protocol = config().http_protocol;
            spec.virtualhost = vhost();
            spec.address = config().connect_ip.to_string();
            spec.ipv6 = config().connect_ip.is_v6();
            spec.port = config().connect_port;
            request_ = http_request(spec);
        }
        while (sent_ < request_.size()) {
            const char* p = request_.data() + sent_;
            const std::size_t left = request_.size() - sent_;
            std::optional<std::uint32_t> want;
            if (tls_) {
                ERR_clear_error();
                const int n = SSL_write(conn_.ssl(), p, static_cast<int>(left));
                if (n > 0) {
                    sent_ += static_cast<std::size_t>(n);
                    continue;
                }
                const int e = SSL_get_error(conn_.ssl(), n);
                if (e == SSL_ERROR_WANT_READ) want = EPOLLIN;
                else if (e == SSL_ERROR_WANT_WRITE) want = EPOLLOUT;
                else return fail("Cannot send get request to");
            } else {
                const ssize_t n = ::send(conn_.fd(), p, left, MSG_NOSIGNAL);
                if (n > 0) {
                    sent_ += static_cast<std::size_t>(n);
                    continue;
                }
                if (n < 0 && (errno == EAGAIN || errno == EINTR)) want = EPOLLOUT;
                else return fail("Cannot send get request to");
            }
            conn_.wait(*want, connect_timeout(), [this](bool timed_out) {
                if (timed_out) return fail("Timeout WEB write");
                send_request();
            });
            return;
        }
        response_.emplace();
        receive();
    }

    void receive()
    {
        char buf[16384];
        // A plain socket yields the loop after 16 reads (level-triggered:
        // it comes straight back) so a fast sender cannot hold the control
        // thread. TLS reads on until WANT_READ: data OpenSSL already holds
        // would not wake epoll.
        for (int reads = 0;; ++reads) {
            std::uint32_t want = EPOLLIN;
            if (tls_) {
                ERR_clear_error();
                const int n = SSL_read(conn_.ssl(), buf, sizeof buf);
                if (n > 0) {
                    response_->feed(std::string_view(buf, static_cast<std::size_t>(n)));
                    continue;
                }
                const int e = SSL_get_error(conn_.ssl(), n);
                if (e == SSL_ERROR_ZERO_RETURN) return response_complete();
                if (e == SSL_ERROR_WANT_WRITE) want = EPOLLOUT;
                else if (e != SSL_ERROR_WANT_READ) {
                    const std::string detail = ssl_errors();
                    return fail("SSL read error" + (detail.empty() ? std::string() : " (" + detail + ")") + " from");
                }
            } else {
                if (reads == 16) {
                    conn_.wait(EPOLLIN, connect_timeout(), [this](bool timed_out) {
                        if (timed_out) return fail("Timeout HTTP read");
                        receive();
                    });
                    return;
                }
                const ssize_t n = ::recv(conn_.fd(), buf, sizeof buf, 0);
                if (n > 0) {
                    response_->feed(std::string_view(buf, static_cast<std::size_t>(n)));
                    continue;
                }
                if (n == 0) return response_complete();
                if (errno != EAGAIN && errno != EINTR) {
                    return fail(std::string("Read error (") + std::strerror(errno) + ") with");
                }
            }
            conn_.wait(want, connect_timeout(), [this](bool timed_out) {
                if (timed_out) return fail("Timeout HTTP read");
                receive();
            });
            return;
        }
    }

    void response_complete()
    {
        const conf::HttpUrl& u = config().url[url_];
        const UrlSpec spec{u.path, u.digest, u.status_code};
        if (auto why = judge(spec, *response_)) return fail(*why);
        conn_.close();
        if (++url_ < config().url.size()) return next_url();
        done(true);
    }

    std::string success_line() const override { return "Remote Web server " + name() + " succeed on service."; }
    std::string failure_line(int retries) const override
    {
        if (retries > 0) return "HTTP_CHECK on service " + name() + " failed after " + std::to_string(retries) + " retries.";
        return "HTTP_CHECK on service " + name() + " failed.";
    }

    bool tls_;
    Connection conn_;
    std::size_t url_ = 0;
    std::string request_;
    std::size_t sent_ = 0;
    std::optional<HttpResponse> response_;
};

}  // namespace

std::unique_ptr<Checker> make_http_check(ctl::EventLoop& loop, const conf::Checker& config, LogFn log)
{
    return std::make_unique<HttpCheck>(loop, config, std::move(log));
}

std::unique_ptr<Checker> make_checker(ctl::EventLoop& loop, const conf::Checker& config, LogFn log,
                                      ctl::ScriptRunner* scripts)
{
    switch (config.type) {
    case conf::CheckerType::tcp_check: return make_tcp_check(loop, config, std::move(log));
    case conf::CheckerType::smtp_check: return make_smtp_check(loop, config, std::move(log));
    case conf::CheckerType::dns_check: return make_dns_check(loop, config, std::move(log));
    case conf::CheckerType::http_get:
    case conf::CheckerType::ssl_get:
        if (config.url.empty()) return nullptr;
        return make_http_check(loop, config, std::move(log));
    case conf::CheckerType::misc_check:
        if (scripts == nullptr) return nullptr;
        return make_misc_check(loop, config, std::move(log), *scripts);
    default: return nullptr;
    }
}

}  // namespace kadp::chk
