#include "admin/connection.h"

#include "protocol/messages/api_versions.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace gregor::admin {
namespace {

// Connects `fd` to `addr` within `timeout`; returns 0 or an errno value.
int connect_within(int fd, const addrinfo& addr, std::chrono::milliseconds timeout) {
    int flags = ::fcntl(fd, F_GETFL, 0);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = ::connect(fd, addr.ai_addr, addr.ai_addrlen);
    if (rc != 0 && errno != EINPROGRESS) {
        return errno;
    }
    if (rc != 0) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
            return ETIMEDOUT;
        }
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            return err;
        }
    }
    ::fcntl(fd, F_SETFL, flags);
    return 0;
}

void set_timeouts(int fd, std::chrono::milliseconds timeout) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

result<endpoint> parse_endpoint(std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
        return error(errc::bad_address, fmt::format("'{}': expected host:port", text));
    }
    std::string_view host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    auto port_text = text.substr(colon + 1);
    int port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || p != port_text.data() + port_text.size() || port <= 0 ||
        port > 65535 || host.empty()) {
        return error(errc::bad_address, fmt::format("'{}': expected host:port", text));
    }
    return endpoint{std::string(host), static_cast<std::uint16_t>(port)};
}

result<std::vector<endpoint>> parse_endpoints(std::string_view text) {
    std::vector<endpoint> out;
    if (text.empty()) {
        return error(errc::bad_address, "no bootstrap server given");
    }
    for (;;) {
        auto comma = text.find(',');
        GREGOR_TRY(auto e, parse_endpoint(text.substr(0, comma)));
        out.push_back(std::move(e));
        if (comma == std::string_view::npos) {
            return out;
        }
        text = text.substr(comma + 1);
    }
}

connection::connection(int fd, endpoint peer) : fd_(fd), peer_(std::move(peer)) {}

connection::~connection() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

result<std::unique_ptr<connection>> connection::open(const endpoint& to,
                                                     std::chrono::milliseconds timeout) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    auto port = std::to_string(to.port);
    if (int rc = ::getaddrinfo(to.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        return error(errc::bad_address, fmt::format("{}: {}", to.to_string(), ::gai_strerror(rc)));
    }
    int last_error = ECONNREFUSED;
    int fd = -1;
    for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
        fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last_error = errno;
            continue;
        }
        if ((last_error = connect_within(fd, *a, timeout)) != 0) {
            ::close(fd);
            fd = -1;
        }
    }
    ::freeaddrinfo(found);
    if (fd < 0) {
        return error(errc::connect_failed,
                     fmt::format("{}: {}", to.to_string(), std::strerror(last_error)));
    }
    set_timeouts(fd, timeout);
    std::unique_ptr<connection> c(new connection(fd, to));
    GREGOR_TRY_VOID(c->negotiate());
    return c;
}

result<void> connection::negotiate() {
    using api = protocol::api_versions_api;
    protocol::api_versions_request req;
    req.client_software_name = "gregor-admin";
    req.client_software_version = "1";
    auto resp = call_at<api>(req, 3);
    if (!resp || resp->error_code != 0) {
        // A broker older than ApiVersions v3 answers v0 with UNSUPPORTED_VERSION (KIP-511).
        resp = call_at<api>(protocol::api_versions_request{}, 0);
    }
    if (!resp) {
        return resp.err();
    }
    if (resp->error_code != 0) {
        return error(errc::bad_response, fmt::format("ApiVersions from {}: error {}",
                                                     peer_.to_string(), resp->error_code));
    }
    for (const auto& k : resp->api_keys) {
        versions_[k.api_key] = {k.min_version, k.max_version};
    }
    return ok();
}

result<void> connection::write_all(const std::uint8_t* data, std::size_t n) {
    while (n > 0) {
        ssize_t w = ::send(fd_, data, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return error(errc::io_failed, fmt::format("send to {}: {}", peer_.to_string(),
                                                      w < 0 ? std::strerror(errno) : "closed"));
        }
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return ok();
}

result<void> connection::read_all(std::uint8_t* data, std::size_t n) {
    while (n > 0) {
        ssize_t r = ::recv(fd_, data, n, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            bool timeout = r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
            return error(errc::io_failed, fmt::format("{} {}", peer_.to_string(),
                                                      timeout ? "did not answer in time"
                                                              : (r == 0 ? "closed the connection"
                                                                        : std::strerror(errno))));
        }
        data += r;
        n -= static_cast<std::size_t>(r);
    }
    return ok();
}

result<bytes> connection::exchange(const bytes& frame, std::int16_t response_header_version) {
    GREGOR_TRY_VOID(write_all(frame.data(), frame.size()));
    std::uint8_t prefix[4];
    GREGOR_TRY_VOID(read_all(prefix, sizeof prefix));
    std::uint32_t n = (std::uint32_t{prefix[0]} << 24) | (std::uint32_t{prefix[1]} << 16) |
                      (std::uint32_t{prefix[2]} << 8) | std::uint32_t{prefix[3]};
    if (n > response_bytes_max) {
        return error(errc::bad_response,
                     fmt::format("{} sent a {}-byte response", peer_.to_string(), n));
    }
    bytes body(n);
    GREGOR_TRY_VOID(read_all(body.data(), body.size()));
    protocol::reader r(body);
    auto h = protocol::decode_response_header(r, response_header_version);
    if (!h || h->correlation_id != correlation_) {
        return error(errc::bad_response, fmt::format("{} answered with a mismatched correlation id",
                                                     peer_.to_string()));
    }
    return bytes(body.begin() + static_cast<std::ptrdiff_t>(r.position()), body.end());
}

}  // namespace gregor::admin
