// loop_budget: lets a long run of work on a loop thread give way to everything else ready.
//
// One handler applying thousands of partitions (a LeaderAndIsr that creates 10,000 logs
// takes seconds; a controller failover decodes a million partition states) would otherwise
// hold the loop that also answers ZooKeeper's pings, the controller's other requests and
// every client: the ZooKeeper session expires and the broker is fenced in the middle of the
// request. The handler asks due() once per item and, when due, co_awaits yield(): the loop
// runs what is ready (socket readiness first) and then resumes it. Whatever the handler
// relied on before yielding must be checked again after.
//
// The slice is a time (items of uneven cost: creating logs) or a number of items, which keeps
// a deterministic simulation deterministic (the controller's partition walks, a few
// microseconds per item). Loop thread only.
#pragma once

#include "net/asio.h"

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace gregor::net {

class loop_budget {
public:
    using clock = std::chrono::steady_clock;
    static constexpr std::chrono::milliseconds default_slice{5};

    explicit loop_budget(clock::duration slice = default_slice)
        : slice_(slice), start_(clock::now()) {}
    // A slice of `n` items (n >= 1).
    static loop_budget items(std::size_t n) {
        loop_budget b;
        b.items_ = n == 0 ? 1 : n;
        return b;
    }

    // Counts one item; whether the slice is used up (then the caller yields).
    bool due() {
        if (items_ == 0) {
            return clock::now() - start_ >= slice_;
        }
        return ++done_ >= items_;
    }
    // Lets the loop run what is ready, then resumes the caller with a new slice.
    asio::awaitable<void> yield() {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        start_ = clock::now();
        done_ = 0;
        ++yields_;
    }
    std::uint64_t yields() const { return yields_; }

private:
    clock::duration slice_;
    clock::time_point start_;
    std::size_t items_ = 0;  // 0: the slice is slice_
    std::size_t done_ = 0;
    std::uint64_t yields_ = 0;
};

}  // namespace gregor::net
