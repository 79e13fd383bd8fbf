// Runs on: a development machine (root: it makes its own network namespace;
// no EAL, no NIC). The health checkers on one control thread: how many
// TCP_CHECK and HTTP_GET checks per second the real chk::HealthCheckers on
// the real ctl::EventLoop sustain against local servers, and the control
// thread's CPU use while doing it.
//
// kadp-bench-checkers enters a network namespace of its own (unshare), brings
// `lo` up and routes 198.18.0.0/16 locally (`ip route add local ... dev lo`):
// every 198.18.x.y is then an address of this host and no packet leaves.
// It generates a keepalived.conf (virtual servers of 100 real servers each,
// real servers 198.18.x.y:80, one TCP_CHECK or HTTP_GET each), loads it
// with conf::load_text, and runs it on HealthCheckers with a counting sink.
// The servers are
//   TCP_CHECK  a listener on 0.0.0.0:80 on a thread of this process that
//              accepts and closes (what a check is: one accepted connection)
//   HTTP_GET   Debian's nginx on 0.0.0.0:80 (`return 200`; its stub_status
//              on 127.0.0.1:8081 counts the requests), or with
//              --http-server=builtin (or without nginx) the same thread
//              answering a fixed 200 to each request.
// A check is counted where it happens, at the server. Each configuration
// warms up first (the first checks are spread over delay_loop), then is
// measured over a window:
//   checks_per_s              checks the servers saw, per second
//   control_cpu_core          getrusage(RUSAGE_THREAD) user+sys of the
//                             control thread over the window's wall time
//   control_us_per_check      that CPU per check; checks_per_control_cpu_s
//                             is its inverse (the ceiling of one whole core)
//   control_cpu_core_at_offered  us_per_check x servers/delay_loop: the
//                             share of a core the configuration costs when
//                             the thread gets the CPU it asks for
//   control_runqueue_wait_s   time the thread was runnable but not running
//                             (schedstat): on a shared VM, what neighbours
//                             took; when it is large, checks_per_s and
//                             control_cpu_core are capped by the machine
//   log_lines, servers_down, tcp_retrans, listen_*: 0 when every check
//                             passed and the loopback lost nothing
// The kernel's TCP work for both ends of each loopback connection mostly
// runs in the control thread's context (softirq on connect and close), so
// the CPU figures include the servers' side of the handshake too.
//
// Two modes per check kind:
//   steady     --servers (10,000) at --delay-loop (1 s): the CPU figure
//   saturate   --sat-servers (10,000) at --sat-delay-loop (0.01 s, far more
//              than one thread can do): the checks/s one control thread
//              sustains (the control thread then runs at ~one core)
// One JSON object per run on stdout, notes on stderr. Figures, never
// pass/fail; exit 77 when it cannot make its namespace (not root).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench_util.h"
#include "checks/health_checkers.h"
#include "conf/load.h"
#include "control/event_loop.h"

