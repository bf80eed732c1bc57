// Goal: the layouts log compaction leaves behind are valid logs: batches with record_count 0
// (Kafka's retained empty batches), offset gaps between consecutive batches, and batches
// whose records do not cover every offset up to their last offset. They are appended by a
// follower, read back, and survive an unclean open's recovery scan unchanged; a segment
// ending in an empty batch still meets its successor, as recovery requires.
// Method: batches filtered by filter_batch from test batches, appended to an in-memory log,
// then the log is dropped without close() and reopened from recovery point 0.
#include "storage/batch_filter.h"
#include "storage/log.h"
#include "storage/names.h"
#include "storage/segment.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

namespace gregor::storage {
namespace {

using test::make_batch;
using test::off;
using test::ts;

const model::topic_partition tp{"t", model::partition_id(3)};
const std::string dir = "/d/t-3";

// A batch of `records` records at `base`, filtered through `keep` (by offset).
bytes filtered_batch(std::int64_t base, int records, bool (*keep)(std::int64_t)) {
    const bytes in = make_batch({.records = records, .base_offset = base});
    auto h = model::validate_batch(in, 1 << 20, model::count_rule::at_most);
    GREGOR_ASSERT(h.has_value(), "test batch invalid");
    filter_options opts;
    opts.decompressed_bytes_max = 1 << 20;
    opts.retain_empty = true;
    bytes out;
    auto r = filter_batch(
        *h, in, opts, [&](const filter_record& rec) { return keep(rec.offset()); }, out);
    GREGOR_ASSERT(r.has_value(), "filter failed");
    return out;
}

std::unique_ptr<log> open_log(test::memory_env& env, log_open_state st) {
    log_config cfg;
    cfg.segment_index_bytes = 1024;
    auto r = log::open(env.ctx(), dir, tp, cfg, st, ts(10'000));
    EXPECT_TRUE(r) << r.err().to_string();
    return r ? std::move(*r) : nullptr;
}

std::vector<bytes> read_from(log& l, std::int64_t from) {
    std::vector<bytes> out;
    auto next = off(from);
    while (next < l.log_end_offset()) {
        auto r = l.read(next, 1, l.log_end_offset());
        EXPECT_TRUE(r) << r.err().to_string();
        if (!r || r->slice.length == 0) {
            break;
        }
        out.push_back(*r->slice.read_all());
        next = r->next_offset;
    }
    return out;
}

TEST(compacted_layout, empty_batches_and_offset_gaps_are_appended_read_and_recovered) {
    const std::vector<bytes> batches = {
        filtered_batch(0, 5, [](std::int64_t o) { return o != 2; }),    // [0, 4] without 2
        filtered_batch(5, 5, [](std::int64_t) { return false; }),       // empty [5, 9]
        make_batch({.records = 3, .base_offset = 20}),                  // gap 10..19
        filtered_batch(23, 4, [](std::int64_t o) { return o == 24; }),  // [23, 26], only 24
    };
    auto h = model::validate_batch(batches[1], 1 << 20, model::count_rule::at_most);
    ASSERT_TRUE(h.has_value()) << h.err().to_string();
    EXPECT_EQ(h->record_count, 0);
    ASSERT_EQ(batches[1].size(), model::batch_header_bytes);
    auto peeked = peek_batch(batches[1], 1 << 20);
    ASSERT_TRUE(peeked.has_value());
    EXPECT_EQ(peeked->last_offset, off(9));

    test::memory_env env;
    auto l = open_log(env, {});
    ASSERT_TRUE(l);
    for (const bytes& b : batches) {
        auto r = l->append_as_follower(b, ts(10'000), false);
        ASSERT_TRUE(r) << r.err().to_string();
    }
    EXPECT_EQ(l->log_end_offset(), off(27));
    EXPECT_EQ(read_from(*l, 0), batches);
    EXPECT_EQ(read_from(*l, 12), std::vector<bytes>(batches.begin() + 2, batches.end()));
    env.drain();
    l.reset();  // no close(): the next open scans from the recovery point

    l = open_log(env, {.recovery_point = off(0)});
    ASSERT_TRUE(l);
    EXPECT_EQ(l->log_end_offset(), off(27));
    EXPECT_EQ(read_from(*l, 0), batches);
}

// The cleaner keeps the last batch of every segment, empty if need be, so a cleaned
// segment still ends where its successor begins (cleaner_pass.h): recovery takes a segment
// ending short of its successor's base for one whose tail never reached the disk, and
// deletes every later segment. Here segment 0 of a closed log is rewritten as a pass that
// dropped every record of its last batch leaves it, and recovered from offset 0.
TEST(compacted_layout, a_segment_ending_in_an_empty_batch_meets_its_successor_after_recovery) {
    test::memory_env env;
    log_config cfg;
    cfg.segment_index_bytes = 1024;
    cfg.segment_bytes = 400;
    auto opened = log::open(env.ctx(), dir, tp, cfg, {}, ts(10'000));
    ASSERT_TRUE(opened) << opened.err().to_string();
    auto l = std::move(*opened);
    const bytes first = make_batch({.records = 3, .value_bytes = 10, .base_offset = 0});
    const bytes second = make_batch({.records = 2, .value_bytes = 10, .base_offset = 3});
    const bytes third = make_batch({.records = 3, .value_bytes = 300, .base_offset = 5});
    for (const bytes* b : {&first, &second, &third}) {
        ASSERT_TRUE(l->append_as_follower(*b, ts(10'000), false));
    }
    ASSERT_EQ(l->segment_bases(), (std::vector<model::offset>{off(0), off(5)}));
    ASSERT_TRUE(l->close());
    env.drain();
    l.reset();
    const bytes emptied = filtered_batch(3, 2, [](std::int64_t) { return false; });
    ASSERT_EQ(emptied.size(), model::batch_header_bytes);
    const std::string seg0 = dir + "/" + segment_file_name(off(0), segment_file_kind::log);
    auto f = env.fs.open(seg0, open_mode::read_write);
    ASSERT_TRUE(f);
    ASSERT_TRUE((*f)->truncate(first.size()));
    ASSERT_TRUE((*f)->write_at(first.size(), emptied));
    ASSERT_TRUE((*f)->sync());
    f->reset();
    opened = log::open(env.ctx(), dir, tp, cfg, {.recovery_point = off(0)}, ts(10'000));
    ASSERT_TRUE(opened) << opened.err().to_string();
    l = std::move(*opened);
    EXPECT_EQ(l->segment_bases(), (std::vector<model::offset>{off(0), off(5)}));
    EXPECT_EQ(l->log_end_offset(), off(8));
    EXPECT_EQ(read_from(*l, 0), (std::vector<bytes>{first, emptied, third}));
    EXPECT_EQ(read_from(*l, 4), (std::vector<bytes>{emptied, third}));
}

}  // namespace
}  // namespace gregor::storage
