// The standalone ZooKeeper a local cluster runs (Debian's `zookeeper` package).
//
// It runs as `java -cp "/usr/share/java/*:/etc/zookeeper/conf" QuorumPeerMain zoo.cfg`, a
// child of the supervisor (see process.h), with its output in D/zookeeper/zookeeper.log.
// Called from the supervisor's thread.
#pragma once

#include "base/result.h"
#include "cluster/layout.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <sys/types.h>

namespace gregor::cluster {

// How long a stopping ZooKeeper gets after SIGTERM before SIGKILL.
inline constexpr auto zookeeper_stop_grace = std::chrono::seconds(10);

// Returns ok iff java is on PATH and the ZooKeeper jars are installed; otherwise
// errc::zookeeper_missing with a message that says to run scripts/setup.sh.
result<void> check_zookeeper_installed();

// Sends a four-letter command to 127.0.0.1:`port`; returns the reply ("" on failure).
std::string four_letter_word(std::uint16_t port, const std::string& cmd);

// Writes zoo.cfg, starts the server and waits until it answers `ruok` with `imok`.
// errc::start_failed (it exited; names the log) or errc::timed_out (it was stopped).
result<pid_t> start_zookeeper(const cluster_layout& layout, std::uint16_t port,
                              std::chrono::milliseconds deadline);

}  // namespace gregor::cluster
