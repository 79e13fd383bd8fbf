// Runs on: any (unit test; the test's main thread plays the control thread).
// The kadpctl socket on a real EventLoop: replies, file mode and owner
// (also under a permissive umask), directory creation, stale and live
// sockets at start-up, silent, endless and malformed clients that must not
// hold up another one, oversized requests.
#include "control/control_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control/ctl_protocol.h"

namespace kadp::ctl {
namespace {

using ::testing::HasSubstr;

class CountingHandler : public ControlHandler {
public:
    ListReply list() override {
        ++calls;
        ListReply r;
        r.backend = "test";
        r.conn_table_size = 1234;
        return r;
    }
    ConnsReply conns(std::size_t) override { return {}; }
    StatusReply status() override { return {}; }
    ReloadReply reload(const std::string&) override { return {}; }
    int calls = 0;
};

int connect_to(const std::string& path) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// Sends `request` and reads until the server closes.
std::string ask(const std::string& path, const std::string& request) {
    const int fd = connect_to(path);
    if (fd < 0) return "connect failed";
    send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);  // as kadpctl does: the end of input also ends a request
    std::string reply;
    char buf[4096];
    for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) reply.append(buf, static_cast<std::size_t>(n));
    close(fd);
    return reply;
}

// A listening (or, after close, stale) Unix socket at `path`.
int bind_at(const std::string& path, bool listening) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    EXPECT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
    if (listening) {
        EXPECT_EQ(listen(fd, 1), 0);
    }
    return fd;
}

