// Pure views of Metadata responses for the admin commands: the health verdict, the
// partition filters of `topics describe`, and their text and JSON renderings.
// Pure functions; any thread.
#pragma once

#include "protocol/messages/list_partition_reassignments.h"
#include "protocol/messages/metadata.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gregor::admin {

enum class output_format { text, json };

// What `cluster health` expects: broker ids (from the state file) or only a count (--brokers).
struct broker_expectation {
    std::vector<std::int32_t> ids;
    std::optional<std::size_t> count;
};

struct health_report {
    bool healthy = false;
    std::vector<std::int32_t> brokers_up;    // in Metadata, sorted
    std::vector<std::int32_t> brokers_down;  // expected ids not in Metadata
    std::size_t brokers_expected = 0;        // 0: no expectation given
    std::int32_t controller = -1;
    std::size_t partitions = 0;
    std::vector<std::string> leaderless;        // "topic-p"
    std::vector<std::string> under_replicated;  // "topic-p"
};

// The verdict: healthy iff every expected broker is up (ids, or at least `count`), a
// controller is known, every partition has a leader, and no partition's ISR is smaller than
// its replica set.
health_report assess_health(const protocol::metadata_response& md,
                            const broker_expectation& expected);
// One verdict line ("healthy: ..." / "unhealthy: ...") or one JSON object.
std::string render_health(const health_report& r, output_format f);

enum class partition_filter { all, under_replicated, under_min_isr, unavailable };

// min.insync.replicas per topic, as far as known.
using min_isr_map = std::map<std::string, std::int32_t>;

using metadata_partition =
    protocol::metadata_response::metadata_response_topic::metadata_response_partition;

// Returns true iff `p` passes `f`. A partition is unavailable iff it has no leader or its
// leader is not a live broker; under min ISR needs the topic's min.insync.replicas.
bool partition_matches(const metadata_partition& p, partition_filter f,
                       const std::vector<std::int32_t>& live_brokers,
                       std::optional<std::int32_t> min_isr);

// `topics list`: names (text) or [{name, partitions, replication_factor, internal}] (json).
std::string render_topic_list(const protocol::metadata_response& md, output_format f);
// One topic config as DescribeConfigs reports it.
struct topic_config_line {
    std::string name;
    std::optional<std::string> value;  // null for sensitive configs
    std::int8_t source = 0;            // DescribeConfigs' ConfigSource
    bool sensitive = false;
};
// Configs per topic (from DescribeConfigs), as far as known.
using topic_configs_map = std::map<std::string, std::vector<topic_config_line>>;

// Kafka's name of a DescribeConfigs ConfigSource ("DYNAMIC_TOPIC_CONFIG", ...).
std::string config_source_name(std::int8_t source);

// `topics describe`: a header line per topic and one line per partition that passes `f`,
// kafka-topics style, or JSON. `note` (may be empty) is printed first / put in "note".
// A topic's overrides (DYNAMIC_TOPIC_CONFIG entries of `configs`) end its header line as
// "\tConfigs: k=v,..." (JSON "configs": {k: v}); with `all_configs` every config follows
// the header as "\tConfig: k=v\tsource: SOURCE" (JSON "all_configs": [...]).
std::string render_topic_describe(const protocol::metadata_response& md, partition_filter f,
                                  const min_isr_map& min_isr, output_format fmt,
                                  const std::string& note, const topic_configs_map& configs = {},
                                  bool all_configs = false);
// `topics reassignments`: one line per partition being reassigned ("Topic: t\tPartition: 0\t
// Replicas: 2,3,1\tAdding: 2,3\tRemoving: 1"), or "no reassignments in progress", or JSON
// {"reassignments":[{"topic","partition","replicas","adding","removing"}]}. `topics` limits
// the output (empty: every topic).
std::string render_reassignments(const protocol::list_partition_reassignments_response& r,
                                 const std::vector<std::string>& topics, output_format f);

// "1,2,3"
std::string join_ids(const std::vector<model::node_id>& ids);

}  // namespace gregor::admin
