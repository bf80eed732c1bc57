// Log cleaner benchmarks, each next to the machine baseline measured in the same run on the
// same files:
//   one cleaning pass (storage::run_clean: index + recopy + fsync) over a compacted log of
//   ~256 MiB (4 sealed 64 MiB segments + an active one) of keyed 16 KiB v2 batches, 100-byte
//   values, keys drawn uniformly from 10,000 (so nearly every record is obsolete);
//   uncompressed and lz4;
//   a plain pread loop over the same segment files (256 KiB, 1 MiB, 4 MiB chunks);
//   a plain pwrite loop + one fdatasync (the pass fdatasyncs each output once). Rule: it
//   writes as many bytes as the dirty section (what a pass writes when nothing is obsolete,
//   its worst case), in the pass's 256 KiB flushes and in 1 MiB chunks, to a new file in
//   the same directory, after a sync() so it starts with no dirty pages;
//   the offset map staying within its budget: RSS growth over the passes that clean a log
//   with more keys than a 16 MiB map holds (each pass starts where the previous one ended).
// The target: cleaning throughput (MB/s of dirty log) >= half the slower of the raw
// sequential read and write.
//
// The logs are written once per process, synced, and stay in the page cache. A pass is run
// without log::finish_clean, so the log never changes: its `.cleaned` outputs are deleted
// after every iteration, untimed. The map is built once per benchmark and its first table
// touched once before timing (a cleaner thread keeps its map for life, so after its first
// pass the pages of the tables it used are resident; a pass zeroes only the table it ends
// with, and starts over with the first one).
// Values: 40 random printable bytes then a 60-byte fixed text (lz4 roughly halves them).
// Data lives under GREGOR_BENCH_DIR (default /tmp/gregor-storage-bench) and is removed.
#include "bench_util.h"
#include "protocol/records/batch_builder.h"
#include "storage/cleaner_pass.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <fcntl.h>
#include <map>
#include <random>
#include <unistd.h>

namespace gregor::storage::bench {
namespace {

constexpr std::uint64_t mib = 1024ULL * 1024;
constexpr std::size_t batch_records_bytes = 16 << 10;
constexpr std::size_t value_bytes = 100;
const model::timestamp_ms now{1'000'000};

struct log_shape {
    std::string name;
    model::compression_type compression = model::compression_type::none;
    std::uint32_t distinct_keys = 10'000;
    std::uint64_t segment_bytes = 64 * mib;
    int sealed_segments = 4;
};

bytes_view view(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // NOLINT
}

// Keyed batches of ~16 KiB of records, keys uniform over `distinct_keys`, fixed seed.
class batch_source {
public:
    explicit batch_source(const log_shape& shape) : shape_(shape), rng_(42) {
        values_.resize(128);
        const std::string tail(value_bytes - 40, 'x');
        std::uniform_int_distribution<int> ch('0', 'z');
        for (auto& v : values_) {
            v.clear();
            for (int i = 0; i < 40; ++i) {
                v.push_back(static_cast<char>(ch(rng_)));
            }
            v += "|payload:" + tail.substr(9);
        }
    }

    bytes next() {
        protocol::batch_builder b({.compression = shape_.compression});
        std::uniform_int_distribution<std::uint32_t> key(0, shape_.distinct_keys - 1);
        while (b.records_bytes() < batch_records_bytes - 2 * value_bytes) {
            auto k = fmt::format("key-{:08}", key(rng_));
            const auto& v = values_[records_++ % values_.size()];
            b.add({.key = view(k), .value = view(v), .headers = {}, .timestamp = now});
        }
        records_bytes_ += b.records_bytes();
        return must(b.build());
    }

    std::uint64_t records() const { return records_; }
    std::uint64_t records_bytes() const { return records_bytes_; }

private:
    log_shape shape_;
    std::mt19937_64 rng_;
    std::vector<std::string> values_;
    std::uint64_t records_ = 0;
    std::uint64_t records_bytes_ = 0;
};

// A compacted log on real files, written once per process and kept open (its segments'
// files are what a clean_job reads).
struct cleaner_log {
    posix_env env;
    std::unique_ptr<log> l;
    std::string dir;
    std::uint64_t dirty_bytes = 0;
    std::uint64_t records = 0;
    double compression_ratio = 1;  // bytes on disk / records bytes

    explicit cleaner_log(const log_shape& shape) {
        dir = scratch_dir("clean-" + shape.name) + "/c-0";
        log_config cfg;
        cfg.segment_bytes = shape.segment_bytes;
        cfg.compact = true;
        cfg.delete_ = false;
        l = must(log::open(env.ctx(), dir, {"c", model::partition_id(0)}, cfg, {}, now));
        batch_source src(shape);
        std::uint64_t written = 0;
        while (segments() < static_cast<std::size_t>(shape.sealed_segments) + 1) {
            auto b = src.next();
            written += b.size();
            ignore_error(l->append_as_leader(b, model::leader_epoch(1), now, true), "bench setup");
        }
        ::sync();  // the benchmarks start with no dirty pages
        dirty_bytes = l->cleanable(model::offset(0), l->log_end_offset(), now).dirty_bytes;
        records = src.records();
        compression_ratio = static_cast<double>(written) / static_cast<double>(src.records_bytes());
    }

