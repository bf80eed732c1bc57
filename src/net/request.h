// What the server hands to the owner's handler, and what the handler gives back.
//
// A request is one complete frame from one connection: the whole message (header and body,
// without the size prefix), its fixed header fields, the connection's identity, and a
// cancellation flag that flips when the connection dies before the response is written
// (the client went away: a long-poll fetch can stop waiting). The request also carries the
// frame's memory-budget lease, so the bytes stay accounted for as long as the handler keeps
// the request; destroy every request before the io_context (the lease wakes readers through
// a loop timer). A handler is a coroutine returning a reply: a response, no response (acks=0
// produce), or "close the connection" (after earlier responses have been sent). Handlers run
// on the loop and may complete in any order; the server writes replies in request order.
#pragma once

#include "base/bytes.h"
#include "base/named_type.h"
#include "net/asio.h"
#include "net/frame.h"
#include "net/memory_budget.h"
#include "net/response.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace gregor::net {

using connection_id = named_type<std::uint64_t, struct connection_id_tag>;

// Identity of one accepted connection, for handlers and log lines.
struct connection_info {
    connection_id id;
    std::string listener;  // the listener's name, e.g. "PLAINTEXT"
    tcp::endpoint peer;
    tcp::endpoint local;
};

// Set once, on the loop, when the request's connection closes before its reply is written.
class cancellation {
public:
    bool cancelled() const { return cancelled_; }
    // Runs `fn` on the loop when cancelled (at once if already cancelled). One callback; a
    // new one replaces the old. REQUIRES: loop thread.
    void on_cancel(std::function<void()> fn);
    // Server side: flips the flag and runs the callback. Idempotent.
    void cancel();

private:
    bool cancelled_ = false;
    std::function<void()> on_cancel_;
};

class request {
public:
    request(std::shared_ptr<const connection_info> conn, request_header header, bytes message,
            memory_budget::lease lease, std::shared_ptr<cancellation> cancel)
        : header_(header),
          message_(std::move(message)),
          conn_(std::move(conn)),
          lease_(std::move(lease)),
          cancel_(std::move(cancel)) {}

    const request_header& header() const { return header_; }
    // The whole request message, starting with api_key.
    bytes_view message() const { return message_; }
    // Moves the message out (e.g. to keep produce data); the budget lease stays with the
    // request, so keep the request alive as long as the bytes.
    bytes take_message() { return std::move(message_); }
    const connection_info& connection() const { return *conn_; }
    bool cancelled() const { return cancel_->cancelled(); }
    cancellation& cancel_state() { return *cancel_; }

private:
    request_header header_;
    bytes message_;
    std::shared_ptr<const connection_info> conn_;
    memory_budget::lease lease_;
    std::shared_ptr<cancellation> cancel_;
};

class reply {
public:
    enum class kind { send, none, close };

    static reply send(response r) { return reply(kind::send, std::move(r)); }
    static reply none() { return reply(kind::none, {}); }
    static reply close() { return reply(kind::close, {}); }

    kind what() const { return kind_; }
    const response& body() const { return response_; }

private:
    reply(kind k, response r) : kind_(k), response_(std::move(r)) {}

    kind kind_;
    response response_;
};

// The owner's request handler. Runs on the loop; must not throw (an exception is logged and
// closes the connection).
using handler = std::function<asio::awaitable<reply>(request)>;

}  // namespace gregor::net
