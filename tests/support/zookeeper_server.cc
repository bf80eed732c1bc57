#include "support/zookeeper_server.h"

#include <arpa/inet.h>
#include <array>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <signal.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace gregor::test {
namespace {

constexpr auto start_deadline = std::chrono::seconds(60);
constexpr auto stop_grace = std::chrono::seconds(10);

int loopback_socket(std::uint16_t port, bool do_connect) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    int rc = do_connect ? ::connect(fd, sa, sizeof addr) : ::bind(fd, sa, sizeof addr);
    if (rc != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

std::uint16_t free_loopback_port() {
    int fd = loopback_socket(0, false);
    if (fd < 0) {
        throw std::runtime_error("cannot bind a loopback socket");
    }
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

std::string four_letter_word(std::uint16_t port, const std::string& cmd) {
    int fd = loopback_socket(port, true);
    if (fd < 0) {
        return "";
    }
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string reply;
    if (::send(fd, cmd.data(), cmd.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(cmd.size())) {
        std::array<char, 4096> buf{};
        for (;;) {
            ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
            if (n <= 0) {
                break;
            }
            reply.append(buf.data(), static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return reply;
}

zookeeper_server::zookeeper_server(zookeeper_options options) : options_(std::move(options)) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gregor-zk-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ / "data");
    port_ = free_loopback_port();
    write_config();
    start();
}

zookeeper_server::~zookeeper_server() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string zookeeper_server::connect_string() const {
    return "127.0.0.1:" + std::to_string(port_);
}

void zookeeper_server::write_config() const {
    std::ofstream cfg(dir_ / "zoo.cfg");
    // A short tick keeps session expiry fast: sessions may be as short as 2 ticks, and as
    // long as Kafka's 18 s default (ZooKeeper's own cap would be 20 ticks).
    cfg << "tickTime=500\n"
        << "maxSessionTimeout=60000\n"
        << "dataDir=" << (dir_ / "data").string() << "\n"
        << "clientPort=" << port_ << "\n"
        << "clientPortAddress=127.0.0.1\n"
        << "admin.enableServer=false\n"
        << "4lw.commands.whitelist=*\n"
        << "maxClientCnxns=0\n";
}

bool zookeeper_server::answers_ruok() const {
    return four_letter_word(port_, "ruok") == "imok";
}

void zookeeper_server::start() {
    if (running()) {
        return;
    }
    pid_t parent = ::getpid();
    std::string log = (dir_ / "zookeeper.out").string();
    std::string cfg = (dir_ / "zoo.cfg").string();
    // Built before fork: the child only execs.
    std::vector<std::string> args = {"java", "-Xmx" + options_.max_heap};
    if (!options_.default_gc) {
        args.emplace_back("-XX:+UseSerialGC");
    }
    if (!options_.gc_log.empty()) {
        args.push_back("-Xlog:gc:file=" + options_.gc_log);
    }
    if (!options_.full_jit) {
        args.emplace_back("-XX:TieredStopAtLevel=1");
    }
    for (const char* a : {"-cp", "/usr/share/java/*:/etc/zookeeper/conf",
                          "org.apache.zookeeper.server.quorum.QuorumPeerMain"}) {
        args.emplace_back(a);
    }
    args.push_back(cfg);
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid_ == 0) {
        // Die with the test process, whatever way it ends.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(1);
        }
        int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (out >= 0) {
            ::dup2(out, STDOUT_FILENO);
            ::dup2(out, STDERR_FILENO);
        }
        ::execvp("java", argv.data());
        ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + start_deadline;
    while (std::chrono::steady_clock::now() < deadline) {
        if (answers_ruok()) {
            return;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("ZooKeeper exited at start; see " + log);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    stop();
    throw std::runtime_error("ZooKeeper did not answer ruok within 60 s; see " + log);
}

void zookeeper_server::stop() {
    if (!running()) {
        return;
    }
    ::kill(pid_, SIGCONT);  // a frozen server cannot act on SIGTERM
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + stop_grace;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) != pid_) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
}

void zookeeper_server::signal(int sig) const {
    if (running()) {
        ::kill(pid_, sig);
    }
}

}  // namespace gregor::test
