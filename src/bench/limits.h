// limits: what this machine can physically do, measured by the bench binary itself.
//
// Sequential disk write (write + fdatasync of one file), sequential read of it (O_DIRECT
// where the file system allows it, else buffered after posix_fadvise(DONTNEED)), the rate of
// small fdatasync'd appends, loopback TCP bandwidth between two threads, and what one small
// request and its answer cost a minimal server on loopback (paced as a latency workload is:
// each request wakes a sleeping server). Every produce, consume and e2e report divides its
// figures by these. Blocking; runs on the calling thread
// (plus one receiver thread for the loopback test). The test files are removed afterwards.
#pragma once

#include "base/result.h"
#include "bench/figure.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace gregor::bench {

struct machine_limits {
    double disk_write_mb_per_s = 0;
    double disk_read_mb_per_s = 0;
    std::string read_method;  // "O_DIRECT" or "fadvise"
    double fsync_per_s = 0;
    double loopback_mb_per_s = 0;
    // 100-byte requests echoed by an epoll server thread, 1,000 a second: the server's CPU
    // (user + system) per round trip, and the round trip's median. 0 when not measured (a
    // limits file from before they existed).
    double round_trip_cpu_us = 0;
    double round_trip_us = 0;
    std::int64_t bytes = 0;  // size of the disk test file
    std::string dir;         // where it was written
};

struct limits_plan {
    std::string dir;  // empty: a fresh temporary directory under the current directory
    std::int64_t bytes = std::int64_t{1} << 30;
    std::chrono::milliseconds timed_test{2000};  // the fsync and loopback tests each
};

result<machine_limits> measure_limits(const limits_plan& plan);
// MB/s sent from one thread to another over 127.0.0.1 in `budget`, in writes of
// `block_size` bytes from `block`.
result<double> loopback_bandwidth(std::chrono::milliseconds budget, const char* block,
                                  std::size_t block_size);
struct round_trips {
    double server_cpu_us = 0;  // per round trip
    double p50_us = 0;
};
// `rate` round trips a second over 127.0.0.1 for `budget` (see machine_limits).
result<round_trips> loopback_round_trips(std::chrono::milliseconds budget, int rate);

nlohmann::ordered_json limits_to_json(const machine_limits& l);
// Accepts the "limits" object itself or a whole report that contains one.
result<machine_limits> limits_from_json(const nlohmann::json& j);
// Reads a file written by `gregor bench limits --format json`.
result<machine_limits> load_limits(const std::string& path);
std::vector<figure> limit_figures(const machine_limits& l);

}  // namespace gregor::bench
