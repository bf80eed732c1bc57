// Goal: the log de-duplicates idempotent producers across everything a partition lives
// through: a retry is answered with the original offsets and writes nothing, after a
// segment roll, a clean reopen (from the `.snapshot` at the log end, without reading the
// segments), an unclean reopen (replay after the newest valid snapshot) and a crash that
// loses a tail; refused batches write nothing; a follower builds the leader's state;
// truncation and retention take the state and snapshots above/below them away; a failed or
// torn snapshot write never leaves a log that reopens wrongly; idle producers expire.
// Method: logs on the in-memory file system with a manual worker, batches built by hand
// with producer fields, and checks of append results, producers(), the files on "disk" and
// reopened logs.
#include "storage/errc.h"
#include "storage/log.h"
#include "storage/log_manager.h"
#include "storage/names.h"
#include "storage/producer_snapshot.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace gregor::storage {
namespace {

using test::make_batch;
using test::off;
using test::ts;

const model::topic_partition tp{"p", model::partition_id(0)};
const std::string dir = "/pd/p-0";

// One batch a producer sent: its fields and the offsets it got.
struct sent {
    std::int64_t producer = 0;
    std::int16_t epoch = 0;
    std::int32_t seq = 0;
    int records = 1;
    std::int64_t first = 0;
    std::int64_t last = 0;
};

struct producers_fixture : ::testing::Test {
    test::memory_env env;
    log_config cfg = [] {
        log_config c;
        c.segment_index_bytes = 1024;
        return c;
    }();
    std::unique_ptr<log> lg;
    std::vector<sent> history;

