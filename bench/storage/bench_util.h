// Shared helpers of the storage benchmarks: a scratch directory on the disk under test
// (GREGOR_BENCH_DIR, default /tmp/gregor-storage-bench), batch building and RSS reading.
#pragma once

#include "storage/io_worker.h"
#include "storage/log.h"
#include "storage/names.h"
#include "storage/posix_file_system.h"
#include "storage/tests/test_batches.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <fcntl.h>
#include <unistd.h>

namespace gregor::storage::bench {

inline std::string scratch_root() {
    const char* env = std::getenv("GREGOR_BENCH_DIR");
    return std::string(env != nullptr ? env : "/tmp/gregor-storage-bench") + "/storage-bench";
}

inline void remove_scratch_root() {
    std::filesystem::remove_all(scratch_root());
}

inline std::string scratch_dir(const std::string& name) {
    auto dir = scratch_root() + "/" + name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

// One batch of about `bytes_total` bytes made of 1 KiB records.
inline bytes batch_of(std::size_t bytes_total) {
    auto records = std::max<std::size_t>(1, bytes_total / 1024);
    return test::make_batch(
        {.records = static_cast<int>(records), .value_bytes = bytes_total / records - 16});
}

// Benchmark set-up has no error path: a failure aborts with the reason.
template <class T>
T must(result<T>&& r) {
    GREGOR_ASSERT(r.has_value(), "bench setup failed: {}", r.err().to_string());
    return std::move(r).value();
}

// Reads the whole file at `path` with pread in chunks of buf.size() (the raw read baseline);
// returns the bytes read.
inline std::uint64_t pread_whole_file(const std::string& path, bytes& buf) {
    int fd = ::open(path.c_str(), O_RDONLY);
    std::uint64_t pos = 0;
    for (;;) {
        auto n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(pos));
        if (n <= 0) {
            break;
        }
        pos += static_cast<std::uint64_t>(n);
    }
    ::close(fd);
    return pos;
}

inline std::size_t rss_bytes() {
    std::ifstream f("/proc/self/statm");
    std::size_t pages = 0;
    std::size_t resident = 0;
    f >> pages >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// A log on real files with a threaded worker; completions are simply run inline (the
// benchmarks never wait on them).
struct posix_env {
    posix_file_system fs;
    io_worker worker{io_worker::mode::thread};
    log_context ctx() {
        return log_context{&fs, &worker, [](std::function<void()> fn) { (void)fn; }, {}, {}, {}};
    }
};

}  // namespace gregor::storage::bench
