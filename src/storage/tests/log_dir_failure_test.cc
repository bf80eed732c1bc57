// Goal: a disk failure of any log takes its whole log dir offline, as Kafka does: every log
// in the dir refuses further calls at once, the owner hears the dir and its partitions once,
// nothing is written to the dir again (no checkpoints, no clean-shutdown marker), its
// partitions are never re-created elsewhere, and the other dirs go on serving.
// Method: a manager over two dirs on the in-memory file system with injected faults (EIO on
// a write, an fsync or a checkpoint write), a manual worker and executor.
#include "storage/errc.h"
#include "storage/log_manager.h"
#include "storage/names.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace gregor::storage {
namespace {

using test::make_batch;
using test::off;
using test::ts;

struct failure_report {
    std::string dir;
    std::vector<model::topic_partition> partitions;
    std::size_t healthy = 0;
};

struct dir_failure_fixture : ::testing::Test {
    test::memory_env env;
    std::vector<std::string> dirs{"/disk1/kafka", "/disk2/kafka"};
    std::unique_ptr<log_manager> mgr;
    std::vector<failure_report> reports;
    log_config cfg;
    const model::topic_partition a0{"a", model::partition_id(0)};
    const model::topic_partition a1{"a", model::partition_id(1)};
    const model::topic_partition b0{"b", model::partition_id(0)};

    void start() {
        mgr = std::make_unique<log_manager>(env.ctx(), dirs,
                                            [this](const std::string&) { return cfg; });
        auto r = mgr->load(ts(5000));
        ASSERT_TRUE(r) << r.err().to_string();
        mgr->set_dir_failure_listener(
            [this](const std::string& dir, const std::vector<model::topic_partition>& tps,
                   std::size_t healthy) { reports.push_back({dir, tps, healthy}); });
    }
    // a-0 and b-0 land in disk1, a-1 in disk2 (least loaded dir first).
    void create_three() {
        ASSERT_TRUE(mgr->get_or_create(a0, ts(5000)));
        ASSERT_TRUE(mgr->get_or_create(a1, ts(5000)));
        ASSERT_TRUE(mgr->get_or_create(b0, ts(5000)));
        ASSERT_TRUE(env.fs.exists("/disk1/kafka/b-0"));
    }
    result<append_result> append(const model::topic_partition& tp) {
        auto b = make_batch({.records = 1, .value_bytes = 100});
        return mgr->get(tp)->append_as_leader(b, model::leader_epoch(1), ts(5000));
    }
};

TEST_F(dir_failure_fixture, failed_append_takes_every_log_of_the_dir_offline) {
    start();
    create_three();
    env.fs.inject({fs_op::write, "/disk1/kafka/a-0/", errc::io_error, -1, 0});
    auto failed = append(a0);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.err().code, make_error_code(errc::io_error));
    // The other log of the same dir refuses at once, before the owner heard anything.
    auto same_dir = append(b0);
    ASSERT_FALSE(same_dir);
    EXPECT_TRUE(mgr->offline(b0));
    EXPECT_FALSE(mgr->get(b0)->read(off(0), 1000, off(10)));
    EXPECT_TRUE(append(a1)) << "a healthy dir keeps serving";
    EXPECT_TRUE(reports.empty()) << "the owner hears it on the next turn of the loop";
    env.drain();
    ASSERT_EQ(reports.size(), 1U);
    EXPECT_EQ(reports[0].dir, dirs[0]);
    EXPECT_EQ(reports[0].partitions, (std::vector<model::topic_partition>{a0, b0}));
    EXPECT_EQ(reports[0].healthy, 1U);
    EXPECT_EQ(mgr->get(a0), nullptr);
    EXPECT_EQ(mgr->offline_dirs(), std::vector<std::string>{dirs[0]});
    EXPECT_EQ(mgr->partitions(), std::vector<model::topic_partition>{a1});
}

TEST_F(dir_failure_fixture, partitions_of_an_offline_dir_are_never_created_elsewhere) {
    start();
    create_three();
    env.fs.inject({fs_op::write, "/disk1/kafka/b-0/", errc::io_error, -1, 0});
    ASSERT_FALSE(append(b0));
    env.drain();
    env.fs.clear_faults();
    EXPECT_FALSE(mgr->get_or_create(b0, ts(6000), /*is_new=*/true));
    EXPECT_FALSE(env.fs.exists("/disk2/kafka/b-0"));
    // Missing and not new: it may be in the dead dir, so it is not started empty.
    const model::topic_partition c0{"c", model::partition_id(0)};
    EXPECT_FALSE(mgr->get_or_create(c0, ts(6000), /*is_new=*/false));
    EXPECT_FALSE(env.fs.exists("/disk2/kafka/c-0"));
    // A genuinely new partition goes to the healthy dir.
    ASSERT_TRUE(mgr->get_or_create(c0, ts(6000), /*is_new=*/true));
    EXPECT_TRUE(env.fs.exists("/disk2/kafka/c-0"));
}

