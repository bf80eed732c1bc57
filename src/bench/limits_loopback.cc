// The loopback TCP part of the limits pass: one sender (the calling thread) and one receiver
// thread on 127.0.0.1, as a broker and a client on the same machine would be; and paced
// request/answer round trips to a minimal epoll server thread, the floor under a broker's
// CPU per small request on this machine.
#include "bench/errc.h"
#include "bench/limits.h"

#include <fmt/format.h>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
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

double thread_cpu_s() {
    rusage u{};
    ::getrusage(RUSAGE_THREAD, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Accepts one connection and answers whatever arrives with the same bytes, waiting in
// epoll_wait as a server's event loop does, until EOF. Sets its own CPU time meanwhile.
void echo_all(int listener, double& cpu_s) {
    socket_fd conn(::accept(listener, nullptr, nullptr));
    socket_fd ep(::epoll_create1(0));
    if (conn.get() < 0 || ep.get() < 0) {
        return;
    }
    int one = 1;
    ::setsockopt(conn.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, conn.get(), &ev);
    std::vector<char> buf(4096);
    const double start = thread_cpu_s();
    for (;;) {
        epoll_event ready{};
        if (::epoll_wait(ep.get(), &ready, 1, -1) < 1) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        ssize_t n = ::read(conn.get(), buf.data(), buf.size());
        if (n <= 0 || ::write(conn.get(), buf.data(), static_cast<std::size_t>(n)) != n) {
            break;
        }
    }
    cpu_s = thread_cpu_s() - start;
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

result<round_trips> loopback_round_trips(std::chrono::milliseconds budget, int rate) {
    socket_fd listener(::socket(AF_INET, SOCK_STREAM, 0));
    if (listener.get() < 0) {
        return net_fail("socket");
    }
    GREGOR_TRY(std::uint16_t port, listen_loopback(listener.get()));
    double server_cpu_s = 0;
    std::thread server([&] { echo_all(listener.get(), server_cpu_s); });
    socket_fd client(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (client.get() < 0 ||
        ::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::shutdown(listener.get(), SHUT_RDWR);  // unblocks accept()
        server.join();
        return net_fail("connect");
    }
    int one = 1;
    ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const std::array<char, 100> request{};
    std::array<char, 100> answer{};
    const auto period = std::chrono::nanoseconds(1'000'000'000LL / std::max(rate, 1));
    const auto count = std::max<std::int64_t>(budget / period, 1);
    std::vector<double> took_us;
    took_us.reserve(static_cast<std::size_t>(count));
    const auto start = clock_type::now();
    bool failed = false;
    for (std::int64_t i = 0; i < count && !failed; ++i) {
        std::this_thread::sleep_until(start + i * period);
        const auto sent = clock_type::now();
        failed = ::write(client.get(), request.data(), request.size()) !=
                 static_cast<ssize_t>(request.size());
        for (std::size_t got = 0; !failed && got < answer.size();) {
            ssize_t n = ::read(client.get(), answer.data() + got, answer.size() - got);
            failed = n <= 0;
            got += failed ? 0 : static_cast<std::size_t>(n);
        }
        took_us.push_back(
            std::chrono::duration<double, std::micro>(clock_type::now() - sent).count());
    }
    ::shutdown(client.get(), SHUT_WR);  // EOF for the server
    server.join();
    if (failed || took_us.empty()) {
        return net_fail("round trip");
    }
    std::nth_element(took_us.begin(),
                     took_us.begin() + static_cast<std::ptrdiff_t>(took_us.size() / 2),
                     took_us.end());
    return round_trips{server_cpu_s * 1e6 / static_cast<double>(took_us.size()),
                       took_us[took_us.size() / 2]};
}

}  // namespace gregor::bench
