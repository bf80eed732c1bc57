// Goal: on real files the log rolls segments in Kafka's layout, hands out slices whose fd
// works with sendfile, survives a reopen, and the threaded I/O worker completes group
// commits through the executor.
// Method: a temp directory per test, a threaded io_worker, and a completion queue drained
// by the test thread (standing in for the broker's loop).
#include "storage/errc.h"
#include "storage/log.h"
#include "storage/log_manager.h"
#include "storage/names.h"
#include "storage/posix_file_system.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

namespace gregor::storage {
namespace {

using test::make_batch;
using test::off;
using test::ts;

const model::topic_partition tp{"p", model::partition_id(0)};

// The test thread plays the owner loop: completions wait here until it pumps them.
struct loop {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::function<void()>> q;
    executor exec() {
        return [this](std::function<void()> fn) {
            std::lock_guard lock(mu);
            q.push_back(std::move(fn));
            cv.notify_one();
        };
    }
    // Runs completions until `done` holds. Bounded by the worker finishing its fsyncs.
    void run_until(const std::function<bool()>& done) {
        while (!done()) {
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return !q.empty(); });
            auto fn = std::move(q.front());
            q.pop_front();
            lock.unlock();
            fn();
        }
    }
};

struct posix_fixture : ::testing::Test {
    std::string root;
    posix_file_system fs;
    loop owner;
    io_worker worker{io_worker::mode::thread};
    log_config cfg;
    std::unique_ptr<log> lg;

    void SetUp() override {
        char tmpl[] = "/tmp/gregor-storage-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root = tmpl;
    }
    void TearDown() override {
        lg.reset();
        worker.stop();
        std::filesystem::remove_all(root);
    }
    void open(log_open_state st = {}) {
        log_context ctx{&fs, &worker, owner.exec(), {}, {}, {}};
        auto r = log::open(ctx, root + "/p-0", tp, cfg, st, ts(1000));
        ASSERT_TRUE(r) << r.err().to_string();
        lg = std::move(*r);
    }
};

TEST_F(posix_fixture, slices_can_be_sent_with_sendfile) {
    open();
    std::vector<bytes> sent;
    for (int i = 0; i < 4; ++i) {
        auto b =
            make_batch({.records = 3, .value_bytes = 500, .fill = static_cast<std::uint8_t>(i)});
        ASSERT_TRUE(lg->append_as_leader(b, model::leader_epoch(0), ts(1000)));
        sent.push_back(b);
    }
    auto r = lg->read(off(3), 1 << 20, lg->log_end_offset());
    ASSERT_TRUE(r);
    ASSERT_GE(r->slice.source->native_handle(), 0);
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    auto pos = static_cast<off_t>(r->slice.position);
    auto n = ::sendfile(sv[0], r->slice.source->native_handle(), &pos, r->slice.length);
    ASSERT_EQ(n, static_cast<ssize_t>(r->slice.length));
    bytes got(r->slice.length);
    std::size_t have = 0;
    while (have < got.size()) {
        auto k = ::read(sv[1], got.data() + have, got.size() - have);
        ASSERT_GT(k, 0);
        have += static_cast<std::size_t>(k);
    }
    ::close(sv[0]);
    ::close(sv[1]);
    bytes expected;
    for (std::size_t i = 1; i < sent.size(); ++i) {
        expected.insert(expected.end(), sent[i].begin(), sent[i].end());
    }
    EXPECT_EQ(got, expected);
}