TEST_F(dir_failure_fixture, offline_dir_is_never_written_again) {
    start();
    create_three();
    env.fs.inject({fs_op::write, "/disk1/kafka/a-0/", errc::io_error, -1, 0});
    ASSERT_FALSE(append(a0));
    env.drain();
    env.fs.clear_faults();
    bool done = false;
    mgr->write_checkpoints([&](result<void> r) { done = r.has_value(); });
    env.drain();
    EXPECT_TRUE(done);
    EXPECT_FALSE(env.fs.exists(dirs[0] + "/" + std::string(recovery_point_checkpoint_name)));
    EXPECT_TRUE(env.fs.exists(dirs[1] + "/" + std::string(recovery_point_checkpoint_name)));
    ASSERT_TRUE(mgr->shutdown());
    EXPECT_FALSE(env.fs.exists(dirs[0] + "/" + std::string(clean_shutdown_marker_name)));
    EXPECT_TRUE(env.fs.exists(dirs[1] + "/" + std::string(clean_shutdown_marker_name)));
}

TEST_F(dir_failure_fixture, failed_fsync_takes_the_dir_offline) {
    start();
    create_three();
    ASSERT_TRUE(append(a1));
    env.fs.inject({fs_op::sync, "/disk2/kafka/a-1/", errc::io_error, -1, 0});
    std::optional<result<void>> flushed;
    mgr->get(a1)->when_flushed(off(0), [&](result<void> r) { flushed = r; });
    env.drain();
    ASSERT_TRUE(flushed.has_value());
    EXPECT_FALSE(*flushed);
    ASSERT_EQ(reports.size(), 1U);
    EXPECT_EQ(reports[0].dir, dirs[1]);
    EXPECT_EQ(reports[0].partitions, std::vector<model::topic_partition>{a1});
    EXPECT_TRUE(mgr->offline(a1));
    EXPECT_FALSE(mgr->offline(a0));
}

// Out of descriptors (EMFILE) is not a disk failure: the call that could not reopen its
// segment file fails, the dir stays online, and the next call goes on.
TEST_F(dir_failure_fixture, running_out_of_descriptors_fails_the_call_not_the_dir) {
    start();
    create_three();
    EXPECT_EQ(mgr->open_files(), 0U) << "new partitions hold no descriptor";
    ASSERT_TRUE(append(a0));
    EXPECT_EQ(mgr->open_files(), 1U);
    bool flushed = false;
    mgr->get(a0)->when_flushed(off(0), [&](result<void> r) { flushed = r.has_value(); });
    env.drain();
    ASSERT_TRUE(flushed);
    mgr->release_idle_files();
    EXPECT_EQ(mgr->release_idle_files(), 1U) << "idle and synced";
    env.fs.inject({fs_op::open, "/disk1/kafka/a-0/", errc::too_many_open_files, 1, 0});
    auto r = mgr->get(a0)->read(off(0), 1000, off(1));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, make_error_code(errc::too_many_open_files));
    EXPECT_TRUE(reports.empty());
    EXPECT_FALSE(mgr->offline(a0));
    auto again = append(a0);
    ASSERT_TRUE(again) << again.err().to_string();
    EXPECT_EQ(again->first_offset, off(1));
    r = mgr->get(a0)->read(off(0), 1000, off(2));
    ASSERT_TRUE(r) << r.err().to_string();
    EXPECT_EQ(r->next_offset, off(2));
    EXPECT_EQ(errc_from_errno(EMFILE), errc::too_many_open_files);
    EXPECT_EQ(errc_from_errno(ENFILE), errc::too_many_open_files);
}

