#include "net/server.h"

#include "net/connection.h"
#include "net/errc.h"
#include "net/event.h"
#include "net/logger.h"
#include "net/loop_affinity.h"
#include "net/send.h"

#include <fmt/format.h>

#include <unordered_map>
#include <vector>

namespace gregor::net {
namespace {

constexpr auto accept_log_interval = std::chrono::seconds(1);
// After EMFILE/ENFILE the listening socket stays readable; pause instead of spinning.
constexpr auto accept_error_pause = std::chrono::milliseconds(100);

struct listener {
    listener_config config;
    tcp::acceptor acceptor;
};

}  // namespace

class server::impl : public std::enable_shared_from_this<impl> {
public:
    impl(asio::io_context& ioc, server_config config, handler on_request)
        : ex_(ioc.get_executor()),
          ctx_(std::make_shared<detail::server_context>(ex_, std::move(config),
                                                        std::move(on_request))),
          connections_changed_(ex_) {}

    result<void> start();
    void stop();
    asio::awaitable<void> shutdown(std::chrono::milliseconds deadline);
    std::uint16_t port(std::string_view name) const;
    std::uint16_t first_port() const;
    std::size_t connection_count() const { return connections_.size(); }
    std::size_t memory_in_use() const {
        return ctx_->budget.capacity_bytes() - ctx_->budget.available_bytes();
    }
    std::uint64_t refused() const { return refused_; }

private:
    result<void> listen(const listener_config& lc);
    static asio::awaitable<void> accept_loop(std::shared_ptr<impl> self, std::size_t index);
    static asio::awaitable<void> force_close_after(std::shared_ptr<impl> self,
                                                   std::shared_ptr<asio::steady_timer> timer);
    void on_accept(tcp::socket socket, const listener_config& lc);
    void configure(tcp::socket& socket) const;
    void close_listeners();
    void close_all(std::string_view reason);
    std::vector<std::shared_ptr<detail::connection>> snapshot() const;

