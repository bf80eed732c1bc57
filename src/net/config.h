// Runtime configuration of net::server and net::client, with Kafka's key names where one
// exists. Defaults follow Kafka; validate() checks every value against base/limits.h before
// a server or client is built. Plain values; any thread.
#pragma once

#include "base/limits.h"
#include "base/result.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gregor::net {

using namespace std::chrono_literals;

// One listening endpoint (an entry of Kafka's `listeners`, e.g. PLAINTEXT://127.0.0.1:9092).
struct listener_config {
    std::string name = "PLAINTEXT";
    std::string host = "127.0.0.1";  // an IP address; "0.0.0.0" for every interface
    std::uint16_t port = 0;          // 0: the OS picks a free port (see server::port)
};

struct server_config {
    std::vector<listener_config> listeners;  // listeners
    // socket.request.max.bytes: the largest request frame accepted.
    std::int32_t request_bytes_max = limits::request_bytes_max;
    // max.connections: connections beyond this are accepted and closed at once.
    std::size_t connections_max = 10'000;
    // Requests read from one connection but not yet answered; at the bound the server stops
    // reading that connection. (Kafka processes one at a time; clients pipeline up to
    // max.in.flight.requests.per.connection = 5.)
    std::size_t in_flight_requests_max = 32;
    // queued.max.request.bytes: request bytes held by the whole server; at the bound every
    // connection waits before reading the next frame body. Must be >= request_bytes_max.
    std::size_t request_memory_bytes = 512 * 1024 * 1024;
    // connections.max.idle.ms: a connection with no request in progress and no traffic for
    // this long is closed.
    std::chrono::milliseconds idle_timeout = 600'000ms;
    // socket.send.buffer.bytes / socket.receive.buffer.bytes; -1: the OS default.
    int socket_send_buffer_bytes = -1;
    int socket_receive_buffer_bytes = -1;
};

struct client_config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::string client_id = "gregor";  // for log lines only; the request bytes carry theirs
    // socket.connection.setup.timeout.ms
    std::chrono::milliseconds connect_timeout = 10'000ms;
    // request.timeout.ms (controller.socket.timeout.ms for controller -> broker: 30000)
    std::chrono::milliseconds request_timeout = 30'000ms;
    // max.in.flight.requests.per.connection (the controller uses 1)
    std::size_t in_flight_requests_max = 1;
    // Requests queued beyond those in flight; one more is refused with errc::queue_full.
    std::size_t queued_requests_max = 1024;
    // reconnect.backoff.ms / reconnect.backoff.max.ms: exponential, doubling per failure.
    std::chrono::milliseconds reconnect_backoff = 50ms;
    std::chrono::milliseconds reconnect_backoff_max = 1'000ms;
    // The largest response frame accepted (replica.fetch.response.max.bytes and friends).
    std::int32_t response_bytes_max = limits::request_bytes_max;
};

// Returns ok iff every value is in range (errc::invalid_config naming the key otherwise).
result<void> validate(const server_config& c);
result<void> validate(const client_config& c);

}  // namespace gregor::net
