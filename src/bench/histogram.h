// histogram: a fixed-size latency histogram with log-linear buckets (HDR style).
//
// Values are non-negative 64-bit integers (the bench records nanoseconds). Values below
// 2^(sub_bucket_bits + 1) are counted exactly; above that, each power of two is split into
// 2^sub_bucket_bits equal buckets, so a reported percentile is within 1/128 (0.8%) of the
// true value, whatever the range. Memory is fixed (bucket_count counters, about 58 KiB), so
// recording millions of samples never grows it. min, max, count and sum are exact.
// Not thread-safe: give each thread its own and merge() them at the end.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace gregor::bench {

class histogram {
public:
    static constexpr int sub_bucket_bits = 7;
    static constexpr std::uint64_t exact_below = std::uint64_t{1} << (sub_bucket_bits + 1);
    static constexpr std::size_t bucket_count =
        exact_below + (64 - (sub_bucket_bits + 1)) * (std::size_t{1} << sub_bucket_bits);

    void record(std::uint64_t value);
    void merge(const histogram& other);

    std::uint64_t count() const { return count_; }
    // REQUIRES for min/max/mean: count() > 0 (they return 0 otherwise).
    std::uint64_t min() const { return count_ == 0 ? 0 : min_; }
    std::uint64_t max() const { return max_; }
    double mean() const;
    // The value at or below which `percent` (0 < percent <= 100) of the samples lie, to the
    // bucket's precision and clamped to [min, max]. Returns 0 for an empty histogram.
    std::uint64_t percentile(double percent) const;

    // Bucket arithmetic, exposed for tests: the bucket of a value and the value range
    // [lowest, highest] a bucket covers.
    static std::size_t bucket_of(std::uint64_t value);
    static std::uint64_t lowest_in(std::size_t bucket);
    static std::uint64_t highest_in(std::size_t bucket);

private:
    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t min_ = UINT64_MAX;
    std::uint64_t max_ = 0;
    long double sum_ = 0;
};

}  // namespace gregor::bench
