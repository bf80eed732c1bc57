// Plain data the group commands gather from the cluster (DescribeGroups, FindCoordinator,
// OffsetFetch, ListOffsets) and hand to the pure planning and rendering code
// (group_reset.h, group_report.h). Values; any thread.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gregor::admin {

// The protocol type of groups formed by Kafka consumers (KafkaConsumer, librdkafka).
inline constexpr std::string_view consumer_protocol_type = "consumer";

struct topic_partition {
    std::string topic;
    std::int32_t partition = 0;
    auto operator<=>(const topic_partition&) const = default;
    // "topic-3", as Kafka names a partition in messages.
    std::string to_string() const { return topic + "-" + std::to_string(partition); }
};

// Offsets per partition (committed offsets, log end offsets, ...).
using offset_map = std::map<topic_partition, std::int64_t>;

struct coordinator_info {
    std::int32_t id = -1;
    std::string host;
    std::int32_t port = 0;
};

struct group_member {
    std::string consumer_id;
    std::optional<std::string> instance_id;  // static membership (KIP-345)
    std::string client_id;
    std::string host;
    std::vector<topic_partition> assignment;  // sorted; empty unless the group is Stable
    std::string assignment_error;             // non-empty iff the assignment bytes did not decode
};

struct group_description {
    std::string group;
    std::int16_t error_code = 0;  // DescribeGroups' per-group error
    std::string state;            // "Stable", "Empty", "Dead" (unknown group), ...
    std::string protocol_type;    // "consumer" for consumer groups
    std::string protocol;         // the assignment strategy ("range") while Stable
    coordinator_info coordinator;
    std::vector<group_member> members;
};

// Everything `groups describe` shows of one group.
struct group_report {
    group_description description;
    offset_map committed;  // OffsetFetch: partitions with a committed offset
    offset_map log_end;    // ListOffsets (latest), as far as known
};

// One group of `groups list`.
struct listed_group {
    std::string group;
    std::string state;  // "" when the broker's ListGroups is older than v4
    std::string protocol_type;
    std::int32_t coordinator = -1;  // the broker that listed it
};

// One partition's new offset in a reset plan.
struct planned_offset {
    topic_partition partition;
    std::int64_t offset = 0;
};

}  // namespace gregor::admin
