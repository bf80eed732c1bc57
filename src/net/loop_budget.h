// loop_budget: lets a long run of work on a loop thread give way to everything else ready.
//
// One handler applying thousands of partitions (a LeaderAndIsr that creates 10,000 logs
// takes seconds) would otherwise hold the loop that also answers ZooKeeper's pings, the
// controller's other requests and every client: the ZooKeeper session expires and the broker
// is fenced in the middle of the request. The handler asks due() between items and, when
// due, co_awaits yield(): the loop runs what is ready (socket readiness first) and then
// resumes it. Whatever the handler relied on before yielding must be checked again after.
// Loop thread only.
#pragma once

#include "net/asio.h"

#include <chrono>
#include <cstdint>

namespace gregor::net {

class loop_budget {
public:
    using clock = std::chrono::steady_clock;
    static constexpr std::chrono::milliseconds default_slice{5};

    explicit loop_budget(clock::duration slice = default_slice)
        : slice_(slice), start_(clock::now()) {}

    // Whether the caller has held the loop for a whole slice since it last yielded.
    bool due() const { return clock::now() - start_ >= slice_; }
    // Lets the loop run what is ready, then resumes the caller with a new slice.
    asio::awaitable<void> yield() {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        start_ = clock::now();
        ++yields_;
    }
    std::uint64_t yields() const { return yields_; }

private:
    clock::duration slice_;
    clock::time_point start_;
    std::uint64_t yields_ = 0;
};

}  // namespace gregor::net