TEST_F(posix_fixture, segments_roll_in_kafka_layout_and_reopen) {
    cfg.segment_bytes = 4096;
    cfg.index_interval_bytes = 512;
    open();
    for (int i = 0; i < 50; ++i) {
        auto b = make_batch({.records = 2, .value_bytes = 300, .timestamp = 1000 + i});
        ASSERT_TRUE(lg->append_as_leader(b, model::leader_epoch(1), ts(1000)));
    }
    auto bases = lg->segment_bases();
    ASSERT_GT(bases.size(), 5U);
    for (auto b : bases) {
        for (auto kind :
             {segment_file_kind::log, segment_file_kind::index, segment_file_kind::time_index}) {
            EXPECT_TRUE(std::filesystem::exists(root + "/p-0/" + segment_file_name(b, kind)));
        }
    }
    // Sealed indexes are trimmed to their entries, like Kafka's.
    auto sealed_index = root + "/p-0/" + segment_file_name(bases[0], segment_file_kind::index);
    EXPECT_LT(std::filesystem::file_size(sealed_index), 4096U);
    EXPECT_EQ(std::filesystem::file_size(sealed_index) % 8, 0U);
    bool flushed = false;
    lg->when_flushed(off(99), [&](result<void> r) { flushed = r.has_value(); });
    owner.run_until([&] { return flushed; });
    EXPECT_EQ(lg->recovery_point(), off(100));
    ASSERT_TRUE(lg->close());
    lg.reset();
    open({.recovery_point = off(0)});
    EXPECT_EQ(lg->log_end_offset(), off(100));
    for (std::int64_t o = 0; o < 100; o += 7) {
        auto r = lg->read(off(o), 1, lg->log_end_offset());
        ASSERT_TRUE(r);
        EXPECT_EQ(r->first_offset, off(o - o % 2));
    }
    auto t = lg->find_by_timestamp(ts(1030));
    ASSERT_TRUE(t && *t);
    EXPECT_EQ((*t)->batch_offset, off(58)) << "batch 29 holds timestamps 1029..1030";
}

// This process's open descriptors for files under `dir`.
std::size_t open_descriptors(const std::string& dir) {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        if (std::filesystem::read_symlink(e.path(), ec).string().starts_with(dir + "/")) {
            ++n;
        }
    }
    return n;
}

// A broker's partition count is bounded by its open-file limit: Kafka's indexes are mapped
// and hold no descriptor, and neither do these once flushed.
TEST_F(posix_fixture, a_partition_holds_one_descriptor_per_log_segment) {
    cfg.segment_bytes = 4096;
    cfg.index_interval_bytes = 512;
    open();
    EXPECT_EQ(open_descriptors(root), 1U) << "a new log: its active segment only";
    for (int i = 0; i < 50; ++i) {
        auto b = make_batch({.records = 2, .value_bytes = 300, .timestamp = 1000 + i});
        ASSERT_TRUE(lg->append_as_leader(b, model::leader_epoch(1), ts(1000)));
    }
    bool flushed = false;
    lg->when_flushed(off(99), [&](result<void> r) { flushed = r.has_value(); });
    owner.run_until([&] { return flushed; });
    const auto segments = lg->segment_bases().size();
    ASSERT_GT(segments, 5U);
    EXPECT_EQ(open_descriptors(root), segments);
    {
        // Lookups map the sealed indexes; the mappings need no descriptor.
        auto t = lg->find_by_timestamp(ts(1003));
        ASSERT_TRUE(t && *t);
        auto r = lg->read(off(4), 1, lg->log_end_offset());
        ASSERT_TRUE(r);
        EXPECT_EQ(r->first_offset, off(4));
        EXPECT_EQ(open_descriptors(root), segments);
    }  // the slice read holds its segment's file, as an fd keeps an unlinked file
    ASSERT_TRUE(lg->close());
    lg.reset();
    open();
    EXPECT_EQ(lg->log_end_offset(), off(100));
    EXPECT_EQ(open_descriptors(root), segments) << "after a clean reopen";
    lg.reset();
    open({.recovery_point = off(0)});
    EXPECT_EQ(lg->log_end_offset(), off(100));
    EXPECT_EQ(open_descriptors(root), segments) << "after recovering every segment";
}

