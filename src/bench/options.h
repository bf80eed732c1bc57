// options: everything `gregor bench <workload>` can be told, and its validation.
//
// cli.cc fills an options from the command line (CLI11 checks the types); validate() checks
// ranges, combinations and formats, so that a bad argument is one clear message and exit code
// 2 before any connection is made. Plain value type.
#pragma once

#include "base/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gregor::bench {

enum class workload { produce, consume, e2e, limits, failover, group };

// What `gregor bench group` measures, chosen by its options (see group_mode_of).
enum class group_mode { consume, rebalance, commit, takeover };

const char* workload_name(workload w);

struct options {
    workload kind = workload::produce;
    std::string bootstrap;  // host:port[,host:port...]
    std::string topic = "gregor-bench";
    std::optional<std::int64_t> records;
    std::optional<double> duration_s;
    std::int64_t record_size = 100;
    std::string acks = "all";  // librdkafka's own default
    int producers = 1;
    std::optional<int> linger_ms;
    std::optional<int> batch_size;
    std::string compression = "none";
    bool idempotent = false;  // produce: enable.idempotence (needs acks=all)
    std::optional<std::int64_t> keys;  // produce: keys "key-<i>" round-robin over this many
    std::optional<int> partitions;
    std::optional<int> replication_factor;       // for a topic we create; default: the broker's
    double rate = 1000;                          // e2e: records per second
    std::int64_t bytes = std::int64_t{1} << 30;  // limits: size of the disk test file
    std::string dir;                             // limits: where the test file goes
    std::string limits_from;                     // a `limits --format json` output
    bool no_limits = false;                      // skip the limits pass and the ratios
    std::string kill_cmd;                        // failover: "command with {id}" (abrupt)
    std::string stop_cmd;                        // failover: "command with {id}" (clean stop)
    std::string victim = "controller";           // failover: controller, leader or a broker id
    bool with_producer = false;                  // failover: measure unavailability
    std::string cluster_dir;                     // failover, group: a `gregor cluster up` directory
    int members = 3;                             // group: members reading the topic together
    std::string group;                           // group: group id; default: fresh per run
    std::optional<int> join_members;             // group: rebalance time of this many members
    std::optional<std::int64_t> initial_delay_ms;  // group: the broker's initial rebalance delay
    std::optional<std::int64_t> commits;           // group: pipelined OffsetCommits (or offsets)
    std::optional<std::int64_t> sync_commits;      // group: synchronous OffsetCommits
    int commit_window = 256;                       // group: async commits in flight at most
    bool takeover = false;                         // group: kill the coordinator, time the load
    double timeout_s = 60;                       // bound on every wait for the cluster
    std::vector<std::string> client_settings;    // -X key=value for librdkafka
    int broker_pid = 0;                          // report this process's CPU and RSS
    std::string format = "text";
    bool verbose = false;  // show librdkafka's own log lines
};

// The group workload's mode: --takeover, else --join-members, else --commits, else consume.
group_mode group_mode_of(const options& o);
const char* group_mode_name(group_mode m);

// Returns an errc::bad_argument error naming the option iff `o` is not runnable.
result<void> validate(const options& o);

// "host:port,host:port" -> pairs; an error names the bad entry.
result<std::vector<std::pair<std::string, int>>> parse_bootstrap(const std::string& list);

// The librdkafka value of --acks ("0", "1" or "-1").
std::string acks_setting(const std::string& acks);

}  // namespace gregor::bench
