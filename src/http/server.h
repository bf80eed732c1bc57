// http::server: the broker's small HTTP/1.1 listener (gregor.http.listener) for operators:
// Prometheus scrapes (/metrics) today, the dashboard and the JSON API as they come.
//
// Boost.Beast on the broker's own loop: a handler runs on the loop, so it may read loop-owned
// state (the replica manager, the controller's context) without locks; an async route may
// hand the rest of its work to another thread and answer when that is done. Read-only by design:
// GET and HEAD only (405 otherwise), no request bodies (413), request heads up to
// head_bytes_max (431), at most connections_max connections at once (the next ones are
// closed at accept), an idle connection closes after idle_timeout. Nothing a client sends can
// make the server allocate beyond those bounds. The server knows nothing of the routes' content.
//
// Lifecycle: construct -> start() binds -> stop() closes the listener and every connection.
// Every method on the loop thread.
#pragma once

#include "base/result.h"
#include "net/asio.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace gregor::http {

struct request {
    std::string method;  // "GET" or "HEAD"
    std::string path;    // the target up to '?', percent-decoding left to the route
    std::map<std::string, std::string> query;  // decoded ?a=b&c=d (the last of a repeated key)
};

struct response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

// Answers one request to its path (a path without a route gets 404).
using route = std::function<response(const request&)>;
// The same, for an answer that waits (for work done off the loop); the connection waits
// with it, the loop does not.
using async_route = std::function<net::asio::awaitable<response>(request)>;

struct server_config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  // 0: any free port (see port())
    std::size_t connections_max = 64;
    std::size_t head_bytes_max = 8 * 1024;
    std::chrono::milliseconds idle_timeout{30'000};
};

// "host:port" (a bracketed IPv6 host allowed) -> host and port; a clear error otherwise.
result<server_config> parse_listener(std::string_view text);

// Splits a request target into path and decoded query parameters.
request parse_target(std::string_view method, std::string_view target);

class server {
public:
    server(net::asio::io_context& ioc, server_config config);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Serves `path` (exact match) with `r`. REQUIRES: before start().
    void add_route(std::string path, route r);
    void add_route(std::string path, async_route r);
    // Binds and listens, then accepts in the background.
    result<void> start();
    // The bound port. REQUIRES: started.
    std::uint16_t port() const;
    // Closes the listener and every connection.
    void stop();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace gregor::http
