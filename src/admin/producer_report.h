// `gregor topics describe --producers`: the active idempotent (and, later, transactional)
// producers of each partition, asked of the partition's leader with DescribeProducers, as
// Kafka's `kafka-transactions.sh describe-producers` does. Blocking; one thread.
#pragma once

#include "admin/report.h"
#include "protocol/messages/metadata.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace gregor::admin {

// One producer as DescribeProducers reports it.
struct producer_line {
    std::int64_t producer_id = -1;
    std::int32_t epoch = -1;
    std::int32_t last_sequence = -1;
    std::int64_t last_timestamp = -1;
    std::int32_t coordinator_epoch = -1;
    std::int64_t txn_start_offset = -1;  // -1: no open transaction
};

// One partition's answer, or why there is none (a Kafka error code, or `message` alone when
// its leader could not be reached).
struct partition_producers {
    std::string topic;
    std::int32_t partition = 0;
    std::int16_t error_code = 0;
    std::string message;
    std::vector<producer_line> producers;
};

// Asks each partition's leader (from `md`) for the partitions it leads, one request per
// leader. Partitions without a leader get LEADER_NOT_AVAILABLE. Never fails as a whole.
std::vector<partition_producers> fetch_producers(const protocol::metadata_response& md,
                                                 std::chrono::milliseconds timeout);

// Text: "Topic: t\tPartition: 0\tProducerId: 7\tProducerEpoch: 0\tLastSequence: 41\t
// LastTimestamp: ...\tCoordinatorEpoch: -1\tCurrentTransactionStartOffset: None" per
// producer; a partition without producers or with an error gets one line saying so.
// JSON: {"producers":[{"topic","partition","error","producers":[{...}]}]}.
std::string render_producers(const std::vector<partition_producers>& parts, output_format f);

}  // namespace gregor::admin
