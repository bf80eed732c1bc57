// Latency quantiles over a sliding window, cheap enough for every request (Kafka's request
// timers, kafka_network_requestmetrics_totaltimems{quantile=...}). Sans-IO: the caller gives
// the time.
//
// Values fall in log-spaced buckets 5% apart from 1 us to about 6 days (so a quantile is
// within 2.5% of a value seen), counted per one-minute slot; the last `slots` minutes
// (5, like Yammer's decaying reservoir, which favours the last five minutes) are merged to
// answer. record() is an index computation and an increment; memory is fixed (about 9 KiB).
// One thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

namespace gregor::metrics {

class windowed_quantiles {
public:
    using clock = std::chrono::steady_clock;
    static constexpr std::size_t slots = 5;
    static constexpr std::chrono::seconds slot_length{60};

    // Records one value (ms; negatives count as 0).
    void record(double ms, clock::time_point now);
    // The values at quantiles `qs` (each in [0, 1]) over the window ending `now`; 0 for each
    // when the window is empty.
    std::vector<double> quantiles(std::span<const double> qs, clock::time_point now) const;
    // Every value ever recorded.
    std::uint64_t count() const { return count_; }

    static std::size_t bucket_of(double ms);
    // A bucket's representative value (its geometric middle), ms.
    static double value_of(std::size_t bucket);
    static constexpr std::size_t buckets = 560;

private:
    struct slot {
        std::int64_t minute = -1;  // which minute it counts; -1: never used
        std::uint64_t total = 0;
        std::array<std::uint32_t, buckets> counts{};
    };
    static std::int64_t minute_of(clock::time_point t);

    std::array<slot, slots> slots_{};
    std::uint64_t count_ = 0;
};

}  // namespace gregor::metrics
