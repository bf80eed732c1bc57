// Goal: the log manager finds, creates and removes logs across several log dirs, writes
// Kafka's per-dir checkpoint files, and uses the clean-shutdown marker and checkpoints on
// the next start (a corrupt checkpoint only costs a full recovery).
// Method: run manager lifecycles on the in-memory file system with a manual worker.
#include "storage/log_manager.h"

#include "storage/errc.h"
#include "storage/names.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

#include <map>

namespace gregor::storage {
namespace {

using test::make_batch;
using test::off;
using test::ts;

struct manager_fixture : ::testing::Test {
    test::memory_env env;
    std::vector<std::string> dirs{"/disk1/kafka", "/disk2/kafka"};
    std::unique_ptr<log_manager> mgr;
    std::map<std::string, std::int64_t> flush_ms;  // per topic, else none

    void start() {
        mgr = std::make_unique<log_manager>(env.ctx(), dirs, [this](const std::string& topic) {
            log_config c;
            c.segment_index_bytes = 1024;
            c.segment_bytes = 2000;
            if (auto it = flush_ms.find(topic); it != flush_ms.end()) {
                c.flush_ms = it->second;
            }
            return c;
        });
        auto r = mgr->load(ts(5000));
        ASSERT_TRUE(r) << r.err().to_string();
    }
    log& get(const std::string& topic, int p) {
        auto r = mgr->get_or_create({topic, model::partition_id(p)}, ts(5000));
        EXPECT_TRUE(r);
        return **r;
    }
    void append(log& l, int n) {
        for (int i = 0; i < n; ++i) {
            auto b = make_batch({.records = 1, .value_bytes = 200});
            ASSERT_TRUE(l.append_as_leader(b, model::leader_epoch(2), ts(5000)));
        }
    }
    // Appends `n` batches and waits for their flush (the recovery point moves).
    void append_flushed(log& l, int n) {
        append(l, n);
        l.when_flushed(l.log_end_offset() - 1, [](result<void>) {});
        env.drain();
    }
    // Writes the checkpoint files of `which` that changed, and waits for the worker.
    void checkpoint(log_manager::checkpoint_set which = {}) {
        mgr->write_checkpoints(which, [](result<void>) {});
        env.drain();
    }
    static std::string path(const std::string& dir, std::string_view name) {
        return dir + "/" + std::string(name);
    }
    std::string file(const std::string& dir, std::string_view name) {
        auto r = read_small_file(env.fs, path(dir, name), 1 << 20);
        return r ? std::string(r->begin(), r->end()) : std::string("<missing>");
    }
};

TEST_F(manager_fixture, spreads_new_logs_over_dirs_and_finds_them_again) {
    start();
    append(get("a", 0), 3);
    append(get("a", 1), 2);
    get("b-x", 0);
    EXPECT_TRUE(env.fs.exists("/disk1/kafka/a-0"));
    EXPECT_TRUE(env.fs.exists("/disk2/kafka/a-1"));
    ASSERT_TRUE(mgr->shutdown());
    env.drain();
    mgr.reset();
    start();
    EXPECT_EQ(mgr->partitions().size(), 3U);
    EXPECT_EQ(mgr->get({"a", model::partition_id(0)})->log_end_offset(), off(3));
    EXPECT_EQ(mgr->get({"b-x", model::partition_id(0)})->log_end_offset(), off(0));
}

// A new partition goes to the dir holding the fewest logs, counting those loaded at start-up
// and those removed since.
TEST_F(manager_fixture, new_logs_go_to_the_dir_with_the_fewest_after_loads_and_removals) {
    start();
    for (int p = 0; p < 4; ++p) {
        get("a", p);  // a-0 and a-2 in disk1, a-1 and a-3 in disk2
    }
    ASSERT_TRUE(env.fs.exists("/disk2/kafka/a-3"));
    ASSERT_TRUE(mgr->remove({"a", model::partition_id(1)}));
    get("b", 0);
    EXPECT_TRUE(env.fs.exists("/disk2/kafka/b-0")) << "disk2 held one log fewer";
    ASSERT_TRUE(mgr->remove({"a", model::partition_id(0)}));
    ASSERT_TRUE(mgr->remove({"a", model::partition_id(2)}));
    ASSERT_TRUE(mgr->shutdown());
    env.drain();
    mgr.reset();
    start();  // disk1 empty, disk2 holding a-3 and b-0
    get("c", 0);
    get("c", 1);
    EXPECT_TRUE(env.fs.exists("/disk1/kafka/c-0"));
    EXPECT_TRUE(env.fs.exists("/disk1/kafka/c-1"));
    get("c", 2);  // a tie: the first dir
    get("c", 3);
    EXPECT_TRUE(env.fs.exists("/disk1/kafka/c-2"));
    EXPECT_TRUE(env.fs.exists("/disk2/kafka/c-3"));
}

TEST_F(manager_fixture, shutdown_writes_checkpoints_and_the_clean_marker) {
    start();
    auto& l = get("t", 0);
    append(l, 4);
    ASSERT_TRUE(l.set_log_start_offset(off(1)));
    mgr->set_replication_offset({"t", model::partition_id(0)}, off(3));
    ASSERT_TRUE(mgr->shutdown());
    const auto& d = dirs[0];
    EXPECT_EQ(file(d, recovery_point_checkpoint_name), "0\n1\nt 0 4\n");
    EXPECT_EQ(file(d, log_start_offset_checkpoint_name), "0\n1\nt 0 1\n");
    EXPECT_EQ(file(d, replication_offset_checkpoint_name), "0\n1\nt 0 3\n");
    EXPECT_EQ(file(d + "/t-0", leader_epoch_checkpoint_name), "0\n1\n2 1\n");
    EXPECT_TRUE(env.fs.exists(d + "/" + std::string(clean_shutdown_marker_name)));
    env.drain();
    mgr.reset();
    start();
    EXPECT_FALSE(env.fs.exists(d + "/" + std::string(clean_shutdown_marker_name)))
        << "the marker goes at start so a later crash is noticed";
    EXPECT_EQ(mgr->get({"t", model::partition_id(0)})->log_start_offset(), off(1));
    EXPECT_EQ(mgr->replication_offset({"t", model::partition_id(0)}), off(3));
}

TEST_F(manager_fixture, async_checkpoints_record_recovery_points) {
    start();
    auto& l = get("t", 0);
    append_flushed(l, 2);
    bool done = false;
    mgr->write_checkpoints([&](result<void> r) { done = r.has_value(); });
    EXPECT_FALSE(done);
    env.drain();
    EXPECT_TRUE(done);
    EXPECT_EQ(file(dirs[0], recovery_point_checkpoint_name), "0\n1\nt 0 2\n");
}

// An idle broker writes no checkpoint: each file is written again only when an entry in it
// moved, or the dir's set of logs changed, and only on its own timer.
TEST_F(manager_fixture, checkpoints_are_written_only_when_their_content_changes) {
    start();
    auto& l = get("t", 0);  // disk1
    append_flushed(l, 2);
    mgr->set_replication_offset({"t", model::partition_id(0)}, off(1));
    checkpoint();
    ASSERT_EQ(file(dirs[0], recovery_point_checkpoint_name), "0\n1\nt 0 2\n");
    ASSERT_EQ(file(dirs[0], replication_offset_checkpoint_name), "0\n1\nt 0 1\n");
    auto calls = env.fs.mutating_calls();
    checkpoint();
    EXPECT_EQ(env.fs.mutating_calls(), calls) << "nothing changed, nothing written";

    // Only the replication file is due, and only it moved.
    const std::string recovery_file = path(dirs[0], recovery_point_checkpoint_name);
    ASSERT_TRUE(env.fs.remove(recovery_file));
    append_flushed(l, 1);
    mgr->set_replication_offset({"t", model::partition_id(0)}, off(3));
    checkpoint({.recovery_points = false, .log_starts = false, .replication = true});
    EXPECT_EQ(file(dirs[0], replication_offset_checkpoint_name), "0\n1\nt 0 3\n");
    EXPECT_FALSE(env.fs.exists(recovery_file)) << "not due";
    checkpoint();
    EXPECT_EQ(file(dirs[0], recovery_point_checkpoint_name), "0\n1\nt 0 3\n");

    // A new log in the dir rewrites its files, though its offsets hash to nothing yet; the
    // other dir's files, unchanged, stay as they were.
    ASSERT_TRUE(env.fs.remove(recovery_file));
    const std::string other = path(dirs[1], recovery_point_checkpoint_name);
    ASSERT_TRUE(env.fs.exists(other));
    ASSERT_TRUE(env.fs.remove(other));
    get("u", 0);  // disk2
    get("v", 0);  // disk1
    checkpoint();
    EXPECT_EQ(file(dirs[1], recovery_point_checkpoint_name), "0\n1\nu 0 0\n");
    auto r = read_offset_checkpoint(env.fs, recovery_file);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->size(), 2U);
    ASSERT_TRUE(mgr->remove({"v", model::partition_id(0)}));
    checkpoint();
    EXPECT_EQ(file(dirs[0], recovery_point_checkpoint_name), "0\n1\nt 0 3\n");
}

// A clean shutdown writes the checkpoints the disk does not hold yet: those that changed,
// and those handed to the worker that has not written them.
TEST_F(manager_fixture, shutdown_writes_only_the_checkpoints_not_yet_durable) {
    start();
    auto& l = get("t", 0);
    append_flushed(l, 2);
    checkpoint();
    const std::string recovery_file = path(dirs[0], recovery_point_checkpoint_name);
    ASSERT_TRUE(env.fs.remove(recovery_file));
    ASSERT_TRUE(mgr->shutdown());
    EXPECT_FALSE(env.fs.exists(recovery_file)) << "written before, unchanged since";
    env.drain();
    mgr.reset();

    start();
    auto& again = *mgr->get({"t", model::partition_id(0)});
    append_flushed(again, 1);
    mgr->write_checkpoints([](result<void>) {});  // queued, not run
    ASSERT_TRUE(mgr->shutdown());
    EXPECT_EQ(file(dirs[0], recovery_point_checkpoint_name), "0\n1\nt 0 3\n");
    env.drain();  // the queued write, older, changes nothing
    EXPECT_EQ(file(dirs[0], recovery_point_checkpoint_name), "0\n1\nt 0 3\n");
}

// run_flush_checks visits the logs with a flush.ms, including those given one by a config
// change, and stops visiting those whose flush.ms went away.
TEST_F(manager_fixture, flush_checks_follow_the_topic_configs) {
    flush_ms["timed"] = 1000;
    start();
    auto& timed = get("timed", 0);
    auto& plain = get("plain", 0);
    append(timed, 2);
    append(plain, 2);
    mgr->run_flush_checks(ts(7000));
    env.drain();
    EXPECT_EQ(timed.recovery_point(), off(2));
    EXPECT_EQ(plain.recovery_point(), off(0));

    flush_ms.erase("timed");
    flush_ms["plain"] = 1000;
    mgr->reload_configs();
    append(timed, 1);
    mgr->run_flush_checks(ts(9000));
    env.drain();
    EXPECT_EQ(plain.recovery_point(), off(2));
    EXPECT_EQ(timed.recovery_point(), off(2));
}

// A topic's logs share one config object (memory counts at a million partitions), created
// and loaded alike; a changed config reaches every log of its topic and only those.
TEST_F(manager_fixture, logs_of_a_topic_share_its_config) {
    start();
    get("a", 0);
    get("b", 0);
    ASSERT_TRUE(mgr->shutdown());
    env.drain();
    mgr.reset();
    start();  // a-0 and b-0 loaded
    auto& a0 = *mgr->get({"a", model::partition_id(0)});
    auto& a1 = get("a", 1);
    auto& b0 = *mgr->get({"b", model::partition_id(0)});
    EXPECT_EQ(&a0.config(), &a1.config());
    EXPECT_NE(&a0.config(), &b0.config());

    flush_ms["a"] = 700;
    mgr->reload_configs();
    EXPECT_EQ(a0.config().flush_ms, 700);
    EXPECT_EQ(&a0.config(), &a1.config());
    EXPECT_EQ(b0.config().flush_ms, no_limit);
    auto& a2 = get("a", 2);
    EXPECT_EQ(&a2.config(), &a0.config());

    // A config changed without reload_configs still reaches the next new log.
    flush_ms["a"] = 900;
    EXPECT_EQ(get("a", 3).config().flush_ms, 900);
    EXPECT_EQ(a0.config().flush_ms, 700);
}

TEST_F(manager_fixture, corrupt_checkpoint_after_a_crash_means_full_recovery) {
    start();
    auto& l = get("t", 0);
    append_flushed(l, 20);
    checkpoint();
    mgr.reset();
    std::mt19937_64 rng(1);
    env.crash(crash_mode::drop_unsynced, rng);
    auto f = env.fs.open(path(dirs[0], recovery_point_checkpoint_name), open_mode::read_write);
    ASSERT_TRUE(f);
    ASSERT_TRUE((*f)->write_at(0, bytes{'z'}));
    start();
    EXPECT_EQ(mgr->get({"t", model::partition_id(0)})->log_end_offset(), off(20));
}

TEST_F(manager_fixture, remove_deletes_the_partition_directory) {
    start();
    append(get("gone", 0), 3);
    ASSERT_TRUE(mgr->remove({"gone", model::partition_id(0)}));
    EXPECT_EQ(mgr->get({"gone", model::partition_id(0)}), nullptr);
    EXPECT_FALSE(env.fs.exists(dirs[0] + "/gone-0"));
    env.drain();
    EXPECT_TRUE(env.fs.list_dir(dirs[0])->empty());
    auto again = mgr->remove({"gone", model::partition_id(0)});
    ASSERT_FALSE(again);
    EXPECT_EQ(again.err().code, make_error_code(errc::not_found));
}

TEST_F(manager_fixture, retention_runs_over_every_log) {
    start();
    auto& l = get("r", 0);
    append(l, 30);
    log_config c = l.config();
    c.retention_bytes = 0;
    l.set_config(c);
    auto deleted = mgr->run_retention(ts(5000));
    ASSERT_TRUE(deleted);
    EXPECT_GT(*deleted, 0U);
    EXPECT_EQ(l.segment_count(), 1U);
}

}  // namespace
}  // namespace gregor::storage
