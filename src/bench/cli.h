// cli: the command line of `gregor bench <workload> [options]` (CLI11), separate from
// src/cli so that its validation can be unit tested. Main thread only.
#pragma once

#include "bench/options.h"

#include <optional>
#include <string>
#include <vector>

namespace gregor::bench {

struct parse_outcome {
    std::optional<options> parsed;  // set iff the workload should run
    int exit_code = 0;              // otherwise: 0 after --help, 2 for a bad argument
    std::string message;            // the help text or the error
};

// `args` are the words after "bench" (e.g. {"produce", "--bootstrap", "h:9092"}). Runs the
// CLI11 parse and then validate().
parse_outcome parse_command_line(const std::vector<std::string>& args);

// Parses, runs and prints; returns the exit code (0 ok, 1 run failed, 2 bad arguments).
int bench_main(const std::vector<std::string>& args);

}  // namespace gregor::bench
