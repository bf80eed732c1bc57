// Goal: compaction keeps, for every key, its latest value at its original offset, in order,
// removes obsolete records and expired tombstones, never touches what lies beyond the
// cleaned point, and a crash at any file operation of a clean leaves a valid log with the
// same latest values.
// Method: seeded workloads of keyed writes, tombstones, rolls, cleans and reopens on the
// in-memory file system against a model of every record written; the crash test stops every
// mutating file call from the k-th on, for every k, then power-cycles the file system.
// GREGOR_SIM_SEEDS sets the number of workloads.
#include "model/record_batch.h"
#include "protocol/records/batch_builder.h"
#include "protocol/records/batch_records.h"
#include "storage/batch_filter.h"
#include "storage/cleaner_pass.h"
#include "storage/errc.h"
#include "storage/log.h"
#include "storage/log_cleaner.h"
#include "storage/log_manager.h"
#include "storage/names.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace gregor::storage {
namespace {

using test::off;
using test::ts;

const model::topic_partition tp{"table", model::partition_id(0)};
const std::string dir = "/d/table-0";

struct written {
    std::string key;
    std::optional<std::string> value;  // nullopt: tombstone
};

struct seen {
    std::int64_t offset;
    std::string key;
    std::optional<std::string> value;
    std::optional<model::timestamp_ms> horizon;  // of its batch
};

bytes keyed_batch(const std::vector<written>& recs, std::int64_t now,
                  model::compression_type compression = model::compression_type::none) {
    std::vector<protocol::record_input> in;
    for (const auto& r : recs) {
        protocol::record_input ri;
        ri.key = test::as_bytes(r.key);
        if (r.value) {
            ri.value = test::as_bytes(*r.value);
        }
        ri.timestamp = ts(now);
        in.push_back(ri);
    }
    auto b = protocol::build_batch(in, {.compression = compression});
    EXPECT_TRUE(b);
    return std::move(*b);
}

int seed_count(int fallback) {
    if (const char* n = std::getenv("GREGOR_SIM_SEEDS")) {
        return std::max(1, std::atoi(n));
    }
    return fallback;
}

struct cleaner_fixture : ::testing::Test {
    test::memory_env env;
    log_config cfg = [] {
        log_config c;
        c.segment_bytes = 2048;
        c.index_interval_bytes = 256;
        c.segment_index_bytes = 1024;
        c.compact = true;
        c.delete_ = false;
        c.delete_retention_ms = 1000;
        return c;
    }();
    std::unique_ptr<log> lg;
    std::map<std::int64_t, written> all;  // every record ever written, by offset
    model::offset checkpoint{0};
    std::int64_t now = 1'000'000;
    clean_buffers buffers;
    // The map's first table: the default makes the fixture's 64 KiB map one table, so phase 2
    // reads every batch; a small one leaves room for the held offsets, so it can drop obsolete
    // batches unread.
    std::size_t map_first_table = key_offset_map::default_initial_slots;
    std::size_t map_bytes = 64 * 1024;
    std::uint64_t dropped_unread = 0;                                     // over every clean()
    std::uint64_t passes_read_on_thread = 0;                              // over every clean()
    model::compression_type compression = model::compression_type::none;  // of append()

