#include "bench/limits.h"

#include "bench/errc.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <unistd.h>

namespace gregor::bench {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr std::size_t block_bytes = std::size_t{1} << 20;
constexpr std::size_t direct_alignment = 4096;
constexpr std::size_t fsync_append_bytes = 100;
constexpr std::int64_t fsync_ops_max = 1'000'000;
constexpr double bytes_per_mb = 1e6;
constexpr int round_trip_rate = 1000;  // a second: each request finds the server asleep

error io_fail(const std::string& what) {
    return {errc::io_error, fmt::format("{}: {}", what, std::strerror(errno))};
}

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

// A page-aligned buffer (O_DIRECT needs one) of random bytes, so no layer can compress it.
struct aligned_block {
    std::unique_ptr<char, decltype(&std::free)> data{nullptr, &std::free};
    aligned_block() {
        void* p = nullptr;
        if (::posix_memalign(&p, direct_alignment, block_bytes) == 0) {
            data.reset(static_cast<char*>(p));
            std::mt19937_64 rng(42);
            for (std::size_t i = 0; i < block_bytes; i += sizeof(std::uint64_t)) {
                std::uint64_t v = rng();
                std::memcpy(data.get() + i, &v, sizeof v);
            }
        }
    }
};

class fd_guard {
public:
    explicit fd_guard(int fd) : fd_(fd) {}
    ~fd_guard() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

result<double> write_file(const std::string& path, std::int64_t bytes, const char* block) {
    fd_guard fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    if (fd.get() < 0) {
        return io_fail("open " + path);
    }
    auto start = clock_type::now();
    for (std::int64_t done = 0; done < bytes;) {
        auto n = static_cast<std::size_t>(std::min<std::int64_t>(bytes - done, block_bytes));
        ssize_t w = ::write(fd.get(), block, n);
        if (w <= 0) {
            return io_fail("write " + path);
        }
        done += w;
    }
    if (::fdatasync(fd.get()) != 0) {
        return io_fail("fdatasync " + path);
    }
    double s = seconds_since(start);
    // Drop the file from the page cache so that the read test reads the disk.
    (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);  // a hint; may be ignored
    return static_cast<double>(bytes) / bytes_per_mb / s;
}

// Reads the whole file; returns bytes read or -1 with errno set.
std::int64_t read_all(int fd, char* buf) {
    std::int64_t total = 0;
    for (;;) {
        ssize_t r = ::read(fd, buf, block_bytes);
        if (r < 0) {
            return -1;
        }
        if (r == 0) {
            return total;
        }
        total += r;
    }
}

result<double> read_file(const std::string& path, char* buf, std::string& method) {
    method = "O_DIRECT";
    int flags = O_RDONLY | O_DIRECT;
    int raw = ::open(path.c_str(), flags);
    if (raw < 0 && errno == EINVAL) {  // the file system has no O_DIRECT (tmpfs)
        method = "fadvise";
        raw = ::open(path.c_str(), O_RDONLY);
    }
    fd_guard fd(raw);
    if (fd.get() < 0) {
        return io_fail("open " + path);
    }
    (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
    auto start = clock_type::now();
    std::int64_t n = read_all(fd.get(), buf);
    if (n < 0 && errno == EINVAL && method == "O_DIRECT") {
        // O_DIRECT opened but reads are refused: fall back to a buffered read of a cold file.
        (void)::fcntl(fd.get(), F_SETFL, O_RDONLY);
        (void)::lseek(fd.get(), 0, SEEK_SET);
        (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
        method = "fadvise";
        start = clock_type::now();
        n = read_all(fd.get(), buf);
    }
    if (n <= 0) {
        return io_fail("read " + path);
    }
    return static_cast<double>(n) / bytes_per_mb / seconds_since(start);
}

result<double> fsync_rate(const std::string& path, std::chrono::milliseconds budget,
                          const char* block) {
    fd_guard fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644));
    if (fd.get() < 0) {
        return io_fail("open " + path);
    }
    auto start = clock_type::now();
    std::int64_t ops = 0;
    while (ops < fsync_ops_max && clock_type::now() - start < budget) {
        if (::write(fd.get(), block, fsync_append_bytes) !=
            static_cast<ssize_t>(fsync_append_bytes)) {
            return io_fail("write " + path);
        }
        if (::fdatasync(fd.get()) != 0) {
            return io_fail("fdatasync " + path);
        }
        ++ops;
    }
    return static_cast<double>(ops) / seconds_since(start);
}

}  // namespace

result<machine_limits> measure_limits(const limits_plan& plan) {
    aligned_block block;
    if (!block.data) {
        return error(errc::io_error, "cannot allocate an aligned buffer");
    }
    std::filesystem::path dir = plan.dir;
    bool made_dir = false;
    if (dir.empty()) {
        std::string tmpl = (std::filesystem::current_path() / "gregor-bench-limits-XXXXXX");
        if (::mkdtemp(tmpl.data()) == nullptr) {
            return io_fail("mkdtemp " + tmpl);
        }
        dir = tmpl;
        made_dir = true;
    }
    machine_limits l;
    l.bytes = plan.bytes;
    l.dir = dir.string();
    auto data = (dir / "gregor-bench-sequential").string();
    auto small = (dir / "gregor-bench-fsync").string();
    auto w = write_file(data, plan.bytes, block.data.get());
    auto r = w ? read_file(data, block.data.get(), l.read_method) : result<double>(w.err());
    auto f = fsync_rate(small, plan.timed_test, block.data.get());
    std::error_code ec;
    std::filesystem::remove(data, ec);
    std::filesystem::remove(small, ec);
    if (made_dir) {
        std::filesystem::remove(dir, ec);
    }
    GREGOR_TRY(l.disk_write_mb_per_s, std::move(w));
    GREGOR_TRY(l.disk_read_mb_per_s, std::move(r));
    GREGOR_TRY(l.fsync_per_s, std::move(f));
    GREGOR_TRY(l.loopback_mb_per_s,
               loopback_bandwidth(plan.timed_test, block.data.get(), block_bytes));
    GREGOR_TRY(round_trips rt, loopback_round_trips(plan.timed_test, round_trip_rate));
    l.round_trip_cpu_us = rt.server_cpu_us;
    l.round_trip_us = rt.p50_us;
    return l;
}

nlohmann::ordered_json limits_to_json(const machine_limits& l) {
    return {{"disk_write_mb_per_s", l.disk_write_mb_per_s},
            {"disk_read_mb_per_s", l.disk_read_mb_per_s},
            {"read_method", l.read_method},
            {"fsync_per_s", l.fsync_per_s},
            {"loopback_mb_per_s", l.loopback_mb_per_s},
            {"round_trip_cpu_us", l.round_trip_cpu_us},
            {"round_trip_us", l.round_trip_us},
            {"bytes", l.bytes},
            {"dir", l.dir}};
}

result<machine_limits> limits_from_json(const nlohmann::json& j) {
    if (j.is_object() && j.contains("limits")) {
        return limits_from_json(j["limits"]);
    }
    machine_limits l;
    try {
        l.disk_write_mb_per_s = j.at("disk_write_mb_per_s").get<double>();
        l.disk_read_mb_per_s = j.at("disk_read_mb_per_s").get<double>();
        l.read_method = j.value("read_method", "");
        l.fsync_per_s = j.at("fsync_per_s").get<double>();
        l.loopback_mb_per_s = j.at("loopback_mb_per_s").get<double>();
        l.round_trip_cpu_us = j.value("round_trip_cpu_us", 0.0);
        l.round_trip_us = j.value("round_trip_us", 0.0);
        l.bytes = j.value("bytes", std::int64_t{0});
        l.dir = j.value("dir", "");
    } catch (const nlohmann::json::exception& e) {
        return error(errc::bad_argument, fmt::format("limits JSON: {}", e.what()));
    }
    return l;
}

result<machine_limits> load_limits(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return error(errc::bad_argument, fmt::format("--limits-from {}: cannot read it", path));
    }
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) {
        return error(errc::bad_argument, fmt::format("--limits-from {}: not JSON", path));
    }
    auto l = limits_from_json(j);
    if (!l) {
        return error(errc::bad_argument, fmt::format("--limits-from {}: {}", path, l.err().detail));
    }
    return l;
}

std::vector<figure> limit_figures(const machine_limits& l) {
    return {{"disk_write_mb_per_s", l.disk_write_mb_per_s, "MB/s (write + fdatasync)"},
            {"disk_read_mb_per_s", l.disk_read_mb_per_s, "MB/s (" + l.read_method + ")"},
            {"fsync_per_s", l.fsync_per_s, "fdatasync'd 100-byte appends/s"},
            {"loopback_mb_per_s", l.loopback_mb_per_s, "MB/s (TCP 127.0.0.1)"},
            {"round_trip_cpu_us", l.round_trip_cpu_us,
             "us of server CPU per 100-byte request and answer (epoll, 1,000/s, 127.0.0.1)"},
            {"round_trip_us", l.round_trip_us, "us per round trip, median"}};
}

}  // namespace gregor::bench
