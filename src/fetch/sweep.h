// sweep: spreads reading every one of n items once per period over the rounds that come,
// as turns proportional to the time since the last round (the fetch sessions' and the
// replica fetchers' resting partitions: a few per round, never all at once).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace gregor::fetch {

struct sweep_clock {
    std::chrono::steady_clock::time_point at{};  // the time the sweep has reached

    // The items whose turn came since the last call (n when a period or more passed, or on
    // the first call). The remainder carries over to the next call.
    std::size_t turns(std::chrono::steady_clock::time_point now, std::size_t n,
                      std::chrono::steady_clock::duration period) {
        if (n == 0 || at == std::chrono::steady_clock::time_point{}) {
            at = now;
            return n;
        }
        auto per_item = std::max<std::chrono::steady_clock::duration>(
            period / static_cast<std::int64_t>(n), std::chrono::steady_clock::duration(1));
        auto due = static_cast<std::size_t>(std::max<std::int64_t>((now - at) / per_item, 0));
        if (due >= n) {
            at = now;
            return n;
        }
        at += per_item * static_cast<std::int64_t>(due);
        return due;
    }
};

}  // namespace gregor::fetch