    void open(bool clean) {
        log_open_state st{
            .recovery_point = off(0), .log_start_offset = off(0), .clean_shutdown = clean};
        auto r = log::open(env.ctx(), dir, tp, cfg, st, ts(now));
        ASSERT_TRUE(r) << r.err().to_string();
        lg = std::move(*r);
    }
    void append(const std::vector<written>& recs) {
        auto b = keyed_batch(recs, now, compression);
        auto r = lg->append_as_leader(b, model::leader_epoch(1), ts(now));
        ASSERT_TRUE(r) << r.err().to_string();
        for (std::size_t i = 0; i < recs.size(); ++i) {
            all[r->first_offset() + static_cast<std::int64_t>(i)] = recs[i];
        }
    }
    void flush_all() {
        bool done = false;
        lg->when_flushed(lg->log_end_offset() - 1, [&](result<void>) { done = true; });
        env.drain();
        ASSERT_TRUE(done);
    }
    // One pass over everything below the active segment; returns the result.
    result<clean_result> clean() {
        auto range = lg->cleanable(checkpoint, lg->log_end_offset(), ts(now));
        GREGOR_TRY(auto job, lg->make_clean_job(range, ts(now)));
        key_offset_map map(map_bytes, 0.9, map_first_table);
        io_throttle unlimited(1e308);
        GREGOR_TRY(auto res, run_clean(env.fs, job, map, buffers, unlimited));
        dropped_unread += res.stats.batches_dropped_unread;
        passes_read_on_thread += res.stats.read_on_thread ? 1U : 0U;
        GREGOR_TRY_VOID(lg->finish_clean(job, res));
        checkpoint = res.end_offset;
        return res;
    }
    std::vector<seen> read_all() {
        std::vector<seen> out;
        auto at = lg->log_start_offset();
        while (at < lg->log_end_offset()) {
            auto r = lg->read(at, 64 * 1024, lg->log_end_offset());
            EXPECT_TRUE(r) << r.err().to_string();
            auto data = r->slice.read_all();
            EXPECT_TRUE(data);
            model::batch_reader batches(*data, 1 << 20, model::count_rule::at_most);
            for (;;) {
                auto b = batches.next();
                EXPECT_TRUE(b) << b.err().to_string();
                if (!b || !*b) {
                    break;
                }
                auto recs = protocol::batch_records::open((*b)->header, (*b)->bytes, 1 << 20);
                EXPECT_TRUE(recs);
                auto rr = recs->records();
                while (auto rec = rr.next()) {
                    if (!*rec) {
                        break;
                    }
                    seen s;
                    s.offset = recs->offset_of(**rec)();
                    s.key = test::as_text(*(*rec)->key);
                    if ((*rec)->value) {
                        s.value = test::as_text(*(*rec)->value);
                    }
                    s.horizon = delete_horizon((*b)->header);
                    out.push_back(s);
                }
            }
            EXPECT_GT(r->next_offset, at);
            at = r->next_offset;
        }
        return out;
    }
    // What every reader from the start must see (see the file comment).
    void expect_compacted(model::offset cleaned_to, std::optional<std::int64_t> cleaned_at) {
        auto got = read_all();
        std::map<std::string, std::int64_t> latest;
        for (const auto& [o, w] : all) {
            latest[w.key] = o;
        }
        std::int64_t prev = -1;
        std::map<std::int64_t, const seen*> by_offset;
        for (const auto& s : got) {
            ASSERT_GT(s.offset, prev) << "offsets ascend";
            prev = s.offset;
            ASSERT_TRUE(all.contains(s.offset)) << s.offset;
            const auto& w = all.at(s.offset);
            ASSERT_EQ(s.key, w.key) << "record at " << s.offset << " unchanged";
            ASSERT_EQ(s.value, w.value) << "record at " << s.offset << " unchanged";
            by_offset[s.offset] = &s;
            if (!s.value && cleaned_at && s.offset < cleaned_to() && s.horizon) {
                EXPECT_LT(*cleaned_at, (*s.horizon)())
                    << "a tombstone past its horizon at " << s.offset << " was cleaned away";
            }
        }
        for (const auto& [key, o] : latest) {
            if (all.at(o).value) {
                EXPECT_TRUE(by_offset.contains(o)) << key << "'s latest value at " << o;
            }
        }
        for (const auto& [o, w] : all) {
            if (o >= cleaned_to()) {
                EXPECT_TRUE(by_offset.contains(o)) << "beyond the cleaned point, " << o << " stays";
            }
        }
    }
};

TEST_F(cleaner_fixture, a_clean_keeps_the_latest_value_of_every_key_and_drops_the_rest) {
    open(true);
    for (int round = 0; round < 120; ++round) {
        append({{"k" + std::to_string(round % 5), "v" + std::to_string(round)},
                {"other", "o" + std::to_string(round)}});
    }
    ASSERT_GT(lg->segment_count(), 2U);
    auto before = lg->size_bytes();
    auto res = clean();
    ASSERT_TRUE(res) << res.err().to_string();
    EXPECT_EQ(res->end_offset, lg->segment_bases().back()) << "up to the active segment";
    EXPECT_LT(lg->size_bytes(), before);
    expect_compacted(res->end_offset, now);
    auto got = read_all();
    std::size_t below = 0;
    for (const auto& s : got) {
        below += s.offset < res->end_offset() ? 1U : 0U;
    }
    // 6 keys, plus the last batch of each output segment, kept so segments stay contiguous.
    EXPECT_LE(below, 6U + 2 * lg->segment_count());
    // Idempotent: nothing new is dirty.
    auto again = lg->cleanable(checkpoint, lg->log_end_offset(), ts(now));
    EXPECT_EQ(again.dirty_bytes, 0U);
}

TEST_F(cleaner_fixture, batches_that_straddle_the_read_buffer_are_read_whole) {
    // Segments far larger than the read buffer: most batches start in one read and end in
    // the next (the buffer grows only for a batch larger than itself).
    cfg.segment_bytes = 64 * 1024;
    cfg.segment_index_bytes = 16 * 1024;
    buffers.io_bytes = model::batch_header_bytes + 40;
    open(true);
    for (int round = 0; round < 2000; ++round) {
        append({{"k" + std::to_string(round % 50),
                 std::string(static_cast<std::size_t>(round % 97), 'v')},
                {"other", "o" + std::to_string(round)}});
    }
    ASSERT_GT(lg->segment_count(), 2U);
    auto res = clean();
    ASSERT_TRUE(res) << res.err().to_string();
    EXPECT_EQ(res->end_offset, lg->segment_bases().back());
    expect_compacted(res->end_offset, now);
}

TEST_F(cleaner_fixture, tombstones_stay_until_their_delete_horizon_then_go) {
    open(true);
    for (int i = 0; i < 30; ++i) {
        append({{"a", "x" + std::to_string(i)}, {"b", "y" + std::to_string(i)}});
    }
    append({{"a", std::nullopt}});
    for (int i = 0; i < 30; ++i) {
        append({{"c", "z" + std::to_string(i)}});
    }
    auto first = clean();
    ASSERT_TRUE(first) << first.err().to_string();
    ASSERT_TRUE(first->next_horizon);
    EXPECT_EQ((*first->next_horizon)(), now + cfg.delete_retention_ms);
    auto got = read_all();
    bool tomb =
        std::any_of(got.begin(), got.end(), [](const seen& s) { return s.key == "a" && !s.value; });
    EXPECT_TRUE(tomb) << "a new tombstone is kept (and stamped) on the first pass";
    EXPECT_FALSE(std::any_of(got.begin(), got.end(), [](const seen& s) {
        return s.key == "a" && s.value;
    })) << "the tombstone deletes the older values at once";
    now += cfg.delete_retention_ms + 1;
    auto second = clean();
    ASSERT_TRUE(second) << second.err().to_string();
    got = read_all();
    EXPECT_FALSE(std::any_of(got.begin(), got.end(), [](const seen& s) { return s.key == "a"; }))
        << "past delete.retention.ms the tombstone goes too";
    expect_compacted(second->end_offset, now);
}

TEST_F(cleaner_fixture, seeded_workloads_of_writes_tombstones_rolls_cleans_and_reopens) {
    for (int seed = 0; seed < seed_count(20); ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        std::mt19937_64 rng(static_cast<std::uint64_t>(seed));
        // Even seeds drop obsolete batches unread, odd ones read every batch. Seeds 2 and 3
        // of every 4 read phase 1 on a thread of its own, from 1 byte to 4 KiB ahead.
        map_first_table = seed % 2 == 0 ? 16 : key_offset_map::default_initial_slots;
        buffers.read_thread_bytes_min = seed % 4 >= 2 ? 0 : clean_buffers{}.read_thread_bytes_min;
        buffers.read_ahead_bytes = 1 + rng() % 4096;
        ignore_error(env.fs.remove_all(dir), "absent on the first round");
        all.clear();
        checkpoint = off(0);
        open(true);
        std::optional<std::int64_t> last_clean;
        model::offset cleaned_to{0};
        int keys = 3 + static_cast<int>(rng() % 40);
        for (int step = 0; step < 300; ++step) {
            now += static_cast<std::int64_t>(rng() % 50);
            auto op = rng() % 100;
            if (op < 85) {
                std::vector<written> recs;
                for (auto n = 1 + rng() % 4; n > 0; --n) {
                    written w{"k" + std::to_string(rng() % static_cast<std::uint64_t>(keys)), {}};
                    if (rng() % 10 != 0) {
                        w.value = std::string(1 + rng() % 40, static_cast<char>('a' + rng() % 26));
                    }
                    recs.push_back(w);
                }
                append(recs);
            } else if (op < 95) {
                auto r = clean();
                ASSERT_TRUE(r) << r.err().to_string();
                last_clean = now;
                cleaned_to = r->end_offset;
                expect_compacted(cleaned_to, last_clean);
            } else {
                ASSERT_TRUE(lg->close());
                env.drain();
                lg.reset();
                open(true);
            }
            if (HasFatalFailure()) {
                return;
            }
        }
        expect_compacted(cleaned_to, last_clean);
        ASSERT_TRUE(lg->close());
        env.drain();
        lg.reset();
    }
    EXPECT_GT(dropped_unread, 0U) << "the even seeds took phase 2's shortcut";
    EXPECT_GT(passes_read_on_thread, 0U) << "seeds 2 and 3 of 4 read on a thread";
}

// The same writes, cleaned once reading every batch, once dropping the obsolete ones unread
// and once reading phase 1 on a thread of its own, give the same log, byte for byte.
TEST_F(cleaner_fixture, dropping_obsolete_batches_unread_or_reading_ahead_changes_no_byte) {
    compression = model::compression_type::lz4;
    auto run = [&](std::size_t first_table, bool threaded) {
        ignore_error(env.fs.remove_all(dir), "absent on the first run");
        now = 1'000'000;
        all.clear();
        checkpoint = off(0);
        dropped_unread = 0;
        passes_read_on_thread = 0;
        map_first_table = first_table;
        buffers.read_thread_bytes_min = threaded ? 0 : clean_buffers{}.read_thread_bytes_min;
        buffers.read_ahead_bytes = 512;
        open(true);
        std::mt19937_64 rng(7);
        for (int round = 0; round < 600; ++round) {
            now += 3;
            std::vector<written> recs;
            for (auto n = 1 + rng() % 5; n > 0; --n) {
                written w{"k" + std::to_string(rng() % 30), {}};
                if (rng() % 8 != 0) {
                    w.value = std::string(1 + rng() % 60, static_cast<char>('a' + rng() % 26));
                }
                recs.push_back(w);
            }
            append(recs);
            if (round % 150 == 149) {
                auto r = clean();
                EXPECT_TRUE(r) << r.err().to_string();
            }
        }
        expect_compacted(checkpoint, now);
        std::vector<std::pair<std::string, bytes>> files;
        EXPECT_TRUE(lg->close());
        env.drain();
        lg.reset();
        auto names = env.fs.list_dir(dir);
        EXPECT_TRUE(names);
        for (const auto& name : names ? *names : std::vector<std::string>{}) {
            auto b = read_small_file(env.fs, path_join(dir, name), 1 << 20);
            EXPECT_TRUE(b) << name;
            files.emplace_back(name, b ? std::move(*b) : bytes{});
        }
        std::sort(files.begin(), files.end());
        return files;
    };
    auto reading = run(key_offset_map::default_initial_slots, false);
    EXPECT_EQ(dropped_unread, 0U);
    EXPECT_EQ(passes_read_on_thread, 0U);
    auto shortcut = run(16, false);
    EXPECT_GT(dropped_unread, 0U);
    auto ahead = run(16, true);
    EXPECT_EQ(passes_read_on_thread, 4U);
    for (const auto* other : {&shortcut, &ahead}) {
        ASSERT_EQ(reading.size(), other->size());
        for (std::size_t i = 0; i < reading.size(); ++i) {
            EXPECT_EQ(reading[i].first, (*other)[i].first);
            EXPECT_TRUE(reading[i].second == (*other)[i].second) << reading[i].first << " differs";
        }
    }
}

// A map too small for the dirty section's keys ends the pass at the last batch it covers,
// whether or not phase 1 read ahead on a thread (the reader is then stopped mid-segment).
TEST_F(cleaner_fixture, a_full_map_ends_the_pass_at_the_same_offset_when_reading_ahead) {
    map_bytes = 64 * key_offset_map::slot_bytes;  // room for 57 keys
    map_first_table = 64;
    auto run = [&](bool threaded) {
        ignore_error(env.fs.remove_all(dir), "absent on the first run");
        all.clear();
        checkpoint = off(0);
        passes_read_on_thread = 0;
        buffers.read_thread_bytes_min = threaded ? 0 : clean_buffers{}.read_thread_bytes_min;
        buffers.read_ahead_bytes = 256;
        open(true);
        for (int i = 0; i < 400; ++i) {
            append({{"k" + std::to_string(i), "v" + std::to_string(i)}});
        }
        std::vector<model::offset> ends;
        while (checkpoint < lg->segment_bases().back()) {
            auto r = clean();
            EXPECT_TRUE(r) << r.err().to_string();
            if (!r) {
                break;
            }
            expect_compacted(r->end_offset, now);
            ends.push_back(r->end_offset);
        }
        EXPECT_TRUE(lg->close());
        env.drain();
        lg.reset();
        return ends;
    };
    auto inline_ends = run(false);
    auto ahead_ends = run(true);
    ASSERT_GT(inline_ends.size(), 2U) << "several passes, each ended by the full map";
    EXPECT_EQ(ahead_ends, inline_ends);
    EXPECT_EQ(passes_read_on_thread, ahead_ends.size());
}

TEST_F(cleaner_fixture, a_crash_at_any_file_operation_of_a_clean_leaves_the_latest_values) {
    auto build = [&] {
        all.clear();
        checkpoint = off(0);
        ignore_error(env.fs.remove_all(dir), "absent on the first round");
        open(true);
        for (int i = 0; i < 60; ++i) {
            append({{"k" + std::to_string(i % 7), "v" + std::to_string(i)}});
        }
        flush_all();
    };
    build();
    auto calls_before = env.fs.mutating_calls();
    auto full = clean();
    ASSERT_TRUE(full);
    auto cleaned_to = full->end_offset;
    auto calls = env.fs.mutating_calls() - calls_before;
    ASSERT_GT(calls, 5U);
    ASSERT_TRUE(lg->close());
    lg.reset();
    for (std::uint64_t k = 0; k <= calls; ++k) {
        SCOPED_TRACE("crash after " + std::to_string(k) + " of " + std::to_string(calls));
        build();
        env.fs.fail_after(k);
        (void)clean();  // fails from the k-th call on, as a process dying there
        lg.reset();
        std::mt19937_64 rng(k);
        env.crash(crash_mode::drop_unsynced, rng);
        env.fs.fail_after(std::nullopt);
        open(false);
        // Either the old segments or the cleaned ones, never a mix that loses a value.
        expect_compacted(cleaned_to, std::nullopt);
        auto again = clean();
        ASSERT_TRUE(again) << again.err().to_string();
        expect_compacted(again->end_offset, now);
        ASSERT_TRUE(lg->close());
        lg.reset();
        if (HasFatalFailure()) {
            return;
        }
    }
}

TEST_F(cleaner_fixture, a_pass_over_a_log_that_changed_meanwhile_is_dropped) {
    open(true);
    for (int i = 0; i < 40; ++i) {
        append({{"k" + std::to_string(i % 3), "v" + std::to_string(i)}});
    }
    auto range = lg->cleanable(checkpoint, lg->log_end_offset(), ts(now));
    auto made = lg->make_clean_job(range, ts(now));
    ASSERT_TRUE(made);
    auto& job = *made;
    key_offset_map map(64 * 1024, 0.9);
    io_throttle unlimited(1e308);
    auto res = run_clean(env.fs, job, map, clean_buffers{}, unlimited);
    ASSERT_TRUE(res);
    ASSERT_TRUE(lg->truncate_to(off(20)));
    for (auto it = all.lower_bound(20); it != all.end();) {
        it = all.erase(it);
    }
    auto swapped = lg->finish_clean(job, *res);
    ASSERT_FALSE(swapped);
    EXPECT_EQ(swapped.err().code, make_error_code(errc::closed));
    expect_compacted(off(0), std::nullopt);
    auto names = env.fs.list_dir(dir);
    ASSERT_TRUE(names);
    for (const auto& n : *names) {
        EXPECT_EQ(n.find(".cleaned"), std::string::npos) << n << " left behind";
    }
}

// A flipped bit in a record's value (which nothing but the CRC can tell) fails the pass,
// in the clean section (which only phase 2 reads) as in the dirty one: a rebuilt batch
// never gets a fresh CRC over bytes nobody checked.
struct damaged_cleaner_fixture : cleaner_fixture, ::testing::WithParamInterface<int> {};

TEST_P(damaged_cleaner_fixture, a_flipped_value_bit_fails_the_pass) {
    const bool in_clean_section = GetParam() == 0;
    // Phase 1 finds it in the dirty section, inline (1) or reading on its own thread (2).
    buffers.read_thread_bytes_min = GetParam() == 2 ? 0 : clean_buffers{}.read_thread_bytes_min;
    {
        open(true);
        for (int i = 0; i < 120; ++i) {
            if (i == 60) {
                ASSERT_TRUE(clean());
            }
            append({{"k" + std::to_string(i % 4), "value-" + std::to_string(i)}});
        }
        auto made =
            lg->make_clean_job(lg->cleanable(checkpoint, lg->log_end_offset(), ts(now)), ts(now));
        ASSERT_TRUE(made);
        auto& job = *made;
        ASSERT_GE(job.segments.size(), 3U);
        // The first batch with records in the section, and its last value's last byte.
        std::optional<std::pair<std::string, std::uint64_t>> target;
        for (const auto& seg : job.segments) {
            const bool clean_segment = seg.base < job.first_dirty;
            if (target || clean_segment != in_clean_section) {
                continue;
            }
            bytes data(seg.size);
            ASSERT_EQ(seg.log_file->read_at(0, data).value(), data.size());
            model::batch_reader batches(data, 1 << 20, model::count_rule::at_most);
            std::uint64_t at = 0;
            for (auto b = batches.next(); b && *b && !target; b = batches.next()) {
                at += (*b)->bytes.size();
                if ((*b)->header.record_count > 0) {
                    target.emplace(
                        path_join(dir, segment_file_name(seg.base, segment_file_kind::log)),
                        at - 2);
                }
            }
        }
        ASSERT_TRUE(target) << "a batch with records in the section";
        env.fs.flip_bit(target->first, target->second, 0);
        key_offset_map map(64 * 1024, 0.9);
        io_throttle unlimited(1e308);
        auto res = run_clean(env.fs, job, map, buffers, unlimited);
        ASSERT_FALSE(res) << (in_clean_section ? "clean" : "dirty") << " section";
        EXPECT_EQ(res.err().code, make_error_code(errc::corrupt_segment)) << res.err().to_string();
        EXPECT_NE(res.err().to_string().find("CRC"), std::string::npos) << res.err().to_string();
    }
}
std::string damage_place(const ::testing::TestParamInfo<int>& p) {
    static constexpr std::array<const char*, 3> names{"clean_section", "dirty_section",
                                                      "dirty_section_read_ahead"};
    return names.at(static_cast<std::size_t>(p.param));
}
INSTANTIATE_TEST_SUITE_P(cleaner, damaged_cleaner_fixture, ::testing::Values(0, 1, 2),
                         damage_place);

TEST_F(cleaner_fixture, compaction_lags_bound_what_is_cleanable_and_when) {
    open(true);
    for (int i = 0; i < 60; ++i) {
        append({{"k" + std::to_string(i % 3), "old-" + std::to_string(i)}});
    }
    now += 10'000;
    for (int i = 0; i < 60; ++i) {
        append({{"k" + std::to_string(i % 3), "new-" + std::to_string(i)}});
    }
    auto lagged = cfg;
    lagged.min_compaction_lag_ms = 5'000;
    lg->set_config(lagged);
    auto r = lg->cleanable(off(0), lg->log_end_offset(), ts(now));
    EXPECT_GT(r.first_uncleanable, off(0)) << "the old records are cleanable";
    EXPECT_LE(r.first_uncleanable, off(60))
        << "a segment holding a record newer than min.compaction.lag.ms is not";
    EXPECT_FALSE(r.overdue) << "max.compaction.lag.ms is unlimited by default";
    auto forced = cfg;
    forced.max_compaction_lag_ms = 1'000;
    lg->set_config(forced);
    r = lg->cleanable(off(0), lg->log_end_offset(), ts(now));
    EXPECT_EQ(r.first_uncleanable, lg->segment_bases().back());
    EXPECT_TRUE(r.overdue) << "the oldest dirty record is past max.compaction.lag.ms";
    EXPECT_FALSE(lg->cleanable(off(0), lg->log_end_offset(), ts(1'000'500)).overdue);
}

TEST(io_throttle, holds_the_rate_and_banks_at_most_a_second_of_idle_time) {
    using namespace std::chrono_literals;
    io_throttle t(1000.0);  // bytes per second
    auto t0 = io_throttle::clock::now();
    EXPECT_EQ(t.reserve(500, t0), t0 + 500ms) << "half a second's bytes at once: wait for them";
    EXPECT_EQ(t.reserve(500, t0), t0 + 1000ms);
    // An hour idle, then a burst of three seconds' worth: only one second was banked.
    auto later = t0 + 3600s;
    EXPECT_EQ(t.reserve(3000, later), later + 2000ms);
    EXPECT_FALSE(t.unlimited());
    EXPECT_TRUE(io_throttle(1.7976931348623157e308).unlimited()) << "Kafka's default";
}

TEST_F(cleaner_fixture, the_cleaner_picks_dirty_compacted_logs_and_checkpoints_as_kafka) {
    std::vector<std::string> dirs{"/d"};
    std::set<std::string> compacted{"table"};
    auto mgr = std::make_unique<log_manager>(env.ctx(), dirs, [&](const std::string& topic) {
        auto c = cfg;
        c.compact = compacted.contains(topic);
        return c;
    });
    ASSERT_TRUE(mgr->load(ts(now)));
    cleaner_config cc;
    cc.dedupe_buffer_size = 1 << 20;
    log_cleaner cleaner(*mgr, env.fs, *env.worker, env.exec->get(), cc, {},
                        io_worker::mode::manual);
    cleaner.load();
    auto* table = *mgr->get_or_create(tp, ts(now));
    auto* plain = *mgr->get_or_create({"plain", model::partition_id(0)}, ts(now));
    for (int i = 0; i < 60; ++i) {
        auto b = keyed_batch({{"k" + std::to_string(i % 4), "v" + std::to_string(i)}}, now);
        auto c = b;
        ASSERT_TRUE(table->append_as_leader(b, model::leader_epoch(1), ts(now)));
        ASSERT_TRUE(plain->append_as_leader(c, model::leader_epoch(1), ts(now)));
    }
    auto plain_size = plain->size_bytes();
    EXPECT_EQ(cleaner.tick(ts(now)), 1U);
    EXPECT_EQ(cleaner.run_pending(), 1U);
    env.drain();
    auto st = cleaner.status(tp);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->passes, 1U);
    EXPECT_EQ(st->first_dirty, table->segment_bases().back());
    EXPECT_EQ(plain->size_bytes(), plain_size) << "a delete-policy log is never compacted";
    EXPECT_EQ(cleaner.tick(ts(now)), 0U) << "nothing dirty is left";
    auto file = read_small_file(env.fs, "/d/cleaner-offset-checkpoint", 4096);
    ASSERT_TRUE(file);
    EXPECT_EQ(test::as_text(*file), fmt::format("0\n1\ntable 0 {}\n", st->first_dirty()));
    // Kafka's LogCleaner gauges, from that pass.
    auto sum = cleaner.summary();
    EXPECT_DOUBLE_EQ(sum.max_buffer_utilization, st->last->map_utilization);
    EXPECT_GT(sum.max_buffer_utilization, 0.0);
    EXPECT_GT(sum.recopy_ratio, 0.0) << "the 4 latest values were written";
    EXPECT_LT(sum.recopy_ratio, 0.5) << "of 60 values recopied";
    EXPECT_EQ(sum.last_look, ts(now));
    ASSERT_EQ(sum.uncleanable.size(), 1U);
    EXPECT_EQ(sum.uncleanable.at("/d").partitions, 0U);

