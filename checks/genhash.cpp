// Runs on: any (command line; blocking I/O with timeouts).
#include "checks/genhash.h"

#include <netinet/in.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "checks/connection.h"
#include "checks/http_response.h"
#include "conf/inet.h"
#include "control/event_loop.h"

namespace kadp::chk {
namespace {

constexpr const char* kUsage =
    "usage: kadp genhash -s ADDR -p PORT -u URL [-S] [-V VHOST] [-P 1.0|1.1|1.0C] [-t SECONDS]\n"
    "  prints the MD5 of the body of GET URL, as keepalived's genhash and HTTP_GET's digest\n"
    "  -S: over TLS (SSL_GET; SNI from -V), -t: timeout of each step (default 5 s)\n";

std::string ssl_error_text()
{
    char buf[256] = {};
    const unsigned long e = ERR_get_error();
    if (e == 0) return std::strerror(errno);
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

}  // namespace

int genhash_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err)
{
    std::optional<conf::IpAddr> addr;
    int port = 0;
    std::string url, vhost, proto = "1.0";
    bool tls = false;
    double timeout = 5;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const bool has_value = i + 1 < args.size();
        if (a == "-h" || a == "--help") {
            out << kUsage;
            return 0;
        } else if (a == "-S") {
            tls = true;
        } else if (a == "-s" && has_value) {
            addr = conf::IpAddr::parse(args[++i]);
            if (!addr) {
                err << "kadp genhash: -s wants a numeric IPv4 or IPv6 address, not '" << args[i] << "'\n";
                return 2;
            }
        } else if (a == "-p" && has_value) {
            port = std::atoi(args[++i].c_str());
        } else if (a == "-u" && has_value) {
            url = args[++i];
        } else if (a == "-V" && has_value) {
            vhost = args[++i];
        } else if (a == "-P" && has_value) {
            proto = args[++i];
        } else if (a == "-t" && has_value) {
            timeout = std::atof(args[++i].c_str());
        } else {
            err << "kadp genhash: unexpected '" << a << "'\n" << kUsage;
            return 2;
        }
    }
    if (!addr || port <= 0 || port > 65535 || url.empty() || (proto != "1.0" && proto != "1.1" && proto != "1.0C") ||
        !(timeout > 0)) {
        err << kUsage;
        return 2;
    }

    const int family = addr->is_v6() ? AF_INET6 : AF_INET;
    ctl::Fd fd(socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP));
    if (fd.get() < 0) {
        err << "kadp genhash: socket: " << std::strerror(errno) << "\n";
        return 1;
    }
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout);
    tv.tv_usec = static_cast<suseconds_t>((timeout - static_cast<double>(tv.tv_sec)) * 1e6);
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // bounds connect() too
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (addr->is_v6()) {
        sockaddr_in6 s6{};
        s6.sin6_family = AF_INET6;
        s6.sin6_port = htons(static_cast<std::uint16_t>(port));
        std::memcpy(&s6.sin6_addr, addr->bytes.data(), 16);
        std::memcpy(&ss, &s6, sizeof s6);
        len = sizeof s6;
    } else {
        sockaddr_in s4{};
        s4.sin_family = AF_INET;
        s4.sin_port = htons(static_cast<std::uint16_t>(port));
        std::memcpy(&s4.sin_addr, addr->bytes.data(), 4);
        std::memcpy(&ss, &s4, sizeof s4);
        len = sizeof s4;
    }
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
        err << (errno == EINPROGRESS || errno == EAGAIN ? std::string("Timeout connecting")
                                                        : "Error connecting: " + std::string(std::strerror(errno)))
            << "\n";
        return 1;
    }
    std::unique_ptr<SSL, SslFree> ssl;
    if (tls) {
        ssl.reset(SSL_new(client_tls_context()));
        if (!ssl || SSL_set_fd(ssl.get(), fd.get()) != 1 ||
            (!vhost.empty() && SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                        const_cast<char*>(vhost.c_str())) != 1) ||
            SSL_connect(ssl.get()) != 1) {
            err << "SSL handshake/communication error: " << ssl_error_text() << "\n";
            return 1;
        }
    }
    HttpRequestSpec spec;
    spec.path = url;
    spec.http_protocol = proto;
    spec.virtualhost = vhost;
    spec.address = addr->to_string();
    spec.ipv6 = addr->is_v6();
    spec.port = static_cast<std::uint16_t>(port);
    const std::string request = http_request(spec);
    for (std::size_t sent = 0; sent < request.size();) {
        const char* p = request.data() + sent;
        const std::size_t left = request.size() - sent;
        const long n = tls ? SSL_write(ssl.get(), p, static_cast<int>(left)) : send(fd.get(), p, left, MSG_NOSIGNAL);
        if (n <= 0) {
            err << "Cannot send get request: " << (tls ? ssl_error_text() : std::strerror(errno)) << "\n";
            return 1;
        }
        sent += static_cast<std::size_t>(n);
    }
    HttpResponse response;
    char buf[16384];
    for (;;) {
        const long n = tls ? SSL_read(ssl.get(), buf, sizeof buf) : recv(fd.get(), buf, sizeof buf, 0);
        if (n > 0) {
            response.feed(std::string_view(buf, static_cast<std::size_t>(n)));
            continue;
        }
        if (n == 0 || (tls && SSL_get_error(ssl.get(), static_cast<int>(n)) == SSL_ERROR_ZERO_RETURN)) break;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            err << "Timeout HTTP read\n";
            return 1;
        }
        err << "Read error: " << (tls ? ssl_error_text() : std::strerror(errno)) << "\n";
        return 1;
    }
    if (!response.header_complete() || response.malformed()) {
        err << "no data received from remote webserver\n";
        return 1;
    }
    out << response.digest() << "\n";
    return 0;
}

}  // namespace kadp::chk
