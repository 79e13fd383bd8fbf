// Runs on: control thread. SMTP_CHECK as keepalived 2.2.7 runs it: connect,
// read the greeting line and expect 220, send `HELO helo_name`, expect 250,
// send `QUIT` and read one more line (any). Each wait is bounded by
// connect_timeout. The reply code rule (smtp_reply_code) is keepalived's:
// three digits followed by a space or the end of the line, so a
// multi-line "220-" greeting fails as it does in keepalived.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "checks/checker.h"
#include "checks/checks_internal.h"
#include "checks/connection.h"

namespace kadp::chk {

int smtp_reply_code(std::string_view line)
{
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() < 3) return -1;
    for (int i = 0; i < 3; ++i)
        if (line[static_cast<std::size_t>(i)] < '0' || line[static_cast<std::size_t>(i)] > '9') return -1;
    if (line.size() > 3 && line[3] != ' ') return -1;
    return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

namespace {

class SmtpCheck final : public Checker {
public:
    SmtpCheck(ctl::EventLoop& loop, const conf::Checker& config, LogFn log)
        : Checker(loop, config, std::move(log)), conn_(loop) {}
    ~SmtpCheck() override { conn_.close(); }

private:
    enum class Step { banner, helo, quit };

    void attempt() override
    {
        const int err = conn_.connect(endpoint_of(config()), connect_timeout(), [this](int e) { connected(e); });
        if (err != 0) connected(err);
    }
    void abandon() override { conn_.close(); }

    void fail(const std::string& what) { done(false, "SMTP_CHECK " + what + " server " + name()); }

    void connected(int err)
    {
        if (err == ETIMEDOUT) return fail("Connection timeout to");
        if (err != 0) return fail("Error connecting to");
        step_ = Step::banner;
        read_line();
    }

    void read_line()
    {
        line_.clear();
        receive();
    }

    void receive()
    {
        char buf[512];
        for (;;) {
            const ssize_t n = ::recv(conn_.fd(), buf, sizeof buf, 0);
            if (n > 0) {
                line_.append(buf, static_cast<std::size_t>(n));
                if (const auto nl = line_.find('\n'); nl != std::string::npos) {
                    line_.resize(nl);
                    return have_line();
                }
                if (line_.size() > 4096) return fail("Buffer overflow reading from");
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
            return fail("Read failure from");
        }
        conn_.wait(EPOLLIN, connect_timeout(), [this](bool timed_out) {
            if (timed_out) return fail("Read timeout from");
            receive();
        });
    }

    void have_line()
    {
        switch (step_) {
        case Step::banner:
            if (smtp_reply_code(line_) != 220) return fail("Bad greeting banner from");
            step_ = Step::helo;
            // keepalived's name when neither the checker nor global_defs gave one.
            return write_line("HELO " + (config().helo_name.empty() ? std::string("smtpchecker.keepalived.org")
                                                                      : config().helo_name) + "\r\n");
        case Step::helo:
            if (smtp_reply_code(line_) != 250) return fail("Bad HELO response from");
            step_ = Step::quit;
            return write_line("QUIT\r\n");
        case Step::quit: return done(true);
        }
    }

    void write_line(std::string line)
    {
        out_ = std::move(line);
        sent_ = 0;
        send_more();
    }

    void send_more()
    {
        while (sent_ < out_.size()) {
            const ssize_t n = ::send(conn_.fd(), out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL);
            if (n > 0) {
                sent_ += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                conn_.wait(EPOLLOUT, connect_timeout(), [this](bool timed_out) {
                    if (timed_out) return fail("Write timeout to");
                    send_more();
                });
                return;
            }
            return fail("Write failure to");
        }
        read_line();
    }

    std::string success_line() const override { return "Remote SMTP server " + name() + " succeed on service."; }
    std::string failure_line(int retries) const override
    {
        if (retries > 0) return "SMTP_CHECK on service " + name() + " failed after " + std::to_string(retries) + " retries.";
        return "SMTP_CHECK on service " + name() + " failed.";
    }

    Connection conn_;
    Step step_ = Step::banner;
    std::string line_;
    std::string out_;
    std::size_t sent_ = 0;
};

}  // namespace

std::unique_ptr<Checker> make_smtp_check(ctl::EventLoop& loop, const conf::Checker& config, LogFn log)
{
    return std::make_unique<SmtpCheck>(loop, config, std::move(log));
}

}  // namespace kadp::chk
