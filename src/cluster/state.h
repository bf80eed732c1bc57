// The state file of a local cluster: D/cluster.json.
//
// `gregor cluster up` writes it when it starts the cluster and rewrites it whenever a pid
// changes (a broker restarted, killed, or the cluster stopped). It is what makes a second
// `up` on the same directory resume the same cluster (same broker ids, ports and ZooKeeper
// port), what `down`/`kill`/`restart` use to find the supervisor, and what the admin
// commands read for the bootstrap servers when given --dir. A pid of 0 means "not
// running". The file is written atomically (temporary file + rename). The content is
// untrusted on read: anything malformed is errc::bad_state_file naming the field.
// Plain values and pure functions, plus two file helpers; any thread.
#pragma once

#include "base/result.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace gregor::cluster {

inline constexpr std::string_view state_file_name = "cluster.json";
// The largest local ZooKeeper ensemble `up --zookeepers` runs.
inline constexpr std::int32_t zookeepers_max = 7;

struct broker_entry {
    std::int32_t id = 0;
    std::uint16_t port = 0;
    pid_t pid = 0;
    // True iff the user stopped it with `gregor cluster kill`; it stays down until `restart`.
    bool stopped_by_user = false;
    // Its operator HTTP listener (gregor.http.listener: /metrics); 0 until assigned.
    std::uint16_t http_port = 0;
    bool operator==(const broker_entry&) const = default;
};

// One ZooKeeper server `up` runs: a standalone one (id 0), or member `id` (its myid, 1..N)
// of a local ensemble, which also listens on a quorum and a leader-election port.
struct zookeeper_entry {
    std::int32_t id = 0;
    std::uint16_t port = 0;  // clientPort, on 127.0.0.1
    std::uint16_t quorum_port = 0;
    std::uint16_t election_port = 0;
    pid_t pid = 0;
    bool operator==(const zookeeper_entry&) const = default;
};

struct cluster_state {
    std::string dir;                // absolute path of the cluster directory
    std::string zookeeper_connect;  // host:port[,host:port...] the brokers use
    bool zookeeper_managed = true;  // true iff `up` runs the ZooKeeper server(s) itself
    std::vector<zookeeper_entry> zookeepers;  // the servers `up` runs (none when external)
    pid_t supervisor_pid = 0;  // the `gregor cluster up` process, 0 once it stopped
    std::int32_t session_timeout_ms = 0;
    std::vector<broker_entry> brokers;
    bool operator==(const cluster_state&) const = default;

    // "127.0.0.1:9092,127.0.0.1:9093,..." for every broker.
    std::string bootstrap_servers() const;
    broker_entry* find_broker(std::int32_t id);
};

std::string encode_state(const cluster_state& s);
result<cluster_state> decode_state(std::string_view json);

// D/cluster.json.
std::filesystem::path state_path(const std::filesystem::path& dir);
// Reads and decodes the state file; errc::not_running iff it does not exist.
result<cluster_state> read_state(const std::filesystem::path& dir);
// Writes the state file atomically.
result<void> write_state(const std::filesystem::path& dir, const cluster_state& s);

}  // namespace gregor::cluster
