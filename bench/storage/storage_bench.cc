// Storage write-side benchmarks, each next to the machine baseline measured in the same
// run on the same disk:
//   append of 1 MiB and 16 KiB batches  vs  a plain pwrite loop of the same bytes;
//   recovery scan (CRC-validating every batch) vs a plain pread loop of the same file;
//   RSS per open idle partition (opening 1,000 logs).
// Data lives under GREGOR_BENCH_DIR (default /tmp/gregor-storage-bench) and is removed.
#include "bench_util.h"
#include "storage/segment.h"

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

namespace gregor::storage::bench {
namespace {

// Registered first: it measures heap and RSS growth, best before other benchmarks have
// grown (and freed) the heap.
void bm_idle_partition_memory(benchmark::State& state);
BENCHMARK(bm_idle_partition_memory)->Iterations(1)->Unit(benchmark::kMillisecond);

constexpr std::size_t append_total_bytes = 256ULL * 1024 * 1024;

// Writes back every dirty page before a timed write, so each run starts from the same
// page-cache state instead of inheriting the previous run's writeback throttling.
void settle_page_cache() { ::sync(); }

void bm_raw_pwrite(benchmark::State& state) {
    auto batch = batch_of(static_cast<std::size_t>(state.range(0)));
    auto dir = scratch_dir("raw");
    for (auto _ : state) {
        state.PauseTiming();
        settle_page_cache();
        auto path = dir + "/raw.bin";
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
        state.ResumeTiming();
        std::uint64_t pos = 0;
        while (pos < append_total_bytes) {
            auto n = ::pwrite(fd, batch.data(), batch.size(), static_cast<off_t>(pos));
            if (n != static_cast<ssize_t>(batch.size())) {
                state.SkipWithError("pwrite failed");
                break;
            }
            pos += batch.size();
        }
        state.PauseTiming();
        ::close(fd);
        std::filesystem::remove(path);
        state.ResumeTiming();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(
        static_cast<std::uint64_t>(state.iterations()) * append_total_bytes));
}

void bm_log_append(benchmark::State& state) {
    auto batch = batch_of(static_cast<std::size_t>(state.range(0)));
    bool validated = state.range(1) != 0;
    auto dir = scratch_dir("append");
    posix_env env;
    for (auto _ : state) {
        state.PauseTiming();
        std::filesystem::remove_all(dir + "/a-0");
        settle_page_cache();
        auto l = must(log::open(env.ctx(), dir + "/a-0", {"a", model::partition_id(0)},
                                log_config{}, {}, model::timestamp_ms(0)));
        state.ResumeTiming();
        std::uint64_t done = 0;
        while (done < append_total_bytes) {
            auto r = l->append_as_leader(batch, model::leader_epoch(1), model::timestamp_ms(0),
                                         validated);
            if (!r) {
                state.SkipWithError(r.err().to_string().c_str());
                break;
            }
            done += batch.size();
        }
        state.PauseTiming();
        l.reset();
        std::filesystem::remove_all(dir + "/a-0");
        state.ResumeTiming();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(
        static_cast<std::uint64_t>(state.iterations()) * append_total_bytes));
}

// Raw and log runs alternate, three repetitions each, so drifting background load (page
// cache writeback, other processes) hits both alike; compare the medians.
BENCHMARK(bm_raw_pwrite)
    ->Arg(1 << 20)
    ->Iterations(2)
    ->Repetitions(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_log_append)
    ->Args({1 << 20, 1})
    ->Args({1 << 20, 0})
    ->ArgNames({"batch", "prevalidated"})
    ->Iterations(2)
    ->Repetitions(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_raw_pwrite)
    ->Arg(16 << 10)
    ->Iterations(2)
    ->Repetitions(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_log_append)
    ->Args({16 << 10, 1})
    ->Args({16 << 10, 0})
    ->ArgNames({"batch", "prevalidated"})
    ->Iterations(2)
    ->Repetitions(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// A 512 MiB segment of 16 KiB batches, written once and kept in the page cache.
constexpr std::size_t scan_total_bytes = 512ULL * 1024 * 1024;

std::string make_scan_segment() {
    static std::string dir;
    if (!dir.empty()) {
        return dir;
    }
    dir = scratch_dir("scan") + "/s-0";
    posix_env env;
    auto l = must(log::open(env.ctx(), dir, {"s", model::partition_id(0)}, log_config{}, {},
                            model::timestamp_ms(0)));
    auto batch = batch_of(16 << 10);
    for (std::uint64_t done = 0; done < scan_total_bytes; done += batch.size()) {
        ignore_error(
            l->append_as_leader(batch, model::leader_epoch(1), model::timestamp_ms(0), true),
            "bench setup");
    }
    return dir;
}

void bm_raw_pread_scan(benchmark::State& state) {
    auto dir = make_scan_segment();
    auto path = dir + "/" + segment_file_name(model::offset(0), segment_file_kind::log);
    bytes buf(4 << 20);
    std::uint64_t total = 0;
    for (auto _ : state) {
        total += pread_whole_file(path, buf);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(total));
}

void bm_recovery_scan(benchmark::State& state) {
    auto dir = make_scan_segment();
    posix_file_system fs;
    std::uint64_t total = 0;
    for (auto _ : state) {
        auto seg = must(
            segment::open(fs, dir, model::offset(0), segment_options{}, model::timestamp_ms(0)));
        std::uint64_t batches = 0;
        auto r = seg->recover([&](const batch_summary&) { ++batches; });
        if (!r || *r != 0) {
            state.SkipWithError("recovery truncated a good segment");
            break;
        }
        total += seg->size_bytes();
        benchmark::DoNotOptimize(batches);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(total));
}

BENCHMARK(bm_raw_pread_scan)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(bm_recovery_scan)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);

// RSS growth per open idle partition: 1,000 logs with one small batch each, opened after a
// clean shutdown (as at broker start-up).
void make_idle_partitions(const std::string& dir, int partitions) {
    posix_env env;
    for (int p = 0; p < partitions; ++p) {
        auto l = must(log::open(env.ctx(), dir + "/i-" + std::to_string(p),
                                {"i", model::partition_id(p)}, log_config{}, {},
                                model::timestamp_ms(0)));
        auto b = batch_of(1024);
        ignore_error(l->append_as_leader(b, model::leader_epoch(0), model::timestamp_ms(0)),
                     "bench setup");
        ignore_error(l->close(), "bench setup");
    }
}

void bm_idle_partition_memory(benchmark::State& state) {
    constexpr int partitions = 1000;
    auto dir = scratch_dir("idle");
    // Built in a child process, so the heap this process measures starts untouched.
    if (auto pid = ::fork(); pid == 0) {
        make_idle_partitions(dir, partitions);
        ::_exit(0);
    } else {
        int status = 0;
        ::waitpid(pid, &status, 0);
    }
    double per_partition = 0;
    double heap_per_partition = 0;
    for (auto _ : state) {
        posix_env env;
        std::vector<std::unique_ptr<log>> logs;
        logs.reserve(partitions);
        auto before = rss_bytes();
        auto heap_before = ::mallinfo2().uordblks;
        for (int p = 0; p < partitions; ++p) {
            logs.push_back(must(log::open(
                env.ctx(), dir + "/i-" + std::to_string(p), {"i", model::partition_id(p)},
                log_config{}, {.recovery_point = model::offset(1), .clean_shutdown = true},
                model::timestamp_ms(0))));
        }
        auto after = rss_bytes();
        per_partition = static_cast<double>(after - before) / partitions;
        heap_per_partition = static_cast<double>(::mallinfo2().uordblks - heap_before) / partitions;
    }
    state.counters["rss_bytes_per_partition"] = per_partition;
    state.counters["heap_bytes_per_partition"] = heap_per_partition;
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gregor::storage::bench