// Descriptors follow use: a sweep closes each segment file no read or append used since the
// previous sweep (once its bytes are synced, and unless something holds it), and the next
// read or append reopens it, so a broker's idle partitions hold no descriptor.
TEST_F(posix_fixture, idle_segment_files_are_closed_by_the_sweep_and_reopened_on_use) {
    cfg.segment_bytes = 4096;
    cfg.index_interval_bytes = 512;
    open();
    std::vector<bytes> batches;
    for (int i = 0; i < 50; ++i) {
        auto b = make_batch({.records = 2, .value_bytes = 300, .timestamp = 1000 + i});
        ASSERT_TRUE(lg->append_as_leader(b, model::leader_epoch(1), ts(1000)));
        batches.push_back(b);
    }
    const auto segments = lg->segment_bases().size();
    ASSERT_GT(segments, 5U);
    EXPECT_EQ(lg->open_files(), segments);
    EXPECT_EQ(lg->release_idle_files(), 0U) << "used since the last sweep";
    // Idle now; the active segment's bytes are not synced yet (sealed ones may be, by the
    // flush each roll starts): the sweep starts a flush instead of closing it.
    auto closed = lg->release_idle_files();
    EXPECT_LT(closed, segments);
    EXPECT_EQ(lg->open_files(), segments - closed);
    owner.run_until([&] { return lg->recovery_point() == lg->log_end_offset(); });
    EXPECT_EQ(lg->release_idle_files(), segments - closed) << "synced by the sweep's flush";
    EXPECT_EQ(lg->open_files(), 0U);
    EXPECT_EQ(open_descriptors(root), 0U);
    {
        auto r = lg->read(off(4), 1, lg->log_end_offset());
        ASSERT_TRUE(r) << r.err().to_string();
        EXPECT_EQ(r->first_offset, off(4));
        EXPECT_EQ(*r->slice.read_all(), batches[2]);
        EXPECT_EQ(open_descriptors(root), 1U) << "the read reopened its segment's file";
        lg->release_idle_files();
        lg->release_idle_files();
        EXPECT_EQ(open_descriptors(root), 1U) << "a slice being sent holds its file";
    }
    EXPECT_EQ(lg->release_idle_files(), 1U);
    EXPECT_EQ(open_descriptors(root), 0U);
    auto b = make_batch({.records = 2, .value_bytes = 300, .timestamp = 2000});
    auto appended = lg->append_as_leader(b, model::leader_epoch(1), ts(1000));
    ASSERT_TRUE(appended) << appended.err().to_string();
    EXPECT_EQ(appended->first_offset, off(100));
    EXPECT_EQ(open_descriptors(root), 1U) << "the append reopened the active segment's file";
    ASSERT_TRUE(lg->close());
    lg.reset();
    open({.recovery_point = off(0)});  // recovery re-validates every byte
    EXPECT_EQ(lg->log_end_offset(), off(102));
    auto r = lg->read(off(100), 1, lg->log_end_offset());
    ASSERT_TRUE(r);
    EXPECT_EQ(*r->slice.read_all(), b);
}

// num.recovery.threads.per.data.dir: logs opened and closed on several threads come back
// exactly as one thread leaves them: every record, a clean shutdown (no recovery), and the
// same logs in the same dirs.
TEST_F(posix_fixture, recovery_threads_open_and_close_every_log_as_one_thread_does) {
    const std::vector<std::string> dirs{root + "/d1", root + "/d2"};
    log_context ctx{&fs, &worker, owner.exec(), {}, {}, {}};
    auto configs = [this](const std::string&) { return cfg; };
    auto part = [](int i) { return model::topic_partition{"t", model::partition_id(i)}; };
    constexpr int logs = 40;
    {
        log_manager m(ctx, dirs, configs);
        m.set_recovery_threads(4);
        ASSERT_TRUE(m.load(ts(1000)));
        for (int i = 0; i < logs; ++i) {
            auto l = m.get_or_create(part(i), ts(1000), true);
            ASSERT_TRUE(l) << l.err().to_string();
            for (int b = 0; b <= i % 5; ++b) {
                auto batch = make_batch({.records = 2});
                ASSERT_TRUE((*l)->append_as_leader(batch, model::leader_epoch(0), ts(1000)));
            }
        }
        ASSERT_TRUE(m.shutdown());
    }
    for (std::size_t threads : {4U, 1U, 3U}) {
        log_manager m(ctx, dirs, configs);
        m.set_recovery_threads(threads);
        ASSERT_TRUE(m.load(ts(2000)));
        ASSERT_EQ(m.partitions().size(), static_cast<std::size_t>(logs)) << threads;
        EXPECT_EQ(m.open_files(), 0U) << "loaded partitions hold no descriptor until used";
        EXPECT_EQ(open_descriptors(root), 0U);
        for (int i = 0; i < logs; ++i) {
            log* l = m.get(part(i));
            ASSERT_NE(l, nullptr) << i;
            EXPECT_EQ(l->log_end_offset(), off(2 * (i % 5 + 1))) << i << " threads " << threads;
            EXPECT_EQ(l->recovery_point(), l->log_end_offset()) << "a clean shutdown, " << i;
            auto r = l->read(off(0), 1'000'000, l->log_end_offset());
            ASSERT_TRUE(r) << r.err().to_string();
            EXPECT_EQ(r->next_offset, l->log_end_offset()) << "every batch read back, " << i;
        }
        EXPECT_EQ(m.open_files(), static_cast<std::size_t>(logs));
        ASSERT_TRUE(m.shutdown()) << threads;
    }
}

