// Goal: groups land on the `__consumer_offsets` partition a Kafka broker would pick, so
// clients that found a gregor coordinator find the same one on Kafka and the other way round.
// Method: the reference's vectors (Java String.hashCode values and partitions for 50
// partitions), plus UTF-16 cases (surrogate pairs, U+FFFD for ill-formed UTF-8).
#include "group/java_string.h"
#include "group/partitioner.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace gregor::group {
namespace {

struct vector_case {
    std::string group;
    std::int32_t hash;
    std::int32_t partition;
};

TEST(partitioner, matches_kafka_for_the_reference_vectors) {
    const vector_case cases[] = {
        {"my-group", -1906497762, 12},
        {"test-group", 627841412, 12},
        {"app-1", 93027205, 5},
        {"", 0, 0},
        {"group-\xC3\xA9", 293427483, 33},
        {"polygenelubricants", std::numeric_limits<std::int32_t>::min(), 0},
    };
    for (const vector_case& c : cases) {
        EXPECT_EQ(java_string_hash(c.group), c.hash) << c.group;
        EXPECT_EQ(offsets_partition_for(c.group, 50), model::partition_id{c.partition}) << c.group;
    }
}

TEST(partitioner, kafka_abs_maps_int32_min_to_zero) {
    EXPECT_EQ(kafka_abs(std::numeric_limits<std::int32_t>::min()), 0);
    EXPECT_EQ(kafka_abs(-5), 5);
    EXPECT_EQ(kafka_abs(7), 7);
    EXPECT_EQ(kafka_abs(std::numeric_limits<std::int32_t>::max()),
              std::numeric_limits<std::int32_t>::max());
}

TEST(partitioner, one_partition_takes_every_group) {
    EXPECT_EQ(offsets_partition_for("my-group", 1), model::partition_id{0});
    EXPECT_EQ(offsets_partition_for("polygenelubricants", 1), model::partition_id{0});
}

TEST(partitioner, hashes_utf16_units_not_utf8_bytes) {
    // U+00E9 is one UTF-16 unit (0xE9) but two UTF-8 bytes.
    EXPECT_EQ(java_string_hash("\xC3\xA9"), 0xE9);
    EXPECT_EQ(java_string_length("\xC3\xA9"), 1u);
    // U+20AC (euro sign): three UTF-8 bytes, one unit.
    EXPECT_EQ(java_string_hash("\xE2\x82\xAC"), 0x20AC);
}

TEST(partitioner, code_points_above_the_bmp_hash_as_surrogate_pairs) {
    // U+1F600 = D83D DE00 in UTF-16.
    const std::string emoji = "\xF0\x9F\x98\x80";
    EXPECT_EQ(java_string_length(emoji), 2u);
    EXPECT_EQ(java_string_hash(emoji), 31 * 0xD83D + 0xDE00);
    // U+10FFFF = DBFF DFFF.
    EXPECT_EQ(java_string_hash("\xF4\x8F\xBF\xBF"), 31 * 0xDBFF + 0xDFFF);
}

TEST(partitioner, ill_formed_utf8_hashes_as_the_replacement_character) {
    // A lone continuation byte, an overlong lead, a byte that never appears in UTF-8: one
    // U+FFFD each, as a Java client's decoder would have produced.
    EXPECT_EQ(java_string_hash("\x80"), 0xFFFD);
    EXPECT_EQ(java_string_hash("\xC0"), 0xFFFD);
    EXPECT_EQ(java_string_hash("\xFF"), 0xFFFD);
    EXPECT_EQ(java_string_hash("a\xFF"), 31 * 'a' + 0xFFFD);
    // A truncated 3-byte sequence is one maximal subpart: one U+FFFD, then the next char.
    EXPECT_EQ(java_string_length("\xE2\x82"), 1u);
    EXPECT_EQ(java_string_hash("\xE2\x82" "a"), 31 * 0xFFFD + 'a');
    // An encoded surrogate is one U+FFFD for its three bytes (the JDK decodes it, then
    // replaces it); cut short by a non-continuation byte, one for its first two.
    EXPECT_EQ(java_string_hash("\xED\xA0\x80"), 0xFFFD);
    EXPECT_EQ(java_string_hash("\xED\xBF\xBF" "a"), 31 * 0xFFFD + 'a');
    EXPECT_EQ(java_string_hash("\xED\xA0" "a"), 31 * 0xFFFD + 'a');
    // ED 9F BF is U+D7FF, a valid character just below the surrogates.
    EXPECT_EQ(java_string_hash("\xED\x9F\xBF"), 0xD7FF);
    // Overlong 3-byte NUL (E0 80 80): the second byte is out of range, three U+FFFD.
    EXPECT_EQ(java_string_length("\xE0\x80\x80"), 3u);
}

}  // namespace
}  // namespace gregor::group
