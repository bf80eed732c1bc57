#include "net/config.h"

#include "net/errc.h"
#include "net/frame.h"

#include <fmt/format.h>

namespace gregor::net {
namespace {

error invalid(std::string_view key, std::string_view why) {
    return error(errc::invalid_config, fmt::format("{}: {}", key, why));
}

}  // namespace

result<void> validate(const server_config& c) {
    if (c.listeners.empty()) {
        return invalid("listeners", "at least one listener is required");
    }
    if (c.request_bytes_max < request_header_bytes_min ||
        c.request_bytes_max > limits::request_bytes_max) {
        return invalid("socket.request.max.bytes", "out of range");
    }
    if (c.connections_max == 0 || c.connections_max > limits::connections_max) {
        return invalid("max.connections", "out of range");
    }
    if (c.in_flight_requests_max == 0 ||
        c.in_flight_requests_max > limits::in_flight_requests_per_connection_max) {
        return invalid("in_flight_requests_max", "out of range");
    }
    if (c.request_memory_bytes < static_cast<std::size_t>(c.request_bytes_max) ||
        c.request_memory_bytes > limits::server_request_memory_bytes_max) {
        return invalid("queued.max.request.bytes", "must lie in [request max, hard cap]");
    }
    if (c.idle_timeout <= std::chrono::milliseconds::zero()) {
        return invalid("connections.max.idle.ms", "must be positive");
    }
    return ok();
}

result<void> validate(const client_config& c) {
    if (c.host.empty() || c.port == 0) {
        return invalid("host:port", "a host and a non-zero port are required");
    }
    if (c.connect_timeout <= std::chrono::milliseconds::zero() ||
        c.request_timeout <= std::chrono::milliseconds::zero()) {
        return invalid("timeouts", "must be positive");
    }
    if (c.in_flight_requests_max == 0 ||
        c.in_flight_requests_max > limits::in_flight_requests_per_connection_max) {
        return invalid("max.in.flight.requests.per.connection", "out of range");
    }
    if (c.queued_requests_max > limits::client_queued_requests_max) {
        return invalid("queued_requests_max", "above the hard cap");
    }
    if (c.reconnect_backoff <= std::chrono::milliseconds::zero() ||
        c.reconnect_backoff_max < c.reconnect_backoff) {
        return invalid("reconnect.backoff.ms", "need 0 < backoff <= backoff max");
    }
    if (c.response_bytes_max < response_header_bytes_min ||
        c.response_bytes_max > limits::client_response_bytes_max) {
        return invalid("response_bytes_max", "out of range");
    }
    return ok();
}

}  // namespace gregor::net
