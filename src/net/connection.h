// connection: one accepted TCP connection of a net::server, internal to the server.
//
// Three coroutines share it: the reader parses frames (size prefix validated before any
// allocation, body read once the server's memory budget grants its bytes) and starts one
// handler coroutine per request; the writer sends replies strictly in request order as they
// complete; the idle watchdog closes the connection after connections.max.idle.ms without
// traffic or requests in progress. At most in_flight_requests_max requests are read and not
// yet answered; at the bound the reader stops reading (back-pressure through TCP).
//
// Lifecycle: start() -> running -> close() (immediate: handlers see their cancellation, unsent
// replies are dropped) or drain() (stop reading, send every reply, then close). Each coroutine
// holds a shared_ptr, so the object lives until the last one ends. Loop thread only.
#pragma once

#include "net/asio.h"
#include "net/config.h"
#include "net/event.h"
#include "net/frame.h"
#include "net/loop_affinity.h"
#include "net/memory_budget.h"
#include "net/request.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace gregor::net::detail {

// What every connection of one server shares with it.
struct server_context {
    server_context(const asio::any_io_executor& ex, server_config c, handler h)
        : config(std::move(c)), on_request(std::move(h)), budget(ex, config.request_memory_bytes) {}

    server_config config;
    handler on_request;
    memory_budget budget;
    std::function<void(connection_id)> on_closed;  // the server forgets the connection
};

class connection : public std::enable_shared_from_this<connection> {
public:
    connection(tcp::socket socket, std::shared_ptr<const connection_info> info,
               std::shared_ptr<server_context> ctx);

    // Starts the reader, writer and idle watchdog. REQUIRES: called once.
    void start();
    // Closes at once. Idempotent. `reason` goes to the log.
    void close(std::string_view reason);
    // Stops reading; closes after the last reply of the requests already read is sent.
    void drain();

    const connection_info& info() const { return *info_; }
    bool closed() const { return closed_; }

private:
    struct slot {
        std::uint64_t seq;
        std::optional<reply> done;  // set when the handler completes
        std::shared_ptr<cancellation> cancel;
    };

    // Replies ready at the front of slots_, moved out in order, ending before a close reply.
    struct reply_batch {
        std::vector<reply> replies;
        std::vector<const response*> responses;  // the bodies of the `send` replies
        bool close_after = false;
    };

    static asio::awaitable<void> read_loop(std::shared_ptr<connection> self);
    static asio::awaitable<void> write_loop(std::shared_ptr<connection> self);
    static asio::awaitable<void> idle_loop(std::shared_ptr<connection> self);
    static asio::awaitable<void> run_handler(std::shared_ptr<connection> self, std::uint64_t seq,
                                             request req);

    // One step of the reader: waits for room, reads one frame and dispatches it. Returns
    // false iff the reader must stop.
    asio::awaitable<bool> read_one();
    asio::awaitable<result<std::int32_t>> read_frame_size();
    asio::awaitable<result<bytes>> read_frame_body(std::int32_t size);
    // Waits until the budget grants `size` bytes; nullopt iff the connection stopped reading.
    asio::awaitable<std::optional<memory_budget::lease>> acquire_budget(std::int32_t size);
    void dispatch(bytes message, memory_budget::lease lease);
    void complete(std::uint64_t seq, reply r);
    reply_batch take_ready_replies();
    void on_read_error(const error& e);
    void touch() { last_activity_ = std::chrono::steady_clock::now(); }
    bool reading() const { return !closed_ && !draining_; }

    loop_affinity loop_;
    tcp::socket socket_;
    std::shared_ptr<const connection_info> info_;
    std::shared_ptr<server_context> ctx_;
    read_buffer input_;
    std::deque<slot> slots_;  // requests read and not yet answered, in arrival order
    std::uint64_t next_seq_ = 0;
    event reader_wake_;
    event writer_wake_;
    asio::steady_timer idle_timer_;
    std::chrono::steady_clock::time_point last_activity_;
    bool started_ = false;
    bool closed_ = false;
    bool draining_ = false;
    bool reader_done_ = false;
};

}  // namespace gregor::net::detail
