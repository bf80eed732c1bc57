#include "net/connection.h"

#include "net/errc.h"
#include "net/logger.h"
#include "net/send.h"

#include <algorithm>
#include <cstring>
#include <exception>

namespace gregor::net::detail {
namespace {

constexpr auto log_interval = std::chrono::seconds(1);
// Replies written with one gather write at most: many small pipelined replies share system
// calls, and a long run of ready replies cannot starve the loop.
constexpr std::size_t write_batch_replies_max = 64;

}  // namespace

connection::connection(tcp::socket socket, std::shared_ptr<const connection_info> info,
                       std::shared_ptr<server_context> ctx)
    : socket_(std::move(socket)),
      info_(std::move(info)),
      ctx_(std::move(ctx)),
      input_(limits::connection_read_buffer_bytes),
      reader_wake_(socket_.get_executor()),
      writer_wake_(socket_.get_executor()),
      idle_timer_(socket_.get_executor()),
      last_activity_(std::chrono::steady_clock::now()) {}

void connection::start() {
    loop_.assert_on_loop();
    GREGOR_ASSERT(!started_, "connection {} started twice", info_->id);
    started_ = true;
    auto ex = socket_.get_executor();
    asio::co_spawn(ex, read_loop(shared_from_this()), asio::detached);
    asio::co_spawn(ex, write_loop(shared_from_this()), asio::detached);
    asio::co_spawn(ex, idle_loop(shared_from_this()), asio::detached);
}

void connection::close(std::string_view reason) {
    loop_.assert_on_loop();
    if (closed_) {
        return;
    }
    auto self = shared_from_this();  // on_closed may drop the server's reference
    closed_ = true;
    GREGOR_LOG(net_log, debug, "connection {} from {} on {} closed: {}", info_->id,
               info_->peer.address().to_string(), info_->listener, reason);
    auto pending = std::move(slots_);
    slots_.clear();
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    idle_timer_.cancel();
    reader_wake_.notify_all();
    writer_wake_.notify_all();
    ctx_->budget.wake_all();
    for (auto& s : pending) {
        if (!s.done) {
            s.cancel->cancel();  // handlers still working see that nobody waits any more
        }
    }
    if (ctx_->on_closed) {
        ctx_->on_closed(info_->id);
    }
}

void connection::drain() {
    loop_.assert_on_loop();
    if (closed_ || draining_) {
        return;
    }
    draining_ = true;
    error_code ec;
    // Wakes a pending read with end-of-stream; replies still go out.
    socket_.shutdown(tcp::socket::shutdown_receive, ec);
    reader_wake_.notify_all();
    writer_wake_.notify_all();
    ctx_->budget.wake_all();
}

asio::awaitable<void> connection::read_loop(std::shared_ptr<connection> self) {
    // No co_await inside a loop condition: g++ 12 mishandles it (destroys the frame state).
    while (self->reading()) {
        bool more = co_await self->read_one();
        if (!more) {
            break;
        }
    }
    self->reader_done_ = true;
    self->writer_wake_.notify_all();
}

asio::awaitable<bool> connection::read_one() {
    if (slots_.size() >= ctx_->config.in_flight_requests_max) {
        co_await reader_wake_.wait();  // the writer wakes us when a reply has gone out
        co_return true;
    }
    auto size = co_await read_frame_size();
    if (!size) {
        on_read_error(size.err());
        co_return false;
    }
    auto lease = co_await acquire_budget(*size);
    if (!lease) {
        co_return false;
    }
    auto message = co_await read_frame_body(*size);
    if (!message) {
        on_read_error(message.err());
        co_return false;
    }
    dispatch(std::move(*message), std::move(*lease));
    co_return reading();
}

asio::awaitable<result<std::int32_t>> connection::read_frame_size() {
    while (input_.readable_bytes() < frame_size_prefix_bytes) {
        auto space = input_.writable();
        error_code ec;
        std::size_t n =
            co_await socket_.async_read_some(asio::buffer(space.data(), space.size()),
                                             asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::eof) {
            co_return input_.readable_bytes() == 0
                ? error(errc::connection_closed, "peer closed the connection")
                : error(errc::frame_truncated, "end of stream inside a size prefix");
        }
        if (ec) {
            co_return error(errc::socket_error, ec.message());
        }
        input_.commit(n);
        touch();
    }
    auto prefix = input_.readable().first<frame_size_prefix_bytes>();
    auto size = decode_frame_size(prefix, request_header_bytes_min, ctx_->config.request_bytes_max);
    input_.consume(frame_size_prefix_bytes);
    co_return size;
}

asio::awaitable<std::optional<memory_budget::lease>> connection::acquire_budget(std::int32_t size) {
    auto n = static_cast<std::size_t>(size);
    while (reading()) {
        if (auto lease = ctx_->budget.try_acquire(n)) {
            co_return std::move(*lease);
        }
        GREGOR_LOG_RATE_LIMITED(net_log, info, log_interval,
                                "request memory exhausted ({} of {} bytes free): connection {} "
                                "waits to read a {}-byte request",
                                ctx_->budget.available_bytes(), ctx_->budget.capacity_bytes(),
                                info_->id, n);
        co_await ctx_->budget.wait_for_release();
    }
    co_return std::nullopt;
}

asio::awaitable<result<bytes>> connection::read_frame_body(std::int32_t size) {
    // Safe to allocate: size is validated against request_bytes_max and leased.
    bytes message(static_cast<std::size_t>(size));
    std::size_t have = std::min(input_.readable_bytes(), message.size());
    std::memcpy(message.data(), input_.readable().data(), have);
    input_.consume(have);
    if (have < message.size()) {
        error_code ec;
        co_await asio::async_read(socket_,
                                  asio::buffer(message.data() + have, message.size() - have),
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::eof) {
            co_return error(errc::frame_truncated,
                            fmt::format("end of stream inside a {}-byte request", size));
        }
        if (ec) {
            co_return error(errc::socket_error, ec.message());
        }
        touch();
    }
    co_return message;
}

void connection::on_read_error(const error& e) {
    if (closed_) {
        return;
    }
    if (draining_) {
        return;  // the end of stream we caused; the writer closes once replies are out
    }
    if (e.code == errc::connection_closed) {
        close("peer closed the connection");
        return;
    }
    GREGOR_LOG_RATE_LIMITED(net_log, warn, log_interval, "closing connection {} from {} on {}: {}",
                            info_->id, info_->peer.address().to_string(), info_->listener,
                            e.to_string());
    close(e.to_string());
}

void connection::dispatch(bytes message, memory_budget::lease lease) {
    auto header = peek_request_header(message);
    // The size check guarantees the fixed header, so this cannot fail; still no assert on
    // network bytes.
    if (!header) {
        close(header.err().to_string());
        return;
    }
    auto cancel = std::make_shared<cancellation>();
    std::uint64_t seq = next_seq_++;
    slots_.push_back(slot{seq, std::nullopt, cancel});
    request req(info_, *header, std::move(message), std::move(lease), std::move(cancel));
    asio::co_spawn(socket_.get_executor(), run_handler(shared_from_this(), seq, std::move(req)),
                   asio::detached);
}

asio::awaitable<void> connection::run_handler(std::shared_ptr<connection> self, std::uint64_t seq,
                                              request req) {
    std::optional<reply> r;
    try {
        r.emplace(co_await self->ctx_->on_request(std::move(req)));
    } catch (const std::exception& e) {
        GREGOR_LOG(net_log, err, "request handler threw on connection {}: {}", self->info_->id,
                   e.what());
    } catch (...) {
        GREGOR_LOG(net_log, err, "request handler threw on connection {}", self->info_->id);
    }
    self->complete(seq, r ? std::move(*r) : reply::close());
}

void connection::complete(std::uint64_t seq, reply r) {
    if (closed_) {
        return;  // nobody to answer; the reply is dropped
    }
    GREGOR_ASSERT(!slots_.empty() && seq >= slots_.front().seq, "unknown request seq {}", seq);
    std::size_t index = seq - slots_.front().seq;
    GREGOR_ASSERT(index < slots_.size(), "request seq {} beyond the in-flight window", seq);
    auto& s = slots_[index];
    GREGOR_ASSERT(!s.done, "request seq {} completed twice", seq);
    s.done = std::move(r);
    if (index == 0) {
        writer_wake_.notify_all();
    }
}

asio::awaitable<void> connection::write_loop(std::shared_ptr<connection> self) {
    while (!self->closed_) {
        auto& slots = self->slots_;
        if (slots.empty() || !slots.front().done) {
            if (slots.empty() && self->reader_done_) {
                self->close(self->draining_ ? "drained" : "reader stopped");
                break;
            }
            co_await self->writer_wake_.wait();
            continue;
        }
        auto batch = self->take_ready_replies();
        if (!batch.responses.empty()) {
            auto sent = co_await send_responses(self->socket_, batch.responses);
            if (self->closed_) {
                break;
            }
            if (!sent) {
                self->on_read_error(sent.err());  // same policy: log rate-limited and close
                self->close(sent.err().to_string());
                break;
            }
            self->touch();
        }
        for (std::size_t i = 0; i < batch.replies.size(); ++i) {
            slots.pop_front();
        }
        self->reader_wake_.notify_all();
        if (batch.close_after) {
            self->close("the request handler asked to close");
            break;
        }
    }
}

connection::reply_batch connection::take_ready_replies() {
    reply_batch batch;
    batch.replies.reserve(std::min(slots_.size(), write_batch_replies_max));
    for (auto& s : slots_) {
        if (!s.done || batch.replies.size() == write_batch_replies_max) {
            break;
        }
        if (s.done->what() == reply::kind::close) {
            batch.close_after = true;  // its slot stays; close() drops it
            break;
        }
        batch.replies.push_back(std::move(*s.done));
    }
    for (const auto& r : batch.replies) {  // after the moves: the vector no longer grows
        if (r.what() == reply::kind::send) {
            batch.responses.push_back(&r.body());
        }
    }
    return batch;
}

asio::awaitable<void> connection::idle_loop(std::shared_ptr<connection> self) {
    const auto idle = self->ctx_->config.idle_timeout;
    while (!self->closed_) {
        self->idle_timer_.expires_at(self->last_activity_ + idle);
        error_code ec;
        co_await self->idle_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (self->closed_) {
            break;
        }
        auto now = std::chrono::steady_clock::now();
        if (!self->slots_.empty()) {
            self->last_activity_ = now;  // a request in progress is not idleness
        } else if (now - self->last_activity_ >= idle) {
            GREGOR_LOG(net_log, info, "closing connection {} from {} on {}: idle for {} ms",
                       self->info_->id, self->info_->peer.address().to_string(),
                       self->info_->listener, idle.count());
            self->close("idle timeout");
        }
    }
}

}  // namespace gregor::net::detail
