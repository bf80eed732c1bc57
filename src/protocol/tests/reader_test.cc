// Goal: the reader decodes every primitive as Kafka encodes it and rejects malformed bytes
// with the right errc, without reading past the input. Method: known byte patterns (varint
// and zigzag examples, UTF-8 edge cases) decoded one primitive at a time.
#include "protocol/reader.h"

#include <gtest/gtest.h>

#include <limits>

namespace gregor::protocol {
namespace {

TEST(reader, big_endian_integers) {
    bytes in = {0x01, 0x02, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00, 0x01};
    reader r(in);
    EXPECT_EQ(r.read_int16(), 0x0102);
    EXPECT_EQ(r.read_int16(), -2);
    EXPECT_EQ(r.read_int32(), std::numeric_limits<std::int32_t>::min());
    EXPECT_EQ(r.read_int64(), 1);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
}

TEST(reader, unsigned_varints_and_zigzag_varints) {
    bytes in = {0xac, 0x02, 0x00, 0x01, 0x7f, 0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f};
    reader r(in);
    EXPECT_EQ(r.read_uvarint(), 300u);
    EXPECT_EQ(r.read_varint(), 0);
    EXPECT_EQ(r.read_varint(), -1);
    EXPECT_EQ(r.read_varint(), -64);
    EXPECT_EQ(r.read_varint(), 64);
    EXPECT_EQ(r.read_varint(), std::numeric_limits<std::int32_t>::min());
    EXPECT_TRUE(r.ok());
}

TEST(reader, varlong_uses_up_to_ten_bytes) {
    bytes in = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    reader r(in);
    EXPECT_EQ(r.read_varlong(), std::numeric_limits<std::int64_t>::max());
    EXPECT_TRUE(r.ok());
}

TEST(reader, varints_longer_than_their_type_are_rejected) {
    bytes six = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    reader a(six);
    a.read_uvarint();
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.error().code, errc::bad_varint);
    bytes overflow = {0xff, 0xff, 0xff, 0xff, 0x1f};  // a 33rd bit
    reader b(overflow);
    b.read_uvarint();
    EXPECT_EQ(b.error().code, errc::bad_varint);
    bytes eleven(11, 0x80);
    reader c(eleven);
    c.read_varlong();
    EXPECT_EQ(c.error().code, errc::bad_varint);
}

TEST(reader, strings_compact_and_not_with_null) {
    bytes in = {0x00, 0x02, 'h', 'i', 0xff, 0xff, 0x03, 'o', 'k', 0x00};
    reader r(in);
    EXPECT_EQ(r.read_string(false), "hi");
    EXPECT_EQ(r.read_nullable_string(false, true), std::nullopt);
    EXPECT_EQ(r.read_string(true), "ok");
    EXPECT_EQ(r.read_nullable_string(true, true), std::nullopt);
    EXPECT_TRUE(r.ok());
}

TEST(reader, errors_are_sticky_and_reads_after_them_return_zero) {
    bytes in = {0x00, 0x09, 'x'};
    reader r(in);
    EXPECT_EQ(r.read_string(false), "");
    EXPECT_EQ(r.error().code, errc::truncated);
    EXPECT_EQ(r.read_int8(), 0);
    EXPECT_EQ(r.error().code, errc::truncated);
}

TEST(reader, records_are_a_view_into_the_input) {
    bytes in = {0x00, 0x00, 0x00, 0x03, 1, 2, 3};
    reader r(in);
    auto rec = r.read_records(false, true);
    ASSERT_TRUE(rec.has_value());
    EXPECT_EQ(rec->data().data(), in.data() + 4);
    EXPECT_EQ(rec->size(), 3u);
}

TEST(reader, utf8_validation) {
    auto ok = [](std::initializer_list<std::uint8_t> b) { return valid_utf8(bytes(b)); };
    EXPECT_TRUE(ok({'a', 0xc3, 0xa9}));                 // é
    EXPECT_TRUE(ok({0xe2, 0x82, 0xac}));                // €
    EXPECT_TRUE(ok({0xf0, 0x9f, 0x98, 0x80}));          // U+1F600
    EXPECT_FALSE(ok({0xc0, 0xaf}));                     // overlong '/'
    EXPECT_FALSE(ok({0xe0, 0x80, 0xaf}));               // overlong 3-byte
    EXPECT_FALSE(ok({0xed, 0xa0, 0x80}));               // surrogate U+D800
    EXPECT_FALSE(ok({0xf4, 0x90, 0x80, 0x80}));         // above U+10FFFF
    EXPECT_FALSE(ok({0xe2, 0x82}));                     // truncated sequence
    EXPECT_FALSE(ok({0x80}));                           // lone continuation byte
    EXPECT_FALSE(ok({0xe2, 0x28, 0xa1}));               // bad continuation
}

}  // namespace
}  // namespace gregor::protocol