    std::size_t segments() const { return l->segment_count(); }

    clean_job job(model::offset first_dirty) {
        auto range = l->cleanable(first_dirty, l->log_end_offset(), now);
        auto made = l->make_clean_job(range, now);
        GREGOR_ASSERT(made, "clean job: {}", made ? "" : made.err().to_string());
        return std::move(*made);
    }

    // The sealed segments' .log files (what a pass over the whole log reads).
    std::vector<std::string> segment_paths() {
        std::vector<std::string> out;
        for (const auto& s : job(model::offset(0)).segments) {
            out.push_back(path_join(dir, segment_file_name(s.base, segment_file_kind::log)));
        }
        return out;
    }

    // Deletes whatever `.cleaned` files a pass left (untimed).
    void remove_outputs(const clean_job& j) const {
        for (const auto& s : j.segments) {
            for (auto kind : {segment_file_kind::log, segment_file_kind::index,
                              segment_file_kind::time_index}) {
                std::filesystem::remove(
                    path_join(dir, segment_file_name(s.base, kind) + std::string(cleaned_suffix)));
            }
        }
    }

    static cleaner_log& get(const log_shape& shape) {
        static std::map<std::string, std::unique_ptr<cleaner_log>> logs;
        auto& slot = logs[shape.name];
        if (!slot) {
            slot = std::make_unique<cleaner_log>(shape);
        }
        return *slot;
    }
};

// The benchmarks' log: 4 sealed segments of `segment_mib` (64: ~256 MiB dirty; a smaller
// one keeps a callgrind run short).
log_shape shape_of(std::int64_t compressed, std::int64_t segment_mib = 64) {
    log_shape shape{.name = (compressed != 0 ? "lz4-" : "none-") + std::to_string(segment_mib),
                    .segment_bytes = static_cast<std::uint64_t>(segment_mib) * mib};
    if (compressed != 0) {
        shape.compression = model::compression_type::lz4;
    }
    return shape;
}

// clean_stats summed over the iterations, reported per pass. bytes_read counts both phases
// (the dirty section is read twice: index, then recopy); records_read the recopied records.
void report_stats(benchmark::State& state, const clean_stats& s) {
    auto avg = [&](const char* name, double v) {
        state.counters[name] = benchmark::Counter(v, benchmark::Counter::kAvgIterations);
    };
    avg("bytes_read", static_cast<double>(s.bytes_read));
    avg("bytes_written", static_cast<double>(s.bytes_written));
    avg("records_read", static_cast<double>(s.records_read));
    avg("records_kept", static_cast<double>(s.records_kept));
    avg("map_utilization", s.map_utilization);
    avg("index_ms", static_cast<double>(s.index_ms));
    avg("clean_ms", static_cast<double>(s.clean_ms));
}

void add(clean_stats& sum, const clean_stats& s) {
    sum.bytes_read += s.bytes_read;
    sum.bytes_written += s.bytes_written;
    sum.records_read += s.records_read;
    sum.records_kept += s.records_kept;
    sum.map_utilization += s.map_utilization;
    sum.index_ms += s.index_ms;
    sum.clean_ms += s.clean_ms;
}

void bm_clean_pass(benchmark::State& state) {
    auto& cl = cleaner_log::get(shape_of(state.range(0), state.range(2)));
    // log.cleaner.dedupe.buffer.size default: 128 MiB.
    key_offset_map map(static_cast<std::size_t>(state.range(1)) * mib, 0.9);
    // A cleaner thread keeps its map for life: the first table's pages are resident after
    // its first pass (clear() zeroes the table in use), so the timed passes start that way.
    map.put(view("warm-up"), model::offset(0));
    map.clear();
    io_throttle unlimited(1e308);
    clean_stats sum;
    for (auto _ : state) {
        state.PauseTiming();
        auto job = cl.job(model::offset(0));
        state.ResumeTiming();
        auto r = run_clean(cl.env.fs, job, map, clean_buffers{}, unlimited);
        state.PauseTiming();
        cl.remove_outputs(job);
        if (!r) {
            state.SkipWithError(r.err().to_string().c_str());
            break;
        }
        add(sum, r->stats);
        state.ResumeTiming();
    }
    report_stats(state, sum);
    state.counters["dirty_MiB"] = static_cast<double>(cl.dirty_bytes) / mib;
    state.counters["compression_ratio"] = cl.compression_ratio;
    state.SetBytesProcessed(
        static_cast<std::int64_t>(static_cast<std::uint64_t>(state.iterations()) * cl.dirty_bytes));
}

void bm_raw_seq_read(benchmark::State& state) {
    auto& cl = cleaner_log::get(shape_of(0));
    auto paths = cl.segment_paths();
    bytes buf(static_cast<std::size_t>(state.range(0)));
    std::uint64_t total = 0;
    for (auto _ : state) {
        for (const auto& path : paths) {
            total += pread_whole_file(path, buf);
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(total));
}

void bm_raw_seq_write(benchmark::State& state) {
    auto& cl = cleaner_log::get(shape_of(0));
    auto path = cl.dir + "/raw-write.bin";
    bytes buf(static_cast<std::size_t>(state.range(0)));
    {
        // Log bytes as the contents (what a pass copies).
        int fd = ::open(cl.segment_paths().front().c_str(), O_RDONLY);
        GREGOR_ASSERT(::pread(fd, buf.data(), buf.size(), 0) == static_cast<ssize_t>(buf.size()),
                      "bench setup: short read");
        ::close(fd);
    }
    for (auto _ : state) {
        state.PauseTiming();
        ::sync();
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
        state.ResumeTiming();
        std::uint64_t pos = 0;
        while (pos < cl.dirty_bytes) {
            auto len = std::min<std::uint64_t>(buf.size(), cl.dirty_bytes - pos);
            if (::pwrite(fd, buf.data(), len, static_cast<off_t>(pos)) !=
                static_cast<ssize_t>(len)) {
                state.SkipWithError("pwrite failed");
                break;
            }
            pos += len;
        }
        ::fdatasync(fd);
        state.PauseTiming();
        ::close(fd);
        std::filesystem::remove(path);
        state.ResumeTiming();
    }
    state.SetBytesProcessed(
        static_cast<std::int64_t>(static_cast<std::uint64_t>(state.iterations()) * cl.dirty_bytes));
}

// RSS growth while a 16 MiB map cleans a log with more distinct keys than it holds (its
// largest table: 699,050 slots - 65,536 = 633,514, * 0.9 = 570,162 keys): passes run one
// after the other, each from the previous one's end offset, until the dirty section is done.
void bm_clean_memory(benchmark::State& state) {
    constexpr std::size_t map_bytes = 16 * mib;
    auto& cl =
        cleaner_log::get({.name = "many-keys", .distinct_keys = 4'000'000, .sealed_segments = 3});
    io_throttle unlimited(1e308);
    double growth = 0;
    std::uint64_t passes = 0;
    std::uint64_t keys = 0;
    for (auto _ : state) {
        auto before = rss_bytes();
        std::size_t peak = before;
        key_offset_map map(map_bytes, 0.9);
        auto first_dirty = model::offset(0);
        auto uncleanable = cl.job(first_dirty).first_uncleanable;
        while (first_dirty < uncleanable) {
            auto job = cl.job(first_dirty);
            auto r = run_clean(cl.env.fs, job, map, clean_buffers{}, unlimited);
            cl.remove_outputs(job);
            if (!r) {
                state.SkipWithError(r.err().to_string().c_str());
                return;
            }
            peak = std::max(peak, rss_bytes());
            keys += r->stats.keys_indexed;
            first_dirty = r->end_offset;
            ++passes;
        }
        growth = static_cast<double>(peak - before);
    }
    state.counters["passes"] = static_cast<double>(passes);
    state.counters["keys_indexed"] = static_cast<double>(keys);
    state.counters["records"] = static_cast<double>(cl.records);
    state.counters["dirty_MiB"] = static_cast<double>(cl.dirty_bytes) / mib;
    state.counters["map_MiB"] = static_cast<double>(map_bytes) / mib;
    state.counters["map_reserved_MiB"] =
        static_cast<double>(key_offset_map(map_bytes, 0.9).reserved_bytes()) / mib;
    state.counters["rss_growth_MiB"] = growth / mib;
}

// Registered first: it measures RSS growth, best before the 128 MiB maps come and go.
BENCHMARK(bm_clean_memory)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

// Raw and cleaner runs alternate, three repetitions each, so drifting background load hits
// both alike; compare the medians.
BENCHMARK(bm_raw_seq_read)
    ->Arg(256 << 10)
    ->Arg(1 << 20)
    ->Arg(4 << 20)
    ->Iterations(3)
    ->Repetitions(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_clean_pass)
    ->Args({0, 128, 64})
    ->Args({1, 128, 64})
    ->ArgNames({"lz4", "map_MiB", "segment_MiB"})
    ->Iterations(2)
    ->Repetitions(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
// For profiling (callgrind): --benchmark_filter=bm_clean_small.
BENCHMARK(bm_clean_pass)
    ->Name("bm_clean_small")
    ->Args({0, 128, 4})
    ->Args({1, 128, 4})
    ->ArgNames({"lz4", "map_MiB", "segment_MiB"})
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_raw_seq_write)
    ->Arg(256 << 10)
    ->Arg(1 << 20)
    ->Iterations(1)
    ->Repetitions(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gregor::storage::bench
