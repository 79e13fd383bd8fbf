// Runs on: any (unit test). Shared by the tests that drive a real EventLoop
// (checks/, vrrp/): run it until a condition holds, look for log lines, and
// a directory of scripts for them to run.
#pragma once

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "conf/model.h"
#include "control/event_loop.h"

namespace kadp::chk::testing {

// Runs the loop until `done()` holds (checked every 10 ms) or 5 s pass;
// stops it with the SIGTERM its signalfd takes (block_control_signals()
// must have run). Returns whether `done()` held.
inline bool run_until(ctl::EventLoop& loop, const std::function<bool()>& done)
{
    using std::chrono::milliseconds;
    bool ok = false;
    const auto deadline = ctl::EventLoop::Clock::now() + std::chrono::seconds(5);
    ctl::Timer poll(loop);
    std::function<void()> check = [&] {
        if (done()) ok = true;
        if (ok || ctl::EventLoop::Clock::now() > deadline) {
            kill(getpid(), SIGTERM);
            return;
        }
        poll.arm(milliseconds(10), check);
    };
    poll.arm(milliseconds(0), check);
    loop.run({});
    return ok;
}

inline bool logged(const std::vector<std::string>& log, const std::string& line)
{
    return std::find(log.begin(), log.end(), line) != log.end();
}

// A configuration of one TCP virtual server, 198.18.0.100:80, with `rs`.
inline conf::Config one_service(conf::RealServer rs)
{
    conf::VirtualServer vs;
    vs.address = *conf::IpAddr::parse("198.18.0.100");
    vs.port = 80;
    vs.protocol = conf::Protocol::tcp;
    vs.real_servers.push_back(std::move(rs));
    conf::Config config;
    config.virtual_servers.push_back(std::move(vs));
    return config;
}

// A 0755 directory under /tmp with scripts and the files they read, removed
// at the end. `prefix` names it ("kadp-misc" -> /tmp/kadp-misc-XXXXXX).
struct ScriptDir {
    explicit ScriptDir(const std::string& prefix = "kadp-test")
    {
        std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
        path = mkdtemp(tmpl.data());
        chmod(path.c_str(), 0755);
    }
    ~ScriptDir() { std::filesystem::remove_all(path); }
    ScriptDir(const ScriptDir&) = delete;
    ScriptDir& operator=(const ScriptDir&) = delete;
    // A /bin/sh script NAME with `body`, mode 0755; returns its path.
    std::string write(const std::string& name, const std::string& body) const
    {
        const std::string p = path + "/" + name;
        std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
        chmod(p.c_str(), 0755);
        return p;
    }
    // NAME holds `value` (replaced at once: a script never reads half of it).
    void set(const std::string& name, const std::string& value) const
    {
        const std::string p = path + "/" + name;
        std::ofstream(p + ".tmp") << value << "\n";
        std::filesystem::rename(p + ".tmp", p);
    }
    std::string read(const std::string& name) const
    {
        std::ifstream in(path + "/" + name);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    long lines(const std::string& name) const
    {
        const std::string s = read(name);
        return std::count(s.begin(), s.end(), '\n');
    }
    std::string path;
};

}  // namespace kadp::chk::testing