class ControlSocket : public ::testing::Test {
protected:
    void SetUp() override {
        block_control_signals();  // SIGTERM from the client thread ends the loop
        char tmpl[] = "/tmp/kadp-ctl-test.XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/run/kadp/k.sock";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    // Runs the loop until `client` (on its own thread) is done.
    template <class Client>
    void serve_until(EventLoop& loop, ControlServer& server, Client client) {
        std::thread t([&] {
            client();
            kill(getpid(), SIGTERM);
        });
        LoopHandlers h;
        h.on_tick = [&] { server.tick(); };
        EXPECT_EQ(loop.run(h), SIGTERM);
        t.join();
    }

    std::string dir_;
    std::string path_;
};

TEST_F(ControlSocket, AnswersOneRequestPerConnectionAndCleansUp)
{
    EventLoop loop;
    CountingHandler handler;
    std::string reply, bad, before;
    {
        auto server = std::make_unique<ControlServer>(loop, path_, [](const std::string&) {});
        struct stat st {};
        ASSERT_EQ(stat(path_.c_str(), &st), 0);
        EXPECT_TRUE(S_ISSOCK(st.st_mode));
        EXPECT_EQ(st.st_mode & 0777, 0600u);
        EXPECT_EQ(stat((dir_ + "/run/kadp").c_str(), &st), 0) << "the directory is created";
        serve_until(loop, *server, [&] {
            before = ask(path_, "list\n");  // no handler yet
        });
        server->set_handler(&handler);
        serve_until(loop, *server, [&] {
            reply = ask(path_, "list\n");
            bad = ask(path_, "nonsense\n");
        });
        EXPECT_EQ(loop.watched(), 1u) << "only the listening socket is left";
    }
    EXPECT_FALSE(std::filesystem::exists(path_)) << "removed on destruction";
    EXPECT_THAT(before, HasSubstr("starting or stopping"));
    EXPECT_EQ(handler.calls, 1);
    std::string error;
    const auto r = parse_reply(reply, error);
    ASSERT_TRUE(r) << error << ": " << reply;
    EXPECT_TRUE(r->ok);
    EXPECT_EQ(r->result.u64("conn_table_size"), 1234u);
    EXPECT_THAT(bad, HasSubstr("unknown command 'nonsense'"));
}

TEST_F(ControlSocket, ASilentClientDoesNotHoldUpAnother)
{
    EventLoop loop;
    CountingHandler handler;
    ControlServer server(loop, path_, [](const std::string&) {});
    server.set_handler(&handler);
    int silent = -1;
    std::string reply;
    serve_until(loop, server, [&] {
        silent = connect_to(path_);
        reply = ask(path_, "list");  // no newline: the end of input ends the request
    });
    EXPECT_THAT(reply, HasSubstr("\"ok\":true"));
    EXPECT_EQ(server.clients(), 1u) << "the silent one is still waiting (until its idle timeout)";
    close(silent);
}

TEST_F(ControlSocket, OversizedRequestGetsAnError)
{
    EventLoop loop;
    CountingHandler handler;
    ControlServer server(loop, path_, [](const std::string&) {});
    server.set_handler(&handler);
    std::string reply;
    serve_until(loop, server, [&] { reply = ask(path_, std::string(kMaxRequest + 10, 'a')); });
    EXPECT_THAT(reply, HasSubstr("request longer than 4096 bytes"));
    EXPECT_EQ(handler.calls, 0);
}

// A umask of 0 must not make the socket (or the directory made for it)
// writable by others: the socket is root's (the daemon's user's) and 0600.
TEST_F(ControlSocket, PermissiveUmaskStillGivesAPrivateSocket)
{
    const mode_t old = umask(0);
    EventLoop loop;
    {
        ControlServer server(loop, path_, [](const std::string&) {});
        struct stat st {};
        ASSERT_EQ(stat(path_.c_str(), &st), 0);
        EXPECT_TRUE(S_ISSOCK(st.st_mode));
        EXPECT_EQ(st.st_mode & 07777, 0600u);
        EXPECT_EQ(st.st_uid, geteuid());
        EXPECT_EQ(st.st_gid, getegid());
        ASSERT_EQ(stat((dir_ + "/run/kadp").c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0755u) << "the directory: nobody else may add or replace files";
        EXPECT_EQ(st.st_uid, geteuid());
    }
    EXPECT_EQ(umask(old), 0u) << "the server puts the caller's umask back";
}

// A client that sends without end gets the error and is closed; a client
// asking at the same time is answered.
TEST_F(ControlSocket, AnEndlessRequestIsRefusedAndOthersAreServed)
{
    EventLoop loop;
    CountingHandler handler;
    ControlServer server(loop, path_, [](const std::string&) {});
    server.set_handler(&handler);
    std::string endless_reply, other;
    bool closed = false;  // the server closed it before 1 MB
    serve_until(loop, server, [&] {
        const int fd = connect_to(path_);
        ASSERT_GE(fd, 0);
        const std::string chunk(1000, 'x');
        // Sends until the server closes (EPIPE / ECONNRESET), at most 1 MB.
        int i = 0;
        for (; i < 1000; ++i) {
            if (send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) break;
            // 2,000 bytes in: the request is still in progress (under
            // kMaxRequest) while the other client asks.
            if (i == 1) other = ask(path_, "list\n");
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, 0) == 1) break;  // the reply (or the close) is there
        }
        // What the server sent before closing stays readable.
        char buf[512];
        for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) endless_reply.append(buf, static_cast<std::size_t>(n));
        closed = i < 1000;
        close(fd);
    });
    EXPECT_TRUE(closed) << "the server stopped reading it";
    EXPECT_THAT(endless_reply, HasSubstr("request longer than 4096 bytes"));
    EXPECT_THAT(other, HasSubstr("\"ok\":true"));
    EXPECT_EQ(handler.calls, 1) << "only the other client's request was served";
    EXPECT_EQ(server.clients(), 0u);
}

// Garbage (control bytes, invalid UTF-8, quotes, NUL) gets a well-formed
// error reply that parses, and the next client is served.
TEST_F(ControlSocket, MalformedRequestsGetAWellFormedError)
{
    EventLoop loop;
    CountingHandler handler;
    ControlServer server(loop, path_, [](const std::string&) {});
    server.set_handler(&handler);
    const std::vector<std::string> garbage = {
        std::string("\x01\xff\xfe\"}{\\\n", 8), std::string("list\0extra\n", 11), "conns -1\n", "conns 99999999999999999999999\n",
        "status status status\n", "\n", "{\"command\":\"list\"}\n"};
    std::vector<std::string> replies;
    std::string after;
    serve_until(loop, server, [&] {
        for (const auto& g : garbage) replies.push_back(ask(path_, g));
        after = ask(path_, "list\n");
    });
    ASSERT_EQ(replies.size(), garbage.size());
    for (std::size_t i = 0; i < replies.size(); ++i) {
        std::string error;
        const auto r = parse_reply(replies[i], error);
        ASSERT_TRUE(r) << i << ": " << error << ": " << replies[i];
        EXPECT_FALSE(r->ok) << i << ": " << replies[i];
        EXPECT_FALSE(r->error.empty()) << i;
    }
    EXPECT_THAT(after, HasSubstr("\"ok\":true"));
    EXPECT_EQ(handler.calls, 1);
}

