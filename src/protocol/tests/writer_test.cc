// Goal: the writer produces Kafka's encodings, keeps records by reference in wire order,
// and reports values that do not fit a version instead of writing bad bytes.
// Method: byte-exact expectations for primitives; pieces of a wire_buffer inspected.
#include "protocol/reader.h"
#include "protocol/writer.h"

#include <gtest/gtest.h>

#include <limits>

namespace gregor::protocol {
namespace {

bytes flat(writer&& w) { return std::move(w).finish().flatten(); }

TEST(writer, varints_match_kafka_examples) {
    writer w;
    w.write_uvarint(300);
    w.write_varint(0);
    w.write_varint(-1);
    w.write_varint(1);
    w.write_varint(-64);
    w.write_varint(64);
    EXPECT_EQ(flat(std::move(w)), (bytes{0xac, 0x02, 0x00, 0x01, 0x02, 0x7f, 0x80, 0x01}));
}

TEST(writer, varint_extremes_round_trip) {
    writer w;
    w.write_varint(std::numeric_limits<std::int32_t>::min());
    w.write_varint(std::numeric_limits<std::int32_t>::max());
    w.write_varlong(std::numeric_limits<std::int64_t>::min());
    w.write_varlong(std::numeric_limits<std::int64_t>::max());
    w.write_uvarint(std::numeric_limits<std::uint32_t>::max());
    bytes out = flat(std::move(w));
    reader r(out);
    EXPECT_EQ(r.read_varint(), std::numeric_limits<std::int32_t>::min());
    EXPECT_EQ(r.read_varint(), std::numeric_limits<std::int32_t>::max());
    EXPECT_EQ(r.read_varlong(), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(r.read_varlong(), std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(r.read_uvarint(), std::numeric_limits<std::uint32_t>::max());
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
}

TEST(writer, strings_and_nulls_compact_and_not) {
    writer w;
    w.write_string("hi", false);
    w.write_nullable_string(std::nullopt, false, true);
    w.write_string("ok", true);
    w.write_nullable_string(std::nullopt, true, true);
    w.write_nullable_bytes(std::nullopt, false, true);
    EXPECT_EQ(flat(std::move(w)),
              (bytes{0x00, 0x02, 'h', 'i', 0xff, 0xff, 0x03, 'o', 'k', 0x00,
                     0xff, 0xff, 0xff, 0xff}));
}

TEST(writer, records_are_spliced_in_wire_order_without_copying) {
    bytes a = {1, 2};
    bytes b = {3};
    writer w;
    w.write_int8(9);
    w.write_records(records_ref(a), false, false);
    w.write_records(records_ref(b), true, false);
    w.write_int8(8);
    wire_buffer out = std::move(w).finish();
    std::vector<const std::uint8_t*> starts;
    out.for_each_piece([&](bytes_view piece) { starts.push_back(piece.data()); });
    // owned [9, len], a, owned [len], b, owned [8]
    ASSERT_EQ(starts.size(), 5u);
    EXPECT_EQ(starts[1], a.data());
    EXPECT_EQ(starts[3], b.data());
    EXPECT_EQ(out.size_bytes(), 1u + 4u + 2u + 1u + 1u + 1u);
    EXPECT_EQ(out.flatten(), (bytes{9, 0, 0, 0, 2, 1, 2, 0x02, 3, 8}));
}

TEST(writer, size_prefix_is_patched_in_place) {
    writer w;
    std::size_t at = w.reserve_int32();
    w.write_int16(7);
    w.patch_int32(at, 2);
    EXPECT_EQ(flat(std::move(w)), (bytes{0, 0, 0, 2, 0, 7}));
}

TEST(writer, a_long_string_in_a_non_compact_field_fails_instead_of_truncating) {
    writer w;
    w.write_string(std::string(40000, 'x'), false);
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().code, errc::value_too_large);
    writer compact;
    compact.write_string(std::string(40000, 'x'), true);
    EXPECT_TRUE(compact.ok());
}

TEST(writer, null_where_the_version_forbids_it_fails) {
    writer w;
    w.write_nullable_string(std::nullopt, false, false);
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().code, errc::unexpected_null);
    writer a;
    a.write_nullable_array(std::optional<std::vector<int>>{}, true, false, [](int) {});
    EXPECT_EQ(a.error().code, errc::unexpected_null);
}

TEST(writer, tagged_fields_merge_known_and_unknown_in_tag_order) {
    writer w;
    tagged_writer tw;
    tw.begin(2).write_int8(5);
    std::vector<tagged_field> unknown = {{1, {0xaa}}, {7, {}}};
    tw.finish(w, unknown);
    EXPECT_EQ(flat(std::move(w)), (bytes{3, 1, 1, 0xaa, 2, 1, 5, 7, 0}));
}

}  // namespace
}  // namespace gregor::protocol
