// Storage read-side benchmarks, next to the machine baseline measured in the same run:
//   1 GiB read through log slices + sendfile to a socket  vs  raw sendfile of the file;
//   offset lookup (index search + one header read) in a 1 GiB segment, active and sealed.
#include "bench_util.h"
#include "storage/segment.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <fcntl.h>
#include <random>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace gregor::storage::bench {
namespace {

constexpr std::uint64_t gib = 1024ULL * 1024 * 1024;
constexpr std::size_t fetch_bytes = 1 << 20;  // Kafka's max.partition.fetch.bytes default

// The 1 GiB log (16 KiB batches) shared by the read benchmarks; built once per process.
struct big_log {
    posix_env env;
    std::unique_ptr<log> l;
    std::string log_path;

    big_log() {
        auto dir = scratch_dir("read") + "/r-0";
        log_config cfg;
        cfg.segment_bytes = gib + (64 << 20);
        l = must(log::open(env.ctx(), dir, {"r", model::partition_id(0)}, cfg, {},
                           model::timestamp_ms(0)));
        auto batch = batch_of(16 << 10);
        for (std::uint64_t done = 0; done < gib; done += batch.size()) {
            ignore_error(
                l->append_as_leader(batch, model::leader_epoch(1), model::timestamp_ms(0), true),
                "bench setup");
        }
        log_path = dir + "/" + segment_file_name(model::offset(0), segment_file_kind::log);
    }
    static big_log& get() {
        static big_log b;
        return b;
    }
};

// A socket whose far end a thread drains, standing in for a consumer connection.
struct sink {
    int fds[2] = {-1, -1};
    std::atomic<bool> stop{false};
    std::thread drain;
    sink() {
        ::socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
        int sz = 4 << 20;
        ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        ::setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
        drain = std::thread([this] {
            bytes buf(1 << 20);
            while (::read(fds[1], buf.data(), buf.size()) > 0) {
            }
        });
    }
    ~sink() {
        ::shutdown(fds[0], SHUT_WR);
        drain.join();
        ::close(fds[0]);
        ::close(fds[1]);
    }
    bool send(int fd, std::uint64_t pos, std::uint64_t len) {
        auto p = static_cast<off_t>(pos);
        while (len > 0) {
            auto n = ::sendfile(fds[0], fd, &p, len);
            if (n <= 0) {
                return false;
            }
            len -= static_cast<std::uint64_t>(n);
        }
        return true;
    }
};

void bm_raw_sendfile(benchmark::State& state) {
    auto& b = big_log::get();
    int fd = ::open(b.log_path.c_str(), O_RDONLY);
    auto size = static_cast<std::uint64_t>(::lseek(fd, 0, SEEK_END));
    sink s;
    for (auto _ : state) {
        for (std::uint64_t pos = 0; pos < size; pos += fetch_bytes) {
            if (!s.send(fd, pos, std::min<std::uint64_t>(fetch_bytes, size - pos))) {
                state.SkipWithError("sendfile failed");
            }
        }
    }
    ::close(fd);
    state.SetBytesProcessed(
        static_cast<std::int64_t>(static_cast<std::uint64_t>(state.iterations()) * size));
}

void bm_log_read_sendfile(benchmark::State& state) {
    auto& b = big_log::get();
    sink s;
    std::uint64_t total = 0;
    for (auto _ : state) {
        auto next = model::offset(0);
        while (next < b.l->log_end_offset()) {
            auto r = b.l->read(next, fetch_bytes, b.l->log_end_offset());
            if (!r || r->slice.length == 0) {
                state.SkipWithError("read failed");
                break;
            }
            s.send(r->slice.source->native_handle(), r->slice.position, r->slice.length);
            total += r->slice.length;
            next = r->next_offset;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(total));
}

// Alternating repetitions; compare the medians.
BENCHMARK(bm_raw_sendfile)
    ->Iterations(2)
    ->Repetitions(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_log_read_sendfile)
    ->Iterations(2)
    ->Repetitions(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_raw_sendfile)
    ->Iterations(2)
    ->Repetitions(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_log_read_sendfile)
    ->Iterations(2)
    ->Repetitions(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Random offset lookups: index binary search plus the header read of the batch found.
void bm_offset_lookup(benchmark::State& state) {
    auto& b = big_log::get();
    if (state.range(0) == 1 && b.l->segment_count() == 1) {
        // Seal the 1 GiB segment: its index becomes the trimmed, mmapped file.
        auto cfg = b.l->config();
        cfg.segment_bytes = 1 << 20;
        b.l->set_config(cfg);
        auto batch = batch_of(16 << 10);
        ignore_error(b.l->append_as_leader(batch, model::leader_epoch(1), model::timestamp_ms(0)),
                     "roll");
    }
    std::mt19937_64 rng(1);
    auto end = static_cast<std::uint64_t>(b.l->log_end_offset()() - 20);
    for (auto _ : state) {
        auto o = model::offset(static_cast<std::int64_t>(rng() % end));
        auto r = b.l->read(o, 1, b.l->log_end_offset());
        benchmark::DoNotOptimize(r);
    }
}

BENCHMARK(bm_offset_lookup)->Arg(0)->Arg(1)->ArgName("sealed");

// The index part of a lookup alone (binary search over the 1 GiB segment's entries, the
// sealed one being mmapped): what Kafka's OffsetIndex.lookup does.
void bm_index_lookup(benchmark::State& state) {
    auto& b = big_log::get();
    posix_file_system fs;
    auto dir = std::filesystem::path(b.log_path).parent_path().string();
    auto seg =
        must(segment::open(fs, dir, model::offset(0), segment_options{}, model::timestamp_ms(0)));
    std::mt19937_64 rng(2);
    auto end = static_cast<std::uint64_t>(b.l->log_end_offset()() - 20);
    for (auto _ : state) {
        auto r = seg->lookup_position(model::offset(static_cast<std::int64_t>(rng() % end)));
        benchmark::DoNotOptimize(r);
    }
}

BENCHMARK(bm_index_lookup);

// Machine baseline for the lookup: one 61-byte pread of a batch header at a random
// position of the same (page-cached) file, which every full lookup needs once.
void bm_raw_pread_header(benchmark::State& state) {
    auto& b = big_log::get();
    int fd = ::open(b.log_path.c_str(), O_RDONLY);
    auto size = static_cast<std::uint64_t>(::lseek(fd, 0, SEEK_END));
    std::mt19937_64 rng(3);
    std::uint8_t hdr[61];
    for (auto _ : state) {
        auto n = ::pread(fd, hdr, sizeof hdr, static_cast<off_t>(rng() % (size - 61)));
        benchmark::DoNotOptimize(n);
    }
    ::close(fd);
}

BENCHMARK(bm_raw_pread_header);

}  // namespace
}  // namespace gregor::storage::bench

// Runs the benchmarks, then removes their data (the 1 GiB log and the scan segment).
int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    gregor::storage::bench::remove_scratch_root();
    return 0;
}
