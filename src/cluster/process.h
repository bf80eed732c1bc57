// Child processes and ports for the local cluster launcher (Linux only).
//
// spawn() starts a child that cannot outlive its parent: it gets PR_SET_PDEATHSIG(SIGKILL)
// (checked against a parent that died before the prctl), its own process group (so a
// Ctrl-C in the terminal reaches only the supervisor, which then stops the children in
// order), an empty signal mask, stdin from /dev/null and stdout/stderr appended to a log
// file. Called from the supervisor's only thread: PR_SET_PDEATHSIG fires when the thread
// that forked exits, so the launcher never forks from another thread.
#pragma once

#include "base/result.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gregor::cluster {

struct spawn_spec {
    std::vector<std::string> argv;  // argv[0] is looked up in PATH unless it has a '/'
    std::filesystem::path log;      // stdout and stderr are appended here
};

// Starts the child; returns its pid. errc::start_failed if fork or the log file fails
// (an exec failure shows as exit code 127 with the reason in the log).
result<pid_t> spawn(const spawn_spec& spec);

// Returns true iff `pid` exists and is not a zombie.
bool process_alive(pid_t pid);
// Reaps `pid` if it has exited: returns its wait status, or nullopt if it still runs (or is
// not our child).
std::optional<int> try_reap(pid_t pid);
// Waits until `pid` (our child) exits, up to `limit`; returns its wait status.
std::optional<int> reap_within(pid_t pid, std::chrono::milliseconds limit);
// Stops our child: SIGCONT (a paused child cannot act on SIGTERM), SIGTERM, then SIGKILL
// after `grace`. Returns its wait status.
int stop_child(pid_t pid, std::chrono::milliseconds grace);
// "exited with code 1", "killed by SIGKILL".
std::string describe_wait_status(int status);

// Returns true iff a TCP listener could bind 127.0.0.1:`port` now.
bool port_free(std::uint16_t port);
// A loopback port that was free a moment ago.
result<std::uint16_t> pick_free_port();

// Returns the path of `name` on PATH if it is an executable file there.
std::optional<std::filesystem::path> find_on_path(const std::string& name);

}  // namespace gregor::cluster
