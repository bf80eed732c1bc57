// Record batches the coordinator appends to its `__consumer_offsets` partition.
//
// Kafka writes every group change as one v2 batch: all partitions of one OffsetCommit
// request in one batch, a group metadata record alone, the tombstones of one cleanup
// together. Batches carry CREATE_TIME and `now` on every record, base offset 0 and no leader
// epoch (the log assigns both on append), compression as offsets.topic.compression.codec,
// and no producer id, except transactional offset commits, which carry the producer's id and
// epoch with base sequence 0. Keys and values are encoded by group/records.h in the versions
// Kafka 3.8 writes; a tombstone is a record with a null value.
//
// Pure functions; any thread. Errors: an encoding error from group/records.h (a group id
// longer than a classic STRING) or a compression failure.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "group/records.h"
#include "model/fundamental.h"
#include "model/record_batch.h"

#include <optional>
#include <span>
#include <string_view>

namespace gregor::group {

// How batches are written (offsets.topic.compression.codec).
struct batch_settings {
    model::compression_type compression = model::compression_type::none;
};

// The producer of a transactional offset commit (TxnOffsetCommit).
struct txn_producer {
    model::producer_id id{-1};
    std::int16_t epoch = -1;
};

// One offset commit record to write.
struct offset_record {
    model::topic_partition tp;
    offset_commit_value value;
};

// The offset commits of one request for `group`, in order. REQUIRES: !records.empty().
result<bytes> build_offset_commit_batch(std::string_view group,
                                        std::span<const offset_record> records,
                                        model::timestamp_ms now, const batch_settings& settings,
                                        std::optional<txn_producer> producer = std::nullopt);

// One group metadata record.
result<bytes> build_group_metadata_batch(std::string_view group,
                                         const group_metadata_value& value,
                                         model::timestamp_ms now, const batch_settings& settings);

// Tombstones: one per offset key, then one for the group key when `group_key` is set.
// REQUIRES: !offsets.empty() || group_key.
result<bytes> build_tombstone_batch(std::span<const offset_commit_key> offsets,
                                    const std::optional<group_metadata_key>& group_key,
                                    model::timestamp_ms now, const batch_settings& settings);

}  // namespace gregor::group
