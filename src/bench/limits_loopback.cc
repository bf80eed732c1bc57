// The loopback TCP part of the limits pass: one sender (the calling thread) and one receiver
// thread on 127.0.0.1, as a broker and a client on the same machine would be.
#include "bench/errc.h"
#include "bench/limits.h"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace gregor::bench {
namespace {

using clock_type = std::chrono::steady_clock;

class socket_fd {
public:
    explicit socket_fd(int fd) : fd_(fd) {}
    ~socket_fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    socket_fd(const socket_fd&) = delete;
    socket_fd& operator=(const socket_fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

error net_fail(const char* what) {
    return {errc::io_error, fmt::format("loopback {}: {}", what, std::strerror(errno))};
}

// A listening socket on 127.0.0.1 with a kernel-chosen port; returns the port.
result<std::uint16_t> listen_loopback(int fd) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 1) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        return net_fail("listen");
    }
    return ntohs(addr.sin_port);
}

// Accepts one connection and reads until EOF; sets `received` and the time of the last byte.
void receive_all(int listener, std::int64_t& received, clock_type::time_point& last,
                 std::size_t block_size) {
    socket_fd conn(::accept(listener, nullptr, nullptr));
    if (conn.get() < 0) {
        return;
    }
    std::vector<char> buf(block_size);
    for (;;) {
        ssize_t n = ::read(conn.get(), buf.data(), buf.size());
        if (n <= 0) {
            break;
        }
        received += n;
        last = clock_type::now();
    }
}

result<void> send_for(int fd, std::chrono::milliseconds budget, const char* block,
                      std::size_t block_size) {
    auto start = clock_type::now();
    while (clock_type::now() - start < budget) {
        std::size_t done = 0;
        while (done < block_size) {
            ssize_t n = ::write(fd, block + done, block_size - done);
            if (n <= 0) {
                return net_fail("write");
            }
            done += static_cast<std::size_t>(n);
        }
    }
    return ok();
}

}  // namespace

result<double> loopback_bandwidth(std::chrono::milliseconds budget, const char* block,
                                  std::size_t block_size) {
    socket_fd listener(::socket(AF_INET, SOCK_STREAM, 0));
    if (listener.get() < 0) {
        return net_fail("socket");
    }
    GREGOR_TRY(std::uint16_t port, listen_loopback(listener.get()));
    std::int64_t received = 0;
    auto start = clock_type::now();
    auto last = start;
    std::thread receiver([&] { receive_all(listener.get(), received, last, block_size); });
    socket_fd sender(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    result<void> sent = ok();
    start = clock_type::now();
    if (sender.get() >= 0 &&
        ::connect(sender.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        sent = send_for(sender.get(), budget, block, block_size);
        ::shutdown(sender.get(), SHUT_WR);  // EOF for the receiver, also after a failed write
    } else {
        sent = net_fail("connect");
        ::shutdown(listener.get(), SHUT_RDWR);  // unblocks accept()
    }
    receiver.join();
    GREGOR_TRY_VOID(std::move(sent));
    double s = std::chrono::duration<double>(last - start).count();
    if (received == 0 || s <= 0) {
        return error(errc::io_error, "loopback: nothing received");
    }
    return static_cast<double>(received) / 1e6 / s;
}

}  // namespace gregor::bench
