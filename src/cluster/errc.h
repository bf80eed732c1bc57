// Error codes of the local cluster launcher (gregor cluster up/down/kill/...).
#pragma once

#include <system_error>

namespace gregor::cluster {

enum class errc {
    bad_state_file = 1,  // D/cluster.json cannot be parsed
    io_error,            // a file or directory cannot be read or written
    port_in_use,         // a port the cluster needs is taken
    zookeeper_missing,   // no java or no ZooKeeper jars (scripts/setup.sh installs them)
    start_failed,        // a child process did not start or exited early
    timed_out,           // a deadline passed
    busy,                // the directory is held by a running cluster
    not_running,         // no running cluster in the directory
    bad_request,         // a malformed control request or argument
    interrupted,         // a stop signal arrived while starting
};

const std::error_category& cluster_category();
inline std::error_code make_error_code(errc e) {
    return {static_cast<int>(e), cluster_category()};
}

}  // namespace gregor::cluster

template <>
struct std::is_error_code_enum<gregor::cluster::errc> : std::true_type {};
