// The workloads of `gregor bench`: each runs against the bootstrap servers (limits against
// this machine) and returns a report, or an error whose code says whether the arguments
// (errc::bad_argument) or the run were at fault. Blocking; called from the main thread,
// which they may use to start and join their own worker threads.
#pragma once

#include "base/result.h"
#include "bench/options.h"
#include "bench/report.h"

#include <optional>

namespace gregor::bench {

// When neither --records nor --duration is given.
inline constexpr std::int64_t default_records = 1'000'000;

result<report> run_produce(const options& o);
result<report> run_consume(const options& o);
result<report> run_e2e(const options& o);
result<report> run_limits(const options& o);
result<report> run_failover(const options& o);
result<report> run_group(const options& o);

// Adds the machine's limits (`loaded` from --limits-from, else measured by a short pass,
// or none with --no-limits) and the ratios of the report's MB/s to them.
result<void> add_limits(const options& o, report& r, const std::optional<machine_limits>& loaded);

// Runs the workload, prints the report to stdout (progress and errors to the terminal and
// stderr) and returns the exit code: 0 ok, 1 the run failed, 2 bad arguments.
int run(const options& o);

}  // namespace gregor::bench
