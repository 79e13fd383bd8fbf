// Runs on: control thread. A checker's TCP connection, never blocking: a
// non-blocking socket (bound to bindto/bind_port when set) whose connect,
// reads and writes wait on the event loop, each wait bounded by a timeout;
// optionally TLS on top (OpenSSL, non-blocking handshake, SNI). Owns the
// descriptor, its watch, its timer and the SSL object: destroying it at any
// point cancels everything, so a callback never outlives its checker.
#pragma once

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "conf/inet.h"
#include "control/event_loop.h"

namespace kadp::chk {

struct Endpoint {
    conf::IpAddr address;
    std::uint16_t port = 0;
    conf::IpAddr bindto;     // empty: the kernel picks
    std::uint16_t bind_port = 0;
};

// `address`:`port` as a sockaddr_in or sockaddr_in6 in `ss`; returns its length.
socklen_t to_sockaddr(const conf::IpAddr& address, std::uint16_t port, sockaddr_storage& ss);
// Binds `fd` to to.bindto:to.bind_port when either is set (SO_REUSEADDR with
// a port). Returns 0 or an errno.
int bind_local(int fd, const Endpoint& to);

struct SslCtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
};

// The process's client context for SSL_GET: no certificate verification
// (keepalived 2.2.7 does none), a peer that closes without close_notify is
// an ordinary EOF. Created on first use; throws std::runtime_error when
// OpenSSL cannot make one.
SSL_CTX* client_tls_context();

class Connection {
public:
    using Millis = std::chrono::milliseconds;
    // The outcome of a wait: ready, or the timeout passed first.
    using WaitFn = std::function<void(bool timed_out)>;

    explicit Connection(ctl::EventLoop& loop) : loop_(&loop), timer_(loop) {}
    ~Connection() { close(); }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Starts connecting; `done(error)` runs once: 0 when connected, else an
    // errno (ETIMEDOUT after `timeout`). Returns an errno when it could not
    // even start (socket, bind, or an immediate refusal): `done` is not called.
    int connect(const Endpoint& to, Millis timeout, std::function<void(int error)> done);

    // Waits until the socket is readable (EPOLLIN) or writable (EPOLLOUT);
    // one wait, one callback (the watch is EPOLLONESHOT).
    void wait(std::uint32_t events, Millis timeout, WaitFn done);

    // TLS on the connected socket. `sni`: server name to send (empty: none).
    // Returns false (with why) when OpenSSL refused to set it up.
    bool start_tls(const std::string& sni, std::string& why);
    SSL* ssl() const { return ssl_.get(); }
    int fd() const { return fd_.get(); }
    void close();

private:
    // The callback of a wait whose watch is already armed.
    void expect(Millis timeout, WaitFn done);
    void on_events(std::uint32_t events);
    void on_timeout();

    ctl::EventLoop* loop_;
    ctl::Fd fd_;
    ctl::EventLoop::WatchId watch_ = 0;
    ctl::Timer timer_;
    WaitFn waiting_;
    std::unique_ptr<SSL, SslFree> ssl_;
};

}  // namespace kadp::chk
