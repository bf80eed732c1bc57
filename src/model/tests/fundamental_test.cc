// Goal: strong types compare, hash and format like their underlying values, and cannot
// be mixed implicitly (checked at compile time).
#include "model/fundamental.h"

#include <gtest/gtest.h>

#include <type_traits>
#include <unordered_set>

namespace gregor::model {
namespace {

static_assert(!std::is_convertible_v<offset, leader_epoch>);
static_assert(!std::is_convertible_v<std::int64_t, offset>);
static_assert(!std::is_convertible_v<broker_epoch, controller_epoch>);

TEST(fundamental, strong_types_order_and_increment) {
    offset o{41};
    ++o;
    EXPECT_EQ(o, offset{42});
    EXPECT_LT(offset{1}, offset{2});
    EXPECT_EQ((leader_epoch{3} + 1)(), 4);
}

TEST(fundamental, topic_partition_hashes_and_formats) {
    std::unordered_set<topic_partition> set;
    set.insert({"orders", partition_id{0}});
    set.insert({"orders", partition_id{1}});
    set.insert({"orders", partition_id{0}});
    EXPECT_EQ(set.size(), 2U);
    EXPECT_EQ(fmt::format("{}", topic_partition{"orders", partition_id{7}}), "orders-7");
    EXPECT_EQ(fmt::format("{}", node_id{3}), "3");
}

}  // namespace
}  // namespace gregor::model
