// Goal: the record batch v2 header contract storage and the produce path rely on: intact
// batches parse with every field, each kind of damage is refused with its own batch_errc
// (never a crash or an out-of-bounds read), out-of-CRC rewrites keep the batch valid, and
// batch_reader stops at the first bad batch with the truncation point.
// Method: batches assembled byte by byte in the test (minimal 7-byte records, CRC computed
// with crc32c), then damaged one field at a time.
#include "model/record_batch.h"

#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace gregor::model {
namespace {

constexpr std::size_t max_batch = 1024 * 1024;

void put_be(bytes& out, std::size_t at, std::uint64_t v, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i) {
        out[at + width - 1 - i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
}

void fix_crc(bytes& b) {
    const std::uint32_t crc = crc32c(bytes_view(b).subspan(batch_crc_start));
    put_be(b, 17, crc, 4);
}

// A batch of `count` null-key/null-value records, base offset `base`.
bytes make_batch(std::int32_t count, std::int64_t base = 0, std::int16_t attributes = 0) {
    bytes b(batch_header_bytes, 0);
    for (std::int32_t i = 0; i < count; ++i) {
        // length 6, attributes, ts delta 0, offset delta i (zigzag, < 64), key -1, value -1, 0
        const bytes rec = {0x0c, 0x00, 0x00, static_cast<std::uint8_t>(2 * (i % 64)),
                           0x01, 0x01, 0x00};
        b.insert(b.end(), rec.begin(), rec.end());
    }
    put_be(b, 0, static_cast<std::uint64_t>(base), 8);
    put_be(b, 8, b.size() - 12, 4);
    put_be(b, 12, 5, 4);  // leader epoch
    b[16] = 2;            // magic
    put_be(b, 21, static_cast<std::uint16_t>(attributes), 2);
    put_be(b, 23, static_cast<std::uint32_t>(count - 1), 4);  // last offset delta
    put_be(b, 27, 1000, 8);                                   // base timestamp
    put_be(b, 35, 1000 + 9, 8);                               // max timestamp
    put_be(b, 43, ~std::uint64_t{0}, 8);                      // producer id -1
    put_be(b, 51, 0xFFFF, 2);                                 // producer epoch -1
    put_be(b, 53, 0xFFFFFFFF, 4);                             // base sequence -1
    put_be(b, 57, static_cast<std::uint32_t>(count), 4);
    fix_crc(b);
    return b;
}

std::error_code validate_code(const bytes& b, count_rule rule = count_rule::exact) {
    return validate_batch(b, max_batch, rule).code();
}

TEST(record_batch, intact_batch_parses_every_header_field) {
    const bytes b = make_batch(3, 42);
    auto h = validate_batch(b, max_batch, count_rule::exact);
    ASSERT_TRUE(h.has_value()) << h.err().to_string();
    EXPECT_EQ(h->base_offset, offset{42});
    EXPECT_EQ(h->size_bytes(), b.size());
    EXPECT_EQ(h->partition_leader_epoch, leader_epoch{5});
    EXPECT_EQ(h->magic, 2);
    EXPECT_EQ(h->last_offset_delta, 2);
    EXPECT_EQ(h->last_offset(), offset{44});
    EXPECT_EQ(h->base_timestamp, timestamp_ms{1000});
    EXPECT_EQ(h->max_timestamp, timestamp_ms{1009});
    EXPECT_EQ(h->producer, producer_id{-1});
    EXPECT_EQ(h->producer_epoch, -1);
    EXPECT_EQ(h->base_sequence, -1);
    EXPECT_EQ(h->record_count, 3);
    EXPECT_EQ(h->compression(), compression_type::none);
    EXPECT_EQ(h->ts_type(), timestamp_type::create_time);
    EXPECT_FALSE(h->is_transactional());
    EXPECT_FALSE(h->is_control());
}

TEST(record_batch, attribute_bits_decode) {
    bytes b = make_batch(1, 0, 0x08 | 0x10 | 0x20 | 0x04);
    auto h = parse_batch_header(b, max_batch);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->compression(), compression_type::zstd);
    EXPECT_EQ(h->ts_type(), timestamp_type::log_append_time);
    EXPECT_TRUE(h->is_transactional());
    EXPECT_TRUE(h->is_control());
}

TEST(record_batch, every_prefix_shorter_than_the_batch_is_truncated) {
    const bytes b = make_batch(2);
    for (std::size_t n = 0; n < b.size(); ++n) {
        auto r = parse_batch_header(bytes_view(b).first(n), max_batch);
        ASSERT_EQ(r.code(), batch_errc::truncated) << n;
    }
}

TEST(record_batch, flipped_bit_anywhere_in_crc_range_is_bad_crc) {
    const bytes good = make_batch(4);
    // Bits of the attributes and counts could also trip other checks; flip inside records.
    for (std::size_t i = batch_header_bytes; i < good.size(); ++i) {
        bytes b = good;
        b[i] ^= 0x01;
        ASSERT_EQ(validate_code(b), batch_errc::bad_crc) << i;
    }
    bytes b = good;
    b[43] ^= 0x80;  // producer id
    EXPECT_EQ(validate_code(b), batch_errc::bad_crc);
}

TEST(record_batch, fields_outside_crc_do_not_affect_it) {
    bytes b = make_batch(2);
    b[3] ^= 0xFF;   // base offset
    b[14] ^= 0xFF;  // leader epoch
    EXPECT_TRUE(validate_batch(b, max_batch, count_rule::exact).has_value());
}

TEST(record_batch, magic_0_and_1_are_unsupported) {
    for (int magic : {0, 1, 3, 0xFF}) {
        bytes b = make_batch(1);
        b[16] = static_cast<std::uint8_t>(magic);
        EXPECT_EQ(parse_batch_header(b, max_batch).code(), batch_errc::unsupported_magic);
    }
    // A short legacy v1 message (its length is below the v2 header) is still "old magic".
    bytes legacy(34, 0);
    legacy[11] = 22;
    legacy[16] = 1;
    EXPECT_EQ(parse_batch_header(legacy, max_batch).code(), batch_errc::unsupported_magic);
}

TEST(record_batch, length_below_header_or_above_max_is_bad_length) {
    bytes b = make_batch(1);
    put_be(b, 8, 48, 4);
    EXPECT_EQ(parse_batch_header(b, max_batch).code(), batch_errc::bad_length);
    put_be(b, 8, 0xFFFFFFFF, 4);  // -1
    EXPECT_EQ(parse_batch_header(b, max_batch).code(), batch_errc::bad_length);
    put_be(b, 8, 0x7FFFFFFF, 4);
    EXPECT_EQ(parse_batch_header(b, max_batch).code(), batch_errc::bad_length);
    const bytes ok = make_batch(1);
    EXPECT_EQ(parse_batch_header(ok, ok.size() - 1).code(), batch_errc::bad_length);
    EXPECT_TRUE(parse_batch_header(ok, ok.size()).has_value());
}

TEST(record_batch, codec_values_above_zstd_are_bad_compression) {
    for (std::int16_t codec = 5; codec <= 7; ++codec) {
        bytes b = make_batch(1, 0, codec);
        EXPECT_EQ(parse_batch_header(b, max_batch).code(), batch_errc::bad_compression);
    }
}

TEST(record_batch, negative_last_offset_delta_is_bad_offsets) {
    bytes b = make_batch(1);
    put_be(b, 23, 0xFFFFFFFF, 4);
    fix_crc(b);
    EXPECT_EQ(validate_code(b, count_rule::at_most), batch_errc::bad_offsets);
}

TEST(record_batch, exact_rule_needs_count_equal_to_delta_plus_one) {
    bytes b = make_batch(3);
    put_be(b, 23, 3, 4);  // delta 3, count 3
    fix_crc(b);
    EXPECT_EQ(validate_code(b, count_rule::exact), batch_errc::bad_record_count);
    EXPECT_TRUE(validate_batch(b, max_batch, count_rule::at_most).has_value());
}

TEST(record_batch, count_above_delta_plus_one_or_negative_is_refused) {
    bytes b = make_batch(3);
    put_be(b, 23, 1, 4);
    fix_crc(b);
    EXPECT_EQ(validate_code(b, count_rule::at_most), batch_errc::bad_record_count);
    put_be(b, 57, 0xFFFFFFFF, 4);
    fix_crc(b);
    EXPECT_EQ(validate_code(b, count_rule::at_most), batch_errc::bad_record_count);
}

TEST(record_batch, compacted_empty_batch_is_valid_in_logs_but_not_in_produce) {
    bytes b = make_batch(0);
    put_be(b, 23, 4, 4);
    fix_crc(b);
    EXPECT_TRUE(validate_batch(b, max_batch, count_rule::at_most).has_value());
    EXPECT_EQ(validate_code(b, count_rule::exact), batch_errc::bad_record_count);
}

TEST(record_batch, uncompressed_count_that_cannot_fit_the_body_is_refused) {
    bytes b = make_batch(2);
    put_be(b, 23, 2, 4);
    put_be(b, 57, 3, 4);  // 3 records cannot fit in 14 bytes
    fix_crc(b);
    EXPECT_EQ(validate_code(b), batch_errc::bad_record_count);
    b[22] = 0x01;  // gzip: the body size says nothing about the count
    fix_crc(b);
    EXPECT_TRUE(validate_batch(b, max_batch, count_rule::exact).has_value());
}

TEST(record_batch, base_offset_and_leader_epoch_rewrite_in_place_keep_crc_valid) {
    bytes b = make_batch(2);
    set_base_offset(b, offset{1'000'000'000'000});
    set_partition_leader_epoch(b, leader_epoch{77});
    auto h = validate_batch(b, max_batch, count_rule::exact);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->base_offset, offset{1'000'000'000'000});
    EXPECT_EQ(h->partition_leader_epoch, leader_epoch{77});
}

