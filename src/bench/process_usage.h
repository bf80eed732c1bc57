// process_usage: CPU time and resident memory of another process on this machine (the
// broker under test, --broker-pid), read from /proc, so a report can say how much of the
// run's time the broker itself spent and how much memory it holds. Linux only; pure reads.
#pragma once

#include "base/result.h"

#include <string>
#include <sys/types.h>

namespace gregor::bench {

struct process_usage {
    double cpu_s = 0;    // user + system time so far
    double rss_mib = 0;  // VmRSS
};

result<process_usage> read_process_usage(pid_t pid);

// The (utime + stime) in clock ticks from the text of /proc/<pid>/stat, or -1 if malformed.
long long cpu_ticks_from_stat(const std::string& stat);
// The VmRSS in KiB from the text of /proc/<pid>/status, or -1 if absent.
long long rss_kib_from_status(const std::string& status);

}  // namespace gregor::bench
