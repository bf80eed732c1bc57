// net::client: one broker-to-broker connection (controller -> broker, follower -> leader).
//
// Sends Kafka request messages to one host:port and matches responses by the correlation
// ids it assigns. At most in_flight_requests_max requests are on the wire (the controller
// uses 1); up to queued_requests_max more wait in a bounded queue, and one more is refused
// with errc::queue_full rather than growing. Every request completes exactly once, on the
// loop, through a posted completion: with the response message, or with request_timed_out
// (request.timeout.ms from send(), covering queueing and connecting), connect_failed,
// disconnected, or client_closed. The client connects lazily on the first request, and after
// an error waits an exponential backoff (reconnect.backoff.ms doubling up to
// reconnect.backoff.max.ms) before the next attempt. A connection drop fails every pending
// request: the callers (controller batches, fetchers) rebuild their requests from fresh state.
//
// Lifecycle: construct -> send()... -> close() or destroy. Completions posted by close() run
// after it returns, possibly after the client is gone. Create it and call it on the loop
// thread of the io_context given at construction.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "net/asio.h"
#include "net/config.h"

#include <cstddef>
#include <functional>
#include <memory>

namespace gregor::net {

class client {
public:
    using completion = std::function<void(result<bytes>)>;

    // REQUIRES: validate(config) succeeded.
    client(asio::io_context& ioc, client_config config);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Queues a request. `message` is a whole request message starting with api_key; the
    // client overwrites bytes 4..8 with the correlation id it assigns. `done` receives the
    // response message (starting with that correlation id) or an error.
    // REQUIRES: message.size() >= 8 and fits a frame; `done` is callable.
    void send(bytes message, completion done);
    // The coroutine form of send().
    asio::awaitable<result<bytes>> request(bytes message);
    // Fails every pending request with client_closed and closes the connection. Idempotent.
    void close();

    bool connected() const;
    std::size_t in_flight() const;
    std::size_t queued() const;

private:
    class impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace gregor::net
