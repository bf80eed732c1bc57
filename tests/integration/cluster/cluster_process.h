// Helpers for the cluster integration tests: `gregor cluster up` as a child process, short
// gregor commands run to completion, and a /proc scan for leftover processes (polling,
// commands and child processes come from tests/support/process.h). Used from the test
// thread only.
#pragma once

#include "support/process.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gregor::test {

// Runs `[prefix] gregor <args>` to completion, capturing stdout and stderr.
command_result gregor(const std::string& args, const std::string& prefix = "");

// `gregor cluster up --dir <dir> <extra...>` as a child (PR_SET_PDEATHSIG) whose output goes
// to <dir>.up.log. The destructor SIGKILLs it if it still runs.
class up_process {
public:
    up_process(const std::filesystem::path& dir, std::vector<std::string> extra);
    ~up_process();
    up_process(const up_process&) = delete;
    up_process& operator=(const up_process&) = delete;

    pid_t pid() const { return pid_; }
    std::string output() const { return slurp(out_); }
    bool wait_output(const std::string& text, std::chrono::milliseconds limit) const;
    // Waits for exit; returns the exit code (128+signal), or nullopt after `limit`.
    std::optional<int> wait_exit(std::chrono::milliseconds limit);

private:
    std::filesystem::path out_;
    pid_t pid_ = -1;
};

// Every live process whose command line mentions `needle` (a unique temp dir).
std::vector<pid_t> processes_mentioning(const std::string& needle);

}  // namespace gregor::test
