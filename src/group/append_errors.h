// What a failed append to `__consumer_offsets` means to the client (Kafka 3.8's table).
//
// The coordinator appends with acks=all; the append's Kafka error is translated before it
// reaches an OffsetCommit partition or a SyncGroup/JoinGroup answer:
//
//   append error                                      offset commit          group metadata
//   UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS,  COORDINATOR_NOT_AVAILABLE (both)
//     NOT_ENOUGH_REPLICAS_AFTER_APPEND
//   NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR       NOT_COORDINATOR (both)
//   REQUEST_TIMED_OUT                                 REQUEST_TIMED_OUT      REBALANCE_IN_PROGRESS
//   MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE,         INVALID_COMMIT_        UNKNOWN_SERVER_ERROR
//     INVALID_FETCH_SIZE                                OFFSET_SIZE
//   NETWORK_EXCEPTION (transaction verification)      COORDINATOR_LOAD_IN_PROGRESS  (unchanged)
//   anything else                                     unchanged (both)
//
// Pure functions; any thread.
#pragma once

#include "model/kafka_error.h"

namespace gregor::group {

model::kafka_error offset_commit_append_error(model::kafka_error append_error);
model::kafka_error group_metadata_append_error(model::kafka_error append_error);

}  // namespace gregor::group
