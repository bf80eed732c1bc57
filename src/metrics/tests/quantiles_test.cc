// windowed_quantiles: quantiles within the buckets' 2.5% over the last five minutes, old
// minutes forgotten, nothing recorded answers 0, absurd values clamp.
#include "metrics/quantiles.h"

#include <gtest/gtest.h>

#include <array>

namespace gregor::metrics {
namespace {

using namespace std::chrono_literals;
using clock = windowed_quantiles::clock;

TEST(windowed_quantiles, quantiles_land_within_the_bucket_error) {
    windowed_quantiles w;
    const auto t0 = clock::time_point(1h);
    for (int i = 1; i <= 1000; ++i) {
        w.record(i, t0 + std::chrono::milliseconds(i));
    }
    const std::array<double, 4> qs{0.5, 0.9, 0.99, 1.0};
    auto v = w.quantiles(qs, t0 + 2s);
    EXPECT_NEAR(v[0], 500, 500 * 0.05);
    EXPECT_NEAR(v[1], 900, 900 * 0.05);
    EXPECT_NEAR(v[2], 990, 990 * 0.05);
    EXPECT_NEAR(v[3], 1000, 1000 * 0.05);
    EXPECT_EQ(w.count(), 1000U);
}

TEST(windowed_quantiles, minutes_older_than_the_window_are_forgotten) {
    windowed_quantiles w;
    const auto t0 = clock::time_point(10h);
    for (int i = 0; i < 100; ++i) {
        w.record(1000, t0);  // slow, long ago
    }
    const std::array<double, 1> median{0.5};
    EXPECT_NEAR(w.quantiles(median, t0 + 4min)[0], 1000, 50) << "still inside five minutes";
    for (int i = 0; i < 10; ++i) {
        w.record(2, t0 + 6min);
    }
    EXPECT_NEAR(w.quantiles(median, t0 + 6min)[0], 2, 0.1) << "the slow minute left the window";
    EXPECT_EQ(w.quantiles(median, t0 + 20min)[0], 0) << "an empty window answers 0";
    EXPECT_EQ(w.count(), 110U);
}

TEST(windowed_quantiles, extreme_values_clamp_to_the_end_buckets) {
    EXPECT_EQ(windowed_quantiles::bucket_of(-5), 0U);
    EXPECT_EQ(windowed_quantiles::bucket_of(0), 0U);
    EXPECT_EQ(windowed_quantiles::bucket_of(1e300), windowed_quantiles::buckets - 1);
    EXPECT_EQ(windowed_quantiles::bucket_of(std::numeric_limits<double>::quiet_NaN()), 0U);
    // Neighbouring buckets are 5% apart, and a value lies within its bucket.
    for (double ms : {0.01, 0.37, 1.0, 12.5, 480.0, 30'000.0}) {
        double v = windowed_quantiles::value_of(windowed_quantiles::bucket_of(ms));
        EXPECT_NEAR(v, ms, ms * 0.026) << ms;
    }
}

}  // namespace
}  // namespace gregor::metrics
