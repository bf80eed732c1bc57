#include "integration/broker/broker_process.h"

#include "support/zookeeper_server.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gregor::test {

using namespace std::chrono_literals;

command_result run_command(const std::string& cmd) {
    command_result r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        return r;
    }
    char buf[65536];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
        r.out.append(buf, n);
    }
    int status = ::pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

broker_process::broker_process(std::map<std::string, std::string> settings,
                               std::vector<std::string> extra) {
    char tmpl[] = "/tmp/gregor-broker-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    dir_ = tmpl;
    port_ = free_loopback_port();
    settings.try_emplace("broker.id", "1");
    settings.try_emplace("listeners", "PLAINTEXT://127.0.0.1:" + std::to_string(port_));
    settings.try_emplace("log.dirs", (dir_ / "data").string());
    std::ofstream props(dir_ / "server.properties");
    for (const auto& [k, v] : settings) {
        props << k << "=" << v << "\n";
    }
    props.close();
    std::vector<std::string> args{GREGOR_BINARY, "broker", "--config",
                                  (dir_ / "server.properties").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        int fd = ::open((dir_ / "broker.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, STDERR_FILENO);
        ::dup2(fd, STDOUT_FILENO);
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
}

broker_process::~broker_process() {
    if (pid_ > 0) {
        ::kill(pid_, SIGCONT);
        ::kill(pid_, SIGTERM);
        if (!wait_exit(10s)) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

void broker_process::signal(int sig) const {
    ::kill(pid_, sig);
}

std::optional<int> broker_process::wait_exit(std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (pid_ > 0) {
        int status = 0;
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (std::chrono::steady_clock::now() > end) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
}

bool broker_process::wait_listening(std::chrono::milliseconds limit) const {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::socket s(ioc);
        boost::system::error_code ec;
        s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
        if (!ec) {
            return true;
        }
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

std::string broker_process::log() const {
    std::ifstream in(dir_ / "broker.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

kafka_socket::kafka_socket(std::uint16_t port) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
}

bytes kafka_socket::exchange(const bytes& frame, std::int16_t response_header_version) {
    auto size = static_cast<std::uint32_t>(frame.size());
    std::uint8_t prefix[4] = {
        static_cast<std::uint8_t>(size >> 24), static_cast<std::uint8_t>(size >> 16),
        static_cast<std::uint8_t>(size >> 8), static_cast<std::uint8_t>(size)};
    boost::asio::write(socket_, boost::asio::buffer(prefix));
    boost::asio::write(socket_, boost::asio::buffer(frame));
    boost::asio::read(socket_, boost::asio::buffer(prefix));
    std::uint32_t n = (std::uint32_t{prefix[0]} << 24) | (std::uint32_t{prefix[1]} << 16) |
                      (std::uint32_t{prefix[2]} << 8) | std::uint32_t{prefix[3]};
    bytes body(n);
    boost::asio::read(socket_, boost::asio::buffer(body));
    protocol::reader r(body);
    auto h = protocol::decode_response_header(r, response_header_version);
    EXPECT_TRUE(h);
    return bytes(body.begin() + static_cast<std::ptrdiff_t>(r.position()), body.end());
}

zk_reader::zk_reader(const std::string& connect) {
    coord::zk_config cfg;
    cfg.connect = connect;
    cfg.session_timeout = 10s;
    cfg.connection_timeout = 20s;
    client_ = std::make_unique<coord::zk_client>(ioc_, cfg);
    std::optional<result<void>> started;
    client_->start([&](result<void> r) { started.emplace(std::move(r)); });
    EXPECT_TRUE(wait_for([&] { return started.has_value(); }, 30s));
}

zk_reader::~zk_reader() {
    client_.reset();
    ioc_.poll();
}

std::optional<coord::node_data> zk_reader::get(const std::string& path) {
    std::optional<result<coord::node_data>> got;
    client_->get(path, {}, [&](result<coord::node_data> r) { got.emplace(std::move(r)); });
    wait_for([&] { return got.has_value(); }, 30s);
    if (!got || !*got) {
        return std::nullopt;
    }
    return std::move(**got);
}

bool zk_reader::wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) {
            return false;
        }
        ioc_.restart();
        ioc_.run_one_for(std::chrono::milliseconds(50));
    }
    return true;
}

}  // namespace gregor::test
