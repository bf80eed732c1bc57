#include "bench/broker_connection.h"

#include "bench/errc.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace gregor::bench {
namespace {

constexpr std::uint32_t response_bytes_max = 64u << 20;

// Waits until `fd` is ready for `events` or the deadline passes.
bool wait_ready(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, events, 0};
    return left.count() > 0 && ::poll(&p, 1, static_cast<int>(left.count())) == 1;
}

bool send_all(int fd, const std::uint8_t* data, std::size_t n,
              std::chrono::steady_clock::time_point deadline) {
    while (n > 0) {
        if (!wait_ready(fd, POLLOUT, deadline)) {
            return false;
        }
        ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return false;
        }
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

bool recv_all(int fd, std::uint8_t* data, std::size_t n,
              std::chrono::steady_clock::time_point deadline) {
    while (n > 0) {
        if (!wait_ready(fd, POLLIN, deadline)) {
            return false;
        }
        ssize_t r = ::recv(fd, data, n, 0);
        if (r <= 0) {
            return false;
        }
        data += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

}  // namespace

broker_connection::broker_connection(std::string host, int port)
    : host_(std::move(host)), port_(port) {}

broker_connection::~broker_connection() {
    close();
}

void broker_connection::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

error broker_connection::fail(std::string what) {
    close();
    return {errc::unreachable, std::move(what)};
}

result<void> broker_connection::connect(std::chrono::milliseconds timeout) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &found) != 0 ||
        found == nullptr) {
        return fail(fmt::format("cannot resolve {}", host_));
    }
    fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = fd_ < 0 ? -1 : ::connect(fd_, found->ai_addr, found->ai_addrlen);
    ::freeaddrinfo(found);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (fd_ < 0 || (rc != 0 && (errno != EINPROGRESS || !wait_ready(fd_, POLLOUT, deadline))) ||
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0) {
        return fail(fmt::format("cannot connect to {}", address()));
    }
    return ok();
}

result<std::vector<std::uint8_t>> broker_connection::exchange(
    const std::vector<std::uint8_t>& frame, std::chrono::milliseconds timeout,
    std::string_view api) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto n = static_cast<std::uint32_t>(frame.size());
    std::uint8_t prefix[4] = {static_cast<std::uint8_t>(n >> 24),
                              static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8),
                              static_cast<std::uint8_t>(n)};
    if (!send_all(fd_, prefix, sizeof prefix, deadline) ||
        !send_all(fd_, frame.data(), frame.size(), deadline) ||
        !recv_all(fd_, prefix, sizeof prefix, deadline)) {
        return fail(fmt::format("no {} answer from {}", api, address()));
    }
    std::uint32_t size = (std::uint32_t{prefix[0]} << 24) | (std::uint32_t{prefix[1]} << 16) |
                         (std::uint32_t{prefix[2]} << 8) | std::uint32_t{prefix[3]};
    std::vector<std::uint8_t> body(std::min(size, response_bytes_max));
    if (size > response_bytes_max || !recv_all(fd_, body.data(), body.size(), deadline)) {
        return fail(fmt::format("bad {} answer from {}", api, address()));
    }
    return body;
}

}  // namespace gregor::bench
