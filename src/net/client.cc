#include "net/client.h"

#include "net/errc.h"
#include "net/event.h"
#include "net/frame.h"
#include "net/logger.h"
#include "net/loop_affinity.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <optional>

namespace gregor::net {
namespace {

using clock = std::chrono::steady_clock;

struct queued_request {
    bytes message;
    client::completion done;
    clock::time_point deadline;
};

struct sent_request {
    client::completion done;
    clock::time_point deadline;
};

}  // namespace

class client::impl : public std::enable_shared_from_this<impl> {
public:
    impl(asio::io_context& ioc, client_config config)
        : ex_(ioc.get_executor()),
          config_(std::move(config)),
          socket_(ex_),
          resolver_(ex_),
          writer_wake_(ex_),
          deadline_timer_(ex_),
          connect_timer_(ex_),
          backoff_timer_(ex_),
          backoff_(config_.reconnect_backoff) {
        deadline_timer_.expires_at(clock::time_point::max());
    }

    void start_sweeper() { asio::co_spawn(ex_, sweep_loop(shared_from_this()), asio::detached); }
    void send(bytes message, completion done);
    void close();
    bool connected() const { return state_ == state::connected; }
    std::size_t in_flight() const { return in_flight_.size(); }
    std::size_t queued() const { return queue_.size(); }

private:
    enum class state { idle, connecting, connected, closed };

    static asio::awaitable<void> connect(std::shared_ptr<impl> self, std::uint64_t gen);
    static asio::awaitable<void> connect_watchdog(std::shared_ptr<impl> self, std::uint64_t gen);
    static asio::awaitable<void> write_loop(std::shared_ptr<impl> self, std::uint64_t gen);
    static asio::awaitable<void> read_loop(std::shared_ptr<impl> self, std::uint64_t gen);
    static asio::awaitable<void> sweep_loop(std::shared_ptr<impl> self);
    asio::awaitable<result<bytes>> read_response();
    asio::awaitable<result<void>> resolve_and_connect();

    void deliver(const std::optional<std::int32_t>& correlation_id, bytes message);
    void complete(completion done, result<bytes> r);
    void fail_all(errc code, const std::string& detail);
    void drop(errc code, const std::string& detail);
    void expire(clock::time_point now);
    std::optional<clock::time_point> earliest_deadline() const;
    std::int32_t next_correlation_id();