namespace kadp::perf {
namespace {

constexpr std::uint16_t kServerPort = 80;
constexpr std::uint16_t kStatusPort = 8081;  // nginx stub_status, on 127.0.0.1
constexpr std::uint32_t kPerVirtualServer = 100;
constexpr std::uint32_t kMaxServers = 254 * 256;  // hosts of 198.18.0.0/16 without .0 and .255

enum class Kind { tcp, http };
enum class HttpServer { nginx, builtin };

struct Options {
    std::uint32_t servers = 10000;
    double delay_loop = 1.0;
    std::uint32_t sat_servers = 10000;
    double sat_delay_loop = 0.01;
    double warmup = 3.0;
    double seconds = 10.0;
    bool tcp = true, http = true;
    bool steady = true, saturate = true;
    std::optional<HttpServer> http_server;  // default: nginx when installed
};

void usage()
{
    std::fprintf(stderr,
                 "usage: kadp-bench-checkers [--quick] [--check=tcp|http|both] [--mode=steady|saturate|both]\n"
                 "         [--servers=N] [--delay-loop=S] [--sat-servers=N] [--sat-delay-loop=S]\n"
                 "         [--warmup=S] [--seconds=S] [--http-server=nginx|builtin]\n"
                 "  --warmup       before each window, and until every checker passed once (default 3)\n"
                 "  --quick        200 servers (steady at delay_loop 0.25), 0.5 s windows (smoke test)\n"
                 "  steady:        --servers (10000) at --delay-loop (1): control-thread CPU\n"
                 "  saturate:      --sat-servers (10000) at --sat-delay-loop (0.01): checks/s ceiling\n"
                 "  --http-server  who answers HTTP_GET (default nginx when installed, else builtin)\n"
                 "Needs root: it runs in a network namespace of its own.\n");
}

bool parse_seconds(std::string_view text, double& v)
{
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return ec == std::errc() && end == text.data() + text.size() && v > 0 && v < 86400;
}

// Runs a program to completion (before any thread exists); its exit status.
int run_program(const std::vector<std::string>& argv)
{
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        execvp(args[0], args.data());
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool write_file(const char* path, const std::string& text)
{
    std::ofstream f(path);
    f << text;
    f.flush();
    return static_cast<bool>(f);
}

// The namespace: lo up, 198.18.0.0/16 local, room for many connections.
// Its sysctls are the namespace's own: the host's stay untouched.
bool enter_namespace()
{
    if (unshare(CLONE_NEWNET) != 0) {
        std::fprintf(stderr, "kadp-bench-checkers: unshare(CLONE_NEWNET): %s (needs root)\n", std::strerror(errno));
        return false;
    }
    if (run_program({"ip", "link", "set", "lo", "up"}) != 0 ||
        run_program({"ip", "route", "add", "local", "198.18.0.0/16", "dev", "lo"}) != 0) {
        std::fprintf(stderr, "kadp-bench-checkers: `ip` could not set up lo in the namespace\n");
        return false;
    }
    write_file("/proc/sys/net/core/somaxconn", "65535");
    write_file("/proc/sys/net/ipv4/tcp_max_syn_backlog", "65535");
    write_file("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535");
    return true;
}

// Every check holds a descriptor (and nginx one per connection).
void raise_nofile(std::uint64_t want)
{
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur >= want) return;
    rlimit raised = rl;
    raised.rlim_cur = want;
    if (raised.rlim_max < want) raised.rlim_max = want;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return;
    // Without CAP_SYS_RESOURCE: as far as the hard limit goes.
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    std::fprintf(stderr, "kadp-bench-checkers: note: RLIMIT_NOFILE %llu (wanted %llu)\n",
                 static_cast<unsigned long long>(rl.rlim_cur), static_cast<unsigned long long>(want));
}

ctl::Fd listen_on(std::uint32_t address, std::uint16_t port, bool nonblock)
{
    ctl::Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0));
    if (fd.get() < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(address);
    if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || listen(fd.get(), 65535) != 0) {
        throw std::runtime_error("listen on port " + std::to_string(port) + ": " + std::strerror(errno));
    }
    return fd;
}

// The namespace's TCP counters that say the loopback itself lost time:
// retransmitted segments (a SYN dropped costs a 1 s retransmit) and listen
// queue overflows.
struct TcpCounters {
    std::uint64_t retrans = 0, listen_overflows = 0, listen_drops = 0;
};

// "Tcp: ... RetransSegs ..." / "TcpExt: ... ListenOverflows ListenDrops ...":
// a header line of names, then a line of values.
std::uint64_t proc_counter(const char* path, std::string_view prefix, std::string_view name)
{
    std::ifstream f(path);
    std::string names, values;
    while (std::getline(f, names) && std::getline(f, values)) {
        if (!names.starts_with(prefix)) continue;
        std::size_t n = 0, v = 0;
        for (;;) {
            const std::size_t ne = names.find(' ', n), ve = values.find(' ', v);
            if (names.compare(n, ne == std::string::npos ? std::string::npos : ne - n, name) == 0) {
                return std::strtoull(values.c_str() + v, nullptr, 10);
            }
            if (ne == std::string::npos || ve == std::string::npos) break;
            n = ne + 1;
            v = ve + 1;
        }
    }
    return 0;
}

