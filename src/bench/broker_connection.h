// broker_connection: one blocking request/response connection to a broker on gregor's own
// protocol codecs, for what librdkafka does not expose (the controller id, the group
// coordinator, an OffsetFetch timed on its own). Used from one thread; it connects on the
// first call and after any error (which closes it). Every call is bounded by its timeout.
#pragma once

#include "base/result.h"
#include "protocol/headers.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace gregor::bench {

class broker_connection {
public:
    broker_connection(std::string host, int port);
    ~broker_connection();
    broker_connection(const broker_connection&) = delete;
    broker_connection& operator=(const broker_connection&) = delete;

    // Sends `req` as version `version` of Api and decodes the answer; errc::unreachable if
    // the broker cannot be reached, does not answer in time or answers out of order.
    template <class Api>
    result<typename Api::response_type> call(const typename Api::request_type& req,
                                             std::int16_t version,
                                             std::chrono::milliseconds timeout);

    std::string address() const { return fmt::format("{}:{}", host_, port_); }

private:
    result<void> connect(std::chrono::milliseconds timeout);
    result<std::vector<std::uint8_t>> exchange(const std::vector<std::uint8_t>& frame,
                                               std::chrono::milliseconds timeout,
                                               std::string_view api);
    error fail(std::string what);
    void close();

    std::string host_;
    int port_;
    int fd_ = -1;
    std::int32_t correlation_ = 0;
};

template <class Api>
result<typename Api::response_type> broker_connection::call(const typename Api::request_type& req,
                                                            std::int16_t version,
                                                            std::chrono::milliseconds timeout) {
    if (fd_ < 0) {
        GREGOR_TRY_VOID(connect(timeout));
    }
    protocol::writer w;
    protocol::encode_request_header(
        w, protocol::request_header{Api::key, version, ++correlation_, std::string("gregor-bench"), {}});
    req.encode(w, version);
    GREGOR_TRY(auto body, exchange(std::move(w).finish().flatten(), timeout, Api::name));
    protocol::reader r(body);
    auto header =
        protocol::decode_response_header(r, protocol::response_header_version(Api::key, version));
    if (!header || header->correlation_id != correlation_) {
        return fail(fmt::format("{} answer out of order from {}", Api::name, address()));
    }
    auto m = Api::response_type::decode(r, version);
    if (!m) {
        return fail(fmt::format("undecodable {} answer from {}", Api::name, address()));
    }
    return std::move(*m);
}

}  // namespace gregor::bench
