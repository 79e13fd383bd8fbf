// Runs on: control thread.
#include "checks/checker.h"

#include <cmath>
#include <utility>

namespace kadp::chk {
namespace {

Millis to_millis(double seconds)
{
    if (!(seconds > 0)) return Millis(0);
    return Millis(static_cast<Millis::rep>(std::llround(seconds * 1000.0)));
}

RetryPolicy policy_of(const conf::Checker& c)
{
    RetryPolicy p;
    p.retry = c.retry.value;
    p.delay_loop = to_millis(c.delay_loop.value);
    p.delay_before_retry = to_millis(c.delay_before_retry.value);
    p.alpha = c.alpha.value;
    return p;
}

}  // namespace

std::string format_trio(const conf::IpAddr& address, conf::Protocol protocol, std::uint16_t port)
{
    const char* proto = protocol == conf::Protocol::tcp ? "tcp" : protocol == conf::Protocol::udp ? "udp" : "sctp";
    return "[" + address.to_string() + "]:" + proto + ":" + std::to_string(port);
}

Checker::Checker(ctl::EventLoop& loop, const conf::Checker& config, LogFn log)
    : loop_(&loop), config_(config), log_(std::move(log)),
      name_(format_trio(config.connect_ip, config.service_protocol, config.connect_port)),
      connect_timeout_(to_millis(config.connect_timeout.value)), state_(policy_of(config)), timer_(loop)
{
    if (connect_timeout_.count() == 0) connect_timeout_ = Millis(1);
}

// Derived classes abandon their own I/O in their destructors; the timer
// cancels itself.
Checker::~Checker() = default;

Millis Checker::first_delay(const conf::Checker& c, std::mt19937_64& rng)
{
    const Millis warmup = to_millis(c.warmup.value);
    if (warmup.count() <= 0) return Millis(0);
    std::uniform_int_distribution<Millis::rep> d(0, warmup.count());
    return Millis(d(rng));
}

void Checker::start(Millis first, ChangeFn on_change)
{
    on_change_ = std::move(on_change);
    timer_.arm(first, [this] { run(); });
}

const char* checker_type_name(conf::CheckerType t)
{
    switch (t) {
    case conf::CheckerType::tcp_check: return "TCP_CHECK";
    case conf::CheckerType::http_get: return "HTTP_GET";
    case conf::CheckerType::ssl_get: return "SSL_GET";
    case conf::CheckerType::smtp_check: return "SMTP_CHECK";
    case conf::CheckerType::misc_check: return "MISC_CHECK";
    case conf::CheckerType::dns_check: return "DNS_CHECK";
    case conf::CheckerType::udp_check: return "UDP_CHECK";
    case conf::CheckerType::ping_check: return "PING_CHECK";
    case conf::CheckerType::file_check: return "FILE_CHECK";
    case conf::CheckerType::bfd_check: return "BFD_CHECK";
    }
    return "?";
}

void Checker::run()
{
    running_ = true;
    started_ = std::chrono::steady_clock::now();
    attempt();
}

void Checker::done(bool ok, std::string_view why)
{
    if (!running_) return;
    running_ = false;
    abandon();
    const bool was_up = state_.up();
    const bool log_all = config_.log_all_failures.value_or(false);
    // keepalived logs each failed attempt only with log_all_failures; kadp
    // also logs those of a checker that is up (its retries), so the reason
    // of a removal is in the log. A down checker's failures stay quiet.
    // Each attempt's result and latency: detail.
    const auto latency = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started_);
    if (log_.enabled(ctl::LogLevel::debug)) {
        log_.debug(std::string(checker_type_name(config_.type)) + " of " + name_ + ": attempt " +
                   (ok ? "succeeded" : "failed") + " in " + std::to_string(latency.count()) + " ms" +
                   (ok || why.empty() ? std::string() : ": " + std::string(why)));
    }
    // A down checker with log_all_failures fails at every delay_loop:
    // limited (its verdict lines are not: they come only on a change).
    if (!ok && !why.empty() && (was_up || log_all)) limited_.info("failed attempts of " + name_, std::string(why));
    const Step step = ok ? state_.on_success() : state_.on_failure();
    std::string failed_line;
    if (step.event == Step::Event::success) {
        if (const std::string line = success_line(); !line.empty()) log(line);
    }
    if (step.event == Step::Event::failure) {
        failed_line = failure_line(step.retries);
        log(failed_line);
    }
    // For kadpctl checks: the attempt's own words, else (DNS_CHECK's last
    // retry, a disabled MISC_CHECK) the line that failed the checker.
    record_.ran = true;
    record_.ok = ok;
    if (ok) record_.reason.clear();
    else record_.reason.assign(!why.empty() ? why : !failed_line.empty() ? std::string_view(failed_line) : "failed");
    record_.latency = latency;
    record_.finished = std::chrono::system_clock::now();
    record_.consecutive_failures = ok ? 0 : record_.consecutive_failures + 1;
    if (!ok) ++record_.failures;
    if (state_.up() != was_up) record_.transition = record_.finished;
    timer_.arm(step.next, [this] { run(); });
    // Last: the owner may react (and, on a reload, even destroy us).
    if (state_.up() != was_up && on_change_) on_change_(state_.up());
}

void Checker::reschedule(std::string_view line)
{
    if (!running_) return;
    running_ = false;
    abandon();
    // keepalived's "... Rescheduling." (no socket, bind failed): at every
    // delay_loop while it lasts, so limited.
    if (!line.empty()) limited_.warning("rescheduled attempts of " + name_, std::string(line));
    // No verdict: the attempt did not run; kadpctl shows why.
    record_.ran = true;
    record_.ok = false;
    record_.reason.assign(line);
    record_.latency = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started_);
    record_.finished = std::chrono::system_clock::now();
    timer_.arm(state_.policy().delay_loop, [this] { run(); });
}

}  // namespace kadp::chk