// Silent clients up to the limit: the next one is told so at once and
// closed (not left hanging, not queued behind them).
TEST_F(ControlSocket, SilentClientsBeyondTheLimitAreClosedNotQueued)
{
    EventLoop loop;
    CountingHandler handler;
    ControlServer server(loop, path_, [](const std::string&) {});
    server.set_handler(&handler);
    std::vector<int> silent;
    std::string refused;
    serve_until(loop, server, [&] {
        for (std::size_t i = 0; i < ControlServer::kMaxClients; ++i) silent.push_back(connect_to(path_));
        refused = ask(path_, "list\n");
    });
    EXPECT_THAT(refused, HasSubstr("too many kadpctl clients at once, retry"));
    EXPECT_EQ(server.clients(), ControlServer::kMaxClients);
    for (int fd : silent) close(fd);
    EXPECT_EQ(handler.calls, 0);
}

// A directory another user could replace the socket in is named in a
// warning; a root-only one, or a sticky one like /tmp, is not.
TEST_F(ControlSocket, AnUnsafeDirectoryIsWarnedAbout)
{
    const std::string dir = dir_ + "/open";
    std::filesystem::create_directories(dir);
    EventLoop loop;
    std::vector<std::string> logged;
    const auto log = [&logged](const std::string& line) { logged.push_back(line); };
    chmod(dir.c_str(), 0777);
    { ControlServer server(loop, dir + "/k.sock", log); }
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_THAT(logged[0], HasSubstr("control socket " + dir + "/k.sock: warning: its directory " + dir +
                                     " (mode 0777) is writable by other users"));
    logged.clear();
    chmod(dir.c_str(), 01777);  // sticky: others cannot rename root's socket
    { ControlServer server(loop, dir + "/k.sock", log); }
    chmod(dir.c_str(), 0775);  // group-writable, but group root
    if (geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
    ASSERT_EQ(chown(dir.c_str(), geteuid(), 0), 0);
    { ControlServer server(loop, dir + "/k.sock", log); }
    chmod(dir.c_str(), 0755);
    { ControlServer server(loop, path_, log); }  // made by the server
    EXPECT_TRUE(logged.empty()) << logged.front();
    ASSERT_EQ(chown(dir.c_str(), 65534, 0), 0);  // someone else's
    { ControlServer server(loop, dir + "/k.sock", log); }
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_THAT(logged[0], HasSubstr("belongs to uid 65534"));
}

TEST_F(ControlSocket, StaleSocketIsReplaced)
{
    std::filesystem::create_directories(dir_ + "/run/kadp");
    close(bind_at(path_, false));  // a daemon that died: the file stays, nobody listens
    EventLoop loop;
    EXPECT_NO_THROW(ControlServer(loop, path_, [](const std::string&) {}));
}

TEST_F(ControlSocket, LiveSocketFailsStartUp)
{
    std::filesystem::create_directories(dir_ + "/run/kadp");
    const int live = bind_at(path_, true);
    EventLoop loop;
    try {
        ControlServer server(loop, path_, [](const std::string&) {});
        ADD_FAILURE() << "started on a socket another daemon serves";
    } catch (const ControlSocketError& e) {
        EXPECT_THAT(e.what(), HasSubstr("is in use by a running kadp"));
    }
    EXPECT_TRUE(std::filesystem::exists(path_)) << "the other daemon's socket stays";
    close(live);
}

TEST_F(ControlSocket, APlainFileIsNotReplaced)
{
    std::filesystem::create_directories(dir_ + "/run/kadp");
    std::ofstream(path_) << "precious";
    EventLoop loop;
    try {
        ControlServer server(loop, path_, [](const std::string&) {});
        ADD_FAILURE() << "replaced a regular file";
    } catch (const ControlSocketError& e) {
        EXPECT_THAT(e.what(), HasSubstr("is not a socket"));
    }
    std::ifstream in(path_);
    std::string content;
    in >> content;
    EXPECT_EQ(content, "precious");
}

}  // namespace
}  // namespace kadp::ctl
