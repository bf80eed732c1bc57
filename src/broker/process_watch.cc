#include "broker/process_watch.h"

#include "broker/logger.h"

#include <array>

namespace gregor::broker {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct process_watch::target {
    target(asio::io_context& ioc, model::node_id i, std::string h, std::uint16_t p)
        : id(i), host(std::move(h)), port(p), socket(ioc), timer(ioc) {}
    model::node_id id;
    std::string host;
    std::uint16_t port;
    tcp::socket socket;
    asio::steady_timer timer;  // the connect deadline, and the rest between attempts
    bool stopped = false;
    std::uint64_t attempts = 0;  // connect attempts so far
    bool connected = false;      // the current attempt's connect succeeded
    bool timed_out = false;      // the current attempt's deadline passed
};

namespace {

enum class attempt { connected, refused, no_answer };

// Connects `t->socket` to host:port within `timeout`.
template <class Target>
asio::awaitable<attempt> connect(std::shared_ptr<Target> t, std::chrono::milliseconds timeout) {
    boost::system::error_code ec;
    tcp::resolver resolver(t->socket.get_executor());
    auto endpoints = co_await resolver.async_resolve(t->host, std::to_string(t->port),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec || t->stopped) {
        co_return attempt::no_answer;
    }
    if (t->socket.is_open()) {
        boost::system::error_code ignored;
        t->socket.close(ignored);
    }
    // The deadline closes the socket of this attempt only (a late expiry must not touch the
    // next attempt's connection).
    const std::uint64_t gen = ++t->attempts;
    t->timer.expires_after(timeout);
    t->timer.async_wait([t, gen](boost::system::error_code e) {
        if (!e && t->attempts == gen && !t->connected) {
            t->timed_out = true;
            boost::system::error_code ignored;
            t->socket.close(ignored);
        }
    });
    t->connected = false;
    t->timed_out = false;
    co_await asio::async_connect(t->socket, endpoints,
                                 asio::redirect_error(asio::use_awaitable, ec));
    t->timer.cancel();
    if (!ec && !t->timed_out) {
        t->connected = true;
        co_return attempt::connected;
    }
    co_return ec == asio::error::connection_refused && !t->timed_out ? attempt::refused
                                                                     : attempt::no_answer;
}

asio::awaitable<void> rest(asio::steady_timer& timer, std::chrono::milliseconds d) {
    timer.expires_after(d);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

process_watch::~process_watch() {
    for (auto& [id, t] : targets_) {
        t->stopped = true;
        t->timer.cancel();
        boost::system::error_code ignored;
        t->socket.close(ignored);
    }
}

void process_watch::watch(model::node_id id, const std::string& host, std::uint16_t port) {
    unwatch(id);
    auto t = std::make_shared<target>(ioc_, id, host, port);
    targets_[id] = t;
    asio::co_spawn(ioc_, run(this, t), asio::detached);
}

void process_watch::unwatch(model::node_id id) {
    auto it = targets_.find(id);
    if (it == targets_.end()) {
        return;
    }
    it->second->stopped = true;
    it->second->timer.cancel();
    boost::system::error_code ignored;
    it->second->socket.close(ignored);
    targets_.erase(it);
}

// Until stopped: be connected; wait for the connection to end; then one connect decides.
// `self` is used only while the target is not stopped (unwatch and the destructor stop it
// before the watch goes away).
asio::awaitable<void> process_watch::run(process_watch* self, std::shared_ptr<target> t) {
    bool reached = false;  // the listener accepted us at least once
    while (!t->stopped) {
        attempt a = co_await connect(t, connect_timeout);
        if (t->stopped) {
            co_return;
        }
        if (a == attempt::refused && reached) {
            GREGOR_LOG(broker_log, warn,
                       "broker {}'s listener {}:{} refuses connections after our connection to "
                       "it closed: its process is gone",
                       t->id(), t->host, t->port);
            self->gone_(t->id);
            // Normally the controller acts and removes the watch at once. If it could not
            // (ZooKeeper unreachable, say), the next refusal reports again.
            co_await rest(t->timer, retry_after);
            continue;
        }
        if (a != attempt::connected) {
            co_await rest(t->timer, retry_after);
            continue;
        }
        reached = true;
        std::array<char, 64> sink{};  // a broker writes nothing unasked; anything is dropped
        boost::system::error_code ec;
        while (!ec && !t->stopped) {
            co_await t->socket.async_read_some(asio::buffer(sink),
                                               asio::redirect_error(asio::use_awaitable, ec));
        }
    }
}

}  // namespace gregor::broker
