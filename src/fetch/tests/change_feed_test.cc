// Goal: the change feed hands a reader every partition pushed since the point it read up to,
// or says it cannot (the ring wrapped past it, or everything changed), never a partial list.
// Method: push partitions into small rings and read them back from several points.
#include "fetch/change_feed.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gregor::fetch {
namespace {

model::topic_partition tp(const std::string& topic, std::int32_t p) {
    return {topic, model::partition_id(p)};
}

std::vector<model::topic_partition> read(const change_feed& f, std::uint64_t from, bool& whole) {
    std::vector<model::topic_partition> out;
    whole = f.since(from, [&](const model::topic_partition& p) { out.push_back(p); });
    return out;
}

TEST(change_feed, a_reader_gets_what_was_pushed_since_its_point) {
    change_feed f(8);
    EXPECT_EQ(f.end(), 0u);
    f.push(tp("a", 0));
    const std::uint64_t mid = f.end();
    f.push(tp("a", 1));
    f.push(tp("b", 0));
    bool whole = false;
    EXPECT_EQ(read(f, 0, whole), (std::vector{tp("a", 0), tp("a", 1), tp("b", 0)}));
    EXPECT_TRUE(whole);
    EXPECT_EQ(read(f, mid, whole), (std::vector{tp("a", 1), tp("b", 0)}));
    EXPECT_TRUE(whole);
    EXPECT_TRUE(read(f, f.end(), whole).empty());
    EXPECT_TRUE(whole);
}

TEST(change_feed, a_partition_pushed_again_after_a_read_is_read_again) {
    change_feed f(8);
    f.push(tp("a", 0));
    const std::uint64_t read_up_to = f.end();
    f.push(tp("a", 0));
    bool whole = false;
    EXPECT_EQ(read(f, read_up_to, whole), (std::vector{tp("a", 0)}));
}

TEST(change_feed, a_reader_the_ring_wrapped_past_is_told_to_read_everything) {
    change_feed f(4);
    for (std::int32_t i = 0; i < 6; ++i) {
        f.push(tp("a", i));
    }
    bool whole = true;
    EXPECT_TRUE(read(f, 1, whole).empty());
    EXPECT_FALSE(whole);
    // The last four are still there.
    EXPECT_EQ(read(f, 2, whole), (std::vector{tp("a", 2), tp("a", 3), tp("a", 4), tp("a", 5)}));
    EXPECT_TRUE(whole);
    // A point the feed never reached is not trusted either.
    read(f, f.end() + 1, whole);
    EXPECT_FALSE(whole);
}

TEST(change_feed, push_all_sends_every_reader_back_to_everything) {
    change_feed f(4);
    f.push(tp("a", 0));
    const std::uint64_t before = f.end();
    f.push_all();
    bool whole = true;
    read(f, before, whole);
    EXPECT_FALSE(whole);
    // Readers from after it see only what came after it, even the partition pushed last
    // before it.
    const std::uint64_t after = f.end();
    f.push(tp("a", 0));
    f.push(tp("b", 0));
    EXPECT_EQ(read(f, after, whole), (std::vector{tp("a", 0), tp("b", 0)}));
    EXPECT_TRUE(whole);
}

}  // namespace
}  // namespace gregor::fetch
