// Coroutine forms of coord::client calls for the controller's event handlers.
//
// The controller handles one event at a time as a coroutine on its loop; these adapters let
// a handler write `co_await zk::get(c, path)` instead of nesting callbacks. get_many()
// pipelines many reads (failover reads every partition state znode) with at most
// `window` outstanding, as Kafka's ZooKeeperClient does with max.in.flight.requests.
// Completions of coord::client always arrive posted on the loop, never inline, and every
// call completes exactly once (errc::closed when the client closes), so a waiting handler
// is always resumed. Loop thread only.
#pragma once

#include "coord/client.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gregor::controller {

namespace asio = boost::asio;

// A wake-up signal: a timer that never expires, cancelled to notify. Waiters re-check their
// condition after waking.
class wakeup {
public:
    explicit wakeup(const asio::any_io_executor& ex) : timer_(ex) {
        timer_.expires_at(asio::steady_timer::time_point::max());
    }
    asio::awaitable<void> wait() {
        boost::system::error_code ec;
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    void notify() { timer_.cancel(); }

private:
    asio::steady_timer timer_;
};

namespace zk {

namespace detail {
template <class T>
struct slot {
    explicit slot(const asio::any_io_executor& ex) : done(ex) {}
    std::optional<T> value;
    wakeup done;
};

// Starts an operation with `start(callback)` and waits for its one completion.
template <class T, class Start>
asio::awaitable<T> await_one(Start start) {
    auto s = std::make_shared<slot<T>>(co_await asio::this_coro::executor);
    start([s](T r) {
        s->value.emplace(std::move(r));
        s->done.notify();
    });
    while (!s->value) {
        co_await s->done.wait();
    }
    co_return std::move(*s->value);
}
}  // namespace detail

// The arguments are references (the callers pass named objects): g++ 12 destroys temporaries
// of a full-expression that contains co_await twice, so the controller never builds one there.
inline asio::awaitable<result<coord::node_data>> get(coord::client& c, const std::string& path,
                                                     const coord::watch_fn& watch) {
    return detail::await_one<result<coord::node_data>>(
        [&c, path, watch](auto done) { c.get(path, watch, std::move(done)); });
}

inline asio::awaitable<result<std::optional<coord::znode_stat>>> exists(
    coord::client& c, const std::string& path, const coord::watch_fn& watch) {
    return detail::await_one<result<std::optional<coord::znode_stat>>>(
        [&c, path, watch](auto done) { c.exists(path, watch, std::move(done)); });
}

inline asio::awaitable<result<coord::children>> get_children(coord::client& c,
                                                             const std::string& path,
                                                             const coord::watch_fn& watch) {
    return detail::await_one<result<coord::children>>(
        [&c, path, watch](auto done) { c.get_children(path, watch, std::move(done)); });
}

inline asio::awaitable<result<std::string>> create(coord::client& c, const std::string& path,
                                                   const std::string& data,
                                                   coord::create_mode mode) {
    return detail::await_one<result<std::string>>(
        [&c, path, data, mode](auto done) { c.create(path, data, mode, std::move(done)); });
}

inline asio::awaitable<result<void>> remove(coord::client& c, const std::string& path,
                                            const model::zk_version& version) {
    return detail::await_one<result<void>>(
        [&c, path, version](auto done) { c.remove(path, version, std::move(done)); });
}

inline asio::awaitable<coord::multi_response> multi(coord::client& c,
                                                    const std::vector<coord::op>& ops) {
    return detail::await_one<coord::multi_response>(
        [&c, ops](auto done) { c.multi(ops, std::move(done)); });
}

// coord::client::read_many. `paths` is only read before the first suspension.
inline asio::awaitable<result<std::vector<result<coord::node_data>>>> read_many(
    coord::client& c, const std::vector<std::string>& paths) {
    return detail::await_one<result<std::vector<result<coord::node_data>>>>(
        [&c, &paths](auto done) { c.read_many(paths, std::move(done)); });
}

// Reads every path; results in the order of `paths`. Without `watch_for`, first as one
// batched read (coord::client::read_many: ZooKeeper's multiRead), and one by one only if
// that fails. Otherwise one get per path, at most `window` at a time, leaving the watch
// `watch_for(path)` gives (may be empty) on each node read successfully.
using watch_factory = std::function<coord::watch_fn(const std::string&)>;
asio::awaitable<std::vector<result<coord::node_data>>> get_many(
    coord::client& c, const std::vector<std::string>& paths, std::size_t window,
    const watch_factory& watch_for);

// Runs many multis (each already fenced by the caller), at most `window` at a time.
asio::awaitable<std::vector<coord::multi_response>> multi_many(
    coord::client& c, const std::vector<std::vector<coord::op>>& requests, std::size_t window);

}  // namespace zk
}  // namespace gregor::controller
