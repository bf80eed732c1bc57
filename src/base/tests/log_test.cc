// Goal: log levels can be set by name and the rate limiter lets one line through per
// interval per call site.
#include "base/log.h"

#include <gtest/gtest.h>

namespace gregor {
namespace {

TEST(log, set_level_accepts_only_level_names) {
    EXPECT_TRUE(log_set_level("debug"));
    EXPECT_TRUE(log_set_level("off"));
    EXPECT_FALSE(log_set_level("loud"));
    EXPECT_TRUE(log_set_level("info"));
}

TEST(log, rate_limiter_allows_once_per_interval) {
    std::atomic<std::int64_t> last{0};
    EXPECT_TRUE(detail::rate_limit_allows(last, std::chrono::hours(1)));
    EXPECT_FALSE(detail::rate_limit_allows(last, std::chrono::hours(1)));
    EXPECT_TRUE(detail::rate_limit_allows(last, std::chrono::milliseconds(0)));
}

}  // namespace
}  // namespace gregor
