// Runs on: kadpctl (its own process). Connects to kadp's control socket,
// sends one request line, reads the reply until the daemon closes, prints it.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "control/kadpctl.h"
#include "kadp_version.h"

namespace {

using namespace kadp::ctl;

// A reload re-reads the configuration; everything else is quick.
constexpr auto kReplyTimeout = std::chrono::seconds(60);
constexpr std::size_t kMaxReply = std::size_t{1} << 30;

struct Closer {
    int fd;
    ~Closer() {
        if (fd >= 0) close(fd);
    }
};

// The reply line, or an empty string and `error`.
std::string exchange(const std::string& path, const std::string& request, std::string& error) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        error = "socket path too long: " + path;
        return {};
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    Closer fd{socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (fd.fd < 0 || connect(fd.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        error = "cannot connect to " + path + ": " + std::strerror(errno) +
                (errno == ENOENT || errno == ECONNREFUSED ? " (is kadp running? see -s)" : "");
        return {};
    }
    for (std::size_t sent = 0; sent < request.size();) {
        const ssize_t n = send(fd.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            error = std::string("sending the request: ") + std::strerror(errno);
            return {};
        }
        sent += static_cast<std::size_t>(n);
    }
    shutdown(fd.fd, SHUT_WR);
    const auto deadline = std::chrono::steady_clock::now() + kReplyTimeout;
    std::string reply;
    char buf[65536];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            error = "no complete reply from " + path + " within " + std::to_string(kReplyTimeout.count()) + " s";
            return {};
        }
        pollfd p{fd.fd, POLLIN, 0};
        const int r = poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        const ssize_t n = recv(fd.fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) {
            error = std::string("reading the reply: ") + std::strerror(errno);
            return {};
        }
        if (n == 0) break;
        reply.append(buf, static_cast<std::size_t>(n));
        if (reply.size() > kMaxReply) {
            error = "reply larger than 1 GiB";
            return {};
        }
    }
    if (reply.empty()) error = "the daemon closed the connection without a reply";
    return reply;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    const auto parsed = parse_kadpctl_args(args);
    if (!parsed.options) {
        std::cerr << "kadpctl: " << parsed.error << "\nTry 'kadpctl --help'.\n";
        return kCtlUsage;
    }
    const CtlOptions& o = *parsed.options;
    if (o.help) {
        std::cout << kadpctl_usage();
        return kCtlOk;
    }
    if (o.version) {
        std::cout << "kadpctl " << KADP_VERSION << "\n";
        return kCtlOk;
    }
    std::string error;
    const std::string reply = exchange(o.socket, format_request(o.request), error);
    if (reply.empty()) {
        std::cerr << "kadpctl: " << error << "\n";
        return kCtlUnreachable;
    }
    std::string out, err;
    const int rc = render_reply(o, reply, out, err);
    std::cout << out << std::flush;
    std::cerr << err;
    return rc;
}