TEST(record_batch, log_append_time_stamp_sets_type_and_max_and_recomputes_crc) {
    bytes b = make_batch(2);
    b.push_back(0xAB);  // a following byte that must be neither covered nor touched
    stamp_log_append_time(b, timestamp_ms{123456});
    EXPECT_EQ(b.back(), 0xAB);
    b.pop_back();
    auto h = validate_batch(b, max_batch, count_rule::exact);
    ASSERT_TRUE(h.has_value()) << h.err().to_string();
    EXPECT_EQ(h->ts_type(), timestamp_type::log_append_time);
    EXPECT_EQ(h->max_timestamp, timestamp_ms{123456});
    EXPECT_EQ(h->base_timestamp, timestamp_ms{1000});
}

TEST(record_batch, reader_walks_consecutive_batches_then_ends_cleanly) {
    bytes set = make_batch(1, 0);
    const bytes second = make_batch(3, 1);
    set.insert(set.end(), second.begin(), second.end());
    batch_reader reader(set, max_batch, count_rule::exact);
    auto first = reader.next();
    ASSERT_TRUE(first.has_value() && first->has_value());
    EXPECT_EQ((*first)->header.record_count, 1);
    EXPECT_EQ((*first)->bytes.data(), set.data());
    auto next = reader.next();
    ASSERT_TRUE(next.has_value() && next->has_value());
    EXPECT_EQ((*next)->header.base_offset, offset{1});
    EXPECT_EQ((*next)->bytes.size(), second.size());
    auto end = reader.next();
    ASSERT_TRUE(end.has_value());
    EXPECT_FALSE(end->has_value());
    EXPECT_EQ(reader.position(), set.size());
}

