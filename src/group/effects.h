// What the group state machine asks its driver to do.
//
// Every mutating call of group_coordinator returns a list of effects, in order. The driver
// carries each out: answers a parked request (join_reply, sync_reply, matched by the token
// the driver gave with the request), appends a group record to the `__consumer_offsets`
// partition and reports the outcome with on_append_done(token, error) once the high
// watermark passed it or it failed (append_group_record), or appends a tombstone with acks=0
// and no answer (append_group_tombstone). Value types; no threading rules.
#pragma once

#include "group/messages.h"
#include "group/records.h"
#include "model/fundamental.h"

#include <string>
#include <variant>
#include <vector>

namespace gregor::group {

// The answer to the JoinGroup given with `token`.
struct join_reply {
    request_token token;
    join_response response;

    bool operator==(const join_reply&) const = default;
};

// The answer to the SyncGroup given with `token`.
struct sync_reply {
    request_token token;
    sync_response response;

    bool operator==(const sync_reply&) const = default;
};

// Append key = group_metadata_key{group_id}, value = `value` to partition `partition` of
// `__consumer_offsets` (acks=all, offsets.commit.timeout.ms), then call
// on_append_done(token, error).
struct append_group_record {
    append_token token;
    model::partition_id partition;
    std::string group_id;
    group_metadata_value value;

    bool operator==(const append_group_record&) const = default;
};

// Append key = group_metadata_key{group_id} with a null value (acks=0; failures are only
// logged, as Kafka's cleanup does). No answer is expected.
struct append_group_tombstone {
    model::partition_id partition;
    std::string group_id;

    bool operator==(const append_group_tombstone&) const = default;
};

using effect = std::variant<join_reply, sync_reply, append_group_record, append_group_tombstone>;
using effects = std::vector<effect>;

}  // namespace gregor::group
