// Runs on: control thread.
#include "checks/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace kadp::chk {

socklen_t to_sockaddr(const conf::IpAddr& a, std::uint16_t port, sockaddr_storage& ss)
{
    std::memset(&ss, 0, sizeof ss);
    if (a.is_v6()) {
        sockaddr_in6 sin6{};
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        std::memcpy(&sin6.sin6_addr, a.bytes.data(), 16);
        std::memcpy(&ss, &sin6, sizeof sin6);
        return sizeof sin6;
    }
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, a.bytes.data(), 4);
    std::memcpy(&ss, &sin, sizeof sin);
    return sizeof sin;
}

int bind_local(int fd, const Endpoint& to)
{
    if (to.bindto.empty() && to.bind_port == 0) return 0;
    conf::IpAddr any;
    any.family = to.address.family;
    if (to.bind_port != 0) {
        const int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    sockaddr_storage ss;
    const socklen_t len = to_sockaddr(to.bindto.empty() ? any : to.bindto, to.bind_port, ss);
    return bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) == 0 ? 0 : errno;
}

SSL_CTX* client_tls_context()
{
    static const std::unique_ptr<SSL_CTX, SslCtxFree> ctx = [] {
        std::unique_ptr<SSL_CTX, SslCtxFree> c(SSL_CTX_new(TLS_client_method()));
        if (!c) throw std::runtime_error("OpenSSL cannot create a TLS client context");
        SSL_CTX_set_verify(c.get(), SSL_VERIFY_NONE, nullptr);
        SSL_CTX_set_options(c.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
        return c;
    }();
    return ctx.get();
}

int Connection::connect(const Endpoint& to, Millis timeout, std::function<void(int error)> done)
{
    close();
    const int family = to.address.is_v6() ? AF_INET6 : AF_INET;
    fd_ = ctl::Fd(socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
    if (fd_.get() < 0) return errno;
    if (const int err = bind_local(fd_.get(), to); err != 0) {
        close();
        return err;
    }
    sockaddr_storage ss;
    const socklen_t len = to_sockaddr(to.address, to.port, ss);
    if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
        const int err = errno;
        close();
        return err;
    }
    // Watched for the connect's EPOLLOUT at once: one epoll_ctl, not two.
    watch_ = loop_->watch(fd_.get(), EPOLLOUT | EPOLLONESHOT, [this](std::uint32_t ev) { on_events(ev); });
    expect(timeout, [this, done = std::move(done)](bool timed_out) {
        if (timed_out) {
            done(ETIMEDOUT);
            return;
        }
        int err = 0;
        socklen_t l = sizeof err;
        if (getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &l) != 0) err = errno;
        done(err);
    });
    return 0;
}

// EPOLLONESHOT: the kernel disarms the watch when it reports the event, so
// a wait costs one epoll_ctl (this one) and the watch never fires again by
// itself, not even for EPOLLHUP/EPOLLERR while nobody waits.
void Connection::wait(std::uint32_t events, Millis timeout, WaitFn done)
{
    loop_->modify(watch_, events | EPOLLONESHOT);
    expect(timeout, std::move(done));
}

void Connection::expect(Millis timeout, WaitFn done)
{
    waiting_ = std::move(done);
    timer_.arm(timeout, [this] { on_timeout(); });
}

// The watch is quiet (one-shot) and the timer stops before the callback,
// which may wait again, close, or have the connection destroyed.
void Connection::on_events(std::uint32_t)
{
    if (!waiting_) return;
    timer_.cancel();
    WaitFn done = std::move(waiting_);
    waiting_ = nullptr;
    done(false);
}

void Connection::on_timeout()
{
    if (!waiting_) return;
    loop_->modify(watch_, 0);
    WaitFn done = std::move(waiting_);
    waiting_ = nullptr;
    done(true);
}

bool Connection::start_tls(const std::string& sni, std::string& why)
{
    ssl_.reset(SSL_new(client_tls_context()));
    if (!ssl_ || SSL_set_fd(ssl_.get(), fd_.get()) != 1) {
        why = "cannot create the TLS session";
        return false;
    }
    // SSL_set_tlsext_host_name is a macro with a C cast.
    if (!sni.empty() &&
        SSL_ctrl(ssl_.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(sni.c_str())) != 1) {
        why = "cannot set the TLS server name " + sni;
        return false;
    }
    SSL_set_connect_state(ssl_.get());
    return true;
}

void Connection::close()
{
    timer_.cancel();
    waiting_ = nullptr;
    ssl_.reset();  // before the descriptor it uses
    if (watch_ != 0) loop_->unwatch(watch_);
    watch_ = 0;
    fd_ = ctl::Fd();
}

}  // namespace kadp::chk
