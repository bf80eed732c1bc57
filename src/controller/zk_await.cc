#include "controller/zk_await.h"

#include "base/assert.h"
#include "controller/logger.h"
#include "net/loop_budget.h"

namespace gregor::controller::zk {
namespace {

// Runs `count` operations through `issue(i, done)` with at most `window` outstanding and
// stores each result at its index. Shared by get_many and multi_many.
template <class T, class Issue>
asio::awaitable<std::vector<T>> run_window(std::size_t count, std::size_t window, Issue& issue) {
    struct state {
        explicit state(const asio::any_io_executor& ex) : done(ex) {}
        std::vector<std::optional<T>> results;
        std::size_t next = 0;
        std::size_t finished = 0;
        wakeup done;
        std::function<void()> issue_next;
    };
    GREGOR_ASSERT(window > 0, "zero window");
    auto s = std::make_shared<state>(co_await asio::this_coro::executor);
    s->results.resize(count);
    std::weak_ptr<state> weak = s;
    s->issue_next = [weak, count, window, &issue] {
        auto st = weak.lock();
        if (!st || st->next >= count || st->next - st->finished >= window) {
            return;
        }
        std::size_t i = st->next++;
        issue(i, [weak, i](T r) {
            auto st2 = weak.lock();
            if (!st2) {
                return;
            }
            st2->results[i].emplace(std::move(r));
            ++st2->finished;
            st2->issue_next();  // one in for each one out
            st2->done.notify();
        });
    };
    // The first window goes out a few at a time, with turns for the loop between: issuing
    // encodes each request, and 667 multis of 500 writes at once took the loop for 311 ms.
    auto budget = net::loop_budget::items(8);
    while (s->next < count && s->next - s->finished < window) {
        s->issue_next();
        if (budget.due()) {
            co_await budget.yield();
        }
    }
    while (s->finished < count) {
        co_await s->done.wait();
    }
    std::vector<T> out;
    out.reserve(count);
    for (auto& r : s->results) {
        out.push_back(std::move(*r));
    }
    s->issue_next = nullptr;
    co_return out;
}

}  // namespace

asio::awaitable<std::vector<result<coord::node_data>>> get_many(
    coord::client& c, const std::vector<std::string>& paths, std::size_t window,
    const watch_factory& watch_for) {
    if (!watch_for && !paths.empty()) {
        auto batched = co_await read_many(c, paths);
        if (batched.has_value()) {
            co_return std::move(batched).value();
        }
        GREGOR_LOG(controller_log, info,
                   "batched read of {} znodes failed ({}); reading them one by one",
                   paths.size(), batched.err().to_string());
    }
    auto issue = [&](std::size_t i, std::function<void(result<coord::node_data>)> done) {
        coord::watch_fn w = watch_for ? watch_for(paths[i]) : coord::watch_fn{};
        c.get(paths[i], std::move(w), std::move(done));
    };
    std::size_t n = paths.size();
    auto out = co_await run_window<result<coord::node_data>>(n, window, issue);
    co_return out;
}

asio::awaitable<std::vector<coord::multi_response>> multi_many(
    coord::client& c, const std::vector<std::vector<coord::op>>& requests, std::size_t window) {
    auto issue = [&](std::size_t i, std::function<void(coord::multi_response)> done) {
        c.multi(requests[i], std::move(done));
    };
    std::size_t n = requests.size();
    auto out = co_await run_window<coord::multi_response>(n, window, issue);
    co_return out;
}

}  // namespace gregor::controller::zk
