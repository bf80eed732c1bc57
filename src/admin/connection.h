// connection: one blocking Kafka connection for the admin commands.
//
// Plain POSIX sockets with a connect timeout and per-read/write timeouts: the admin
// commands are short-lived command-line tools, so blocking calls keep them simple. On
// open the connection asks ApiVersions (v3, falling back to v0 as KIP-511 describes) and
// afterwards sends each API at the highest version both sides support. Responses are
// bounded by response_bytes_max. Used from one thread.
#pragma once

#include "admin/errc.h"
#include "base/bytes.h"
#include "base/result.h"
#include "protocol/frame.h"
#include "protocol/reader.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gregor::admin {

inline constexpr std::size_t response_bytes_max = 100 * 1024 * 1024;

struct endpoint {
    std::string host;
    std::uint16_t port = 0;
    bool operator==(const endpoint&) const = default;
    std::string to_string() const { return fmt::format("{}:{}", host, port); }
};

// "host:port" (host may be a name, an IPv4 address or a bracketed IPv6 address).
result<endpoint> parse_endpoint(std::string_view text);
// "host:port,host:port,..."
result<std::vector<endpoint>> parse_endpoints(std::string_view text);

class connection {
public:
    // Connects and negotiates API versions within `timeout` (also each later request's).
    static result<std::unique_ptr<connection>> open(const endpoint& to,
                                                    std::chrono::milliseconds timeout);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    const endpoint& peer() const { return peer_; }

    // The version to use for `Api`: the highest both sides support, at least `min_version`.
    template <class Api>
    result<std::int16_t> version_for(std::int16_t min_version = Api::version_min) const {
        auto it = versions_.find(Api::key);
        if (it == versions_.end()) {
            return error(errc::unsupported,
                         fmt::format("{} does not support {}", peer_.to_string(), Api::name));
        }
        auto v = std::min<std::int16_t>(Api::version_max, it->second.second);
        if (v < std::max<std::int16_t>(min_version, it->second.first)) {
            return error(errc::unsupported,
                         fmt::format("{} supports {} v{}-v{}; gregor needs v{}+", peer_.to_string(),
                                     Api::name, it->second.first, it->second.second, min_version));
        }
        return v;
    }

    // Sends `req` at the negotiated version (at least `min_version`) and decodes the answer.
    template <class Api>
    result<typename Api::response_type> call(const typename Api::request_type& req,
                                             std::int16_t min_version = Api::version_min) {
        GREGOR_TRY(auto version, version_for<Api>(min_version));
        return call_at<Api>(req, version);
    }

    template <class Api>
    result<typename Api::response_type> call_at(const typename Api::request_type& req,
                                                std::int16_t version) {
        GREGOR_TRY(auto frame, protocol::encode_request_frame<Api>(
                                   ++correlation_, std::string("gregor-admin"), version, req));
        GREGOR_TRY(auto body,
                   exchange(frame.flatten(), protocol::response_header_version(Api::key, version)));
        protocol::reader r(body);
        auto decoded = protocol::decode_exact<typename Api::response_type>(r, version);
        if (!decoded) {
            return error(errc::bad_response,
                         fmt::format("{} v{} response from {}: {}", Api::name, version,
                                     peer_.to_string(), decoded.err().to_string()));
        }
        return decoded;
    }

private:
    connection(int fd, endpoint peer);
    result<void> negotiate();
    // Sends a whole frame and returns the response body after its header.
    result<bytes> exchange(const bytes& frame, std::int16_t response_header_version);
    result<void> write_all(const std::uint8_t* data, std::size_t n);
    result<void> read_all(std::uint8_t* data, std::size_t n);

    int fd_ = -1;
    endpoint peer_;
    std::int32_t correlation_ = 0;
    // api key -> (min, max) the broker supports.
    std::map<std::int16_t, std::pair<std::int16_t, std::int16_t>> versions_;
};

}  // namespace gregor::admin
