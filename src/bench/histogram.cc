#include "bench/histogram.h"

#include "base/assert.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace gregor::bench {

namespace {
constexpr std::uint64_t sub_buckets = std::uint64_t{1} << histogram::sub_bucket_bits;
}  // namespace

std::size_t histogram::bucket_of(std::uint64_t value) {
    if (value < exact_below) {
        return static_cast<std::size_t>(value);
    }
    // exponent >= sub_bucket_bits + 1; keep the sub_bucket_bits bits after the leading one.
    auto exponent = static_cast<unsigned>(std::bit_width(value) - 1);
    unsigned shift = exponent - sub_bucket_bits;
    std::uint64_t sub = (value >> shift) - sub_buckets;
    std::uint64_t octave = exponent - (sub_bucket_bits + 1);
    return static_cast<std::size_t>(exact_below + octave * sub_buckets + sub);
}

std::uint64_t histogram::lowest_in(std::size_t bucket) {
    GREGOR_ASSERT(bucket < bucket_count, "bucket {} out of range", bucket);
    if (bucket < exact_below) {
        return bucket;
    }
    std::uint64_t octave = (bucket - exact_below) / sub_buckets;
    std::uint64_t sub = (bucket - exact_below) % sub_buckets;
    unsigned shift = static_cast<unsigned>(octave) + 1;
    return (sub_buckets + sub) << shift;
}

std::uint64_t histogram::highest_in(std::size_t bucket) {
    if (bucket + 1 == bucket_count) {
        return UINT64_MAX;
    }
    return lowest_in(bucket + 1) - 1;
}

void histogram::record(std::uint64_t value) {
    ++counts_[bucket_of(value)];
    ++count_;
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
    sum_ += static_cast<long double>(value);
}

void histogram::merge(const histogram& other) {
    for (std::size_t i = 0; i < bucket_count; ++i) {
        counts_[i] += other.counts_[i];
    }
    count_ += other.count_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    sum_ += other.sum_;
}

double histogram::mean() const {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

std::uint64_t histogram::percentile(double percent) const {
    GREGOR_ASSERT(percent > 0 && percent <= 100, "percentile {} out of (0, 100]", percent);
    if (count_ == 0) {
        return 0;
    }
    // The rank of the sample we want (1-based): the smallest r with r >= percent% of count.
    auto rank =
        static_cast<std::uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_) - 1e-9));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            // The bucket's midpoint halves the worst-case error of reporting an edge.
            std::uint64_t lo = lowest_in(i);
            std::uint64_t mid = lo + (highest_in(i) - lo) / 2;
            return std::clamp(mid, min(), max_);
        }
    }
    return max_;
}

}  // namespace gregor::bench