    // Deleted and created again: the new log is all dirty, whatever the old checkpoint said.
    auto cleaned_size = table->size_bytes();
    ASSERT_TRUE(mgr->remove(tp));
    env.drain();
    table = *mgr->get_or_create(tp, ts(now));
    for (int i = 0; i < 60; ++i) {
        auto b = keyed_batch({{"k" + std::to_string(i % 4), "v" + std::to_string(i)}}, now);
        ASSERT_TRUE(table->append_as_leader(b, model::leader_epoch(1), ts(now)));
    }
    EXPECT_EQ(cleaner.tick(ts(now)), 1U);
    EXPECT_EQ(cleaner.run_pending(), 1U);
    env.drain();
    EXPECT_EQ(cleaner.status(tp)->passes, 1U);
    EXPECT_EQ(table->size_bytes(), cleaned_size) << "cleaned from its start, like the first";

    // A topic made compacted by a config change is cleaned from then on.
    compacted.insert("plain");
    mgr->reload_configs();
    EXPECT_EQ(cleaner.tick(ts(now)), 1U);
    EXPECT_EQ(cleaner.run_pending(), 1U);
    env.drain();
    EXPECT_LT(plain->size_bytes(), plain_size);
    cleaner.stop();
    ASSERT_TRUE(mgr->shutdown());
}

