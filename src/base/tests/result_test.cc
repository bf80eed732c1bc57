// Goal: result<T> carries either a value or an error with a readable message, and the
// TRY macros propagate errors unchanged.
#include "base/result.h"

#include <gtest/gtest.h>

namespace gregor {
namespace {

result<int> parse_positive(int v) {
    if (v <= 0) {
        return error(std::make_error_code(std::errc::invalid_argument), "not positive");
    }
    return v;
}

result<int> doubled(int v) {
    GREGOR_TRY(int x, parse_positive(v));
    return x * 2;
}

result<void> check(int v) {
    GREGOR_TRY_VOID(parse_positive(v));
    return ok();
}

TEST(result, value_and_error_paths) {
    auto good = doubled(21);
    ASSERT_TRUE(good.has_value());
    EXPECT_EQ(*good, 42);

    auto bad = doubled(-1);
    ASSERT_TRUE(bad.has_error());
    EXPECT_EQ(bad.code(), std::errc::invalid_argument);
    EXPECT_NE(bad.err().to_string().find("not positive"), std::string::npos);
}

TEST(result, void_results_propagate) {
    EXPECT_TRUE(check(1).has_value());
    auto r = check(0);
    ASSERT_TRUE(r.has_error());
    EXPECT_EQ(r.err().detail, "not positive");
}

TEST(result, assert_aborts_on_value_of_error) {
    auto bad = parse_positive(0);
    EXPECT_DEATH({ (void)bad.value(); }, "value\\(\\) on error result");
}

}  // namespace
}  // namespace gregor
