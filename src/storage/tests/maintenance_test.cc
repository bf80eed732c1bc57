// Goal: truncation, log start offset moves and retention keep the log, its indexes and its
// leader epoch cache consistent, also across a reopen, and never delete the active segment.
// Method: build multi-segment logs on the in-memory file system, apply the operation,
// then check reads of every remaining offset, epoch answers, files on "disk", and the
// same after a clean and an unclean reopen.
#include "storage/errc.h"
#include "storage/log.h"
#include "storage/names.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

#include <functional>

namespace gregor::storage {
namespace {

using test::make_batch;
using test::off;
using test::ts;

const model::topic_partition tp{"m", model::partition_id(1)};
const std::string dir = "/x/m-1";

struct maintenance : ::testing::Test {
    test::memory_env env;
    log_config cfg = [] {
        log_config c;
        c.segment_bytes = 1000;
        c.index_interval_bytes = 150;
        c.segment_index_bytes = 1024;
        return c;
    }();
    std::unique_ptr<log> lg;
    std::function<model::timestamp_ms()> clock;  // log_context::clock

    void open(log_open_state st = {}) {
        auto ctx = env.ctx();
        ctx.clock = clock;
        auto r = log::open(ctx, dir, tp, cfg, st, ts(1'000'000));
        ASSERT_TRUE(r) << r.err().to_string();
        lg = std::move(*r);
    }
    // 40 batches of 2 records, epoch = 1 + i / 10, timestamp 1000 + i.
    void fill() {
        for (int i = 0; i < 40; ++i) {
            auto b = make_batch({.records = 2, .value_bytes = 100, .timestamp = 1000 + i});
            ASSERT_TRUE(lg->append_as_leader(b, model::leader_epoch(1 + i / 10), ts(1000 + i)));
        }
    }
    // Every offset in [start, end) is readable and found in the right batch.
    void expect_readable(std::int64_t start, std::int64_t end) {
        ASSERT_EQ(lg->log_start_offset(), off(start));
        ASSERT_EQ(lg->log_end_offset(), off(end));
        for (auto o = start; o < end; ++o) {
            auto r = lg->read(off(o), 1, lg->log_end_offset());
            ASSERT_TRUE(r) << o;
            ASSERT_GT(r->slice.length, 0U) << o;
            EXPECT_EQ(r->first_offset, off(o - o % 2)) << o;
        }
    }
    // open() and fill(), then `policy` (fill's keyless records would not go into a
    // compacted log).
    void open_filled_then(const log_config& policy) {
        open();
        fill();
        cfg = policy;
        lg->set_config(cfg);
    }
    void reopen(bool clean) {
        if (clean) {
            ASSERT_TRUE(lg->close());
        }
        env.drain();
        auto start = lg->log_start_offset();
        auto rp = lg->recovery_point();
        lg.reset();
        open({.recovery_point = rp, .log_start_offset = start, .clean_shutdown = clean});
    }
};

TEST_F(maintenance, truncate_to_removes_the_suffix_and_its_epochs) {
    open();
    fill();
    ASSERT_GT(lg->segment_count(), 3U);
    ASSERT_TRUE(lg->truncate_to(off(45)));
    EXPECT_EQ(lg->log_end_offset(), off(44)) << "the batch holding 45 goes whole";
    expect_readable(0, 44);
    EXPECT_EQ(lg->epochs().latest()->epoch, model::leader_epoch(3));
    EXPECT_EQ(
        lg->epochs().end_offset_for(model::leader_epoch(3), lg->log_end_offset()).start_offset,
        off(44));
    auto b = make_batch({.records = 2});
    ASSERT_TRUE(lg->append_as_leader(b, model::leader_epoch(7), ts(2000)));
    EXPECT_EQ(
        lg->epochs().end_offset_for(model::leader_epoch(3), lg->log_end_offset()).start_offset,
        off(44));
    env.drain();
    reopen(false);
    expect_readable(0, 46);
    reopen(true);
    expect_readable(0, 46);
    EXPECT_EQ(lg->epochs().latest()->epoch, model::leader_epoch(7));
}

TEST_F(maintenance, truncate_to_the_log_end_drops_an_empty_epoch_there) {
    open();
    fill();
    lg->assign_epoch(model::leader_epoch(7), lg->log_end_offset());  // led, wrote nothing
    ASSERT_EQ(lg->epochs().latest()->epoch, model::leader_epoch(7));
    ASSERT_TRUE(lg->truncate_to(lg->log_end_offset()));
    EXPECT_EQ(lg->log_end_offset(), off(80));
    EXPECT_EQ(lg->epochs().latest()->epoch, model::leader_epoch(4));
}

TEST_F(maintenance, truncate_to_a_segment_base_empties_that_segment) {
    open();
    fill();
    auto bases = lg->segment_bases();
    auto cut = bases[2];
    ASSERT_TRUE(lg->truncate_to(cut));
    EXPECT_EQ(lg->segment_bases().back(), cut);
    expect_readable(0, cut());
    env.drain();
    for (std::size_t i = 3; i < bases.size(); ++i) {
        EXPECT_FALSE(
            env.fs.exists(dir + "/" + segment_file_name(bases[i], segment_file_kind::log)));
        EXPECT_FALSE(env.fs.exists(dir + "/" + segment_file_name(bases[i], segment_file_kind::log) +
                                   std::string(deleted_suffix)))
            << "removed by the worker";
    }
    reopen(true);
    expect_readable(0, cut());
}

TEST_F(maintenance, truncate_below_log_start_restarts_the_log) {
    open();
    fill();
    ASSERT_TRUE(lg->set_log_start_offset(off(30)));
    ASSERT_TRUE(lg->truncate_to(off(10)));
    EXPECT_EQ(lg->segment_count(), 1U);
    expect_readable(10, 10);
    EXPECT_TRUE(lg->epochs().entries().empty());
}

TEST_F(maintenance, truncate_fully_leaves_only_the_new_segment_on_disk) {
    open();
    fill();
    auto bases = lg->segment_bases();
    ASSERT_GE(bases.size(), 3U);
    ASSERT_TRUE(lg->truncate_fully(bases[1]));
    env.drain();
    reopen(false);
    EXPECT_EQ(lg->segment_bases(), (std::vector<model::offset>{bases[1]}));
    expect_readable(bases[1](), bases[1]());
}

// A truncation is given no time: the segment it creates takes the context's clock, so
// segment.ms counts from then (a follower truncated fully does not roll at its next append).
TEST_F(maintenance, a_full_truncation_stamps_its_segment_with_the_clock) {
    cfg.segment_ms = 60'000;
    std::int64_t wall = 5'000'000;
    clock = [&] { return ts(wall); };
    open();
    fill();
    ASSERT_TRUE(lg->truncate_fully(off(200)));
    for (int i = 0; i < 3; ++i) {
        auto b = make_batch({.records = 1, .value_bytes = 10, .timestamp = wall + i});
        ASSERT_TRUE(lg->append_as_leader(b, model::leader_epoch(5), ts(wall + 1 + i)));
    }
    EXPECT_EQ(lg->segment_bases(), (std::vector<model::offset>{off(200)}));
}

TEST_F(maintenance, log_start_offset_moves_delete_whole_segments_and_trim_epochs) {
    open();
    fill();
    auto bases = lg->segment_bases();
    ASSERT_TRUE(lg->set_log_start_offset(off(25)));
    expect_readable(25, 80);
    EXPECT_LE(lg->segment_bases().front(), off(25));
    EXPECT_GT(lg->segment_bases().front(), bases.front());
    auto below = lg->read(off(24), 100, lg->log_end_offset());
    ASSERT_FALSE(below);
    EXPECT_EQ(below.err().code, make_error_code(errc::offset_out_of_range));
    EXPECT_EQ(lg->epochs().entries().front(), (epoch_entry{model::leader_epoch(2), off(25)}));
    auto beyond = lg->set_log_start_offset(off(81));
    EXPECT_FALSE(beyond);
    reopen(true);
    expect_readable(25, 80);
    EXPECT_EQ(lg->epochs().entries().front(), (epoch_entry{model::leader_epoch(2), off(25)}));
}

TEST_F(maintenance, retention_by_size_keeps_the_newest_segments_and_the_active_one) {
    cfg.retention_bytes = 2500;
    open();
    fill();
    auto before = lg->segment_count();
    auto deleted = lg->apply_retention(ts(1100));
    ASSERT_TRUE(deleted);
    EXPECT_GT(*deleted, 0U);
    EXPECT_EQ(lg->segment_count(), before - *deleted);
    EXPECT_LE(lg->size_bytes(), 2500U + cfg.segment_bytes);
    expect_readable(lg->segment_bases().front()(), 80);
    cfg.retention_bytes = 0;
    lg->set_config(cfg);
    ASSERT_TRUE(lg->apply_retention(ts(1100)));
    EXPECT_EQ(lg->segment_count(), 1U) << "the active segment is never deleted";
    EXPECT_EQ(lg->log_start_offset(), lg->segment_bases().front());
}

TEST_F(maintenance, retention_by_time_uses_the_newest_timestamp_of_each_segment) {
    cfg.retention_ms = 100;
    open();
    fill();
    // Batches carry timestamps 1000..1039: at 1120 the segments ending before 1020 expire.
    ASSERT_TRUE(lg->apply_retention(ts(1120)));
    auto first = lg->segment_bases().front();
    EXPECT_GT(first, off(0));
    auto r = lg->find_by_timestamp(ts(0));
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->batch_offset, first);
    EXPECT_GE((*r)->max_timestamp, ts(1019));
    reopen(true);
    ASSERT_TRUE(lg->apply_retention(ts(1120)));
    EXPECT_EQ(lg->segment_bases().front(), first) << "sealed max timestamps survive a restart";
    ASSERT_TRUE(lg->apply_retention(ts(100'000)));
    EXPECT_EQ(lg->segment_count(), 1U);
}

// Without "delete" in cleanup.policy, retention.ms and retention.bytes delete nothing, but
// segments wholly below the log start offset still go.
void expect_only_log_start_removes_segments(maintenance& t, bool compact) {
    auto policy = t.cfg;
    policy.retention_ms = 0;
    policy.retention_bytes = 0;
    policy.compact = compact;
    policy.delete_ = false;
    t.open_filled_then(policy);
    auto bases = t.lg->segment_bases();
    auto deleted = t.lg->apply_retention(ts(100'000));
    ASSERT_TRUE(deleted);
    EXPECT_EQ(*deleted, 0U) << "retention.ms and retention.bytes need the delete policy";
    EXPECT_EQ(t.lg->segment_bases(), bases);
    // A log start offset past whole segments (here: the one read at open) still removes them.
    ASSERT_TRUE(t.lg->close());
    t.env.drain();
    t.lg.reset();
    t.open({.log_start_offset = off(25), .clean_shutdown = true});
    deleted = t.lg->apply_retention(ts(100'000));
    ASSERT_TRUE(deleted);
    EXPECT_GT(*deleted, 0U);
    EXPECT_LE(t.lg->segment_bases().front(), off(25));
    t.expect_readable(25, 80);
}

TEST_F(maintenance, retention_of_a_compact_policy_only_removes_segments_below_log_start) {
    expect_only_log_start_removes_segments(*this, true);
}

TEST_F(maintenance, retention_of_an_empty_policy_only_removes_segments_below_log_start) {
    expect_only_log_start_removes_segments(*this, false);
}

TEST_F(maintenance, retention_with_compact_and_delete_policy_applies_both_limits) {
    auto policy = cfg;
    policy.compact = true;
    policy.delete_ = true;
    policy.retention_bytes = 2500;
    open_filled_then(policy);
    auto deleted = lg->apply_retention(ts(1100));
    ASSERT_TRUE(deleted);
    EXPECT_GT(*deleted, 0U);
    EXPECT_LE(lg->size_bytes(), 2500U + cfg.segment_bytes);
    cfg.retention_bytes = -1;
    cfg.retention_ms = 100;
    lg->set_config(cfg);
    ASSERT_TRUE(lg->apply_retention(ts(100'000)));
    EXPECT_EQ(lg->segment_count(), 1U);
}

TEST_F(maintenance, a_policy_change_to_delete_applies_at_the_next_retention_pass) {
    auto policy = cfg;
    policy.compact = true;
    policy.delete_ = false;
    policy.retention_ms = 100;
    open_filled_then(policy);
    auto before = lg->segment_count();
    ASSERT_TRUE(lg->apply_retention(ts(100'000)));
    EXPECT_EQ(lg->segment_count(), before);
    cfg.delete_ = true;
    lg->set_config(cfg);
    ASSERT_TRUE(lg->apply_retention(ts(100'000)));
    EXPECT_EQ(lg->segment_count(), 1U);
}

TEST_F(maintenance, deleted_segment_stays_readable_through_an_open_slice) {
    open();
    fill();
    auto r = lg->read(off(0), 1 << 20, lg->log_end_offset());
    ASSERT_TRUE(r);
    auto before = *r->slice.read_all();
    ASSERT_TRUE(lg->set_log_start_offset(off(70)));
    env.drain();
    EXPECT_FALSE(env.fs.exists(dir + "/" + segment_file_name(off(0), segment_file_kind::log)));
    EXPECT_EQ(*r->slice.read_all(), before);
}

}  // namespace
}  // namespace gregor::storage
