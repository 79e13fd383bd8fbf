// Runs on: control thread. See bounded_clients.h.
#include "control/bounded_clients.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

namespace kadp::ctl {

BoundedClients::BoundedClients(EventLoop& loop, int listen_fd, Limits limits, ServeFn serve, std::string busy_reply,
                               std::string name, LogFn log)
    : loop_(&loop), listen_fd_(listen_fd), limits_(limits), serve_(std::move(serve)), busy_reply_(std::move(busy_reply)),
      name_(std::move(name)), log_(std::move(log))
{
    listen_watch_ = loop_->watch(listen_fd_, EPOLLIN, [this](std::uint32_t) { on_accept(); });
}

BoundedClients::~BoundedClients()
{
    while (!clients_.empty()) drop(clients_.begin()->first);
    loop_->unwatch(listen_watch_);
}

void BoundedClients::on_accept()
{
    for (;;) {
        Fd fd(accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (fd.get() < 0) {
            const int e = errno;
            if (e == EINTR || e == ECONNABORTED) continue;
            if (e != EAGAIN && e != EWOULDBLOCK) {
                // EMFILE and the like: the listener stays readable (level
                // triggered), so stop watching it until the next tick.
                log_.error(name_ + ": accept", name_ + ": accept: " + std::strerror(e) +
                                                   "; not accepting until the next tick");
                loop_->modify(listen_watch_, 0);
                accept_paused_ = true;
            }
            return;
        }
        if (clients_.size() >= limits_.max_clients) {
            if (!busy_reply_.empty()) {
                [[maybe_unused]] const ssize_t n =
                    send(fd.get(), busy_reply_.data(), busy_reply_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            }
            log_.warning(name_ + ": busy",
                         name_ + ": " + std::to_string(clients_.size()) + " clients at once, refusing more");
            continue;  // closed by Fd: the client retries
        }
        const std::uint64_t id = next_client_++;
        auto c = std::make_unique<Client>();
        c->started = c->progress = Clock::now();
        const int raw = fd.get();
        c->fd = std::move(fd);
        try {
            c->watch = loop_->watch(raw, EPOLLIN, [this, id](std::uint32_t ev) { on_client(id, ev); });
        } catch (const std::exception& e) {
            // One client the loop cannot take (out of memory, epoll limits):
            // closed, the daemon carries on.
            log_.error(name_ + ": watch", name_ + ": client not watched: " + e.what());
            continue;
        }
        clients_.emplace(id, std::move(c));
    }
}

void BoundedClients::on_client(std::uint64_t id, std::uint32_t events)
{
    const auto it = clients_.find(id);
    if (it == clients_.end()) return;
    Client& c = *it->second;
    const bool keep = c.replying ? write_reply(c) : read_request(c);
    if (!keep || ((events & (EPOLLERR | EPOLLHUP)) != 0 && !c.replying)) drop(id);
}

bool BoundedClients::read_request(Client& c)
{
    char buf[1024];
    for (;;) {
        const ssize_t n = recv(c.fd.get(), buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        const bool eof = n == 0;
        if (!eof) {
            c.progress = Clock::now();
            c.in.append(buf, static_cast<std::size_t>(n));
        }
        const bool full = c.in.size() >= limits_.max_request;
        std::optional<std::string> reply = serve_(Request{c.in, eof, full});
        if (!reply) {
            if (eof || full) return false;  // gone, or too long for a protocol that did not say so
            continue;
        }
        start_reply(c, std::move(*reply));
        return write_reply(c);
    }
}

void BoundedClients::start_reply(Client& c, std::string text)
{
    c.in.clear();
    c.in.shrink_to_fit();
    c.out = std::move(text);
    c.sent = 0;
    c.replying = true;
    c.progress = Clock::now();
    loop_->modify(c.watch, EPOLLOUT);
}

bool BoundedClients::write_reply(Client& c)
{
    while (c.sent < c.out.size()) {
        const ssize_t n = send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;  // EPOLLOUT calls again
        }
        c.sent += static_cast<std::size_t>(n);
        c.progress = Clock::now();
    }
    shutdown(c.fd.get(), SHUT_WR);
    return false;  // all sent: the close tells the client the reply is complete
}

void BoundedClients::drop(std::uint64_t id)
{
    const auto it = clients_.find(id);
    if (it == clients_.end()) return;
    loop_->unwatch(it->second->watch);
    clients_.erase(it);  // closes the descriptor
}

void BoundedClients::tick(Clock::time_point now)
{
    if (accept_paused_) accept_paused_ = !loop_->modify(listen_watch_, EPOLLIN);
    log_.flush();
    for (auto it = clients_.begin(); it != clients_.end();) {
        const Client& c = *it->second;
        const auto id = it->first;
        ++it;
        if (now - c.progress >= limits_.idle_timeout || now - c.started >= limits_.max_lifetime) drop(id);
    }
}

}  // namespace kadp::ctl