    loop_affinity loop_;
    asio::any_io_executor ex_;
    client_config config_;
    tcp::socket socket_;
    tcp::resolver resolver_;
    event writer_wake_;
    asio::steady_timer deadline_timer_;  // the earliest request deadline, or never
    asio::steady_timer connect_timer_;   // socket.connection.setup.timeout.ms
    asio::steady_timer backoff_timer_;   // the wait before a reconnect
    std::deque<queued_request> queue_;
    std::map<std::int32_t, sent_request> in_flight_;
    state state_ = state::idle;
    std::uint64_t gen_ = 0;  // bumped per connection: stale coroutines see a new value and end
    std::int32_t next_correlation_ = 0;
    clock::time_point next_connect_at_{};
    std::chrono::milliseconds backoff_;
    bool connect_timed_out_ = false;
};

void client::impl::send(bytes message, completion done) {
    loop_.assert_on_loop();
    GREGOR_ASSERT(message.size() >= static_cast<std::size_t>(request_header_bytes_min),
                  "request of {} bytes lacks the fixed header", message.size());
    GREGOR_ASSERT(
        message.size() <= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
        "request of {} bytes does not fit a frame", message.size());
    GREGOR_ASSERT(static_cast<bool>(done), "request without a completion");
    if (state_ == state::closed) {
        complete(std::move(done), error(errc::client_closed, "send after close"));
        return;
    }
    if (queue_.size() >= config_.queued_requests_max) {
        complete(std::move(done),
                 error(errc::queue_full, fmt::format("{} requests queued for {}:{}", queue_.size(),
                                                     config_.host, config_.port)));
        return;
    }
    queue_.push_back({std::move(message), std::move(done), clock::now() + config_.request_timeout});
    if (deadline_timer_.expiry() == clock::time_point::max()) {
        deadline_timer_.cancel();  // the sweeper re-arms at the new earliest deadline
    }
    if (state_ == state::idle) {
        state_ = state::connecting;
        asio::co_spawn(ex_, connect(shared_from_this(), ++gen_), asio::detached);
    }
    writer_wake_.notify_all();
}

void client::impl::complete(completion done, result<bytes> r) {
    // Posted, never inline: a completion may call send() or close() on this client.
    asio::post(ex_, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
}

void client::impl::fail_all(errc code, const std::string& detail) {
    for (auto& [id, s] : in_flight_) {
        complete(std::move(s.done), error(code, detail));
    }
    in_flight_.clear();
    for (auto& q : queue_) {
        complete(std::move(q.done), error(code, detail));
    }
    queue_.clear();
}

void client::impl::drop(errc code, const std::string& detail) {
    if (state_ == state::closed || state_ == state::idle) {
        return;
    }
    GREGOR_LOG_RATE_LIMITED(net_log, info, std::chrono::seconds(1),
                            "client {} -> {}:{}: {}; retrying after {} ms", config_.client_id,
                            config_.host, config_.port, detail, backoff_.count());
    ++gen_;
    error_code ec;
    socket_.close(ec);
    resolver_.cancel();
    state_ = state::idle;
    next_connect_at_ = clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, config_.reconnect_backoff_max);
    fail_all(code, detail);
    writer_wake_.notify_all();
}

void client::impl::close() {
    loop_.assert_on_loop();
    if (state_ == state::closed) {
        return;
    }
    state_ = state::closed;
    ++gen_;
    error_code ec;
    socket_.close(ec);
    resolver_.cancel();
    deadline_timer_.cancel();
    connect_timer_.cancel();
    backoff_timer_.cancel();
    writer_wake_.notify_all();
    fail_all(errc::client_closed, "client closed");
}

std::int32_t client::impl::next_correlation_id() {
    std::int32_t id = next_correlation_;
    next_correlation_ = id == std::numeric_limits<std::int32_t>::max() ? 0 : id + 1;
    return id;
}

asio::awaitable<void> client::impl::connect(std::shared_ptr<impl> self, std::uint64_t gen) {
    if (clock::now() < self->next_connect_at_) {
        self->backoff_timer_.expires_at(self->next_connect_at_);
        error_code ec;
        co_await self->backoff_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (gen != self->gen_) {
            co_return;
        }
    }
    self->connect_timed_out_ = false;
    self->connect_timer_.expires_after(self->config_.connect_timeout);
    asio::co_spawn(self->ex_, connect_watchdog(self, gen), asio::detached);
    auto connected = co_await self->resolve_and_connect();
    self->connect_timer_.cancel();
    if (gen != self->gen_) {
        co_return;  // closed meanwhile
    }
    if (!connected) {
        self->drop(errc::connect_failed, connected.err().detail);
        co_return;
    }
    self->state_ = state::connected;
    self->backoff_ = self->config_.reconnect_backoff;
    GREGOR_LOG(net_log, debug, "client {} connected to {}:{}", self->config_.client_id,
               self->config_.host, self->config_.port);
    asio::co_spawn(self->ex_, write_loop(self, gen), asio::detached);
    asio::co_spawn(self->ex_, read_loop(self, gen), asio::detached);
}

asio::awaitable<result<void>> client::impl::resolve_and_connect() {
    error_code ec;
    auto endpoints = co_await resolver_.async_resolve(
        config_.host, std::to_string(config_.port), asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
        socket_ = tcp::socket(ex_);
        co_await asio::async_connect(socket_, endpoints,
                                     asio::redirect_error(asio::use_awaitable, ec));
    }
    if (connect_timed_out_) {
        co_return error(errc::connect_failed, fmt::format("connect timed out after {} ms",
                                                          config_.connect_timeout.count()));
    }
    if (ec) {
        co_return error(errc::connect_failed, fmt::format("connect: {}", ec.message()));
    }
    socket_.set_option(tcp::no_delay(true), ec);
    co_return ok();
}

asio::awaitable<void> client::impl::connect_watchdog(std::shared_ptr<impl> self,
                                                     std::uint64_t gen) {
    error_code ec;
    co_await self->connect_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && gen == self->gen_ && self->state_ == state::connecting) {
        self->connect_timed_out_ = true;
        self->resolver_.cancel();
        self->socket_.close(ec);  // the pending connect completes with operation_aborted
    }
}

