#include "support/broker_process.h"

#include "protocol/messages/metadata.h"
#include "support/zookeeper_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <fstream>
#include <poll.h>
#include <regex>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>

namespace gregor::test {

using namespace std::chrono_literals;

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
    std::string& dirs = settings.at("log.dirs");
    for (auto at = dirs.find("{dir}"); at != std::string::npos; at = dirs.find("{dir}")) {
        dirs.replace(at, 5, dir_.string());
    }
    for (std::size_t start = 0; start <= dirs.size();) {
        auto comma = std::min(dirs.find(',', start), dirs.size());
        log_dirs_.emplace_back(dirs.substr(start, comma - start));
        start = comma + 1;
    }
    std::ofstream props(dir_ / "server.properties");
    for (const auto& [k, v] : settings) {
        props << k << "=" << v << "\n";
    }
    props.close();
    args_ = {GREGOR_BINARY, "broker", "--config", (dir_ / "server.properties").string()};
    args_.insert(args_.end(), extra.begin(), extra.end());
    data_dir_ = log_dirs_.front();
    start();
}

void broker_process::start() {
    pid_ = spawn_child(args_, dir_ / "broker.log", true);
}

void broker_process::restart() {
    if (running()) {
        throw std::logic_error("broker_process::restart: the broker still runs");
    }
    start();
}

void broker_process::kill_now() {
    signal(SIGKILL);
    if (!wait_exit(30s)) {
        throw std::runtime_error("broker did not exit after SIGKILL");
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
    if (pid_ > 0) {
        ::kill(pid_, sig);
    }
}

std::optional<int> broker_process::wait_exit(std::chrono::milliseconds limit) {
    if (pid_ <= 0) {
        return std::nullopt;
    }
    auto code = wait_child(pid_, limit);
    if (code) {
        pid_ = -1;
    }
    return code;
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
    return slurp(dir_ / "broker.log");
}

std::vector<std::unique_ptr<broker_process>> start_http_brokers(
    const std::string& zookeeper_connect, int count, int partitions) {
    std::vector<std::unique_ptr<broker_process>> out;
    for (int id = 1; id <= count; ++id) {
        out.push_back(std::make_unique<broker_process>(std::map<std::string, std::string>{
            {"broker.id", std::to_string(id)},
            {"zookeeper.connect", zookeeper_connect},
            {"zookeeper.session.timeout.ms", "6000"},
            {"default.replication.factor", std::to_string(count)},
            {"num.partitions", std::to_string(partitions)},
            {"gregor.http.listener", "127.0.0.1:0"}}));
    }
    return out;
}

bool wait_brokers_known(const std::vector<std::unique_ptr<broker_process>>& brokers,
                        std::chrono::milliseconds limit) {
    auto known = [&](const broker_process& b) {
        try {
            kafka_socket s(b.port(), std::chrono::seconds(10));
            protocol::metadata_request req;
            req.topics = std::vector<protocol::metadata_request::metadata_request_topic>{};
            bytes raw = s.call(protocol::metadata_api::key, 4, req);
            protocol::reader r(raw);
            auto resp = protocol::metadata_response::decode(r, 4);
            return resp && resp->brokers.size() == brokers.size();
        } catch (const std::exception&) {
            return false;
        }
    };
    return eventually(
        [&] {
            return std::all_of(brokers.begin(), brokers.end(),
                               [&](const auto& b) { return known(*b); });
        },
        limit);
}

std::uint16_t broker_process::http_port() const {
    static const std::regex line(R"(metrics at http://127\.0\.0\.1:(\d+)/metrics)");
    auto text = log();
    // The last one: a restarted broker logs the port it listens on now after the old one.
    std::uint16_t port = 0;
    for (std::sregex_iterator it(text.begin(), text.end(), line), end; it != end; ++it) {
        port = static_cast<std::uint16_t>(std::stoi((*it)[1]));
    }
    return port;
}

kafka_socket::kafka_socket(std::uint16_t port, std::chrono::milliseconds io_timeout)
    : io_timeout_(io_timeout) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    // Request after request on one connection: without this, Nagle's algorithm and the
    // peer's delayed ACK cost about 40 ms per exchange.
    socket_.set_option(boost::asio::ip::tcp::no_delay(true));
}

// Reads exactly into.size() bytes, waiting at most io_timeout_ for each chunk.
void kafka_socket::read_exactly(mutable_bytes_view into) {
    std::size_t done = 0;
    while (done < into.size()) {
        pollfd p{socket_.native_handle(), POLLIN, 0};
        int ready = ::poll(&p, 1, static_cast<int>(io_timeout_.count()));
        if (ready <= 0) {
            throw std::runtime_error("kafka_socket: no response within the timeout");
        }
        done += socket_.read_some(boost::asio::buffer(into.data() + done, into.size() - done));
    }
}

bytes kafka_socket::exchange(const bytes& frame, std::int16_t response_header_version) {
    auto size = static_cast<std::uint32_t>(frame.size());
    std::uint8_t prefix[4] = {
        static_cast<std::uint8_t>(size >> 24), static_cast<std::uint8_t>(size >> 16),
        static_cast<std::uint8_t>(size >> 8), static_cast<std::uint8_t>(size)};
    std::array<boost::asio::const_buffer, 2> pieces{boost::asio::buffer(prefix),
                                                    boost::asio::buffer(frame)};
    boost::asio::write(socket_, pieces);  // one segment for a small request
    read_exactly(prefix);
    std::uint32_t n = (std::uint32_t{prefix[0]} << 24) | (std::uint32_t{prefix[1]} << 16) |
                      (std::uint32_t{prefix[2]} << 8) | std::uint32_t{prefix[3]};
    bytes body(n);
    read_exactly(body);
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

// The client is driven only inside these calls, so a test busy elsewhere for longer than the
// session timeout comes back to a lost connection or an expired session, which the client
// replaces by itself once driven again. Reads wait for that and retry; they are idempotent.
std::optional<coord::node_data> zk_reader::get(const std::string& path) {
    auto end = std::chrono::steady_clock::now() + 30s;
    while (true) {
        await_session();
        std::optional<result<coord::node_data>> got;
        client_->get(path, {}, [&](result<coord::node_data> r) { got.emplace(std::move(r)); });
        wait_for([&] { return got.has_value(); }, 30s);
        if (got && *got) {
            return std::move(**got);
        }
        if (!got || !coord::is_transient(got->code()) || std::chrono::steady_clock::now() > end) {
            return std::nullopt;
        }
    }
}

std::string zk_reader::create(const std::string& path, const std::string& data) {
    await_session();
    std::optional<result<std::string>> done;
    client_->create(path, data, coord::create_mode::persistent,
                    [&](result<std::string> r) { done.emplace(std::move(r)); });
    wait_for([&] { return done.has_value(); }, 30s);
    if (!done) {
        return "no answer from ZooKeeper";
    }
    return *done ? "" : done->err().to_string();
}

void zk_reader::await_session() {
    // Runs what is due first: after a long idle stretch that is the library noticing that the
    // server has not been heard from, which drops the connection before a call goes out.
    ioc_.restart();
    ioc_.poll();
    wait_for([&] { return client_->is_connected(); }, 30s);
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
