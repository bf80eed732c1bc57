// Loopback throughput of net::server replies (1 MiB from memory via sendmsg, 1 MiB from a
// file slice via sendfile) and the rate of tiny pipelined requests, next to the machine's
// own limit measured in the same run: a plain blocking write/read loop over a loopback TCP
// connection. The server runs its loop on its own thread, as in a broker; the benchmark
// thread is a blocking client keeping a few requests in flight.
//
// Run: build/release/bench/net/net_bench  (compare bytes_per_second with BM_loopback_raw)
#include "net/frame.h"
#include "net/server.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <fcntl.h>
#include <future>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace gregor::net {
namespace {

constexpr std::size_t payload_bytes = 1024 * 1024;
constexpr int pipeline_depth = 4;

int connect_loopback(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        std::abort();
    }
    return fd;
}

void write_all(int fd, const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
        ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            std::abort();
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

// Returns false at end of stream.
bool read_all(int fd, std::uint8_t* p, std::size_t n) {
    while (n > 0) {
        ssize_t r = ::recv(fd, p, n, 0);
        if (r <= 0) {
            return false;
        }
        p += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

bytes request_frame() {
    bytes m(12);
    auto prefix = encode_frame_size(8);
    std::copy(prefix.begin(), prefix.end(), m.begin());
    return m;
}

// Reads one response frame into `buf` (resized as needed).
void read_response(int fd, bytes& buf) {
    std::array<std::uint8_t, 4> prefix{};
    if (!read_all(fd, prefix.data(), 4)) {
        std::abort();
    }
    auto size = decode_frame_size(prefix, 4, 0x7fffffff);
    buf.resize(static_cast<std::size_t>(*size));
    if (!read_all(fd, buf.data(), buf.size())) {
        std::abort();
    }
}

// A net::server whose loop runs on its own thread for the benchmark's duration.
class server_thread {
public:
    explicit server_thread(std::function<handler()> make_handler) {
        std::promise<std::uint16_t> port;
        thread_ = std::thread([&] {
            server_config config;
            config.listeners.push_back({});
            server_ = std::make_unique<server>(ioc_, config, make_handler());
            (void)server_->start().has_value();
            port.set_value(server_->port());
            ioc_.run();
            server_.reset();  // on the loop thread, as the server requires
        });
        port_ = port.get_future().get();
    }
    ~server_thread() {
        asio::post(ioc_, [this] { server_->stop(); });
        thread_.join();
    }
    std::uint16_t port() const { return port_; }

private:
    asio::io_context ioc_{1};
    std::unique_ptr<server> server_;
    std::thread thread_;
    std::uint16_t port_ = 0;
};

bytes correlation_bytes(const request& r) {
    auto id = static_cast<std::uint32_t>(r.header().correlation_id);
    return {static_cast<std::uint8_t>(id >> 24), static_cast<std::uint8_t>(id >> 16),
            static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
}

// Keeps `pipeline_depth` requests in flight, one response per iteration.
void run_pipelined(benchmark::State& state, std::uint16_t port) {
    int fd = connect_loopback(port);
    auto req = request_frame();
    bytes buf;
    for (int i = 0; i < pipeline_depth; ++i) {
        write_all(fd, req.data(), req.size());
    }
    for (auto _ : state) {
        read_response(fd, buf);
        write_all(fd, req.data(), req.size());
    }
    for (int i = 0; i < pipeline_depth; ++i) {
        read_response(fd, buf);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload_bytes));
    ::close(fd);
}

// Baseline: the loopback limit for plain blocking write/read of 1 MiB chunks.
void BM_loopback_raw(benchmark::State& state) {
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listener, 1);
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    int reader = connect_loopback(ntohs(addr.sin_port));
    int writer = ::accept(listener, nullptr, nullptr);
    std::atomic<bool> stop{false};
    std::thread t([&] {
        bytes chunk(payload_bytes, 0x5a);
        while (!stop.load()) {
            ssize_t w = ::send(writer, chunk.data(), chunk.size(), MSG_NOSIGNAL);
            if (w <= 0) {
                break;
            }
        }
    });
    bytes buf(payload_bytes);
    for (auto _ : state) {
        if (!read_all(reader, buf.data(), buf.size())) {
            std::abort();
        }
    }
    stop = true;
    ::shutdown(reader, SHUT_RDWR);
    ::close(reader);
    t.join();
    ::close(writer);
    ::close(listener);
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload_bytes));
}
BENCHMARK(BM_loopback_raw)->UseRealTime();

void BM_server_reply_1mib_from_memory(benchmark::State& state) {
    auto payload = std::make_shared<const bytes>(payload_bytes, 0x33);
    server_thread s([payload] {
        return [payload](request r) -> asio::awaitable<reply> {
            response resp(correlation_bytes(r));
            resp.append(bytes_view(*payload), payload);  // sendmsg from memory, no copy
            co_return reply::send(std::move(resp));
        };
    });
    run_pipelined(state, s.port());
}
BENCHMARK(BM_server_reply_1mib_from_memory)->UseRealTime();

void BM_server_reply_1mib_from_file(benchmark::State& state) {
    char name[] = "/tmp/gregor-net-bench-XXXXXX";
    int fd = ::mkstemp(name);
    ::unlink(name);
    bytes data(payload_bytes, 0x44);
    if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
        std::abort();
    }
    server_thread s([fd] {
        return [fd](request r) -> asio::awaitable<reply> {
            response resp(correlation_bytes(r));
            resp.append_file(fd, 0, payload_bytes, nullptr);  // sendfile from the page cache
            co_return reply::send(std::move(resp));
        };
    });
    run_pipelined(state, s.port());
    ::close(fd);
}
BENCHMARK(BM_server_reply_1mib_from_file)->UseRealTime();

void BM_server_tiny_requests_pipelined(benchmark::State& state) {
    constexpr int batch = 64;
    server_thread s([] {
        return [](request r) -> asio::awaitable<reply> {
            co_return reply::send(response(correlation_bytes(r)));
        };
    });
    int fd = connect_loopback(s.port());
    bytes one = request_frame();
    bytes requests;
    for (int i = 0; i < batch; ++i) {
        requests.insert(requests.end(), one.begin(), one.end());
    }
    bytes responses(static_cast<std::size_t>(batch) * 8);  // 4-byte size + 4-byte id each
    for (auto _ : state) {
        write_all(fd, requests.data(), requests.size());
        if (!read_all(fd, responses.data(), responses.size())) {
            std::abort();
        }
    }
    state.SetItemsProcessed(state.iterations() * batch);
    ::close(fd);
}
BENCHMARK(BM_server_tiny_requests_pipelined)->UseRealTime();

}  // namespace
}  // namespace gregor::net

BENCHMARK_MAIN();