TcpCounters tcp_counters()
{
    return {proc_counter("/proc/net/snmp", "Tcp:", "RetransSegs"),
            proc_counter("/proc/net/netstat", "TcpExt:", "ListenOverflows"),
            proc_counter("/proc/net/netstat", "TcpExt:", "ListenDrops")};
}

// What the benchmark needs from a server: how many checks it has served.
class Server {
public:
    virtual ~Server() = default;
    virtual std::uint64_t served() = 0;
    virtual const char* name() const = 0;
};

// One thread, one epoll: TCP accepts and closes; HTTP reads a request up to
// its blank line, answers a fixed 200 and closes.
class BuiltinServer final : public Server {
public:
    explicit BuiltinServer(Kind kind)
        : http_(kind == Kind::http), listen_(listen_on(INADDR_ANY, kServerPort, true)),
          epoll_(epoll_create1(EPOLL_CLOEXEC)), wake_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))
    {
        if (epoll_.get() < 0 || wake_.get() < 0) throw std::runtime_error("epoll/eventfd");
        add(listen_.get());
        add(wake_.get());
        thread_ = std::thread([this] {
            pthread_setname_np(pthread_self(), "bench-server");  // apart from the control thread in a profile
            run();
        });
    }
    ~BuiltinServer() override
    {
        const std::uint64_t one = 1;
        if (write(wake_.get(), &one, sizeof one) < 0) std::perror("eventfd");
        thread_.join();
        for (const auto& [fd, buf] : requests_) close(fd);
    }
    std::uint64_t served() override { return served_.load(std::memory_order_relaxed); }
    const char* name() const override { return "builtin"; }

private:
    void add(int fd)
    {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
    }
    void finish(int fd)
    {
        close(fd);
        requests_.erase(fd);
    }
    void run()
    {
        static constexpr std::string_view kResponse =
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
        epoll_event events[256];
        for (;;) {
            const int n = epoll_wait(epoll_.get(), events, 256, -1);
            for (int i = 0; i < n; ++i) {
                const int fd = events[i].data.fd;
                if (fd == wake_.get()) return;
                if (fd == listen_.get()) {
                    for (;;) {
                        const int c = accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                        if (c < 0) break;
                        if (!http_) {
                            close(c);
                            served_.fetch_add(1, std::memory_order_relaxed);
                            continue;
                        }
                        requests_[c];
                        add(c);
                    }
                    continue;
                }
                char buf[4096];
                const ssize_t r = recv(fd, buf, sizeof buf, 0);
                if (r < 0 && errno == EAGAIN) continue;
                if (r <= 0) {
                    finish(fd);
                    continue;
                }
                std::string& req = requests_[fd];
                req.append(buf, static_cast<std::size_t>(r));
                if (req.find("\r\n\r\n") == std::string::npos) continue;
                if (send(fd, kResponse.data(), kResponse.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(kResponse.size())) {
                    served_.fetch_add(1, std::memory_order_relaxed);
                }
                finish(fd);
            }
        }
    }

    bool http_;
    ctl::Fd listen_;
    ctl::Fd epoll_;
    ctl::Fd wake_;
    std::unordered_map<int, std::string> requests_;  // server thread only
    std::atomic<std::uint64_t> served_{0};
    std::thread thread_;
};

