// Goal: after any crash the recovered log is a prefix of what was appended, everything an
// fsync acknowledged is still there, and torn or corrupted tails are cut away, with indexes
// and the leader epoch cache consistent with the data.
// Method: seeded random workloads on the in-memory file system (appends of random sizes
// with random epochs, random flush policies, random progress of the I/O worker), then a
// simulated power loss at a random point in one of three modes (unsynced bytes dropped,
// torn tail, torn tail plus garbage), then reopen with a possibly stale recovery point and
// check the invariants. Deterministic: iteration i uses seed i.
#include "storage/errc.h"
#include "storage/log.h"
#include "storage/names.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

#include <random>

namespace gregor::storage {
namespace {

using test::make_batch;
using test::off;
using test::ts;

const model::topic_partition tp{"t", model::partition_id(7)};
const std::string dir = "/d/t-7";

struct appended {
    bytes data;  // the batch as stored (offsets and epoch rewritten)
    std::int64_t base = 0;
    std::int64_t last = 0;
    std::int32_t epoch = 0;
};

log_config random_config(std::mt19937_64& rng) {
    log_config c;
    c.segment_bytes = 1024 + rng() % 3000;
    c.index_interval_bytes = static_cast<std::uint32_t>(rng() % 400);
    c.segment_index_bytes = 64 + static_cast<std::uint32_t>(rng() % 4) * 96;
    const std::int64_t policies[] = {1, 3, no_limit};
    c.flush_messages = policies[rng() % 3];
    return c;
}

std::unique_ptr<log> open_log(test::memory_env& env, const log_config& cfg, log_open_state st) {
    auto r = log::open(env.ctx(), dir, tp, cfg, st, ts(10'000));
    EXPECT_TRUE(r) << r.err().to_string();
    return r ? std::move(*r) : nullptr;
}

// Reads the whole log back, batch by batch.
std::vector<bytes> read_all(log& l) {
    std::vector<bytes> out;
    auto next = l.log_start_offset();
    while (next < l.log_end_offset()) {
        auto r = l.read(next, 1, l.log_end_offset());
        EXPECT_TRUE(r) << r.err().to_string();
        if (r && r->slice.length == 0) {
            std::string segs;
            for (auto b : l.segment_bases())
                segs += fmt::format("{} ", b);
            ADD_FAILURE() << "empty read at " << next() << " leo " << l.log_end_offset()()
                          << " segs " << segs;
        }
        if (!r || r->slice.length == 0) {
            break;
        }
        out.push_back(*r->slice.read_all());
        next = r->next_offset;
    }
    return out;
}

// Appends `n` random batches, acking those an fsync covers into `acked`.
void workload(std::mt19937_64& rng, test::memory_env& env, log& l, std::vector<appended>& history,
              std::int64_t& acked, int n) {
    std::int32_t epoch = history.empty() ? 0 : history.back().epoch;
    for (int i = 0; i < n; ++i) {
        if (rng() % 8 == 0) {
            ++epoch;
        }
        auto b = make_batch({.records = 1 + static_cast<int>(rng() % 4),
                             .value_bytes = rng() % 300,
                             .timestamp = 10'000 + static_cast<std::int64_t>(history.size()),
                             .fill = static_cast<std::uint8_t>(rng())});
        auto r = l.append_as_leader(b, model::leader_epoch(epoch), ts(10'000));
        ASSERT_TRUE(r) << r.err().to_string();
        history.push_back({b, r->first_offset(), r->last_offset(), epoch});
        auto last = r->last_offset();
        l.when_flushed(r->last_offset, [&acked, last](result<void> ok) {
            if (ok) {
                acked = std::max(acked, last);
            }
        });
        switch (rng() % 4) {
            case 0:
                env.drain();
                break;
            case 1:
                env.worker->run_pending();
                break;  // fsynced, not yet acknowledged
            default:
                break;
        }
    }
}

void check_recovered(log& l, const std::vector<appended>& history, std::int64_t acked,
                     const std::string& what) {
    auto got = read_all(l);
    ASSERT_LE(got.size(), history.size()) << what;
    for (std::size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i], history[i].data) << what << ": batch " << i << " differs";
    }
    auto end = got.empty() ? 0 : history[got.size() - 1].last + 1;
    EXPECT_EQ(l.log_end_offset(), off(end)) << what;
    EXPECT_GT(end, acked) << what << ": an acknowledged (fsynced) batch was lost";
    for (const auto& e : l.epochs().entries()) {
        EXPECT_LT(e.start_offset, off(std::max<std::int64_t>(end, 1))) << what;
    }
    if (!got.empty()) {
        auto latest = l.epochs().latest();
        ASSERT_TRUE(latest) << what;
        EXPECT_EQ(latest->epoch(), history[got.size() - 1].epoch) << what;
        // Every offset is found through the (rebuilt) index.
        for (std::size_t i = 0; i < got.size(); i += 3) {
            auto r = l.read(off(history[i].last), 1, l.log_end_offset());
            ASSERT_TRUE(r) << what;
            EXPECT_EQ(r->first_offset, off(history[i].base)) << what;
        }
    }
}

// Opens a new log, appends `batches` random batches and closes it cleanly: the start of each
// test that then damages its files. The closed log still answers segment_bases() and epochs().
std::unique_ptr<log> write_and_close(test::memory_env& env, const log_config& cfg,
                                     std::mt19937_64& rng, std::vector<appended>& history,
                                     std::int64_t& acked, int batches) {
    auto l = open_log(env, cfg, {});
    if (l) {
        workload(rng, env, *l, history, acked, batches);
        EXPECT_TRUE(l->close());
    }
    return l;
}

// write_and_close, then removes the first segment's offset index (as if never written: it is
// rebuilt on first lookup). Returns the segment bases; empty when that failed.
std::vector<model::offset> write_close_and_drop_first_index(test::memory_env& env,
                                                            const log_config& cfg,
                                                            std::mt19937_64& rng,
                                                            std::vector<appended>& history,
                                                            std::int64_t& acked, int batches) {
    auto l = write_and_close(env, cfg, rng, history, acked, batches);
    if (!l) {
        return {};
    }
    auto bases = l->segment_bases();
    l.reset();
    bool removed = !bases.empty() &&
                   env.fs.remove(dir + "/" + segment_file_name(bases[0], segment_file_kind::index))
                       .has_value();
    EXPECT_TRUE(removed);
    return removed ? bases : std::vector<model::offset>{};
}

// What a log manager passes after a clean shutdown (the recovery point is past every log end).
const log_open_state after_clean_shutdown{.recovery_point = off(1'000'000), .clean_shutdown = true};

TEST(recovery, random_crashes_keep_a_prefix_with_every_acknowledged_batch) {
    for (std::uint64_t seed = 0; seed < 300; ++seed) {
        std::mt19937_64 rng(seed);
        test::memory_env env;
        auto cfg = random_config(rng);
        std::vector<appended> history;
        std::int64_t acked = -1;
        auto l = open_log(env, cfg, {});
        ASSERT_TRUE(l);
        workload(rng, env, *l, history, acked, 5 + static_cast<int>(rng() % 40));
        // A checkpoint may lag the log's own recovery point.
        auto rp = l->recovery_point()() == 0
                      ? 0
                      : static_cast<std::int64_t>(
                            rng() % static_cast<std::uint64_t>(l->recovery_point()() + 1));
        l.reset();
        auto mode = static_cast<crash_mode>(rng() % 3);
        env.crash(mode, rng);
        auto what = fmt::format("seed {} mode {} rp {}", seed, static_cast<int>(mode), rp);
        l = open_log(env, cfg, {.recovery_point = off(rp)});
        ASSERT_TRUE(l) << what;
        check_recovered(*l, history, acked, what);
        // The recovered log takes appends again.
        auto b = make_batch({.records = 1});
        ASSERT_TRUE(l->append_as_leader(b, model::leader_epoch(99), ts(10'000))) << what;
    }
}

TEST(recovery, flipped_bit_truncates_from_the_damaged_batch) {
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
        std::mt19937_64 rng(seed);
        test::memory_env env;
        log_config cfg;
        cfg.segment_index_bytes = 1024;
        std::vector<appended> history;
        std::int64_t acked = -1;
        auto l = open_log(env, cfg, {});
        workload(rng, env, *l, history, acked, 10);
        env.drain();
        l.reset();
        auto log_path = dir + "/" + segment_file_name(off(0), segment_file_kind::log);
        auto size = env.fs.file_size(log_path);
        auto pos = rng() % size;
        env.fs.flip_bit(log_path, pos, static_cast<int>(rng() % 8));
        l = open_log(env, cfg, {.recovery_point = off(0)});
        ASSERT_TRUE(l);
        std::size_t damaged = 0;
        std::uint64_t start = 0;
        while (start + history[damaged].data.size() <= pos) {
            start += history[damaged].data.size();
            ++damaged;
        }
        auto got = read_all(*l);
        ASSERT_EQ(got.size(), damaged) << "seed " << seed << " flipped byte " << pos;
        for (std::size_t i = 0; i < got.size(); ++i) {
            ASSERT_EQ(got[i], history[i].data);
        }
        EXPECT_EQ(env.fs.file_size(log_path), start) << "the bad tail is cut from the file";
    }
}

TEST(recovery, missing_and_corrupt_indexes_are_rebuilt_from_the_log) {
    test::memory_env env;
    log_config cfg;
    cfg.segment_bytes = 1500;
    cfg.index_interval_bytes = 100;
    cfg.segment_index_bytes = 1024;
    std::mt19937_64 rng(1);
    std::vector<appended> history;
    std::int64_t acked = -1;
    auto bases = write_close_and_drop_first_index(env, cfg, rng, history, acked, 40);
    ASSERT_GE(bases.size(), 3U);
    auto tindex = dir + "/" + segment_file_name(bases[1], segment_file_kind::time_index);
    auto f = env.fs.open(tindex, open_mode::read_write);
    ASSERT_TRUE(f);
    ASSERT_TRUE((*f)->write_at(0, bytes(12, 0xff)));
    auto l = open_log(env, cfg, after_clean_shutdown);
    ASSERT_TRUE(l);
    check_recovered(*l, history, acked, "rebuilt indexes");
    EXPECT_TRUE(env.fs.exists(dir + "/" + segment_file_name(bases[0], segment_file_kind::index)));
}

TEST(recovery, corrupt_epoch_checkpoint_falls_back_to_a_full_scan) {
    test::memory_env env;
    log_config cfg;
    cfg.segment_bytes = 1500;
    cfg.segment_index_bytes = 1024;
    std::mt19937_64 rng(2);
    std::vector<appended> history;
    std::int64_t acked = -1;
    auto l = write_and_close(env, cfg, rng, history, acked, 30);
    ASSERT_TRUE(l);
    auto expected = l->epochs().entries();
    l.reset();
    auto f =
        env.fs.open(dir + "/" + std::string(leader_epoch_checkpoint_name), open_mode::read_write);
    ASSERT_TRUE(f);
    ASSERT_TRUE((*f)->write_at(0, bytes{'x', '\n'}));
    l = open_log(env, cfg, after_clean_shutdown);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->epochs().entries(), expected);
    check_recovered(*l, history, acked, "epochs rescanned");
}

TEST(recovery, clean_shutdown_skips_the_scan) {
    test::memory_env env;
    log_config cfg;
    cfg.segment_index_bytes = 1024;
    std::mt19937_64 rng(3);
    std::vector<appended> history;
    std::int64_t acked = -1;
    auto l = write_and_close(env, cfg, rng, history, acked, 10);
    ASSERT_TRUE(l);
    l.reset();
    // Damage that only a scan would notice: a bit in the middle of the first batch.
    auto log_path = dir + "/" + segment_file_name(off(0), segment_file_kind::log);
    env.fs.flip_bit(log_path, 40, 0);
    l = open_log(env, cfg, {.recovery_point = off(0), .clean_shutdown = true});
    ASSERT_TRUE(l);
    EXPECT_EQ(l->log_end_offset(), off(history.back().last + 1));
}

// A clean close writes only what the disk does not hold durably yet: an idle log's close
// (after a restart, or with only a new leader epoch the worker already wrote) makes no write,
// fsync or rename. Whatever it skips must survive a power loss right after it: the next
// open, vouched for by the clean-shutdown marker, finds every batch, the leader epochs and the
// idempotent producer.
TEST(recovery, clean_close_skips_what_is_durable_and_a_power_loss_after_it_loses_nothing) {
    const model::producer_id pid(42);
    int idle_closes = 0;
    for (std::uint64_t seed = 0; seed < 40; ++seed) {
        std::mt19937_64 rng(seed);
        test::memory_env env;
        auto cfg = random_config(rng);
        std::vector<appended> history;
        std::int64_t acked = -1;
        std::int32_t next_seq = 0;
        std::int32_t epoch = 0;
        auto l = open_log(env, cfg, {});
        auto append_one = [&](bool idempotent) {
            auto b = make_batch({.records = 2,
                                 .value_bytes = rng() % 200,
                                 .timestamp = 20'000 + static_cast<std::int64_t>(history.size()),
                                 .producer_id = idempotent ? pid() : -1,
                                 .producer_epoch = static_cast<std::int16_t>(idempotent ? 0 : -1),
                                 .base_sequence = idempotent ? next_seq : -1});
            auto r = l->append_as_leader(b, model::leader_epoch(epoch), ts(20'000));
            ASSERT_TRUE(r) << r.err().to_string();
            history.push_back({b, r->first_offset(), r->last_offset(), epoch});
            next_seq += idempotent ? 2 : 0;
        };
        workload(rng, env, *l, history, acked, 20);
        epoch = history.back().epoch;
        append_one(true);
        for (int round = 0; round < 6; ++round) {
            auto expected_epochs = l->epochs().entries();
            ASSERT_TRUE(l->close());
            l.reset();
            env.crash(static_cast<crash_mode>(rng() % 3), rng);
            auto what = fmt::format("seed {} round {}", seed, round);
            auto syncs = env.fs.sync_count();
            l = open_log(env, cfg, after_clean_shutdown);
            ASSERT_TRUE(l) << what;
            EXPECT_EQ(env.fs.sync_count(), syncs) << what << ": a clean open synced";
            auto got = read_all(*l);
            ASSERT_EQ(got.size(), history.size()) << what;
            for (std::size_t i = 0; i < got.size(); ++i) {
                ASSERT_EQ(got[i], history[i].data) << what << ": batch " << i;
            }
            // Opening drops an epoch that starts at the log end (it holds nothing).
            std::erase_if(expected_epochs,
                          [&](const auto& e) { return e.start_offset >= l->log_end_offset(); });
            EXPECT_EQ(l->epochs().entries(), expected_epochs) << what;
            const auto* p = l->producers().find(pid);
            ASSERT_NE(p, nullptr) << what;
            EXPECT_EQ(p->last_sequence(), next_seq - 1) << what;

            auto action = rng() % 3;
            if (action == 1) {
                l->assign_epoch(model::leader_epoch(++epoch), l->log_end_offset());
            } else if (action == 2) {
                append_one(rng() % 2 == 0);
            }
            bool drained = rng() % 2 == 0;
            if (drained) {
                env.drain();
            }
            if (action == 0 || (action == 1 && drained)) {
                auto before = env.fs.mutating_calls();
                ASSERT_TRUE(l->close()) << what;
                EXPECT_EQ(env.fs.mutating_calls(), before) << what << ": an idle close wrote";
                ++idle_closes;
                auto again = l->epochs().entries();
                l.reset();
                env.crash(static_cast<crash_mode>(rng() % 3), rng);
                l = open_log(env, cfg, after_clean_shutdown);
                ASSERT_TRUE(l) << what;
                std::erase_if(again,
                              [&](const auto& e) { return e.start_offset >= l->log_end_offset(); });
                EXPECT_EQ(l->epochs().entries(), again) << what;
                EXPECT_EQ(read_all(*l).size(), history.size()) << what;
            }
        }
        ASSERT_TRUE(l->close());
    }
    EXPECT_GT(idle_closes, 40);
}

// A close while a flush is in flight syncs again every file the flush took, reopening sealed
// indexes; one never written (missing, rebuilt on first lookup) has nothing to sync.
TEST(recovery, close_during_a_flush_syncs_what_the_flush_took_and_skips_missing_indexes) {
    test::memory_env env;
    log_config cfg;
    cfg.segment_bytes = 1500;
    cfg.segment_index_bytes = 1024;
    std::mt19937_64 rng(11);
    std::vector<appended> history;
    std::int64_t acked = -1;
    auto bases = write_close_and_drop_first_index(env, cfg, rng, history, acked, 30);
    ASSERT_GE(bases.size(), 3U);
    auto l = open_log(env, cfg, after_clean_shutdown);
    ASSERT_TRUE(l);
    workload(rng, env, *l, history, acked, 20);  // rolls: sealed indexes to sync
    env.drain();
    auto b = make_batch({.records = 2, .value_bytes = 100, .timestamp = 20'000});
    auto r = l->append_as_leader(b, model::leader_epoch(history.back().epoch), ts(10'000));
    ASSERT_TRUE(r) << r.err().to_string();
    history.push_back({b, r->first_offset(), r->last_offset(), history.back().epoch});
    l->when_flushed(r->last_offset, [](result<void>) {});
    ASSERT_LT(l->recovery_point(), l->log_end_offset()) << "a flush is in flight";
    ASSERT_TRUE(l->close());  // the flush's fsyncs never ran
    l.reset();
    env.crash(crash_mode::drop_unsynced, rng);
    l = open_log(env, cfg, after_clean_shutdown);
    ASSERT_TRUE(l);
    check_recovered(*l, history, acked, "closed during a flush");
    EXPECT_EQ(l->log_end_offset(), off(history.back().last + 1)) << "nothing lost";
}

// An empty partition's epoch starts at its end, so every open drops it (Kafka's trim at
// load): a new leader's epoch there is written with the first batch, not before, and a new,
// a restarted and an idle empty partition's open and close write nothing; a power loss
// changes nothing, and the epoch of the first batch survives it.
TEST(recovery, restarting_an_empty_partition_writes_nothing_at_open_or_close) {
    test::memory_env env;
    const log_open_state clean{.recovery_point = off(0), .clean_shutdown = true};
    auto l = open_log(env, log_config{}, {});
    ASSERT_TRUE(l);
    std::mt19937_64 rng(5);
    for (int leader_epoch = 1; leader_epoch <= 3; ++leader_epoch) {
        l->assign_epoch(model::leader_epoch(leader_epoch), off(0));  // became leader
        env.drain();
        auto calls = env.fs.mutating_calls();
        ASSERT_TRUE(l->close());
        EXPECT_EQ(env.fs.mutating_calls(), calls)
            << "the close of an idle empty log wrote (epoch " << leader_epoch << ")";
        l.reset();
        env.crash(crash_mode::drop_unsynced, rng);
        auto syncs = env.fs.sync_count();
        l = open_log(env, log_config{}, clean);
        ASSERT_TRUE(l);
        EXPECT_EQ(env.fs.sync_count(), syncs) << "the open of an empty log synced";
        EXPECT_TRUE(l->epochs().entries().empty());
        EXPECT_EQ(l->log_end_offset(), off(0));
        EXPECT_TRUE(l->snapshot_offsets().empty());
    }
    // Data at the last epoch: the checkpoint written then is the one the next open reads.
    l->assign_epoch(model::leader_epoch(4), off(0));
    auto b = make_batch({.records = 3});
    ASSERT_TRUE(l->append_as_leader(b, model::leader_epoch(4), ts(10'000)));
    ASSERT_TRUE(l->close());
    l.reset();
    env.crash(crash_mode::drop_unsynced, rng);
    l = open_log(env, log_config{}, clean);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->log_end_offset(), off(3));
    ASSERT_EQ(l->epochs().entries().size(), 1U);
    EXPECT_EQ(l->epochs().entries()[0].epoch, model::leader_epoch(4));
    EXPECT_EQ(l->epochs().entries()[0].start_offset, off(0));
}

}  // namespace
}  // namespace gregor::storage
