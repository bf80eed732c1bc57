#include "bench/metadata_probe.h"

#include "bench/errc.h"
#include "protocol/headers.h"
#include "protocol/messages/metadata.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

#include <fmt/format.h>

#include <algorithm>
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

constexpr std::int16_t metadata_version = 5;  // controller id (v1+), plain encoding (< v9)
constexpr std::uint32_t response_bytes_max = 64u << 20;

error probe_fail(const std::string& what) {
    return {errc::unreachable, what};
}

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

cluster_view to_view(const protocol::metadata_response& m, const std::string& topic) {
    cluster_view v;
    v.controller = m.controller_id.value();
    for (const auto& b : m.brokers) {
        v.brokers.push_back(b.node_id.value());
    }
    std::sort(v.brokers.begin(), v.brokers.end());
    for (const auto& t : m.topics) {
        if (t.name && *t.name == topic) {
            v.leaders.assign(t.partitions.size(), -1);
            for (const auto& p : t.partitions) {
                auto i = static_cast<std::size_t>(p.partition_index.value());
                if (i < v.leaders.size()) {
                    v.leaders[i] = p.leader_id.value();
                }
            }
        }
    }
    return v;
}

}  // namespace

metadata_probe::metadata_probe(std::string host, int port) : host_(std::move(host)), port_(port) {}

metadata_probe::~metadata_probe() {
    close();
}

void metadata_probe::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

result<void> metadata_probe::connect(std::chrono::milliseconds timeout) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &found) != 0 ||
        found == nullptr) {
        return probe_fail(fmt::format("cannot resolve {}", host_));
    }
    fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = fd_ < 0 ? -1 : ::connect(fd_, found->ai_addr, found->ai_addrlen);
    ::freeaddrinfo(found);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (fd_ < 0 || (rc != 0 && (errno != EINPROGRESS || !wait_ready(fd_, POLLOUT, deadline))) ||
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0) {
        close();
        return probe_fail(fmt::format("cannot connect to {}:{}", host_, port_));
    }
    return ok();
}

result<std::vector<std::uint8_t>> metadata_probe::exchange(const std::vector<std::uint8_t>& frame,
                                                           std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto n = static_cast<std::uint32_t>(frame.size());
    std::uint8_t prefix[4] = {static_cast<std::uint8_t>(n >> 24),
                              static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8),
                              static_cast<std::uint8_t>(n)};
    if (!send_all(fd_, prefix, sizeof prefix, deadline) ||
        !send_all(fd_, frame.data(), frame.size(), deadline) ||
        !recv_all(fd_, prefix, sizeof prefix, deadline)) {
        close();
        return probe_fail(fmt::format("no Metadata answer from {}:{}", host_, port_));
    }
    std::uint32_t size = (std::uint32_t{prefix[0]} << 24) | (std::uint32_t{prefix[1]} << 16) |
                         (std::uint32_t{prefix[2]} << 8) | std::uint32_t{prefix[3]};
    std::vector<std::uint8_t> body(std::min(size, response_bytes_max));
    if (size > response_bytes_max || !recv_all(fd_, body.data(), body.size(), deadline)) {
        close();
        return probe_fail(fmt::format("bad Metadata answer from {}:{}", host_, port_));
    }
    return body;
}

result<cluster_view> metadata_probe::ask(const std::string& topic,
                                         std::chrono::milliseconds timeout) {
    if (fd_ < 0) {
        GREGOR_TRY_VOID(connect(timeout));
    }
    protocol::metadata_request req;
    req.topics.emplace();
    req.topics->push_back({});
    req.topics->back().name = topic;
    req.allow_auto_topic_creation = false;
    protocol::writer w;
    protocol::encode_request_header(w, protocol::request_header{protocol::metadata_api::key,
                                                                metadata_version,
                                                                ++correlation_,
                                                                std::string("gregor-bench"),
                                                                {}});
    req.encode(w, metadata_version);
    GREGOR_TRY(auto body, exchange(std::move(w).finish().flatten(), timeout));
    protocol::reader r(body);
    auto header = protocol::decode_response_header(
        r, protocol::response_header_version(protocol::metadata_api::key, metadata_version));
    if (!header || header->correlation_id != correlation_) {
        close();
        return probe_fail(fmt::format("Metadata answer out of order from {}:{}", host_, port_));
    }
    auto m = protocol::metadata_response::decode(r, metadata_version);
    if (!m) {
        close();
        return probe_fail(fmt::format("undecodable Metadata answer from {}:{}", host_, port_));
    }
    return to_view(*m, topic);
}

}  // namespace gregor::bench
