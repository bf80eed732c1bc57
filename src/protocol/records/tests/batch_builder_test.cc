// Goal: batch_builder produces batches that the model validator accepts with every header
// field set as asked, for every codec, and whose records read back (through batch_records)
// exactly as added, with absolute offsets and timestamps by Kafka's rules.
// Method: build, validate with model::validate_batch (exact count rule, as produce does),
// open with batch_records, compare every record.
#include "protocol/records/batch_builder.h"

#include "protocol/records/batch_records.h"
#include "protocol/records/tests/test_records.h"

#include <gtest/gtest.h>

namespace gregor::protocol {
namespace {

using model::compression_type;
using testing::record_spec;
using testing::to_string;

constexpr std::size_t max_batch = 8 << 20;

std::vector<record_spec> many_records(int n) {
    std::vector<record_spec> out;
    for (int i = 0; i < n; ++i) {
        record_spec r;
        r.key = "key-" + std::to_string(i);
        r.value = "value-" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 50), 'x');
        if (i % 3 == 0) {
            r.headers.push_back({"h" + std::to_string(i),
                                 i % 2 == 0 ? std::optional<std::string>("v") : std::nullopt});
        }
        r.timestamp = 1'700'000'000'000 + i * 3 - (i % 5 == 0 ? 100 : 0);
        out.push_back(std::move(r));
    }
    return out;
}

void expect_records_equal(const batch_records& batch, const std::vector<record_spec>& specs) {
    record_reader reader = batch.records();
    for (std::size_t i = 0; i < specs.size(); ++i) {
        auto r = reader.next();
        ASSERT_TRUE(r.has_value()) << r.err().to_string();
        ASSERT_TRUE(r->has_value()) << "missing record " << i;
        const record_view& v = **r;
        EXPECT_EQ(to_string(v.key), specs[i].key);
        EXPECT_EQ(to_string(v.value), specs[i].value);
        ASSERT_EQ(static_cast<std::size_t>(v.headers.size()), specs[i].headers.size());
        std::size_t h = 0;
        for (const record_header_view& hv : v.headers) {
            EXPECT_EQ(hv.key, specs[i].headers[h].first);
            EXPECT_EQ(to_string(hv.value), specs[i].headers[h].second);
            ++h;
        }
        EXPECT_EQ(batch.offset_of(v), batch.header().base_offset + static_cast<std::int64_t>(i));
        EXPECT_EQ(batch.timestamp_of(v), model::timestamp_ms{specs[i].timestamp});
    }
    auto end = reader.next();
    ASSERT_TRUE(end.has_value());
    EXPECT_FALSE(end->has_value());
}

TEST(batch_builder, every_codec_builds_a_valid_batch_that_reads_back) {
    const auto specs = many_records(500);
    for (compression_type codec :
         {compression_type::none, compression_type::gzip, compression_type::snappy,
          compression_type::lz4, compression_type::zstd}) {
        batch_options opts;
        opts.compression = codec;
        opts.base_offset = model::offset{1000};
        const bytes batch = testing::build(specs, opts);
        auto h = model::validate_batch(batch, max_batch, model::count_rule::exact);
        ASSERT_TRUE(h.has_value()) << h.err().to_string();
        EXPECT_EQ(h->compression(), codec);
        EXPECT_EQ(h->record_count, 500);
        EXPECT_EQ(h->last_offset_delta, 499);
        EXPECT_EQ(h->size_bytes(), batch.size());
        auto opened = batch_records::open(*h, batch, 1 << 20);
        ASSERT_TRUE(opened.has_value()) << opened.err().to_string();
        expect_records_equal(*opened, specs);
    }
}

TEST(batch_builder, header_fields_follow_the_options) {
    batch_options opts;
    opts.base_offset = model::offset{7};
    opts.partition_leader_epoch = model::leader_epoch{3};
    opts.producer = model::producer_id{99};
    opts.producer_epoch = 2;
    opts.base_sequence = 41;
    opts.transactional = true;
    const bytes batch = testing::build({{"a", "b", {}, 500}, {"c", "d", {}, 400}}, opts);
    auto h = model::validate_batch(batch, max_batch, model::count_rule::exact);
    ASSERT_TRUE(h.has_value()) << h.err().to_string();
    EXPECT_EQ(h->base_offset, model::offset{7});
    EXPECT_EQ(h->partition_leader_epoch, model::leader_epoch{3});
    EXPECT_EQ(h->producer, model::producer_id{99});
    EXPECT_EQ(h->producer_epoch, 2);
    EXPECT_EQ(h->base_sequence, 41);
    EXPECT_TRUE(h->is_transactional());
    EXPECT_FALSE(h->is_control());
    EXPECT_EQ(h->base_timestamp, model::timestamp_ms{500});
    EXPECT_EQ(h->max_timestamp, model::timestamp_ms{500});
}

TEST(batch_builder, defaults_are_a_plain_producer_batch) {
    const bytes batch = testing::build({{std::nullopt, std::nullopt, {}, 1}});
    auto h = model::validate_batch(batch, max_batch, model::count_rule::exact);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->producer, model::producer_id{-1});
    EXPECT_EQ(h->producer_epoch, -1);
    EXPECT_EQ(h->base_sequence, -1);
    EXPECT_EQ(h->partition_leader_epoch, model::no_leader_epoch);
    EXPECT_EQ(h->ts_type(), model::timestamp_type::create_time);
}

TEST(batch_builder, control_and_log_append_time_flags) {
    batch_options opts;
    opts.control = true;
    opts.ts_type = model::timestamp_type::log_append_time;
    const bytes batch = testing::build({{"k", "v", {}, 10}, {"k", "v", {}, 30}}, opts);
    auto h = model::validate_batch(batch, max_batch, model::count_rule::exact);
    ASSERT_TRUE(h.has_value());
    EXPECT_TRUE(h->is_control());
    EXPECT_EQ(h->ts_type(), model::timestamp_type::log_append_time);
    auto opened = batch_records::open(*h, batch, 1 << 20);
    ASSERT_TRUE(opened.has_value());
    auto reader = opened->records();
    auto first = reader.next();
    ASSERT_TRUE(first.has_value() && first->has_value());
    // Log-append-time: every record carries the batch's max timestamp.
    EXPECT_EQ(opened->timestamp_of(**first), model::timestamp_ms{30});
}

TEST(batch_builder, records_bytes_tracks_the_uncompressed_section) {
    batch_builder b({});
    EXPECT_EQ(b.records_bytes(), 0U);
    const std::string value(100, 'v');
    b.add({std::nullopt, testing::as_bytes(value), {}, model::timestamp_ms{0}});
    EXPECT_EQ(b.record_count(), 1);
    // length(2) attributes ts offset key(-1) value-length(2) value headers
    EXPECT_EQ(b.records_bytes(), 2U + 1 + 1 + 1 + 1 + 2 + 100 + 1);
    auto built = b.build();
    ASSERT_TRUE(built.has_value());
    EXPECT_EQ(built->size(), model::batch_header_bytes + b.records_bytes());
}

TEST(batch_builder, opening_a_batch_respects_the_decompression_limit) {
    std::vector<record_spec> specs(100, record_spec{"k", std::string(1000, 'z'), {}, 0});
    batch_options opts;
    opts.compression = compression_type::zstd;
    const bytes batch = testing::build(specs, opts);
    auto h = model::validate_batch(batch, max_batch, model::count_rule::exact);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(batch_records::open(*h, batch, 50'000).code(), records_errc::decompressed_too_large);
}

}  // namespace
}  // namespace gregor::protocol
