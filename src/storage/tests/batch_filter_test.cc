// Goal: filter_batch rewrites a v2 batch the way Kafka's cleaner does (reference:
// kafka-log-compaction.md §4.3, §5): untouched batches byte for byte, rebuilt ones with the
// same identity (base offset, last offset, producer fields, leader epoch, attributes) and
// the survivors unchanged, empty batches in writeEmptyHeader's layout, the delete horizon
// stamped once with absolute timestamps preserved; bad bytes are errors, never crashes.
// Method: batches from protocol::batch_builder in every codec, filtered by various
// predicates, read back with model::validate_batch and protocol::batch_records.
#include "storage/batch_filter.h"

#include "base/crc32c.h"
#include "protocol/records/batch_records.h"
#include "protocol/records/tests/test_records.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

namespace gregor::storage {
namespace {

using model::compression_type;
using protocol::testing::record_spec;
using protocol::testing::to_string;

constexpr std::size_t max_batch = 8 << 20;
constexpr std::size_t max_decompressed = 8 << 20;
constexpr compression_type all_codecs[] = {compression_type::none, compression_type::gzip,
                                           compression_type::snappy, compression_type::lz4,
                                           compression_type::zstd};

// Keys k0..k4 repeating, every 7th record a tombstone, every 3rd with headers, timestamps
// going back and forth around 1.7e12.
std::vector<record_spec> specs_of(int n) {
    std::vector<record_spec> out;
    for (int i = 0; i < n; ++i) {
        record_spec r;
        r.key = "k" + std::to_string(i % 5);
        if (i % 7 != 3) {
            r.value = "value-" + std::to_string(i) + std::string(static_cast<std::size_t>(i), 'v');
        }
        if (i % 3 == 0) {
            r.headers.push_back(
                {"h" + std::to_string(i), i % 2 == 0 ? "x" : std::optional<std::string>()});
        }
        r.timestamp = 1'700'000'000'000 + i * 10 - (i % 4 == 1 ? 5000 : 0);
        out.push_back(std::move(r));
    }
    return out;
}

protocol::batch_options options_of(compression_type codec) {
    protocol::batch_options o;
    o.compression = codec;
    o.base_offset = model::offset{1000};
    o.partition_leader_epoch = model::leader_epoch{7};
    o.producer = model::producer_id{42};
    o.producer_epoch = 3;
    o.base_sequence = 100;
    return o;
}

model::record_batch_header header_of(bytes_view batch) {
    auto h = model::validate_batch(batch, max_batch, model::count_rule::at_most);
    GREGOR_ASSERT(h.has_value(), "invalid batch: {}", h.err().to_string());
    return *h;
}

// Options by field (designated initializers that leave fields out trip
// -Wmissing-field-initializers).
filter_options opts_with(bool retain_empty, std::optional<model::timestamp_ms> horizon = {},
                         bool stamp_without_tombstone = false) {
    filter_options o;
    o.decompressed_bytes_max = max_decompressed;
    o.retain_empty = retain_empty;
    o.stamp_horizon = horizon;
    o.stamp_without_tombstone = stamp_without_tombstone;
    return o;
}

struct filtered {
    filter_result res;
    bytes out;
};

filtered run(bytes_view batch, const std::function<bool(const filter_record&)>& keep,
             filter_options opts = {}) {
    opts.decompressed_bytes_max = max_decompressed;
    filtered f;
    f.out = {0xAA, 0xBB};  // output is appended after what the caller has
    auto r = filter_batch(header_of(batch), batch, opts, keep, f.out);
    GREGOR_ASSERT(r.has_value(), "filter failed: {}", r.err().to_string());
    GREGOR_ASSERT(f.out[0] == 0xAA && f.out[1] == 0xBB, "prefix overwritten");
    f.out.erase(f.out.begin(), f.out.begin() + 2);
    f.res = *r;
    return f;
}

// Checks that `out` is one valid batch with `in`'s identity holding exactly the specs whose
// index is in `kept`, with their original offsets, keys, values, headers and timestamps.
void expect_survivors(const model::record_batch_header& in, bytes_view out,
                      const std::vector<record_spec>& specs, const std::vector<int>& kept) {
    auto h = model::validate_batch(out, max_batch, model::count_rule::at_most);
    ASSERT_TRUE(h.has_value()) << h.err().to_string();
    ASSERT_EQ(h->size_bytes(), out.size());
    EXPECT_EQ(h->base_offset, in.base_offset);
    EXPECT_EQ(h->last_offset(), in.last_offset());
    EXPECT_EQ(h->partition_leader_epoch, in.partition_leader_epoch);
    EXPECT_EQ(h->producer, in.producer);
    EXPECT_EQ(h->producer_epoch, in.producer_epoch);
    EXPECT_EQ(h->base_sequence, in.base_sequence);
    EXPECT_EQ(h->attributes & ~delete_horizon_bit, in.attributes & ~delete_horizon_bit);
    EXPECT_EQ(h->max_timestamp, in.max_timestamp);
    EXPECT_EQ(h->record_count, static_cast<std::int32_t>(kept.size()));
    auto recs = protocol::batch_records::open(*h, out, max_decompressed);
    ASSERT_TRUE(recs.has_value()) << recs.err().to_string();
    protocol::record_reader reader = recs->records();
    for (int i : kept) {
        auto r = reader.next();
        ASSERT_TRUE(r.has_value()) << r.err().to_string();
        ASSERT_TRUE(r->has_value());
        const protocol::record_view& v = **r;
        const record_spec& s = specs[static_cast<std::size_t>(i)];
        EXPECT_EQ(recs->offset_of(v), in.base_offset + i);
        EXPECT_EQ(to_string(v.key), s.key);
        EXPECT_EQ(to_string(v.value), s.value);
        EXPECT_EQ(recs->timestamp_of(v), model::timestamp_ms{s.timestamp}) << "record " << i;
        ASSERT_EQ(static_cast<std::size_t>(v.headers.size()), s.headers.size());
        std::size_t n = 0;
        for (const auto& hv : v.headers) {
            EXPECT_EQ(hv.key, s.headers[n].first);
            EXPECT_EQ(to_string(hv.value), s.headers[n].second);
            ++n;
        }
    }
    auto end = reader.next();
    ASSERT_TRUE(end.has_value());
    EXPECT_FALSE(end->has_value());
}

std::vector<int> indexes_where(int n, const std::function<bool(int)>& p) {
    std::vector<int> out;
    for (int i = 0; i < n; ++i) {
        if (p(i)) {
            out.push_back(i);
        }
    }
    return out;
}

TEST(batch_filter, keeping_every_record_copies_the_batch_byte_for_byte) {
    const auto specs = specs_of(30);
    for (compression_type codec : all_codecs) {
        const bytes batch = protocol::testing::build(specs, options_of(codec));
        const filtered f = run(batch, [](const filter_record&) { return true; });
        EXPECT_EQ(f.res.kind, filter_kind::unchanged);
        EXPECT_EQ(f.res.records_kept, 30);
        EXPECT_EQ(f.res.records_dropped, 0);
        EXPECT_TRUE(f.res.kept_tombstone);
        EXPECT_FALSE(f.res.stamped_horizon);
        EXPECT_EQ(f.res.bytes_written, batch.size());
        EXPECT_EQ(f.out, batch);
    }
}

TEST(batch_filter, rebuilt_batches_keep_their_identity_and_the_survivors) {
    const int n = 40;
    const auto specs = specs_of(n);
    const std::vector<std::pair<std::string, std::function<bool(int)>>> predicates = {
        {"even", [](int i) { return i % 2 == 0; }},
        {"last only", [](int i) { return i == n - 1; }},
        {"first only", [](int i) { return i == 0; }},
        {"latest per key", [](int i) { return i >= n - 5; }},
        {"no tombstones", [](int i) { return i % 7 != 3; }},
    };
    for (compression_type codec : all_codecs) {
        const bytes batch = protocol::testing::build(specs, options_of(codec));
        const auto in = header_of(batch);
        for (const auto& [name, pred] : predicates) {
            SCOPED_TRACE(name + " codec " + std::to_string(static_cast<int>(codec)));
            std::vector<std::int64_t> seen;
            const filtered f = run(batch, [&](const filter_record& r) {
                seen.push_back(r.offset());
                const int i = static_cast<int>(r.offset() - 1000);
                EXPECT_EQ(to_string(r.key), specs[static_cast<std::size_t>(i)].key);
                EXPECT_EQ(r.tombstone, !specs[static_cast<std::size_t>(i)].value.has_value());
                return pred(i);
            });
            ASSERT_EQ(seen.size(), static_cast<std::size_t>(n));
            EXPECT_EQ(seen.front(), 1000);
            EXPECT_EQ(seen.back(), 1000 + n - 1);
            const auto kept = indexes_where(n, pred);
            EXPECT_EQ(f.res.kind, filter_kind::rebuilt);
            EXPECT_EQ(f.res.records_kept, static_cast<std::int32_t>(kept.size()));
            EXPECT_EQ(f.res.records_dropped, n - static_cast<std::int32_t>(kept.size()));
            EXPECT_EQ(f.res.bytes_written, f.out.size());
            EXPECT_EQ(f.res.kept_tombstone,
                      std::any_of(kept.begin(), kept.end(), [](int i) { return i % 7 == 3; }));
            EXPECT_EQ(header_of(f.out).base_timestamp, in.base_timestamp);
            expect_survivors(in, f.out, specs, kept);
        }
    }
}

TEST(batch_filter, transactional_control_and_log_append_time_attributes_survive) {
    auto opts = options_of(compression_type::lz4);
    opts.transactional = true;
    opts.ts_type = model::timestamp_type::log_append_time;
    const auto specs = specs_of(10);
    const bytes batch = protocol::testing::build(specs, opts);
    const auto in = header_of(batch);
    const filtered f = run(batch, [](const filter_record& r) { return r.offset() % 3 == 0; });
    ASSERT_EQ(f.res.kind, filter_kind::rebuilt);
    const auto out = header_of(f.out);
    EXPECT_EQ(out.attributes, in.attributes);
    EXPECT_TRUE(out.is_transactional());
    EXPECT_EQ(out.ts_type(), model::timestamp_type::log_append_time);
    auto recs = protocol::batch_records::open(out, f.out, max_decompressed);
    ASSERT_TRUE(recs.has_value());
    auto r = recs->records().next();
    ASSERT_TRUE(r.has_value() && r->has_value());
    EXPECT_EQ(recs->timestamp_of(**r), in.max_timestamp);
}

TEST(batch_filter, all_dropped_writes_nothing_or_an_empty_batch) {
    for (compression_type codec : all_codecs) {
        auto opts = options_of(codec);
        opts.transactional = true;
        opts.ts_type = model::timestamp_type::log_append_time;
        const bytes batch = protocol::testing::build(specs_of(12), opts);
        const auto in = header_of(batch);
        const auto none = [](const filter_record&) { return false; };
        const filtered dropped = run(batch, none);
        EXPECT_EQ(dropped.res.kind, filter_kind::dropped);
        EXPECT_EQ(dropped.res.records_dropped, 12);
        EXPECT_EQ(dropped.res.bytes_written, 0U);
        EXPECT_TRUE(dropped.out.empty());

        const filtered empty = run(batch, none, opts_with(true));
        EXPECT_EQ(empty.res.kind, filter_kind::empty);
        ASSERT_EQ(empty.out.size(), model::batch_header_bytes);
        EXPECT_EQ(empty.res.bytes_written, model::batch_header_bytes);
        const auto h = header_of(empty.out);  // CRC valid, at_most count rule
        EXPECT_EQ(h.base_offset, in.base_offset);
        EXPECT_EQ(h.last_offset_delta, in.last_offset_delta);
        EXPECT_EQ(h.partition_leader_epoch, in.partition_leader_epoch);
        EXPECT_EQ(h.producer, in.producer);
        EXPECT_EQ(h.producer_epoch, in.producer_epoch);
        EXPECT_EQ(h.base_sequence, in.base_sequence);
        EXPECT_EQ(h.record_count, 0);
        EXPECT_EQ(h.attributes, 0x08 | 0x10);  // log append time, transactional; no codec
        EXPECT_EQ(h.base_timestamp, in.max_timestamp);
        EXPECT_EQ(h.max_timestamp, in.max_timestamp);
        auto recs = protocol::batch_records::open(h, empty.out, max_decompressed);
        ASSERT_TRUE(recs.has_value());
        auto r = recs->records().next();
        ASSERT_TRUE(r.has_value());
        EXPECT_FALSE(r->has_value());

        // An empty batch filtered again stays empty (retained) or goes (not retained).
        EXPECT_EQ(run(empty.out, none, opts_with(true)).out, empty.out);
        EXPECT_EQ(run(empty.out, none).res.kind, filter_kind::dropped);
    }
}

TEST(batch_filter, keep_last_record_keeps_the_last_one_when_nothing_else_survives) {
    const auto none = [](const filter_record&) { return false; };
    for (compression_type codec : all_codecs) {
        const auto specs = specs_of(12);
        const bytes batch = protocol::testing::build(specs, options_of(codec));
        auto opts = opts_with(true);
        opts.keep_last_record = true;
        const filtered f = run(batch, none, opts);
        EXPECT_EQ(f.res.kind, filter_kind::rebuilt);
        EXPECT_EQ(f.res.records_kept, 1);
        EXPECT_EQ(f.res.records_dropped, 11);
        expect_survivors(header_of(batch), f.out, specs, {11});
        // When some record survives, the option changes nothing.
        const auto first = [](const filter_record& r) { return r.offset() % 12 == 0; };
        EXPECT_EQ(run(batch, first, opts).out, run(batch, first, opts_with(true)).out);
    }
}

TEST(batch_filter, the_delete_horizon_is_stamped_once_and_keeps_absolute_timestamps) {
    const model::timestamp_ms horizon{1'800'000'000'000};
    const auto specs = specs_of(20);
    for (compression_type codec : all_codecs) {
        const bytes batch = protocol::testing::build(specs, options_of(codec));
        const auto in = header_of(batch);
        EXPECT_FALSE(delete_horizon(in).has_value());
        const auto all = [](const filter_record&) { return true; };
        const filtered f = run(batch, all, opts_with(false, horizon));
        EXPECT_EQ(f.res.kind, filter_kind::rebuilt);
        EXPECT_TRUE(f.res.stamped_horizon);
        const auto h = header_of(f.out);
        EXPECT_EQ(h.attributes, in.attributes | delete_horizon_bit);
        EXPECT_EQ(h.base_timestamp, horizon);
        EXPECT_EQ(delete_horizon(h), horizon);
        expect_survivors(in, f.out, specs, indexes_where(20, [](int) { return true; }));

        // Already stamped: a later pass copies it as it is, or rebuilds it keeping the bit.
        const filtered again = run(f.out, all, opts_with(false, horizon + 1000));
        EXPECT_EQ(again.res.kind, filter_kind::unchanged);
        EXPECT_EQ(again.out, f.out);
        const auto odd = [](int i) { return i % 2 == 1; };
        const filtered fewer = run(
            f.out, [&](const filter_record& r) { return odd(static_cast<int>(r.offset() - 1000)); },
            opts_with(false, horizon + 1000));
        EXPECT_EQ(fewer.res.kind, filter_kind::rebuilt);
        EXPECT_FALSE(fewer.res.stamped_horizon);
        EXPECT_EQ(delete_horizon(header_of(fewer.out)), horizon);
        expect_survivors(in, fewer.out, specs, indexes_where(20, odd));
    }
}

TEST(batch_filter, the_horizon_needs_a_surviving_tombstone_unless_asked) {
    const model::timestamp_ms horizon{5};  // below the records' timestamps: negative deltas
    const auto specs = specs_of(20);
    const bytes batch = protocol::testing::build(specs, options_of(compression_type::zstd));
    const auto no_tombstone = [](const filter_record& r) { return !r.tombstone; };
    const filtered plain = run(batch, no_tombstone, opts_with(false, horizon));
    EXPECT_EQ(plain.res.kind, filter_kind::rebuilt);
    EXPECT_FALSE(plain.res.kept_tombstone);
    EXPECT_FALSE(plain.res.stamped_horizon);
    EXPECT_FALSE(delete_horizon(header_of(plain.out)).has_value());

    const filtered forced = run(batch, no_tombstone, opts_with(false, horizon, true));
    EXPECT_TRUE(forced.res.stamped_horizon);
    EXPECT_EQ(delete_horizon(header_of(forced.out)), horizon);
    expect_survivors(header_of(batch), forced.out, specs,
                     indexes_where(20, [](int i) { return i % 7 != 3; }));

    // All dropped: nothing to stamp, the empty batch carries no horizon.
    const filtered empty = run(
        batch, [](const filter_record&) { return false; }, opts_with(true, horizon));
    EXPECT_FALSE(empty.res.stamped_horizon);
    EXPECT_FALSE(delete_horizon(header_of(empty.out)).has_value());
}

TEST(batch_filter, random_predicates_in_every_codec) {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 60; ++round) {
        const int n = 1 + static_cast<int>(rng() % 60);
        const auto specs = specs_of(n);
        const compression_type codec = all_codecs[rng() % 5];
        const bytes batch = protocol::testing::build(specs, options_of(codec));
        std::vector<bool> keep(static_cast<std::size_t>(n));
        for (auto&& k : keep) {
            k = rng() % 3 != 0;
        }
        filter_options opts;
        if (rng() % 2 == 0) {
            opts.stamp_horizon =
                model::timestamp_ms{static_cast<std::int64_t>(rng() % (1LL << 42))};
        }
        const filtered f = run(
            batch,
            [&](const filter_record& r) {
                return keep[static_cast<std::size_t>(r.offset() - 1000)];
            },
            opts);
        const auto kept =
            indexes_where(n, [&](int i) { return keep[static_cast<std::size_t>(i)]; });
        if (kept.empty()) {
            EXPECT_EQ(f.res.kind, filter_kind::dropped);
            continue;
        }
        expect_survivors(header_of(batch), f.out, specs, kept);
    }
}

// Recomputes the CRC of a batch whose covered bytes were edited.
void fix_crc(bytes& batch) {
    const std::uint32_t crc = crc32c(bytes_view(batch).subspan(model::batch_crc_start));
    for (int i = 0; i < 4; ++i) {
        batch[17 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
    }
}

TEST(batch_filter, malformed_records_and_compressed_garbage_are_errors) {
    const auto specs = specs_of(8);
    const auto all = [](const filter_record&) { return false; };
    const filter_options opts = opts_with(true);
    std::mt19937_64 rng(11);
    for (compression_type codec : all_codecs) {
        const bytes good = protocol::testing::build(specs, options_of(codec));
        int errors = 0;
        for (int trial = 0; trial < 200; ++trial) {
            bytes bad = good;
            const std::size_t at = model::batch_header_bytes + rng() % (bad.size() - 61);
            bad[at] = static_cast<std::uint8_t>(bad[at] ^ (1U << (rng() % 8)));
            fix_crc(bad);
            bytes out = {1, 2, 3};
            auto r = filter_batch(header_of(bad), bad, opts, all, out);
            auto k = records_without_key(header_of(bad), bad, max_decompressed);
            if (!r.has_value()) {
                ++errors;
                EXPECT_EQ(out, (bytes{1, 2, 3}));  // nothing appended
            }
            (void)k;  // either answer or an error; it must not crash
        }
        EXPECT_GT(errors, 0) << "codec " << static_cast<int>(codec);
    }
    // A decompression bound smaller than the records is an error.
    const bytes big = protocol::testing::build(specs_of(50), options_of(compression_type::gzip));
    bytes out;
    filter_options tiny = opts_with(false);
    tiny.decompressed_bytes_max = 100;
    auto r = filter_batch(header_of(big), big, tiny, all, out);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.err().code, protocol::records_errc::decompressed_too_large);
    EXPECT_TRUE(out.empty());
}

TEST(batch_filter, records_without_a_key_are_found) {
    auto specs = specs_of(6);
    for (compression_type codec : all_codecs) {
        auto with_keys = protocol::testing::build(specs, options_of(codec));
        auto r = records_without_key(header_of(with_keys), with_keys, max_decompressed);
        ASSERT_TRUE(r.has_value());
        EXPECT_TRUE(r->empty());
        auto keyless_specs = specs;
        keyless_specs[4].key.reset();
        auto keyless = protocol::testing::build(keyless_specs, options_of(codec));
        r = records_without_key(header_of(keyless), keyless, max_decompressed);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(*r, (std::vector<std::int32_t>{4}));
        const filtered f =
            run(keyless, [](const filter_record& rec) { return rec.key.has_value(); });
        EXPECT_EQ(f.res.records_dropped, 1);
    }
}

}  // namespace
}  // namespace gregor::storage