    loop_affinity loop_;
    asio::any_io_executor ex_;
    std::shared_ptr<detail::server_context> ctx_;
    std::vector<std::unique_ptr<listener>> listeners_;
    std::unordered_map<connection_id, std::shared_ptr<detail::connection>> connections_;
    event connections_changed_;
    std::uint64_t next_id_ = 1;
    std::uint64_t refused_ = 0;
    bool started_ = false;
    bool stopping_ = false;
};

result<void> server::impl::start() {
    loop_.assert_on_loop();
    GREGOR_ASSERT(!started_, "server started twice");
    started_ = true;
    ignore_sigpipe();
    std::weak_ptr<impl> weak = weak_from_this();
    ctx_->on_closed = [weak](connection_id id) {
        if (auto self = weak.lock()) {
            self->connections_.erase(id);
            self->connections_changed_.notify_all();
        }
    };
    for (const auto& lc : ctx_->config.listeners) {
        if (auto r = listen(lc); !r) {
            close_listeners();
            return r;
        }
    }
    for (std::size_t i = 0; i < listeners_.size(); ++i) {
        asio::co_spawn(ex_, accept_loop(shared_from_this(), i), asio::detached);
    }
    return ok();
}

error_code bind_and_listen(tcp::acceptor& a, const tcp::endpoint& ep) {
    error_code ec;
    if (a.open(ep.protocol(), ec); !ec) {
        a.set_option(tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec) {
        a.bind(ep, ec);
    }
    if (!ec) {
        a.listen(asio::socket_base::max_listen_connections, ec);
    }
    return ec;
}

result<void> server::impl::listen(const listener_config& lc) {
    error_code ec;
    auto address = asio::ip::make_address(lc.host, ec);
    if (ec) {
        return error(errc::invalid_config, fmt::format("listener {}: bad address '{}': {}", lc.name,
                                                       lc.host, ec.message()));
    }
    auto l = std::make_unique<listener>(listener{lc, tcp::acceptor(ex_)});
    auto& a = l->acceptor;
    if (ec = bind_and_listen(a, tcp::endpoint(address, lc.port)); ec) {
        return error(errc::socket_error, fmt::format("listener {} on {}:{}: {}", lc.name, lc.host,
                                                     lc.port, ec.message()));
    }
    GREGOR_LOG(net_log, info, "listening: {} on {}:{}", lc.name, lc.host,
               a.local_endpoint(ec).port());
    listeners_.push_back(std::move(l));
    return ok();
}

asio::awaitable<void> server::impl::accept_loop(std::shared_ptr<impl> self, std::size_t index) {
    auto& l = *self->listeners_[index];
    while (!self->stopping_) {
        error_code ec;
        tcp::socket socket(self->ex_);
        co_await l.acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
        if (self->stopping_ || ec == asio::error::operation_aborted) {
            break;
        }
        if (ec) {
            GREGOR_LOG_RATE_LIMITED(net_log, warn, accept_log_interval, "accept on {} failed: {}",
                                    l.config.name, ec.message());
            asio::steady_timer pause(self->ex_, accept_error_pause);
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        self->on_accept(std::move(socket), l.config);
    }
}

void server::impl::on_accept(tcp::socket socket, const listener_config& lc) {
    error_code ec;
    auto peer = socket.remote_endpoint(ec);
    if (ec) {
        return;  // already reset by the peer
    }
    if (connections_.size() >= ctx_->config.connections_max) {
        ++refused_;
        GREGOR_LOG_RATE_LIMITED(net_log, warn, accept_log_interval,
                                "refusing connection from {} on {}: {} connections open "
                                "(max.connections); {} refused so far",
                                peer.address().to_string(), lc.name, connections_.size(), refused_);
        socket.close(ec);
        return;
    }
    configure(socket);
    auto info = std::make_shared<connection_info>(
        connection_info{connection_id(next_id_++), lc.name, peer, socket.local_endpoint(ec)});
    GREGOR_LOG(net_log, debug, "accepted connection {} from {} on {}", info->id,
               peer.address().to_string(), lc.name);
    auto conn = std::make_shared<detail::connection>(std::move(socket), info, ctx_);
    connections_.emplace(info->id, conn);
    conn->start();
}

void server::impl::configure(tcp::socket& socket) const {
    error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    socket.native_non_blocking(true, ec);  // send_response issues sendmsg/sendfile itself
    if (ctx_->config.socket_send_buffer_bytes > 0) {
        socket.set_option(
            asio::socket_base::send_buffer_size(ctx_->config.socket_send_buffer_bytes), ec);
    }
    if (ctx_->config.socket_receive_buffer_bytes > 0) {
        socket.set_option(
            asio::socket_base::receive_buffer_size(ctx_->config.socket_receive_buffer_bytes), ec);
    }
}

void server::impl::close_listeners() {
    for (auto& l : listeners_) {
        error_code ec;
        l->acceptor.close(ec);
    }
}

std::vector<std::shared_ptr<detail::connection>> server::impl::snapshot() const {
    std::vector<std::shared_ptr<detail::connection>> out;
    out.reserve(connections_.size());
    for (const auto& [id, c] : connections_) {
        out.push_back(c);
    }
    return out;
}

void server::impl::close_all(std::string_view reason) {
    for (auto& c : snapshot()) {  // close() erases from connections_
        c->close(reason);
    }
}

void server::impl::stop() {
    loop_.assert_on_loop();
    stopping_ = true;
    close_listeners();
    close_all("server stopped");
    ctx_->budget.wake_all();
}

asio::awaitable<void> server::impl::shutdown(std::chrono::milliseconds deadline) {
    loop_.assert_on_loop();
    auto self = shared_from_this();
    stopping_ = true;
    close_listeners();
    GREGOR_LOG(net_log, info, "shutting down: draining {} connections (deadline {} ms)",
               connections_.size(), deadline.count());
    for (auto& c : snapshot()) {
        c->drain();
    }
    auto timer = std::make_shared<asio::steady_timer>(ex_, deadline);
    asio::co_spawn(ex_, force_close_after(self, timer), asio::detached);
    while (!connections_.empty()) {
        co_await connections_changed_.wait();
    }
    timer->cancel();
}

asio::awaitable<void> server::impl::force_close_after(std::shared_ptr<impl> self,
                                                      std::shared_ptr<asio::steady_timer> timer) {
    error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && !self->connections_.empty()) {
        GREGOR_LOG(net_log, warn, "shutdown deadline passed: closing {} connections",
                   self->connections_.size());
        self->close_all("shutdown deadline");
    }
}

std::uint16_t server::impl::port(std::string_view name) const {
    for (const auto& l : listeners_) {
        if (l->config.name == name) {
            error_code ec;
            return l->acceptor.local_endpoint(ec).port();
        }
    }
    GREGOR_UNREACHABLE("no listener named {}", name);
}

std::uint16_t server::impl::first_port() const {
    GREGOR_ASSERT(!listeners_.empty(), "server not started");
    error_code ec;
    return listeners_.front()->acceptor.local_endpoint(ec).port();
}

server::server(asio::io_context& ioc, server_config config, handler on_request) {
    auto valid = validate(config);
    GREGOR_ASSERT(valid.has_value(), "invalid server config: {}", valid.err().to_string());
    GREGOR_ASSERT(static_cast<bool>(on_request), "server without a request handler");
    impl_ = std::make_shared<impl>(ioc, std::move(config), std::move(on_request));
}

server::~server() {
    impl_->stop();
}

result<void> server::start() {
    return impl_->start();
}
std::uint16_t server::port(std::string_view listener) const {
    return impl_->port(listener);
}
std::uint16_t server::port() const {
    return impl_->first_port();
}
asio::awaitable<void> server::shutdown(std::chrono::milliseconds deadline) {
    return impl_->shutdown(deadline);
}
void server::stop() {
    impl_->stop();
}
std::size_t server::connection_count() const {
    return impl_->connection_count();
}
std::size_t server::request_memory_in_use() const {
    return impl_->memory_in_use();
}
std::uint64_t server::connections_refused() const {
    return impl_->refused();
}

}  // namespace gregor::net
