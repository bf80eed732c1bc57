// The records the group coordinator keeps in `__consumer_offsets`, as values.
//
// These mirror Kafka's internal record schemas field for field (OffsetCommitKey/Value,
// GroupMetadataKey/Value; kafka-messages/internal/), so a group written by gregor reads back
// in Kafka's tools and brokers and the other way round. The group state machine produces and
// consumes these values; group/records.cc encodes and decodes their bytes.
//
// Value types; no threading rules.
#pragma once

#include "base/bytes.h"
#include "model/fundamental.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gregor::group {

// Key of an offset commit record (key version 0 or 1; Kafka 3.x writes 1).
struct offset_commit_key {
    std::string group;
    model::topic_partition tp;

    auto operator<=>(const offset_commit_key&) const = default;
};

// Value of an offset commit record (OffsetCommitValue v0..v4).
struct offset_commit_value {
    model::offset offset{0};
    model::leader_epoch leader_epoch = model::no_leader_epoch;  // v3+; -1 = none
    std::string metadata;
    model::timestamp_ms commit_timestamp{0};
    // v1 only: an explicit expiry (OffsetCommit v2..v4 with a retention time).
    std::optional<model::timestamp_ms> expire_timestamp;

    bool operator==(const offset_commit_value&) const = default;
};

// Key of a group metadata record (key version 2).
struct group_metadata_key {
    std::string group;

    auto operator<=>(const group_metadata_key&) const = default;
};

// One member in a group metadata record (GroupMetadataValue.MemberMetadata).
struct member_metadata_value {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v3+
    std::string client_id;
    std::string client_host;
    std::int32_t rebalance_timeout_ms = 0;  // v1+ (v0: equal to the session timeout)
    std::int32_t session_timeout_ms = 0;
    bytes subscription;  // the member's metadata for the selected protocol
    bytes assignment;    // what the leader assigned it (empty when none)

    bool operator==(const member_metadata_value&) const = default;
};

// Value of a group metadata record (GroupMetadataValue v0..v4).
struct group_metadata_value {
    std::string protocol_type;  // "" for a group without a type
    std::int32_t generation = 0;
    std::optional<std::string> protocol;  // the selected protocol; none when Empty
    std::optional<std::string> leader;    // the leader's member id; none when Empty
    // v2+: when the group entered its current state; -1 = unknown.
    model::timestamp_ms current_state_timestamp{-1};
    std::vector<member_metadata_value> members;

    bool operator==(const group_metadata_value&) const = default;
};

}  // namespace gregor::group
