// Goal: the zigzag varint reader/writer and byte_cursor behave like Kafka's record format
// needs: round trips at every boundary, Kafka's 5/10-byte limits, and sticky failures on
// truncated or oversized input.
// The reader's fast paths (one-byte varints, and no per-byte bound check when the longest
// varint fits in what remains) give the same values, positions and errors as the checked
// loop. Method: encode/decode known values and hand-written byte strings; seeded random
// bytes read at every cut against a reference loop.
#include "protocol/records/varint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>

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

// The reader as it was before its fast paths: one bound check per byte.
struct reference_read {
    std::uint64_t value = 0;
    std::size_t consumed = 0;
    records_errc error{};
};
reference_read read_reference(bytes_view data, std::size_t max_bytes) {
    reference_read r;
    for (std::size_t i = 0; i < max_bytes; ++i) {
        if (i >= data.size()) {
            return {0, data.size(), records_errc::truncated};
        }
        const std::uint8_t b = data[i];
        r.value |= std::uint64_t{b & 0x7FU} << (7 * i);
        if ((b & 0x80U) == 0) {
            r.consumed = i + 1;
            return r;
        }
    }
    return {0, data.size(), records_errc::bad_varint};
}

// Random bytes biased towards continuation bits, cut at every length from 0 to 14, so both
// the fast paths and the checked loop see valid, oversized and truncated varints.
TEST(varint, fast_paths_match_the_checked_loop_on_random_bytes) {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 20'000; ++round) {
        bytes whole(14);
        const auto continuation = rng() % 12;  // how many leading bytes have bit 7 set
        for (std::size_t i = 0; i < whole.size(); ++i) {
            const auto low = static_cast<std::uint8_t>(rng() & 0x7FU);
            whole[i] = i < continuation ? static_cast<std::uint8_t>(low | 0x80U) : low;
        }
        if (rng() % 3 == 0) {
            whole[rng() % whole.size()] ^= 0x80U;
        }
        for (std::size_t cut = 0; cut <= whole.size(); ++cut) {
            const bytes_view data = bytes_view(whole).first(cut);
            for (const bool is_long : {false, true}) {
                const auto want =
                    read_reference(data, is_long ? varlong_bytes_max : varint_bytes_max);
                byte_cursor c(data);
                if (is_long) {
                    EXPECT_EQ(c.read_varlong(),
                              want.error == records_errc{} ? zigzag_decode(want.value) : 0);
                } else {
                    const auto u = static_cast<std::uint32_t>(want.value);
                    const auto v =
                        static_cast<std::int32_t>(u >> 1) ^ -static_cast<std::int32_t>(u & 1U);
                    EXPECT_EQ(c.read_varint(), want.error == records_errc{} ? v : 0);
                }
                ASSERT_EQ(c.error(), want.error) << "round " << round << " cut " << cut;
                ASSERT_EQ(c.position(), want.consumed) << "round " << round << " cut " << cut;
            }
        }
    }
}

}  // namespace
}  // namespace gregor::protocol::records_detail
