// net::server: the Kafka-framed TCP server of a broker.
//
// Listens on one or more endpoints, accepts up to max.connections connections and hands
// every complete request frame to the owner's handler coroutine; replies leave each
// connection in request order (see connection.h for the per-connection machinery). Frames
// are validated before allocation and bounded three ways: socket.request.max.bytes per
// frame, in_flight_requests_max per connection, queued.max.request.bytes across the server.
// The server knows framing only, never API contents.
//
// Lifecycle: construct (validated config) -> start() binds and accepts -> shutdown()
// (graceful: stop accepting, finish in-flight replies within a deadline) or stop()
// (immediate) -> destroy. The destructor stops. All state lives on the loop of the
// io_context given at construction; create it and call every method on the loop thread.
#pragma once

#include "base/result.h"
#include "net/asio.h"
#include "net/config.h"
#include "net/request.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace gregor::net {

// Opens `a` on `ep` with SO_REUSEADDR, binds and listens (the system's backlog). Used by
// every listener gregor opens (the Kafka listeners here, the operator HTTP listener).
error_code bind_and_listen(tcp::acceptor& a, const tcp::endpoint& ep);

class server {
public:
    // REQUIRES: validate(config) succeeded; `on_request` is callable.
    server(asio::io_context& ioc, server_config config, handler on_request);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds and listens on every listener, then accepts in the background. Returns an error
    // iff a listener cannot be bound (nothing is left listening then). REQUIRES: called once.
    result<void> start();

    // The bound port of the named listener (useful with port 0). REQUIRES: started, and the
    // listener exists.
    std::uint16_t port(std::string_view listener) const;
    // The bound port of the first listener.
    std::uint16_t port() const;

    // Graceful: stops accepting, stops reading new requests, sends every reply of the
    // requests already read, then closes; connections still open at `deadline` are closed.
    // Completes when no connection is left.
    asio::awaitable<void> shutdown(std::chrono::milliseconds deadline);
    // Immediate: closes listeners and every connection (pending handlers are cancelled).
    void stop();

    std::size_t connection_count() const;
    // Bytes of request frames currently held (leased from queued.max.request.bytes).
    std::size_t request_memory_in_use() const;
    // Connections refused because max.connections was reached.
    std::uint64_t connections_refused() const;

private:
    class impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace gregor::net
