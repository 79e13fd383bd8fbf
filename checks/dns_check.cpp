// Runs on: control thread. DNS_CHECK as keepalived 2.2.7 runs it
// (check_dns.c): a connected non-blocking UDP socket, one query (random ID,
// RD, `name` / `type` / IN, dns_message.h), then the first datagram with
// that ID and the QR bit decides: RCODE 0 passes, any other fails. Sending
// and waiting share one deadline, connect_timeout from the start of the
// attempt. A closed port shows as an ICMP error on the connected socket
// (recv: ECONNREFUSED), so a stopped server fails at once, not at timeout.
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "checks/checker.h"
#include "checks/checks_internal.h"
#include "checks/connection.h"
#include "checks/dns_message.h"

namespace kadp::chk {
namespace {

// keepalived's buffer: a longer reply is cut, which changes nothing as only
// the header is read.
constexpr std::size_t kReplyBuffer = 768;

std::uint16_t random_id()
{
    static thread_local std::mt19937 rng{std::random_device{}()};
    return static_cast<std::uint16_t>(std::uniform_int_distribution<unsigned>(0, 0xffff)(rng));
}

// socket_bind_connect's connect_fail: the server is unreachable, which
// fails the attempt; other connect errors only reschedule it.
bool unreachable(int err)
{
    return err == ENETUNREACH || err == EHOSTUNREACH || err == ECONNREFUSED || err == EHOSTDOWN || err == ENETDOWN ||
           err == ECONNRESET || err == ECONNABORTED || err == ETIMEDOUT;
}

class DnsCheck final : public Checker {
public:
    DnsCheck(ctl::EventLoop& loop, const conf::Checker& config, LogFn log)
        : Checker(loop, config, std::move(log)), timer_(loop) {}
    ~DnsCheck() override { close(); }

private:
    enum class Phase { writing, reading };

    std::string prefix() const { return "DNS_CHECK (" + name() + ") "; }

    void attempt() override
    {
        const Endpoint to = endpoint_of(config());
        fd_ = ctl::Fd(socket(to.address.is_v6() ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                             IPPROTO_UDP));
        if (fd_.get() < 0) return reschedule(prefix() + "failed to create socket. Rescheduling.");
        if (bind_local(fd_.get(), to) != 0) return reschedule(prefix() + "UDP socket bind failed. Rescheduling.");
        sockaddr_storage ss;
        const socklen_t len = to_sockaddr(to.address, to.port, ss);
        if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
            if (unreachable(errno))
                return fail("network unreachable for [" + to.address.to_string() + "]:" + std::to_string(to.port));
            return reschedule(prefix() + "UDP socket bind failed. Rescheduling.");
        }
        id_ = random_id();
        query_ = dns_query(id_, config().dns_name, config().dns_type);
        watch_ = loop().watch(fd_.get(), 0, [this](std::uint32_t) { ready(); });
        timer_.arm(connect_timeout(), [this] {
            fail(phase_ == Phase::writing ? "write timeout to socket." : "read timeout from socket");
        });
        phase_ = Phase::writing;
        send_query();
    }

    void abandon() override { close(); }

    void close()
    {
        timer_.cancel();
        if (watch_ != 0) loop().unwatch(watch_);
        watch_ = 0;
        fd_ = ctl::Fd();
    }

    void ready()
    {
        if (phase_ == Phase::writing) return send_query();
        receive();
    }

    void send_query()
    {
        const ssize_t n = ::send(fd_.get(), query_.data(), query_.size(), 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            loop().modify(watch_, EPOLLOUT);
            return;
        }
        if (n < 0) return fail("failed to write socket.");
        if (static_cast<std::size_t>(n) != query_.size()) return fail("failed to write all of the datagram.");
        phase_ = Phase::reading;
        loop().modify(watch_, EPOLLIN);
    }

    void receive()
    {
        std::uint8_t buf[kReplyBuffer];
        for (;;) {
            const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;  // keep waiting
                const int err = errno;
                return fail("failed to read socket; errno " + std::to_string(err) + " (" + std::strerror(err) + ")");
            }
            const DnsReply r = judge_dns_reply(id_, std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)));
            switch (r.kind) {
            case DnsReply::Kind::ignore: continue;
            case DnsReply::Kind::ok: return done(true);
            case DnsReply::Kind::error:
                return fail("read error occurred. (rcode = " + std::to_string(r.rcode) + ")");
            }
        }
    }

    // keepalived's dns_final: the reason is logged by itself while retries
    // remain (kadp: while up, or with log_all_failures), and once more with
    // " after N retries" when the checker fails; that last line is
    // failure_line(), so the attempt that fails the checker logs only it.
    void fail(const std::string& reason)
    {
        const CheckerState& s = state();
        const bool fails_now = (s.up() || !s.has_run()) && s.retries_pending() >= s.policy().retry;
        last_reason_ = reason;
        had_run_ = s.has_run();
        done(false, fails_now ? std::string() : prefix() + reason);
    }

    // keepalived logs no DNS line of its own on success (only "Adding service").
    std::string success_line() const override { return {}; }
    std::string failure_line(int) const override
    {
        std::string line = prefix() + last_reason_;
        if (had_run_) line += " after " + std::to_string(state().policy().retry) + " retries";
        return line;
    }

    ctl::Fd fd_;
    ctl::EventLoop::WatchId watch_ = 0;
    ctl::Timer timer_;
    Phase phase_ = Phase::writing;
    std::uint16_t id_ = 0;
    std::vector<std::uint8_t> query_;
    std::string last_reason_;
    bool had_run_ = false;
};

}  // namespace

std::unique_ptr<Checker> make_dns_check(ctl::EventLoop& loop, const conf::Checker& config, LogFn log)
{
    return std::make_unique<DnsCheck>(loop, config, std::move(log));
}

}  // namespace kadp::chk