asio::awaitable<void> client::impl::write_loop(std::shared_ptr<impl> self, std::uint64_t gen) {
    while (gen == self->gen_) {
        if (self->queue_.empty() ||
            self->in_flight_.size() >= self->config_.in_flight_requests_max) {
            co_await self->writer_wake_.wait();
            continue;
        }
        queued_request q = std::move(self->queue_.front());
        self->queue_.pop_front();
        std::int32_t id = self->next_correlation_id();
        set_request_correlation_id(q.message, id);
        auto prefix = encode_frame_size(static_cast<std::int32_t>(q.message.size()));
        self->in_flight_.emplace(id, sent_request{std::move(q.done), q.deadline});
        std::array<asio::const_buffer, 2> frame{asio::buffer(prefix), asio::buffer(q.message)};
        error_code ec;
        co_await asio::async_write(self->socket_, frame,
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (gen != self->gen_) {
            break;
        }
        if (ec) {
            self->drop(errc::disconnected, fmt::format("write failed: {}", ec.message()));
            break;
        }
    }
}

asio::awaitable<void> client::impl::read_loop(std::shared_ptr<impl> self, std::uint64_t gen) {
    while (gen == self->gen_) {
        auto message = co_await self->read_response();
        if (gen != self->gen_) {
            break;
        }
        if (!message) {
            self->drop(
                message.err().code == errc::bad_response ? errc::bad_response : errc::disconnected,
                message.err().detail);
            break;
        }
        auto id = peek_correlation_id(*message);
        self->deliver(id ? std::optional(*id) : std::nullopt, std::move(*message));
    }
}

asio::awaitable<result<bytes>> client::impl::read_response() {
    std::array<std::uint8_t, frame_size_prefix_bytes> prefix{};
    error_code ec;
    co_await asio::async_read(socket_, asio::buffer(prefix),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        co_return error(errc::disconnected, fmt::format("read: {}", ec.message()));
    }
    auto size = decode_frame_size(prefix, response_header_bytes_min, config_.response_bytes_max);
    if (!size) {
        co_return error(errc::bad_response, size.err().to_string());
    }
    bytes message(static_cast<std::size_t>(*size));  // validated above
    co_await asio::async_read(socket_, asio::buffer(message),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        co_return error(errc::disconnected, fmt::format("read: {}", ec.message()));
    }
    co_return message;
}

void client::impl::deliver(const std::optional<std::int32_t>& correlation_id, bytes message) {
    auto it = correlation_id ? in_flight_.find(*correlation_id) : in_flight_.end();
    if (it == in_flight_.end()) {
        // Responses to timed-out requests never arrive: a timeout drops the connection.
        drop(errc::bad_response,
             fmt::format("response with unknown correlation id {}", correlation_id.value_or(-1)));
        return;
    }
    complete(std::move(it->second.done), std::move(message));
    in_flight_.erase(it);
    writer_wake_.notify_all();
}

std::optional<clock::time_point> client::impl::earliest_deadline() const {
    std::optional<clock::time_point> out;
    if (!queue_.empty()) {
        out = queue_.front().deadline;  // one timeout for all: the queue is in deadline order
    }
    for (const auto& [id, s] : in_flight_) {
        if (!out || s.deadline < *out) {
            out = s.deadline;
        }
    }
    return out;
}

void client::impl::expire(clock::time_point now) {
    bool in_flight_expired = std::any_of(in_flight_.begin(), in_flight_.end(),
                                         [now](const auto& e) { return e.second.deadline <= now; });
    while (!queue_.empty() && queue_.front().deadline <= now) {
        complete(std::move(queue_.front().done),
                 error(errc::request_timed_out,
                       fmt::format("no response within {} ms", config_.request_timeout.count())));
        queue_.pop_front();
    }
    if (!in_flight_expired) {
        return;
    }
    // A peer that does not answer in time is presumed stuck: fail the late request(s) with
    // the timeout and drop the connection, which fails the others as disconnected.
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
        if (it->second.deadline <= now) {
            complete(std::move(it->second.done),
                     error(errc::request_timed_out, fmt::format("no response within {} ms",
                                                                config_.request_timeout.count())));
            it = in_flight_.erase(it);
        } else {
            ++it;
        }
    }
    drop(errc::disconnected, "a request timed out; connection dropped");
}

asio::awaitable<void> client::impl::sweep_loop(std::shared_ptr<impl> self) {
    while (self->state_ != state::closed) {
        auto next = self->earliest_deadline();
        self->deadline_timer_.expires_at(next.value_or(clock::time_point::max()));
        error_code ec;
        co_await self->deadline_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (self->state_ == state::closed) {
            break;
        }
        self->expire(clock::now());
    }
}

client::client(asio::io_context& ioc, client_config config) {
    auto valid = validate(config);
    GREGOR_ASSERT(valid.has_value(), "invalid client config: {}", valid.err().to_string());
    impl_ = std::make_shared<impl>(ioc, std::move(config));
    impl_->start_sweeper();
}

client::~client() {
    impl_->close();
}

void client::send(bytes message, completion done) {
    impl_->send(std::move(message), std::move(done));
}

asio::awaitable<result<bytes>> client::request(bytes message) {
    struct waiter {
        explicit waiter(const asio::any_io_executor& ex) : done(ex) {}
        std::optional<result<bytes>> value;
        event done;
    };
    auto w = std::make_shared<waiter>(co_await asio::this_coro::executor);
    send(std::move(message), [w](result<bytes> r) {
        w->value.emplace(std::move(r));
        w->done.notify_all();
    });
    while (!w->value) {
        co_await w->done.wait();
    }
    co_return std::move(*w->value);
}

void client::close() {
    impl_->close();
}
bool client::connected() const {
    return impl_->connected();
}
std::size_t client::in_flight() const {
    return impl_->in_flight();
}
std::size_t client::queued() const {
    return impl_->queued();
}

}  // namespace gregor::net
