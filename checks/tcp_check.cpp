// Runs on: control thread. TCP_CHECK: the real server is up when a TCP
// connection to connect_ip:connect_port completes within connect_timeout;
// the connection is closed at once.
#include <cstring>

#include "checks/checker.h"
#include "checks/checks_internal.h"
#include "checks/connection.h"

namespace kadp::chk {
namespace {

class TcpCheck final : public Checker {
public:
    TcpCheck(ctl::EventLoop& loop, const conf::Checker& config, LogFn log)
        : Checker(loop, config, std::move(log)), conn_(loop) {}
    ~TcpCheck() override { conn_.close(); }

private:
    void attempt() override
    {
        const int err = conn_.connect(endpoint_of(config()), connect_timeout(), [this](int e) { finished(e); });
        if (err != 0) finished(err);
    }
    void abandon() override { conn_.close(); }

    void finished(int err)
    {
        if (err == 0) done(true);
        else if (err == ETIMEDOUT) done(false, "TCP connection to " + name() + " timeout.");
        else done(false, "TCP connection to " + name() + " failed (" + std::strerror(err) + ").");
    }

    std::string success_line() const override { return "TCP connection to " + name() + " success."; }
    std::string failure_line(int retries) const override
    {
        if (retries > 0) return "TCP_CHECK on service " + name() + " failed after " + std::to_string(retries) + " retries.";
        return "TCP_CHECK on service " + name() + " failed.";
    }

    Connection conn_;
};

}  // namespace

std::unique_ptr<Checker> make_tcp_check(ctl::EventLoop& loop, const conf::Checker& config, LogFn log)
{
    return std::make_unique<TcpCheck>(loop, config, std::move(log));
}

}  // namespace kadp::chk