// Over its budget of open files, the log manager's sweep does not wait its 30 s: files
// unused for a second close at once. The file system's count is the process's descriptors.
TEST_F(posix_fixture, over_the_open_file_budget_idle_files_close_within_a_second) {
    const std::vector<std::string> dirs{root + "/d1"};
    log_context ctx{&fs, &worker, owner.exec(), {}, {}, {}};
    auto configs = [this](const std::string&) { return cfg; };
    auto part = [](int i) { return model::topic_partition{"t", model::partition_id(i)}; };
    constexpr int logs = 30;
    {
        log_manager m(ctx, dirs, configs);
        ASSERT_TRUE(m.load(ts(1000)));
        for (int i = 0; i < logs; ++i) {
            auto l = m.get_or_create(part(i), ts(1000), true);
            ASSERT_TRUE(l) << l.err().to_string();
            auto batch = make_batch({.records = 2});
            ASSERT_TRUE((*l)->append_as_leader(batch, model::leader_epoch(0), ts(1000)));
        }
        ASSERT_TRUE(m.shutdown());
    }
    EXPECT_EQ(fs.open_files(), 0U);
    log_manager m(ctx, dirs, configs);
    ASSERT_TRUE(m.load(ts(2000)));
    auto read_all = [&](int from, int to) {
        for (int i = from; i < to; ++i) {
            auto r = m.get(part(i))->read(off(0), 1'000'000, off(2));
            ASSERT_TRUE(r) << r.err().to_string();
        }
    };
    read_all(0, logs);
    EXPECT_EQ(fs.open_files(), static_cast<std::size_t>(logs));
    EXPECT_EQ(fs.open_files(), open_descriptors(root));
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(m.sweep_idle_files(t0), 0U);
    EXPECT_EQ(m.sweep_idle_files(t0 + std::chrono::seconds(29)), 0U) << "no budget: 30 s";

    m.set_open_file_budget(10);
    EXPECT_EQ(m.sweep_idle_files(t0 + std::chrono::seconds(30)), 0U) << "all used since";
    read_all(0, 5);  // busy in the last second
    EXPECT_EQ(m.sweep_idle_files(t0 + std::chrono::seconds(31)),
              static_cast<std::size_t>(logs - 5));
    EXPECT_EQ(fs.open_files(), 5U);
    EXPECT_EQ(open_descriptors(root), 5U);
    read_all(5, 10);
    EXPECT_EQ(m.sweep_idle_files(t0 + std::chrono::seconds(32)), 0U)
        << "within the budget, the sweep waits its interval again";
    EXPECT_EQ(fs.open_files(), 10U);
    ASSERT_TRUE(m.shutdown());
}

// A broker's descriptors bound its busy partitions: it takes all the system lets it have.
TEST(posix_file_system_limits, the_soft_descriptor_limit_is_raised_to_the_hard_one) {
    struct rlimit before {};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
    auto lowered = before;
    lowered.rlim_cur = std::min<rlim_t>(before.rlim_max, 256);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
    auto limit = posix_file_system::raise_open_file_limit();
    struct rlimit now {};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
    EXPECT_EQ(now.rlim_cur, now.rlim_max);
    EXPECT_EQ(limit, now.rlim_cur == RLIM_INFINITY ? std::size_t{1} << 20U : now.rlim_cur);
}

TEST_F(posix_fixture, threaded_group_commit_acknowledges_every_waiter) {
    cfg.flush_messages = 1;
    open();
    int acked = 0;
    for (int i = 0; i < 200; ++i) {
        auto b = make_batch({.records = 1, .value_bytes = 100});
        auto r = lg->append_as_leader(b, model::leader_epoch(0), ts(1000));
        ASSERT_TRUE(r);
        lg->when_flushed(r->last_offset, [&](result<void> ok) { acked += ok ? 1 : 0; });
    }
    owner.run_until([&] { return acked == 200; });
    EXPECT_EQ(lg->recovery_point(), off(200));
}

}  // namespace
}  // namespace gregor::storage
