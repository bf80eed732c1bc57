// Goal: the zigzag varint reader/writer and byte_cursor behave like Kafka's record format
// needs: round trips at every boundary, Kafka's 5/10-byte limits, and sticky failures on
// truncated or oversized input.
// Method: encode/decode known values and hand-written byte strings.
#include "protocol/records/varint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace gregor::protocol::records_detail {
namespace {

TEST(varint, zigzag_round_trips_boundaries) {
    const std::int64_t values[] = {0,
                                   1,
                                   -1,
                                   63,
                                   -64,
                                   64,
                                   -65,
                                   8191,
                                   -8192,
                                   std::numeric_limits<std::int32_t>::max(),
                                   std::numeric_limits<std::int32_t>::min(),
                                   std::numeric_limits<std::int64_t>::max(),
                                   std::numeric_limits<std::int64_t>::min()};
    for (std::int64_t v : values) {
        bytes b;
        put_varint(b, v);
        EXPECT_EQ(b.size(), varint_size(v)) << v;
        byte_cursor c(b);
        EXPECT_EQ(c.read_varlong(), v);
        EXPECT_TRUE(c.ok());
        EXPECT_EQ(c.remaining(), 0U);
        if (v >= std::numeric_limits<std::int32_t>::min() &&
            v <= std::numeric_limits<std::int32_t>::max()) {
            byte_cursor c32(b);
            EXPECT_EQ(c32.read_varint(), v);
            EXPECT_TRUE(c32.ok());
        }
    }
}

TEST(varint, known_encodings) {
    bytes b;
    put_varint(b, -1);
    put_varint(b, 1);
    put_varint(b, 64);
    EXPECT_EQ(b, (bytes{0x01, 0x02, 0x80, 0x01}));
}

TEST(varint, six_byte_varint_is_refused_but_ten_byte_varlong_is_read) {
    const bytes six = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    byte_cursor c(six);
    c.read_varint();
    EXPECT_EQ(c.error(), records_errc::bad_varint);
    const bytes eleven = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    byte_cursor c2(eleven);
    c2.read_varlong();
    EXPECT_EQ(c2.error(), records_errc::bad_varint);
    const bytes ten = {0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    byte_cursor c3(ten);
    EXPECT_EQ(c3.read_varlong(), -1);
    EXPECT_TRUE(c3.ok());
}

TEST(varint, truncated_varint_fails_and_failure_is_sticky) {
    const bytes cut = {0x80, 0x80};
    byte_cursor c(cut);
    EXPECT_EQ(c.read_varint(), 0);
    EXPECT_EQ(c.error(), records_errc::truncated);
    EXPECT_EQ(c.read_i8(), 0);
    EXPECT_EQ(c.error(), records_errc::truncated);
}

TEST(varint, nullable_bytes_minus_one_is_null_and_below_is_an_error) {
    const bytes null_field = {0x01};
    byte_cursor c(null_field);
    EXPECT_FALSE(c.read_nullable_bytes().has_value());
    EXPECT_TRUE(c.ok());
    const bytes minus_two = {0x03};
    byte_cursor c2(minus_two);
    c2.read_nullable_bytes();
    EXPECT_EQ(c2.error(), records_errc::bad_field_length);
    const bytes past_end = {0x08, 'a', 'b'};
    byte_cursor c3(past_end);
    c3.read_nullable_bytes();
    EXPECT_EQ(c3.error(), records_errc::truncated);
}

}  // namespace
}  // namespace gregor::protocol::records_detail