TEST(record_batch, reader_stops_at_first_bad_batch_and_reports_position) {
    bytes set = make_batch(2, 0);
    const std::size_t good_bytes = set.size();
    bytes bad = make_batch(2, 2);
    bad.back() ^= 0x40;
    set.insert(set.end(), bad.begin(), bad.end());
    const bytes third = make_batch(1, 4);
    set.insert(set.end(), third.begin(), third.end());
    batch_reader reader(set, max_batch, count_rule::exact);
    ASSERT_TRUE(reader.next().has_value());
    auto r = reader.next();
    EXPECT_EQ(r.code(), batch_errc::bad_crc);
    EXPECT_EQ(reader.position(), good_bytes);
    // Without CRC checks the same bytes pass (trusted data path).
    batch_reader trusting(set, max_batch, count_rule::exact);
    ASSERT_TRUE(trusting.next(false).has_value());
    auto t = trusting.next(false);
    ASSERT_TRUE(t.has_value() && t->has_value());
}

TEST(record_batch, reader_reports_a_torn_tail_as_truncated) {
    bytes set = make_batch(2, 0);
    const std::size_t good_bytes = set.size();
    const bytes second = make_batch(2, 2);
    set.insert(set.end(), second.begin(), second.begin() + 30);
    batch_reader reader(set, max_batch, count_rule::at_most);
    ASSERT_TRUE(reader.next().has_value());
    EXPECT_EQ(reader.next().code(), batch_errc::truncated);
    EXPECT_EQ(reader.position(), good_bytes);
}

TEST(record_batch, error_messages_name_the_problem) {
    EXPECT_EQ(make_error_code(batch_errc::bad_crc).message(), "record batch CRC mismatch");
    EXPECT_STREQ(batch_category().name(), "record_batch");
}

}  // namespace
}  // namespace gregor::model
