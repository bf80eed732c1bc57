// Goal: the latency histogram reports percentiles a reader can trust: exact for small
// values, within its stated 1/128 relative precision for any other, whatever the
// distribution, and merging per-thread histograms loses nothing.
// Method: known distributions (exact ranges, uniform, seeded exponential) compared against
// the exact percentile of the sorted samples.
#include "bench/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace gregor::bench {
namespace {

constexpr double precision = 1.0 / 128;

// The exact percentile as the histogram defines it: the sample of rank ceil(p% * n).
std::uint64_t exact_percentile(std::vector<std::uint64_t> v, double p) {
    std::sort(v.begin(), v.end());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

void expect_close(std::uint64_t got, std::uint64_t want) {
    double tolerance = precision * static_cast<double>(want) + 1;
    EXPECT_NEAR(static_cast<double>(got), static_cast<double>(want), tolerance);
}

TEST(histogram, empty_reports_zero) {
    histogram h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.percentile(50), 0u);
    EXPECT_EQ(h.max(), 0u);
    EXPECT_EQ(h.min(), 0u);
}

TEST(histogram, small_values_are_exact) {
    histogram h;
    for (std::uint64_t v = 0; v < histogram::exact_below; ++v) {
        h.record(v);
    }
    EXPECT_EQ(h.percentile(50), 127u);
    EXPECT_EQ(h.percentile(100), 255u);
    EXPECT_EQ(h.percentile(0.1), 0u);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.max(), 255u);
    EXPECT_DOUBLE_EQ(h.mean(), 127.5);
}

TEST(histogram, every_value_lies_in_its_bucket_and_buckets_are_narrow) {
    std::mt19937_64 rng(7);
    std::vector<std::uint64_t> values{0, 1, 255, 256, 257, 511, 512, 1'000'000, UINT64_MAX};
    for (int i = 0; i < 100'000; ++i) {
        values.push_back(rng() >> (rng() % 64));
    }
    for (std::uint64_t v : values) {
        std::size_t b = histogram::bucket_of(v);
        ASSERT_LT(b, histogram::bucket_count);
        ASSERT_LE(histogram::lowest_in(b), v) << v;
        ASSERT_GE(histogram::highest_in(b), v) << v;
        double width = static_cast<double>(histogram::highest_in(b) - histogram::lowest_in(b));
        ASSERT_LE(width, precision * static_cast<double>(histogram::lowest_in(b)) + 1) << v;
    }
    EXPECT_EQ(histogram::bucket_of(UINT64_MAX), histogram::bucket_count - 1);
}

TEST(histogram, uniform_distribution_percentiles) {
    histogram h;
    for (std::uint64_t v = 1; v <= 1'000'000; ++v) {
        h.record(v);
    }
    expect_close(h.percentile(50), 500'000);
    expect_close(h.percentile(99), 990'000);
    expect_close(h.percentile(99.9), 999'000);
    EXPECT_EQ(h.percentile(100), 1'000'000u);
    EXPECT_EQ(h.max(), 1'000'000u);
    EXPECT_EQ(h.min(), 1u);
    EXPECT_NEAR(h.mean(), 500'000.5, 1e-6);
}

TEST(histogram, exponential_distribution_matches_sorted_samples) {
    std::mt19937_64 rng(2014);
    std::exponential_distribution<double> latency_ns(1.0 / 2'000'000);  // mean 2 ms
    std::vector<std::uint64_t> samples;
    histogram h;
    for (int i = 0; i < 200'000; ++i) {
        auto v = static_cast<std::uint64_t>(latency_ns(rng));
        samples.push_back(v);
        h.record(v);
    }
    for (double p : {1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
        SCOPED_TRACE(p);
        expect_close(h.percentile(p), exact_percentile(samples, p));
    }
    EXPECT_EQ(h.max(), *std::max_element(samples.begin(), samples.end()));
}

TEST(histogram, merge_equals_recording_everything_in_one) {
    std::mt19937_64 rng(3);
    histogram a;
    histogram b;
    histogram all;
    for (int i = 0; i < 50'000; ++i) {
        std::uint64_t v = rng() % 10'000'000;
        (i % 3 == 0 ? a : b).record(v);
        all.record(v);
    }
    a.merge(b);
    EXPECT_EQ(a.count(), all.count());
    EXPECT_EQ(a.min(), all.min());
    EXPECT_EQ(a.max(), all.max());
    for (double p : {50.0, 99.0, 99.9}) {
        EXPECT_EQ(a.percentile(p), all.percentile(p));
    }
}

TEST(histogram, one_outlier_sets_the_max_but_not_the_median) {
    histogram h;
    for (int i = 0; i < 999; ++i) {
        h.record(1000);
    }
    h.record(5'000'000'000);
    expect_close(h.percentile(50), 1000);
    expect_close(h.percentile(99.9), 1000);
    EXPECT_EQ(h.max(), 5'000'000'000u);
}

}  // namespace
}  // namespace gregor::bench
