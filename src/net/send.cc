#include "net/send.h"

#include "net/errc.h"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/sendfile.h>
#include <sys/socket.h>

namespace gregor::net {
namespace {

// Linux's IOV_MAX; a larger run is sent in several calls.
constexpr std::size_t iovecs_per_call = 1024;
// sendfile moves at most about 2 GiB per call; stay well below.
constexpr std::size_t sendfile_bytes_per_call = std::size_t{1} << 30;

// One non-blocking write attempt: bytes written, 0 for "would block", or -errno.
ssize_t write_once(int fd, gather_cursor& cursor) {
    if (cursor.at_file()) {
        auto chunk = cursor.next_file();
        off_t off = chunk.offset;
        ssize_t n = ::sendfile(fd, chunk.fd, &off, std::min(chunk.length, sendfile_bytes_per_call));
        if (n == 0) {
            return -ENODATA;  // the file ended before the slice did
        }
        return n < 0 ? (errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno) : n;
    }
    std::array<iovec, iovecs_per_call> iov{};
    std::size_t count = cursor.next_iovecs(iov);
    std::size_t batch = 0;
    for (std::size_t i = 0; i < count; ++i) {
        batch += iov[i].iov_len;
    }
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = count;
    // MSG_MORE lets a small header share a segment with the file bytes that follow it.
    int flags = MSG_NOSIGNAL | (cursor.remaining_bytes() > batch ? MSG_MORE : 0);
    ssize_t n = ::sendmsg(fd, &msg, flags);
    return n < 0 ? (errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno) : n;
}

}  // namespace

asio::awaitable<result<void>> send_response(tcp::socket& socket, const response& r) {
    std::array<const response*, 1> one{&r};
    co_return co_await send_responses(socket, one);
}

asio::awaitable<result<void>> send_responses(tcp::socket& socket,
                                             std::span<const response* const> batch) {
    gather_cursor cursor(batch);
    while (!cursor.done()) {
        ssize_t n = write_once(socket.native_handle(), cursor);
        if (n == -EINTR) {
            continue;
        }
        if (n == -ENODATA) {
            co_return error(errc::file_truncated, "sendfile reached the end of the file");
        }
        if (n < 0) {
            co_return error(errc::socket_error,
                            fmt::format("send: {}", std::strerror(static_cast<int>(-n))));
        }
        if (n == 0) {
            error_code ec;
            co_await socket.async_wait(tcp::socket::wait_write,
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                co_return error(errc::socket_error, fmt::format("wait_write: {}", ec.message()));
            }
            continue;
        }
        cursor.advance(static_cast<std::size_t>(n));
    }
    co_return ok();
}

void ignore_sigpipe() {
    std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace gregor::net
