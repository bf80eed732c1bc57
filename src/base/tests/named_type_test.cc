// Goal: named_type is a zero-cost strong typedef with ordering and hashing.
#include "base/named_type.h"

#include <gtest/gtest.h>

namespace gregor {
namespace {

using apples = named_type<int, struct apples_tag>;
using pears = named_type<int, struct pears_tag>;
static_assert(sizeof(apples) == sizeof(int));
static_assert(!std::is_convertible_v<apples, pears>);
static_assert(!std::is_convertible_v<int, apples>);

TEST(named_type, compares_and_hashes_like_the_value) {
    EXPECT_LT(apples{1}, apples{2});
    EXPECT_EQ(std::hash<apples>{}(apples{5}), std::hash<int>{}(5));
    apples a{1};
    a += 2;
    EXPECT_EQ(a(), 3);
}

}  // namespace
}  // namespace gregor
