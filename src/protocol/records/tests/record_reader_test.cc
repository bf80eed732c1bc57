// Goal: record_reader yields every field of every record exactly as written, and refuses
// each kind of malformed records section (bad lengths, counts, header counts, trailing
// bytes) with a records_errc instead of reading out of bounds.
// Method: sections produced by batch_builder (uncompressed) and hand-written records.
#include "protocol/records/record_reader.h"

#include "protocol/records/tests/test_records.h"

#include <gtest/gtest.h>

namespace gregor::protocol {
namespace {

using testing::as_bytes;
using testing::record_spec;
using testing::to_string;

bytes_view section_of(const bytes& batch) {
    return bytes_view(batch).subspan(model::batch_header_bytes);
}

std::error_code read_all_code(bytes_view section, std::int32_t count) {
    return validate_records(section, count).code();
}

TEST(record_reader, yields_keys_values_headers_and_deltas) {
    const bytes batch = testing::build({
        {"k0", "v0", {{"h1", "x"}, {"h2", std::nullopt}}, 1000},
        {std::nullopt, "v1", {}, 1005},
        {"k2", std::nullopt, {{"", ""}}, 990},
    });
    record_reader reader(section_of(batch), 3);
    auto r0 = reader.next();
    ASSERT_TRUE(r0.has_value() && r0->has_value());
    EXPECT_EQ(to_string((*r0)->key), "k0");
    EXPECT_EQ(to_string((*r0)->value), "v0");
    EXPECT_EQ((*r0)->offset_delta, 0);
    EXPECT_EQ((*r0)->timestamp_delta, 0);
    ASSERT_EQ((*r0)->headers.size(), 2);
    auto it = (*r0)->headers.begin();
    EXPECT_EQ(it->key, "h1");
    EXPECT_EQ(to_string(it->value), "x");
    ++it;
    EXPECT_EQ(it->key, "h2");
    EXPECT_FALSE(it->value.has_value());
    ++it;
    EXPECT_EQ(it, (*r0)->headers.end());

    auto r1 = reader.next();
    ASSERT_TRUE(r1.has_value() && r1->has_value());
    EXPECT_FALSE((*r1)->key.has_value());
    EXPECT_EQ((*r1)->offset_delta, 1);
    EXPECT_EQ((*r1)->timestamp_delta, 5);
    EXPECT_TRUE((*r1)->headers.empty());

    auto r2 = reader.next();
    ASSERT_TRUE(r2.has_value() && r2->has_value());
    EXPECT_FALSE((*r2)->value.has_value());
    EXPECT_EQ((*r2)->timestamp_delta, -10);
    ASSERT_EQ((*r2)->headers.size(), 1);
    EXPECT_EQ((*r2)->headers.begin()->key, "");
    EXPECT_EQ(to_string((*r2)->headers.begin()->value), "");

    auto end = reader.next();
    ASSERT_TRUE(end.has_value());
    EXPECT_FALSE(end->has_value());
    EXPECT_EQ(reader.records_read(), 3);
}

TEST(record_reader, wire_views_tile_the_section) {
    const bytes batch = testing::build({{"a", "b", {}, 0}, {"c", "d", {{"e", "f"}}, 0}});
    const bytes_view section = section_of(batch);
    record_reader reader(section, 2);
    std::size_t covered = 0;
    while (auto r = reader.next()) {
        if (!r->has_value()) {
            break;
        }
        EXPECT_EQ((*r)->wire.data(), section.data() + covered);
        covered += (*r)->wire.size();
    }
    EXPECT_EQ(covered, section.size());
}

TEST(record_reader, count_above_body_is_a_mismatch) {
    const bytes batch = testing::build({{"a", "b", {}, 0}});
    EXPECT_EQ(read_all_code(section_of(batch), 2), records_errc::record_count_mismatch);
}

TEST(record_reader, count_below_body_is_a_mismatch) {
    const bytes batch = testing::build({{"a", "b", {}, 0}, {"c", "d", {}, 0}});
    EXPECT_EQ(read_all_code(section_of(batch), 1), records_errc::record_count_mismatch);
    EXPECT_EQ(read_all_code({}, 1), records_errc::record_count_mismatch);
    EXPECT_TRUE(validate_records({}, 0).has_value());
}

TEST(record_reader, every_truncation_of_a_section_is_an_error) {
    const bytes batch =
        testing::build({{"key", "value", {{"h", "v"}}, 0}, {"k", "v", {{"h", std::nullopt}}, 7}});
    const bytes_view section = section_of(batch);
    for (std::size_t n = 0; n < section.size(); ++n) {
        ASSERT_TRUE(validate_records(section.first(n), 2).has_error()) << n;
    }
}

// Hand-written single record: length, attributes, ts delta, offset delta, key, value, headers.
bytes one_record(std::vector<std::uint8_t> fields, int length_adjust = 0) {
    bytes out;
    records_detail::put_varint(out, static_cast<std::int64_t>(fields.size()) + length_adjust);
    out.insert(out.end(), fields.begin(), fields.end());
    return out;
}

TEST(record_reader, record_length_that_disagrees_with_fields_is_refused) {
    const std::vector<std::uint8_t> fields = {0, 0, 0, 0x01, 0x02, 'v', 0x00};
    EXPECT_TRUE(validate_records(one_record(fields), 1).has_value());
    // Length one too long: the extra byte would belong to the record but no field takes it.
    bytes longer = one_record(fields, 1);
    longer.push_back(0);
    EXPECT_EQ(read_all_code(longer, 1), records_errc::bad_record_length);
    // Length one too short: the header count falls outside the record.
    EXPECT_EQ(read_all_code(one_record(fields, -1), 1), records_errc::bad_record_length);
    // Length past the end of the section.
    EXPECT_EQ(read_all_code(one_record(fields, 5), 1), records_errc::truncated);
    // Negative length.
    bytes negative;
    records_detail::put_varint(negative, -3);
    negative.insert(negative.end(), fields.begin(), fields.end());
    EXPECT_EQ(read_all_code(negative, 1), records_errc::bad_record_length);
}

TEST(record_reader, negative_lengths_other_than_null_are_refused) {
    // key length -2
    EXPECT_EQ(read_all_code(one_record({0, 0, 0, 0x03, 0x01, 0x00}), 1),
              records_errc::bad_field_length);
    // value length -5
    EXPECT_EQ(read_all_code(one_record({0, 0, 0, 0x01, 0x09, 0x00}), 1),
              records_errc::bad_field_length);
    // header key length -1 (header keys are never null)
    EXPECT_EQ(read_all_code(one_record({0, 0, 0, 0x01, 0x01, 0x02, 0x01, 0x01}), 1),
              records_errc::bad_field_length);
    // header value -1 is a null value, accepted
    EXPECT_TRUE(
        validate_records(one_record({0, 0, 0, 0x01, 0x01, 0x02, 0x02, 'h', 0x01}), 1).has_value());
}

TEST(record_reader, header_count_negative_or_beyond_the_bytes_is_refused) {
    EXPECT_EQ(read_all_code(one_record({0, 0, 0, 0x01, 0x01, 0x01}), 1),
              records_errc::bad_header_count);
    // 1,000,000 headers claimed in a 10-byte record.
    bytes huge = {0, 0, 0, 0x01, 0x01};
    records_detail::put_varint(huge, 1'000'000);
    EXPECT_EQ(read_all_code(one_record(huge), 1), records_errc::bad_header_count);
}

TEST(record_reader, errors_are_sticky) {
    const bytes section = one_record({0, 0, 0, 0x03, 0x01, 0x00});
    record_reader reader(section, 1);
    EXPECT_TRUE(reader.next().has_error());
    EXPECT_EQ(reader.next().code(), records_errc::bad_field_length);
}

}  // namespace
}  // namespace gregor::protocol