TEST_F(cleaner_fixture, a_failed_pass_is_counted_uncleanable_in_its_log_dir) {
    std::vector<std::string> dirs{"/d", "/e"};
    auto mgr = std::make_unique<log_manager>(env.ctx(), dirs, [this](const std::string&) {
        return cfg;  // compacted
    });
    ASSERT_TRUE(mgr->load(ts(now)));
    log_cleaner cleaner(*mgr, env.fs, *env.worker, env.exec->get(), cleaner_config{}, {},
                        io_worker::mode::manual);
    cleaner.load();
    auto* table = *mgr->get_or_create(tp, ts(now));
    for (int i = 0; i < 60; ++i) {
        auto b = keyed_batch({{"k" + std::to_string(i % 4), "v" + std::to_string(i)}}, now);
        ASSERT_TRUE(table->append_as_leader(b, model::leader_epoch(1), ts(now)));
    }
    // A flipped bit in the first batch's records: its CRC fails, the pass fails.
    auto first = path_join(
        table->dir(), segment_file_name(table->segment_bases().front(), segment_file_kind::log));
    env.fs.flip_bit(first, model::batch_header_bytes + 4, 0);
    EXPECT_EQ(cleaner.tick(ts(now)), 1U);
    EXPECT_EQ(cleaner.run_pending(), 1U);
    env.drain();
    ASSERT_TRUE(cleaner.status(tp));
    EXPECT_TRUE(cleaner.status(tp)->uncleanable);
    auto sum = cleaner.summary();
    const auto home = path_parent(table->dir());
    ASSERT_EQ(sum.uncleanable.size(), 2U) << "every log dir, zeros included";
    EXPECT_EQ(sum.uncleanable.at(home).partitions, 1U);
    EXPECT_GT(sum.uncleanable.at(home).bytes, 0U);
    EXPECT_EQ(sum.uncleanable.at(home == "/d" ? "/e" : "/d").partitions, 0U);
    EXPECT_EQ(sum.max_buffer_utilization, 0.0) << "no pass finished";
    EXPECT_EQ(cleaner.tick(ts(now)), 0U) << "not tried again until restart";
    cleaner.stop();
    ASSERT_TRUE(mgr->shutdown());
}

}  // namespace
}  // namespace gregor::storage
