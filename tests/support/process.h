// Child processes and shell commands for integration tests.
//
// spawn_child forks and execs a program whose stdout and stderr go to a file; the child gets
// PR_SET_PDEATHSIG(SIGKILL), so it never outlives the test process even when the test
// crashes. run_command runs a shell command to completion and captures its stdout. These
// are blocking helpers for test threads; none keeps state.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gregor::test {

struct command_result {
    int status = -1;  // exit code, -1 if killed by a signal
    std::string out;  // stdout (add 2>&1 to the command for stderr)
};
// Runs `cmd` with /bin/sh to completion.
command_result run_command(const std::string& cmd);

// The whole content of a file ("" if it cannot be read).
std::string slurp(const std::filesystem::path& p);

// Polls `pred` every 100 ms until it holds or `limit` passes; returns whether it held.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit);

// Starts `args[0]` (a path) with `args`, stdout and stderr appended to `output` (truncated
// first unless `append`). Returns the child's pid. REQUIRES: !args.empty().
pid_t spawn_child(std::vector<std::string> args, const std::filesystem::path& output,
                  bool append);

// Waits up to `limit` for child `pid` to exit; returns its exit code (128+signal if a
// signal killed it), or nullopt if it still runs.
std::optional<int> wait_child(pid_t pid, std::chrono::milliseconds limit);

}  // namespace gregor::test