    void open(log_open_state st = {}, std::int64_t now = 10'000) {
        auto r = log::open(env.ctx(), dir, tp, cfg, st, ts(now));
        ASSERT_TRUE(r) << r.err().to_string();
        lg = std::move(*r);
    }
    void reopen(bool clean, std::int64_t now = 10'000) {
        if (clean) {
            ASSERT_TRUE(lg->close());
        }
        env.drain();
        auto st = log_open_state{lg->recovery_point(), lg->log_start_offset(), clean};
        lg.reset();
        open(st, now);
    }
    static bytes batch(std::int64_t producer, std::int16_t epoch, std::int32_t seq, int records,
                       std::int64_t t = 10'000, std::size_t value = 100) {
        return make_batch({.records = records,
                           .value_bytes = value,
                           .timestamp = t,
                           .producer_id = producer,
                           .producer_epoch = epoch,
                           .base_sequence = seq});
    }
    result<append_result> send(std::int64_t producer, std::int16_t epoch, std::int32_t seq,
                               int records = 1, std::int64_t t = 10'000) {
        auto b = batch(producer, epoch, seq, records, t);
        auto r = lg->append_as_leader(b, model::leader_epoch(1), ts(t));
        if (r && !r->duplicate) {
            history.push_back({producer, epoch, seq, records, r->first_offset(), r->last_offset()});
        }
        return r;
    }
    // Appends `n` batches round-robin over producers 1..3, each in sequence.
    void workload(int n) {
        for (int i = 0; i < n; ++i) {
            auto p = 1 + i % 3;
            auto r = send(p, 0, next_seq(p), 1 + i % 2);
            ASSERT_TRUE(r) << r.err().to_string();
        }
    }
    std::int32_t next_seq(std::int64_t producer) const {
        for (auto it = history.rbegin(); it != history.rend(); ++it) {
            if (it->producer == producer) {
                return it->seq + it->records;
            }
        }
        return 0;
    }
    const sent* last_of(std::int64_t producer) const {
        for (auto it = history.rbegin(); it != history.rend(); ++it) {
            if (it->producer == producer) {
                return &*it;
            }
        }
        return nullptr;
    }
    // A retry of `s` must come back as a duplicate with its original offsets.
    void expect_duplicate(const sent& s) {
        auto end = lg->log_end_offset();
        auto size = lg->size_bytes();
        auto r = send(s.producer, s.epoch, s.seq, s.records);
        ASSERT_TRUE(r) << r.err().to_string();
        EXPECT_TRUE(r->duplicate) << "producer " << s.producer << " seq " << s.seq;
        EXPECT_EQ(r->first_offset, off(s.first));
        EXPECT_EQ(r->last_offset, off(s.last));
        EXPECT_EQ(r->batch_count, 0U);
        EXPECT_EQ(lg->log_end_offset(), end);
        EXPECT_EQ(lg->size_bytes(), size) << "a duplicate writes nothing";
    }
    // The state of every producer sent so far matches its last batch still in the log.
    void expect_state_matches_history() {
        for (std::int64_t p = 1; p <= 3; ++p) {
            const auto* s = last_of(p);
            const auto* e = lg->producers().find(model::producer_id(p));
            if (s == nullptr) {
                EXPECT_EQ(e, nullptr);
                continue;
            }
            ASSERT_NE(e, nullptr) << p;
            EXPECT_EQ(e->epoch, s->epoch);
            EXPECT_EQ(e->last_sequence(), s->seq + s->records - 1) << p;
            EXPECT_EQ(e->last_batch()->last_offset, off(s->last)) << p;
        }
    }
    void expect_error(const result<append_result>& r, errc code) {
        ASSERT_FALSE(r);
        EXPECT_EQ(r.err().code, make_error_code(code)) << r.err().to_string();
    }
    std::string path(model::offset at) const { return dir + "/" + snapshot_file_name(at); }
};

TEST_F(producers_fixture, retry_returns_the_original_offsets_and_writes_nothing) {
    open();
    ASSERT_TRUE(send(7, 0, 0, 3));
    auto plain = make_batch({.records = 1});
    ASSERT_TRUE(lg->append_as_leader(plain, model::leader_epoch(1), ts(10'000)));
    ASSERT_TRUE(send(7, 0, 3, 2));
    expect_duplicate(history[0]);
    expect_duplicate(history[1]);
    auto r = lg->read(off(0), 1 << 20, lg->log_end_offset());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->slice.length, lg->size_bytes());
    auto next = send(7, 0, 5, 1);
    ASSERT_TRUE(next);
    EXPECT_FALSE(next->duplicate);
    EXPECT_EQ(next->first_offset, off(6));
}

TEST_F(producers_fixture, refused_batches_write_nothing) {
    open();
    ASSERT_TRUE(send(7, 0, 0, 2));
    auto size = lg->size_bytes();
    expect_error(send(7, 0, 3), errc::out_of_order_sequence);  // gap
    expect_error(send(7, 0, 0, 1), errc::out_of_order_sequence);  // overlaps, not a retry
    expect_error(send(7, 1, 4), errc::out_of_order_sequence);  // new epoch not at 0
    ASSERT_TRUE(send(7, 1, 0));
    expect_error(send(7, 0, 2), errc::invalid_producer_epoch);  // fenced epoch
    expect_error(send(7, -1, 1), errc::invalid_producer_epoch);
    expect_error(send(7, 1, -1), errc::invalid_record);
    auto control = make_batch({.records = 1, .attributes = 0x20});
    expect_error(lg->append_as_leader(control, model::leader_epoch(1), ts(10'000)),
                 errc::invalid_record);
    EXPECT_EQ(lg->log_end_offset(), off(3));
    EXPECT_GT(lg->size_bytes(), size);
    // Unknown producers start at any sequence (Kafka >= 2.5).
    ASSERT_TRUE(send(8, 4, 1000));
    EXPECT_EQ(lg->log_end_offset(), off(4));
}

TEST_F(producers_fixture, a_payload_of_several_batches_is_checked_whole_before_writing) {
    open();
    auto two = batch(7, 0, 0, 2);
    auto more = batch(7, 0, 2, 1);
    two.insert(two.end(), more.begin(), more.end());
    auto r = lg->append_as_leader(two, model::leader_epoch(1), ts(10'000));
    ASSERT_TRUE(r) << r.err().to_string();
    EXPECT_EQ(r->batch_count, 2U);
    EXPECT_EQ(lg->producers().find(model::producer_id(7))->last_sequence(), 2);
    auto good = batch(7, 0, 3, 1);
    auto gap = batch(7, 0, 9, 1);
    good.insert(good.end(), gap.begin(), gap.end());
    auto size = lg->size_bytes();
    expect_error(lg->append_as_leader(good, model::leader_epoch(1), ts(10'000)),
                 errc::out_of_order_sequence);
    EXPECT_EQ(lg->size_bytes(), size);
    EXPECT_EQ(lg->producers().find(model::producer_id(7))->last_sequence(), 2);
    ASSERT_TRUE(send(7, 0, 3));
}

TEST_F(producers_fixture, duplicate_reports_the_original_log_append_time) {
    cfg.timestamp_type = model::timestamp_type::log_append_time;
    open();
    auto b = batch(7, 0, 0, 1);
    auto first = lg->append_as_leader(b, model::leader_epoch(1), ts(5000));
    ASSERT_TRUE(first);
    auto again = batch(7, 0, 0, 1);
    auto dup = lg->append_as_leader(again, model::leader_epoch(1), ts(9000));
    ASSERT_TRUE(dup);
    EXPECT_TRUE(dup->duplicate);
    EXPECT_EQ(dup->log_append_time, ts(5000));
    EXPECT_EQ(lg->producers().find(model::producer_id(7))->last_timestamp, ts(5000));
}

TEST_F(producers_fixture, retries_after_rolls_and_a_clean_reopen_need_no_scan) {
    cfg.segment_bytes = 700;
    open();
    workload(30);
    auto bases = lg->segment_bases();
    ASSERT_GT(bases.size(), 3U);
    auto snaps = lg->snapshot_offsets();
    EXPECT_EQ(snaps, std::vector<model::offset>(bases.begin() + 1, bases.end()))
        << "one snapshot per roll, at the new segment's base";
    for (std::int64_t p = 1; p <= 3; ++p) {
        expect_duplicate(*last_of(p));
    }
    reopen(true);
    EXPECT_TRUE(env.fs.exists(path(lg->log_end_offset())));
    ASSERT_TRUE(lg->close());
    lg.reset();
    // Damage only a replay would read: the first batch's magic. A clean open must not care.
    env.fs.flip_bit(dir + "/" + segment_file_name(off(0), segment_file_kind::log), 16, 0);
    open({off(1'000'000), off(0), true});
    expect_state_matches_history();
    for (std::int64_t p = 1; p <= 3; ++p) {
        expect_duplicate(*last_of(p));
    }
    ASSERT_TRUE(send(2, 0, next_seq(2)));
    expect_error(send(2, 0, next_seq(2) + 1), errc::out_of_order_sequence);
}

TEST_F(producers_fixture, unreadable_batches_leave_every_producer_unknown_not_the_log_closed) {
    cfg.segment_bytes = 700;
    open();
    workload(12);
    ASSERT_TRUE(lg->close());
    lg.reset();
    auto names = env.fs.list_dir(dir);
    ASSERT_TRUE(names);
    for (const auto& n : *names) {
        if (parse_snapshot_file_name(n)) {
            ASSERT_TRUE(env.fs.remove(dir + "/" + n));
        }
    }
    // A clean shutdown vouches for the segments; the first batch's magic is damaged anyway.
    // Without any snapshot after a clean shutdown (a log from before producer state), the
    // open reads no segment, as Kafka's, and leaves a snapshot at the end for next time.
    env.fs.flip_bit(dir + "/" + segment_file_name(off(0), segment_file_kind::log), 16, 0);
    open({off(1'000'000), off(0), true});
    EXPECT_EQ(lg->producers().size(), 0U);
    EXPECT_TRUE(env.fs.exists(dir + "/" + snapshot_file_name(lg->log_end_offset())));
    ASSERT_TRUE(send(1, 0, next_seq(1) + 5)) << "an unknown producer starts anywhere";
}

TEST_F(producers_fixture, offsets_going_back_in_a_vouched_segment_are_damage_not_state) {
    ASSERT_TRUE(env.fs.create_dirs(dir));
    auto a = make_batch({.records = 2, .base_offset = 5, .producer_id = 1, .producer_epoch = 0,
                         .base_sequence = 0});
    auto b = make_batch({.records = 1, .base_offset = 2, .producer_id = 1, .producer_epoch = 0,
                         .base_sequence = 2});
    auto c = make_batch({.records = 1, .base_offset = 30});
    a.insert(a.end(), b.begin(), b.end());
    a.insert(a.end(), c.begin(), c.end());
    auto f = env.fs.open(dir + "/" + segment_file_name(off(0), segment_file_kind::log),
                         open_mode::create);
    ASSERT_TRUE(f);
    ASSERT_TRUE((*f)->write_at(0, a));
    open({off(1'000'000), off(0), true});  // found by the fuzzer: no recovery scan
    ASSERT_EQ(lg->log_end_offset(), off(31));
    EXPECT_EQ(lg->producers().size(), 0U);
}

TEST_F(producers_fixture, unclean_reopen_replays_after_the_newest_snapshot) {
    cfg.segment_bytes = 700;
    open();
    workload(25);
    env.drain();
    lg.reset();  // no close: no snapshot at the end
    open({off(0), off(0), false});
    expect_state_matches_history();
    for (std::int64_t p = 1; p <= 3; ++p) {
        expect_duplicate(*last_of(p));
    }
    EXPECT_EQ(lg->snapshot_offsets().back(), lg->log_end_offset())
        << "written after the replay, as Kafka does after recovery";
    workload(4);
    expect_state_matches_history();
}

TEST_F(producers_fixture, crash_that_loses_a_tail_rebuilds_from_what_survived) {
    cfg.segment_bytes = 700;
    open();
    workload(20);
    env.drain();
    lg->when_flushed(lg->log_end_offset() - 1, [](result<void> r) { ASSERT_TRUE(r); });
    env.drain();
    auto durable = lg->log_end_offset();
    workload(6);  // never synced: lost below
    lg.reset();
    std::mt19937_64 rng(3);
    env.crash(crash_mode::drop_unsynced, rng);
    open({durable, off(0), false});
    ASSERT_EQ(lg->log_end_offset(), durable);
    std::erase_if(history, [&](const sent& s) { return s.first >= durable(); });
    expect_state_matches_history();
    // The lost batches were never acknowledged: their retry is a new, in-order append.
    auto r = send(1, 0, next_seq(1));
    ASSERT_TRUE(r) << r.err().to_string();
    EXPECT_FALSE(r->duplicate);
    EXPECT_EQ(r->first_offset, durable);
}

TEST_F(producers_fixture, follower_builds_the_leaders_state) {
    cfg.segment_bytes = 900;
    open();
    workload(12);
    ASSERT_TRUE(send(5, 0, 0, 1));
    ASSERT_TRUE(send(5, 1, 0, 2));  // epoch bump
    // A coordinator's marker-like control batch: raises the epoch, keeps no batch.
    auto marker = make_batch({.records = 1, .producer_id = 9, .producer_epoch = 2,
                              .base_sequence = -1, .attributes = 0x30});
    ASSERT_TRUE(lg->append_as_leader(marker, model::leader_epoch(1), ts(10'000), false,
                                     append_origin::coordinator));
    workload(6);
    auto follower = log::open(env.ctx(), "/pd/p-0-follower", tp, cfg, {}, ts(10'000));
    ASSERT_TRUE(follower);
    auto next = off(0);
    while (next < lg->log_end_offset()) {
        auto r = lg->read(next, 1500, lg->log_end_offset());
        ASSERT_TRUE(r);
        auto data = r->slice.read_all();
        ASSERT_TRUE(data);
        ASSERT_TRUE((*follower)->append_as_follower(*data, ts(10'000)));
        next = r->next_offset;
    }
    auto mine = lg->producers().entries();
    auto theirs = (*follower)->producers().entries();
    ASSERT_EQ(mine.size(), theirs.size());
    for (std::size_t i = 0; i < mine.size(); ++i) {
        EXPECT_EQ(mine[i]->id, theirs[i]->id);
        EXPECT_EQ(mine[i]->epoch, theirs[i]->epoch);
        EXPECT_EQ(mine[i]->last_timestamp, theirs[i]->last_timestamp);
        EXPECT_TRUE(std::ranges::equal(mine[i]->batches(), theirs[i]->batches()));
    }
    const auto* marked = lg->producers().find(model::producer_id(9));
    ASSERT_NE(marked, nullptr);
    EXPECT_EQ(marked->epoch, 2);
    EXPECT_TRUE(marked->batches().empty());
}

TEST_F(producers_fixture, truncation_drops_the_state_and_snapshots_above_the_cut) {
    cfg.segment_bytes = 700;
    open();
    workload(30);
    auto cut = history[17];
    ASSERT_TRUE(lg->truncate_to(off(cut.first)));
    ASSERT_EQ(lg->log_end_offset(), off(cut.first));
    for (auto at : lg->snapshot_offsets()) {
        EXPECT_LE(at, lg->log_end_offset());
    }
    history.resize(17);
    expect_state_matches_history();
    // The truncated batch was never committed: sent again, it is appended, not a duplicate.
    auto again = send(cut.producer, cut.epoch, cut.seq, cut.records);
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->duplicate);
    env.drain();
    reopen(false);
    expect_state_matches_history();
    ASSERT_TRUE(lg->truncate_fully(off(500)));
    EXPECT_EQ(lg->producers().size(), 0U);
    EXPECT_TRUE(lg->snapshot_offsets().empty());
    auto names = env.fs.list_dir(dir);
    ASSERT_TRUE(names);
    for (const auto& n : *names) {
        EXPECT_FALSE(parse_snapshot_file_name(n)) << n;
    }
}

TEST_F(producers_fixture, retention_and_delete_records_take_snapshots_below_the_start) {
    cfg.segment_bytes = 700;
    open();
    workload(30);
    auto bases = lg->segment_bases();
    ASSERT_TRUE(lg->set_log_start_offset(bases[2]));
    for (auto at : lg->snapshot_offsets()) {
        EXPECT_GT(at, bases[2]);
    }
    EXPECT_FALSE(env.fs.exists(path(bases[2])));
    EXPECT_TRUE(env.fs.exists(path(bases[3])));
    lg->set_config([&] {
        auto c = cfg;
        c.retention_bytes = 1;
        return c;
    }());
    ASSERT_TRUE(lg->apply_retention(ts(10'000)));
    EXPECT_EQ(lg->snapshot_offsets().size(), 0U) << "only the active segment is left";
    expect_state_matches_history();
    reopen(false);
    // Rebuilt from the retained log only: producers whose batches all went are forgotten.
    for (const auto* e : lg->producers().entries()) {
        EXPECT_GE(e->last_batch()->last_offset, lg->log_start_offset());
    }
}

TEST_F(producers_fixture, failed_snapshot_writes_leave_a_log_that_reopens_correctly) {
    cfg.segment_bytes = 700;
    open();
    env.fs.inject({fs_op::write, ".snapshot", errc::io_error, 2, 5});
    workload(12);  // the first two rolls' snapshots fail: appends go on
    env.fs.clear_faults();
    workload(6);
    env.fs.inject({fs_op::write, ".snapshot", errc::no_space, 1, 0});
    EXPECT_FALSE(lg->close()) << "the clean-shutdown snapshot failed";
    env.fs.clear_faults();
    env.drain();
    auto st = log_open_state{off(0), off(0), false};
    lg.reset();
    open(st);
    expect_state_matches_history();
    auto names = env.fs.list_dir(dir);
    ASSERT_TRUE(names);
    for (const auto& n : *names) {
        EXPECT_FALSE(n.ends_with(".tmp")) << n;
    }
    for (std::int64_t p = 1; p <= 3; ++p) {
        expect_duplicate(*last_of(p));
    }
}

TEST_F(producers_fixture, torn_and_corrupt_snapshots_are_deleted_and_the_previous_used) {
    cfg.segment_bytes = 700;
    open();
    workload(20);
    env.drain();
    auto synced = lg->snapshot_offsets();
    // The next rolls' snapshots never reach the disk (their fsyncs fail); the data does.
    env.fs.inject({fs_op::sync, ".snapshot", errc::io_error, -1, 0});
    workload(10);
    ASSERT_GT(lg->snapshot_offsets().size(), synced.size());
    lg->when_flushed(lg->log_end_offset() - 1, [](result<void> r) { ASSERT_TRUE(r); });
    env.drain();
    env.fs.clear_faults();
    auto torn = lg->snapshot_offsets().back();
    auto end = lg->log_end_offset();
    lg.reset();
    std::mt19937_64 rng(5);
    env.crash(crash_mode::drop_unsynced, rng);
    ASSERT_TRUE(env.fs.exists(path(torn)));
    ASSERT_EQ(env.fs.file_size(path(torn)), 0U) << "renamed, never synced: empty after the crash";
    open({off(0), off(0), false});
    ASSERT_EQ(lg->log_end_offset(), end);
    EXPECT_FALSE(env.fs.exists(path(torn)));
    expect_state_matches_history();
    // A flipped bit in the clean-shutdown snapshot: deleted, an older one used instead.
    ASSERT_TRUE(lg->close());
    lg.reset();
    env.fs.flip_bit(path(end), 20, 3);
    open({end, off(0), true});
    auto now = read_small_file(env.fs, path(end), 1 << 20);
    ASSERT_TRUE(now) << "rewritten after the replay";
    EXPECT_TRUE(decode_producer_snapshot(*now, end, [](const producer_entry&) {}));
    expect_state_matches_history();
    for (std::int64_t p = 1; p <= 3; ++p) {
        expect_duplicate(*last_of(p));
    }
}

TEST_F(producers_fixture, idle_producers_expire_live_and_when_loaded) {
    cfg.producer_id_expiration_ms = 60'000;
    open();
    ASSERT_TRUE(send(1, 0, 0, 1, 10'000));
    ASSERT_TRUE(send(2, 0, 0, 1, 50'000));
    EXPECT_EQ(lg->expire_producers(ts(69'999)), 0U);
    EXPECT_EQ(lg->expire_producers(ts(70'000)), 1U) << "now - last timestamp >= expiration";
    EXPECT_EQ(lg->producers().find(model::producer_id(1)), nullptr);
    // Forgotten: the producer is unknown and may start anywhere.
    ASSERT_TRUE(send(1, 0, 77, 1, 70'000));
    reopen(true, 125'000);
    EXPECT_EQ(lg->producers().size(), 1U) << "producer 2 expired on load";
    EXPECT_NE(lg->producers().find(model::producer_id(1)), nullptr);
}

TEST(producer_config, expiration_is_a_broker_key_with_kafkas_default) {
    EXPECT_EQ(log_config{}.producer_id_expiration_ms, 86'400'000);
    auto c = broker_log_defaults({{"producer.id.expiration.ms", "1000"}});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->producer_id_expiration_ms, 1000);
    auto bad = broker_log_defaults({{"producer.id.expiration.ms", "0"}});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.err().code, make_error_code(errc::invalid_config));
    auto topic = apply_topic_overrides(*c, {{"retention.ms", "5"}});
    ASSERT_TRUE(topic);
    EXPECT_EQ(topic->producer_id_expiration_ms, 1000);
}

TEST(producer_manager, retention_runs_expire_idle_producers) {
    test::memory_env env;
    log_manager mgr(env.ctx(), {"/m1"}, [](const std::string&) {
        log_config c;
        c.segment_index_bytes = 1024;
        return c;
    });
    ASSERT_TRUE(mgr.load(ts(1000)));
    auto l = mgr.get_or_create(tp, ts(1000));
    ASSERT_TRUE(l);
    auto b = make_batch({.records = 1, .timestamp = 1000, .producer_id = 4, .producer_epoch = 0,
                         .base_sequence = 0});
    ASSERT_TRUE((*l)->append_as_leader(b, model::leader_epoch(0), ts(1000)));
    ASSERT_TRUE(mgr.run_retention(ts(1000 + 86'400'000 - 1)));
    EXPECT_EQ((*l)->producers().size(), 1U);
    ASSERT_TRUE(mgr.run_retention(ts(1000 + 86'400'000)));
    EXPECT_EQ((*l)->producers().size(), 0U);
    ASSERT_TRUE(mgr.shutdown());
    env.drain();
}

}  // namespace
}  // namespace gregor::storage