TEST_F(dir_failure_fixture, failed_checkpoint_write_takes_only_that_dir_offline) {
    start();
    create_three();
    env.fs.inject({fs_op::write, "/disk2/kafka/replication-offset", errc::io_error, -1, 0});
    std::optional<bool> ok;
    mgr->write_checkpoints([&](result<void> r) { ok = r.has_value(); });
    env.drain();
    ASSERT_TRUE(ok.has_value());
    EXPECT_FALSE(*ok);
    ASSERT_EQ(reports.size(), 1U);
    EXPECT_EQ(reports[0].dir, dirs[1]);
    EXPECT_TRUE(mgr->offline(a1));
    EXPECT_TRUE(append(a0)) << "the first dir was written and stays online";
    EXPECT_TRUE(env.fs.exists(dirs[0] + "/" + std::string(replication_offset_checkpoint_name)));
}

// Out of descriptors while writing a checkpoint: the dir stays online, and the file is
// written at its next turn although no offset in it moved since.
TEST_F(dir_failure_fixture, a_checkpoint_write_out_of_descriptors_is_retried_not_fatal) {
    start();
    create_three();
    const auto file = dirs[1] + "/" + std::string(replication_offset_checkpoint_name);
    env.fs.inject({fs_op::open, file, errc::too_many_open_files, 1, 0});
    std::optional<bool> ok;
    mgr->write_checkpoints([&](result<void> r) { ok = r.has_value(); });
    env.drain();
    ASSERT_TRUE(ok.has_value());
    EXPECT_FALSE(*ok);
    EXPECT_TRUE(reports.empty());
    EXPECT_FALSE(mgr->offline(a1));
    EXPECT_FALSE(env.fs.exists(file));
    EXPECT_TRUE(env.fs.exists(dirs[1] + "/" + std::string(recovery_point_checkpoint_name)))
        << "the dir's other files were written";
    mgr->write_checkpoints({.recovery_points = false, .log_starts = false, .replication = true},
                           [&](result<void> r) { ok = r.has_value(); });
    env.drain();
    EXPECT_TRUE(*ok);
    EXPECT_TRUE(env.fs.exists(file));
    EXPECT_TRUE(append(a1));
}

TEST_F(dir_failure_fixture, losing_every_dir_is_reported_with_none_healthy) {
    start();
    create_three();
    env.fs.inject({fs_op::write, "/kafka/a-", errc::io_error, -1, 0});
    ASSERT_FALSE(append(a0));
    ASSERT_FALSE(append(a1));
    env.drain();
    ASSERT_EQ(reports.size(), 2U);
    EXPECT_EQ(reports[1].healthy, 0U);
    EXPECT_EQ(mgr->healthy_dir_count(), 0U);
    EXPECT_FALSE(mgr->get_or_create({"d", model::partition_id(0)}, ts(6000)));
}

TEST_F(dir_failure_fixture, a_dir_failing_at_start_up_is_offline_and_the_rest_serve) {
    env.fs.inject({fs_op::mkdir, "/disk2", errc::io_error, -1, 0});
    start();
    EXPECT_EQ(mgr->offline_dirs(), std::vector<std::string>{dirs[1]});
    ASSERT_TRUE(mgr->get_or_create(a0, ts(5000)));
    ASSERT_TRUE(mgr->get_or_create(a1, ts(5000)));
    EXPECT_TRUE(env.fs.exists("/disk1/kafka/a-1"));
}

// A dir that fails while its logs are opened at start-up leaves no trace of the logs it had
// opened already: the per-second flush checks and the cleaner do not visit them.
TEST_F(dir_failure_fixture, logs_of_a_dir_failing_at_start_up_are_not_visited_later) {
    start();
    create_three();
    const model::topic_partition c0{"c", model::partition_id(0)};
    ASSERT_TRUE(mgr->get_or_create(c0, ts(5000)));
    ASSERT_TRUE(env.fs.exists("/disk2/kafka/c-0"));
    ASSERT_TRUE(append(a1));
    ASSERT_TRUE(append(c0));
    ASSERT_TRUE(mgr->shutdown());
    env.drain();
    mgr.reset();
    cfg.flush_ms = 1000;
    cfg.compact = true;
    env.fs.inject({fs_op::open, "/disk2/kafka/c-0/", errc::io_error, -1, 0});
    start();
    ASSERT_EQ(mgr->offline_dirs(), std::vector<std::string>{dirs[1]}) << "a-1 opened, c-0 not";
    std::vector<model::topic_partition> compacted;
    mgr->for_each_compacted_log(
        [&](const model::topic_partition& tp, log&) { compacted.push_back(tp); });
    EXPECT_EQ(compacted, (std::vector<model::topic_partition>{a0, b0}));
    mgr->run_flush_checks(ts(10'000));
    env.drain();
}

}  // namespace
}  // namespace gregor::storage
