// The group APIs as the state machine sees them: decoded requests in, answers out.
//
// The broker's handlers fill these from the generated JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup, DescribeGroups, ListGroups and DeleteGroups messages (any version) and encode
// the answers back for the request's version. Fields that only some versions carry are
// optional or documented with their default; version-specific behaviour the state machine
// owns (MEMBER_ID_REQUIRED from v4, SkipAssignment from v9, the mandatory protocol of
// SyncGroup v5) is keyed on `version`. Value types; no threading rules.
#pragma once

#include "base/bytes.h"
#include "base/named_type.h"
#include "model/kafka_error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gregor::group {

// Names a parked request (JoinGroup, SyncGroup): the driver picks it, the state machine
// hands it back with the answer. Unique among the driver's requests in flight.
using request_token = named_type<std::uint64_t, struct request_token_tag>;
// Names an append the state machine asked for; the driver reports its outcome with it.
using append_token = named_type<std::uint64_t, struct append_token_tag>;

struct member_protocol {
    std::string name;
    bytes metadata;

    bool operator==(const member_protocol&) const = default;
};

// JoinGroup v0-v9.
struct join_request {
    std::int16_t version = 0;
    std::string group_id;
    std::int32_t session_timeout_ms = 0;
    std::int32_t rebalance_timeout_ms = -1;  // v1+; v0 uses the session timeout
    std::string member_id;                   // "" for a new member
    std::optional<std::string> group_instance_id;  // v5+ (static membership, KIP-345)
    std::string protocol_type;
    std::vector<member_protocol> protocols;
    std::optional<std::string> reason;  // v8+, logged only
    // From the request header and the connection.
    std::string client_id;
    std::string client_host;  // Kafka's form, e.g. "/10.0.0.5"
};

struct join_response_member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    bytes metadata;

    bool operator==(const join_response_member&) const = default;
};

struct join_response {
    model::kafka_error error = model::kafka_error::none;
    std::int32_t generation_id = -1;
    std::optional<std::string> protocol_type;  // v7+
    std::optional<std::string> protocol_name;  // null only on errors
    std::string leader;
    bool skip_assignment = false;  // v9+
    std::string member_id;
    std::vector<join_response_member> members;  // the leader's answer only

    bool operator==(const join_response&) const = default;
};

struct sync_assignment {
    std::string member_id;
    bytes assignment;
};

// SyncGroup v0-v5.
struct sync_request {
    std::int16_t version = 0;
    std::string group_id;
    std::int32_t generation_id = -1;
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v3+
    std::optional<std::string> protocol_type;      // v5+
    std::optional<std::string> protocol_name;      // v5+
    std::vector<sync_assignment> assignments;      // the leader's only
};

struct sync_response {
    model::kafka_error error = model::kafka_error::none;
    std::optional<std::string> protocol_type;  // v5+
    std::optional<std::string> protocol_name;  // v5+
    bytes assignment;

    bool operator==(const sync_response&) const = default;
};

inline sync_response sync_failure(model::kafka_error error) {
    sync_response r;
    r.error = error;
    return r;
}

// Heartbeat v0-v4.
struct heartbeat_request {
    std::string group_id;
    std::int32_t generation_id = -1;
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v3+
};

// LeaveGroup v0-v5. The handler turns a v0-v2 request into one member, and takes that
// member's error as the top-level error of a v0-v2 answer.
struct leave_member {
    std::string member_id;  // "" with an instance id: removal by instance id (v3+)
    std::optional<std::string> group_instance_id;
    std::optional<std::string> reason;  // v5+, logged only
};

struct leave_request {
    std::string group_id;
    std::vector<leave_member> members;
};

struct leave_member_result {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    model::kafka_error error = model::kafka_error::none;

    bool operator==(const leave_member_result&) const = default;
};

struct leave_response {
    model::kafka_error error = model::kafka_error::none;
    std::vector<leave_member_result> members;
};

// DescribeGroups v0-v5, one group.
struct described_member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    bytes metadata;    // empty unless the group is Stable
    bytes assignment;  // empty unless the group is Stable
};

struct described_group {
    model::kafka_error error = model::kafka_error::none;
    std::string group_id;
    std::string state;  // Kafka's name; "" with an error, "Dead" for an unknown group
    std::string protocol_type;
    std::string protocol_data;  // the selected protocol when Stable, else ""
    std::vector<described_member> members;
};

// ListGroups v0-v5.
struct listed_group {
    std::string group_id;
    std::string protocol_type;
    std::string state;  // v4+
    std::string type = "classic";  // v5+

    bool operator==(const listed_group&) const = default;
};

struct list_groups_response {
    model::kafka_error error = model::kafka_error::none;
    std::vector<listed_group> groups;
};

// DeleteGroups v0-v2, one group's result.
struct deleted_group {
    std::string group_id;
    model::kafka_error error = model::kafka_error::none;

    bool operator==(const deleted_group&) const = default;
};

// Who commits offsets (OffsetCommit v1+, TxnOffsetCommit), as validate_offset_commit sees it.
struct commit_identity {
    std::string group_id;
    std::int32_t generation_id = -1;
    std::string member_id;
    std::optional<std::string> group_instance_id;
    // TxnOffsetCommit (KIP-447): creates the group whatever the generation, accepts
    // generation -1 without a member in any state, and is not refused while completing.
    bool transactional = false;
};

}  // namespace gregor::group
