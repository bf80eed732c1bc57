// `gregor bench <workload> [options]`: the load generator (src/bench). The words after
// "bench" are handed to src/bench's own parser, which owns the exit codes (2 for a bad
// argument). Main thread only.
#pragma once

#include <CLI/CLI.hpp>

namespace gregor::cli {

// Registers the subcommand on `app`; `run_bench_command` runs it once parsed.
CLI::App* add_bench_command(CLI::App& app);
int run_bench_command(CLI::App* cmd);

}  // namespace gregor::cli
