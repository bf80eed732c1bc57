// Helpers for the net integration tests: a blocking loopback client on plain POSIX sockets
// (run on its own thread while the test thread runs the server's loop), request builders and
// an echo handler. Every blocking call has a generous receive timeout as a hang guard only.
#pragma once

#include "base/bytes.h"
#include "net/asio.h"
#include "net/frame.h"
#include "net/request.h"
#include "net/response.h"

#include <chrono>
#include <cstdint>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace gregor::net::testing {

inline constexpr auto hang_guard = std::chrono::seconds(60);

// A request message: fixed header (api_key 18, version 0, the correlation id), then `body`.
inline bytes make_request(std::int32_t correlation_id, const bytes& body = {}) {
    bytes m(8);
    m[1] = 18;
    set_request_correlation_id(m, correlation_id);
    m.insert(m.end(), body.begin(), body.end());
    return m;
}

inline bytes framed(const bytes& message) {
    auto prefix = encode_frame_size(static_cast<std::int32_t>(message.size()));
    bytes out(prefix.begin(), prefix.end());
    out.insert(out.end(), message.begin(), message.end());
    return out;
}

// Correlation id, then the request's bytes after its fixed header.
inline response echo_response(const request& r) {
    auto id = static_cast<std::uint32_t>(r.header().correlation_id);  // any value, even negative
    bytes out{static_cast<std::uint8_t>(id >> 24), static_cast<std::uint8_t>(id >> 16),
              static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
    auto body = r.message().subspan(8);
    out.insert(out.end(), body.begin(), body.end());
    return response(std::move(out));
}

inline handler echo_handler() {
    return [](request r) -> asio::awaitable<reply> { co_return reply::send(echo_response(r)); };
}

// Blocking loopback client. Not thread-safe; owned by one test thread.
class raw_client {
public:
    explicit raw_client(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        timeval tv{static_cast<time_t>(hang_guard.count()), 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    }
    ~raw_client() { close(); }
    raw_client(const raw_client&) = delete;
    raw_client& operator=(const raw_client&) = delete;

    bool connected() const { return connected_; }

    // Returns true iff every byte was written.
    bool write_all(bytes_view data) {
        while (!data.empty()) {
            ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            data = data.subspan(static_cast<std::size_t>(n));
        }
        return true;
    }

    // Returns exactly n bytes, or nullopt on end of stream, reset or the hang guard.
    std::optional<bytes> read_exact(std::size_t n) {
        bytes out(n);
        std::size_t have = 0;
        while (have < n) {
            ssize_t r = ::recv(fd_, out.data() + have, n - have, 0);
            if (r <= 0) {
                return std::nullopt;
            }
            have += static_cast<std::size_t>(r);
        }
        return out;
    }

    // Returns the next response message (without its size prefix).
    std::optional<bytes> read_frame() {
        auto prefix = read_exact(4);
        if (!prefix) {
            return std::nullopt;
        }
        auto size =
            decode_frame_size(std::span<const std::uint8_t, 4>(prefix->data(), 4), 4, 0x7fffffff);
        if (!size) {
            return std::nullopt;
        }
        return read_exact(static_cast<std::size_t>(*size));
    }

    // Returns true iff the server closed the connection (end of stream or reset) before the
    // hang guard; bytes still arriving are discarded.
    bool wait_closed() {
        std::uint8_t buf[4096];
        for (;;) {
            ssize_t r = ::recv(fd_, buf, sizeof(buf), 0);
            if (r == 0) {
                return true;
            }
            if (r < 0) {
                return errno == ECONNRESET || errno == EPIPE;
            }
        }
    }

    void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    int fd_ = -1;
    bool connected_ = false;
};

inline std::int32_t correlation_of(const bytes& response_message) {
    return *peek_correlation_id(response_message);
}

}  // namespace gregor::net::testing

#include "net/server.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>

namespace gregor::net::testing {

// A server on 127.0.0.1:0 driven by the test thread's loop; clients run on other threads.
class server_fixture : public ::testing::Test {
protected:
    void start(handler h, server_config config = {}) {
        if (config.listeners.empty()) {
            config.listeners.push_back(listener_config{"PLAINTEXT", "127.0.0.1", 0});
        }
        server_ = std::make_unique<server>(ioc_, config, std::move(h));
        ASSERT_TRUE(server_->start());
        port_ = server_->port();
    }

    // Runs the loop while `client` runs on its own thread; when it returns the server is
    // stopped, and the loop returns once every coroutine has ended.
    template <class F>
    void run_client(F client) {
        std::thread t([&] {
            client();
            asio::post(ioc_, [this] { server_->stop(); });
        });
        ioc_.run_for(hang_guard);
        t.join();
        EXPECT_TRUE(ioc_.stopped()) << "the loop still had work at the hang guard";
    }

    asio::io_context ioc_{1};
    std::unique_ptr<server> server_;
    std::uint16_t port_ = 0;
};

}  // namespace gregor::net::testing