// Debian's nginx in the foreground, one worker, every path in a temporary
// directory; stopped (SIGTERM, by PID) and the directory removed when
// destroyed. It dies with this process (PR_SET_PDEATHSIG).
class NginxServer final : public Server {
public:
    explicit NginxServer(const std::string& binary)
    {
        char tmpl[] = "/tmp/kadp-bench-checkers.XXXXXX";
        if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
        dir_ = tmpl;
        const std::string conf = dir_ + "/nginx.conf";
        std::ofstream(conf) << "user root;\nworker_processes 1;\ndaemon off;\n"
                            << "pid " << dir_ << "/nginx.pid;\nerror_log " << dir_ << "/error.log;\n"
                            << "events { worker_connections 19000; multi_accept on; }\n"
                            << "http {\n    access_log off;\n"
                            << "    client_body_temp_path " << dir_ << "/body;\n    proxy_temp_path " << dir_
                            << "/proxy;\n    fastcgi_temp_path " << dir_ << "/fastcgi;\n    uwsgi_temp_path " << dir_
                            << "/uwsgi;\n    scgi_temp_path " << dir_ << "/scgi;\n"
                            << "    server {\n        listen " << kServerPort << " backlog=65535;\n"
                            << "        location / { default_type text/plain; return 200 \"ok\\n\"; }\n    }\n"
                            << "    server {\n        listen 127.0.0.1:" << kStatusPort << ";\n"
                            << "        location / { stub_status; }\n    }\n}\n";
        const pid_t pid = fork();
        if (pid < 0) {
            stop();
            throw std::runtime_error("fork");
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            const sigset_t set = ctl::control_signals();
            pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
            const std::string err = dir_ + "/error.log";
            execl(binary.c_str(), binary.c_str(), "-c", conf.c_str(), "-e", err.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        pid_ = pid;
        for (int i = 0; i < 100; ++i) {
            if (status_requests()) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        std::string log;
        std::getline(std::ifstream(dir_ + "/error.log"), log);
        stop();  // the destructor does not run for a constructor that throws
        throw std::runtime_error("nginx did not answer on 127.0.0.1:" + std::to_string(kStatusPort) + ": " + log);
    }
    ~NginxServer() override { stop(); }
    // stub_status counts its own requests too: each read adds one.
    std::uint64_t served() override
    {
        const auto r = status_requests();
        if (r) ++status_reads_;
        return r ? *r - status_reads_ : 0;
    }
    const char* name() const override { return "nginx"; }

private:
    void stop()
    {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    // "Active connections: 1 \nserver accepts handled requests\n 5 5 9 \n...":
    // the third number of the third line.
    static std::optional<std::uint64_t> status_requests()
    {
        ctl::Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(kStatusPort);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) return std::nullopt;
        constexpr std::string_view kGet = "GET / HTTP/1.0\r\n\r\n";
        if (send(fd.get(), kGet.data(), kGet.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(kGet.size())) return std::nullopt;
        std::string reply;
        char buf[1024];
        for (ssize_t n; (n = recv(fd.get(), buf, sizeof buf, 0)) > 0;) reply.append(buf, static_cast<std::size_t>(n));
        const auto at = reply.find("requests\n");
        if (at == std::string::npos) return std::nullopt;
        unsigned long long accepts = 0, handled = 0, requests = 0;
        if (std::sscanf(reply.c_str() + at + 9, " %llu %llu %llu", &accepts, &handled, &requests) != 3) return std::nullopt;
        return requests;
    }

    std::string dir_;
    pid_t pid_ = -1;
    std::uint64_t status_reads_ = 0;
};

// Host n (0-based) of 198.18.0.0/16, skipping .0 and .255.
std::string real_server_address(std::uint32_t n)
{
    return "198.18." + std::to_string(n / 254 % 256) + "." + std::to_string(n % 254 + 1);
}

std::string generate(Kind kind, std::uint32_t servers, double delay_loop)
{
    std::string s = "global_defs {\n    router_id kadp_bench_checkers\n}\n";
    char delay[32];
    std::snprintf(delay, sizeof delay, "%g", delay_loop);
    for (std::uint32_t v = 0; v * kPerVirtualServer < servers; ++v) {
        // VIPs in 198.19.0.0/16: never contacted, they only name the services.
        s += "virtual_server 198.19." + std::to_string(v / 254) + "." + std::to_string(v % 254 + 1) + " 80 {\n";
        s += "    delay_loop " + std::string(delay) + "\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n";
        for (std::uint32_t r = v * kPerVirtualServer; r < servers && r < (v + 1) * kPerVirtualServer; ++r) {
            s += "    real_server " + real_server_address(r) + " " + std::to_string(kServerPort) + " {\n";
            if (kind == Kind::tcp) {
                s += "        TCP_CHECK {\n            connect_timeout 5\n        }\n";
            } else {
                s += "        HTTP_GET {\n            url {\n                path /\n                status_code 200\n"
                     "            }\n            connect_timeout 5\n        }\n";
            }
            s += "    }\n";
        }
        s += "}\n";
    }
    return s;
}

// Counts what the checkers tell: verdicts, and log lines (none while every
// server stays up: keepalived logs changes and the failures of up checkers).
struct CountingSink final : chk::HealthSink {
    std::uint64_t downs = 0, ups = 0, weights = 0;
    void server_down(const ctl::RsIdentity&, bool) override { ++downs; }
    void server_up(const ctl::RsIdentity&) override { ++ups; }
    void server_weight(const ctl::RsIdentity&, int) override { ++weights; }
    void quorum(const ctl::VsIdentity&, bool) override {}
};

struct Sample {
    std::uint64_t served = 0;
    std::uint64_t wall_ns = 0;
    double user_s = 0, sys_s = 0, wait_s = 0;
    std::uint64_t log_lines = 0, downs = 0;
};

// Time the calling thread spent runnable but waiting for a CPU (the second
// field of /proc/thread-self/schedstat, ns): on a shared VM, what the
// neighbours took from it.
double runqueue_wait_s()
{
    std::ifstream f("/proc/thread-self/schedstat");
    unsigned long long run = 0, wait = 0;
    f >> run >> wait;
    return static_cast<double>(wait) / 1e9;
}

double seconds_of(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

struct Run {
    Kind kind;
    const char* mode;
    std::uint32_t servers;
    double delay_loop;
};

// One configuration: load, configure, warm up, measure; prints one line.
bool measure(const Run& run, Server& server, const Options& opt)
{
    conf::LoadOptions load_options;
    load_options.check_host = false;
    load_options.allow_include = false;
    conf::Diagnostics diags;
    const conf::Config config =
        conf::load_text(generate(run.kind, run.servers, run.delay_loop), "bench-checkers.conf", load_options, diags);
    if (diags.has_errors()) {
        for (const auto& d : diags.all()) std::fprintf(stderr, "kadp-bench-checkers: %s\n", conf::Diagnostics::format(d).c_str());
        return false;
    }

    ctl::EventLoop loop;
    CountingSink sink;
    std::uint64_t log_lines = 0;
    std::vector<std::string> first_lines;
    std::uint32_t first_successes = 0;
    bool measuring = false;
    chk::HealthCheckers checkers(loop, sink,
                                 [&](const std::string& line) {
                                     if (!measuring) {
                                         // Each checker logs its first success once.
                                         if (line.ends_with(" success.") || line.ends_with(" succeed on service.")) {
                                             ++first_successes;
                                         }
                                         return;
                                     }
                                     ++log_lines;
                                     if (first_lines.size() < 5) first_lines.push_back(line);
                                 },
                                 chk::HealthCheckers::Options{1});
    checkers.configure(config);
    if (checkers.checkers() != run.servers) {
        std::fprintf(stderr, "kadp-bench-checkers: %zu checkers for %u servers\n", checkers.checkers(), run.servers);
        return false;
    }

    // Called on the control thread: RUSAGE_THREAD is this thread's.
    auto sample = [&] {
        Sample s;
        rusage ru{};
        getrusage(RUSAGE_THREAD, &ru);
        s.user_s = seconds_of(ru.ru_utime);
        s.sys_s = seconds_of(ru.ru_stime);
        s.wall_ns = now_ns();
        s.wait_s = runqueue_wait_s();
        s.log_lines = log_lines;
        s.downs = sink.downs;
        return s;
    };
    Sample a, b;
    TcpCounters tcp_a, tcp_b;
    std::size_t timers = 0, watched = 0;
    ctl::Timer window(loop);
    const auto ms = [](double s) { return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000)); };
    // The window opens once every checker has logged its first success
    // (the first checks are spread over delay_loop, keepalived's warmup) and
    // --warmup has passed; after a minute without that, it opens anyway.
    const std::uint64_t started = now_ns();
    double warmup = 0;
    std::function<void()> open_window = [&] {
        warmup = static_cast<double>(now_ns() - started) / 1e9;
        if ((first_successes < run.servers || warmup < opt.warmup) && warmup < opt.warmup + 60) {
            window.arm(std::chrono::milliseconds(50), open_window);
            return;
        }
        if (first_successes < run.servers) {
            std::fprintf(stderr, "kadp-bench-checkers: note: only %u of %u checkers passed once after %.0f s\n",
                         first_successes, run.servers, warmup);
        }
        // The server's count outside the CPU window: nginx's is an HTTP request.
        const std::uint64_t served = server.served();
        tcp_a = tcp_counters();
        measuring = true;
        a = sample();
        a.served = served;
        window.arm(ms(opt.seconds), [&] {
            b = sample();
            b.served = server.served();
            tcp_b = tcp_counters();
            timers = loop.timers();
            watched = loop.watched();
            kill(getpid(), SIGTERM);  // the loop's signalfd: run() returns
        });
    };
    window.arm(ms(opt.warmup), open_window);
    loop.run({});

    const double wall = static_cast<double>(b.wall_ns - a.wall_ns) / 1e9;
    const double user = b.user_s - a.user_s, sys = b.sys_s - a.sys_s;
    const std::uint64_t checks = b.served - a.served;
    const double cpu = (user + sys) / wall;
    double load[1] = {0};
    getloadavg(load, 1);
    for (const std::string& l : first_lines) std::fprintf(stderr, "kadp-bench-checkers: logged: %s\n", l.c_str());
    std::printf("{\"bench\":\"checkers\",\"check\":\"%s\",\"mode\":\"%s\",\"server\":\"%s\",\"servers\":%u,"
                "\"delay_loop\":%g,\"offered_per_s\":%.0f,\"warmup_s\":%.2f,\"seconds\":%.3f,\"checks\":%llu,"
                "\"checks_per_s\":%.1f,\"control_cpu_core\":%.4f,\"control_user_s\":%.3f,\"control_sys_s\":%.3f,"
                "\"control_runqueue_wait_s\":%.3f,"
                "\"control_us_per_check\":%.2f,\"checks_per_control_cpu_s\":%.0f,"
                "\"control_cpu_core_at_offered\":%.4f,\"log_lines\":%llu,\"servers_down\":%llu,\"tcp_retrans\":%llu,"
                "\"listen_overflows\":%llu,\"listen_drops\":%llu,\"timers\":%zu,"
                "\"watched\":%zu,\"cores\":%u,\"loadavg_1m\":%.2f}\n",
                run.kind == Kind::tcp ? "TCP_CHECK" : "HTTP_GET", run.mode, server.name(), run.servers, run.delay_loop,
                run.servers / run.delay_loop, warmup, wall, static_cast<unsigned long long>(checks),
                static_cast<double>(checks) / wall, cpu, user, sys, b.wait_s - a.wait_s,
                checks != 0 ? (user + sys) * 1e6 / static_cast<double>(checks) : 0.0,
                user + sys > 0 ? static_cast<double>(checks) / (user + sys) : 0.0,
                checks != 0 ? (user + sys) / static_cast<double>(checks) * run.servers / run.delay_loop : 0.0,
                static_cast<unsigned long long>(b.log_lines - a.log_lines), static_cast<unsigned long long>(b.downs - a.downs),
                static_cast<unsigned long long>(tcp_b.retrans - tcp_a.retrans),
                static_cast<unsigned long long>(tcp_b.listen_overflows - tcp_a.listen_overflows),
                static_cast<unsigned long long>(tcp_b.listen_drops - tcp_a.listen_drops),
                timers, watched, core_count(), load[0]);
    std::fflush(stdout);
    return true;
}

std::string find_nginx()
{
    for (const char* p : {"/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"}) {
        if (access(p, X_OK) == 0) return p;
    }
    return {};
}

int run_main(int argc, char** argv)
{
    Options opt;
    for (const std::string_view a : arguments(argc, argv)) {
        const auto value = [&a](std::string_view key) { return a.substr(key.size()); };
        if (a == "--quick") {
            opt.servers = opt.sat_servers = 200;
            opt.delay_loop = 0.25;
            opt.warmup = opt.seconds = 0.5;
            opt.sat_delay_loop = 0.005;
        } else if (a.starts_with("--check=")) {
            const auto v = value("--check=");
            if (v != "tcp" && v != "http" && v != "both") return usage(), 2;
            opt.tcp = v != "http";
            opt.http = v != "tcp";
        } else if (a.starts_with("--mode=")) {
            const auto v = value("--mode=");
            if (v != "steady" && v != "saturate" && v != "both") return usage(), 2;
            opt.steady = v != "saturate";
            opt.saturate = v != "steady";
        } else if (a.starts_with("--servers=")) {
            if (!parse_u32(value("--servers="), opt.servers)) return usage(), 2;
        } else if (a.starts_with("--sat-servers=")) {
            if (!parse_u32(value("--sat-servers="), opt.sat_servers)) return usage(), 2;
        } else if (a.starts_with("--delay-loop=")) {
            if (!parse_seconds(value("--delay-loop="), opt.delay_loop)) return usage(), 2;
        } else if (a.starts_with("--sat-delay-loop=")) {
            if (!parse_seconds(value("--sat-delay-loop="), opt.sat_delay_loop)) return usage(), 2;
        } else if (a.starts_with("--warmup=")) {
            if (!parse_seconds(value("--warmup="), opt.warmup)) return usage(), 2;
        } else if (a.starts_with("--seconds=")) {
            if (!parse_seconds(value("--seconds="), opt.seconds)) return usage(), 2;
        } else if (a == "--http-server=nginx") {
            opt.http_server = HttpServer::nginx;
        } else if (a == "--http-server=builtin") {
            opt.http_server = HttpServer::builtin;
        } else {
            return help_or_bad_option(a, usage);
        }
    }
    if (opt.servers > kMaxServers || opt.sat_servers > kMaxServers) {
        std::fprintf(stderr, "kadp-bench-checkers: at most %u servers (198.18.0.0/16)\n", kMaxServers);
        return 2;
    }
    const std::string nginx = find_nginx();
    if (opt.http && opt.http_server == HttpServer::nginx && nginx.empty()) {
        std::fprintf(stderr, "kadp-bench-checkers: nginx not found (Debian package nginx-light)\n");
        return 2;
    }
    const HttpServer http_server = opt.http_server.value_or(nginx.empty() ? HttpServer::builtin : HttpServer::nginx);
    if (opt.http && http_server == HttpServer::builtin && !opt.http_server) {
        std::fprintf(stderr, "kadp-bench-checkers: note: no nginx, HTTP_GET against the builtin server\n");
    }

    // Before any thread: unshare and fork want a single-threaded process,
    // and every thread made later inherits the blocked control signals.
    if (!enter_namespace()) return 77;
    raise_nofile(200000);
    ctl::block_control_signals();

    std::vector<Run> runs;
    for (const Kind k : {Kind::tcp, Kind::http}) {
        if (!(k == Kind::tcp ? opt.tcp : opt.http)) continue;
        if (opt.steady) runs.push_back({k, "steady", opt.servers, opt.delay_loop});
        if (opt.saturate) runs.push_back({k, "saturate", opt.sat_servers, opt.sat_delay_loop});
    }
    try {
        for (const Kind k : {Kind::tcp, Kind::http}) {
            std::unique_ptr<Server> server;
            for (const Run& r : runs) {
                if (r.kind != k) continue;
                if (!server) {
                    if (k == Kind::http && http_server == HttpServer::nginx) server = std::make_unique<NginxServer>(nginx);
                    else server = std::make_unique<BuiltinServer>(k);
                }
                if (!measure(r, *server, opt)) return 1;
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kadp-bench-checkers: %s\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace
}  // namespace kadp::perf

int main(int argc, char** argv) { return kadp::perf::run_main(argc, argv); }
