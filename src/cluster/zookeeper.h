// The ZooKeeper server(s) a local cluster runs (Debian's `zookeeper` package): one
// standalone server, or with `up --zookeepers N` an ensemble of N on 127.0.0.1.
//
// It runs as `java -cp "/usr/share/java/*:/etc/zookeeper/conf" QuorumPeerMain zoo.cfg`, a
// child of the supervisor (see process.h), with its output in D/zookeeper/zookeeper.log
// (D/zookeeper-<n>/zookeeper.log for ensemble member n).
// Called from the supervisor's thread.
#pragma once

#include "base/result.h"
#include "cluster/layout.h"

#include <chrono>
#include <cstdint>
#include <span>
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

// Writes the zoo.cfg (and an ensemble member's data/myid) of every server in `servers`
// (one standalone server, id 0, or the members of an ensemble), starts them all, and
// waits until each serves clients (`srvr` reports its mode: standalone, leader or
// follower; an ensemble member does once a majority has elected a leader). Sets each
// entry's pid. errc::start_failed (one exited; names its log) or errc::timed_out (all
// were stopped).
result<void> start_zookeepers(const cluster_layout& layout, std::span<zookeeper_entry> servers,
                              std::chrono::milliseconds deadline);

}  // namespace gregor::cluster
