// The offset APIs on the wire: OffsetCommit v0-v9, OffsetFetch v0-v9 and OffsetDelete v0,
// translated to and from the structs of group/offsets.h that group::group_service takes
// and gives.
//
// Pure functions over the metadata cache (no service, no I/O); unit tested in
// broker/tests/offset_wire_test.cc. The version rules (Kafka 3.8):
// - OffsetCommit: partitions of topics or partitions the metadata cache does not know get
//   UNKNOWN_TOPIC_OR_PARTITION and never reach the coordinator. v0 commits as generation
//   -1 and member "" (gregor keeps v0 commits in `__consumer_offsets` too, not in
//   ZooKeeper); CommitTimestamp is v1 only, RetentionTimeMs v2-v4, GroupInstanceId v7+,
//   CommittedLeaderEpoch v6+. The answer lists every requested partition in request order.
// - OffsetFetch: v0-v7 ask for one group, v8+ for many (one `fetch` each). RequireStable
//   from v7. A group-level error goes, by version: v0-v1 into every requested partition
//   (offset -1), v2-v7 into the top-level ErrorCode, v8+ into the group's ErrorCode; the
//   group then has no topics. v0 (which Kafka answered from ZooKeeper) says
//   UNKNOWN_TOPIC_OR_PARTITION for a partition the cache does not know or that has no
//   committed offset, and carries no metadata.
// - OffsetDelete: unknown topics or partitions get UNKNOWN_TOPIC_OR_PARTITION; a group
//   error answers with the top-level error and no topics (Kafka's getErrorResponse).
// Throttle times are 0. Every count was bounded by the decoder or by the offset store.
#pragma once

#include "broker/metadata_cache.h"
#include "group/offsets.h"
#include "group/service.h"
#include "model/kafka_error.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_delete.h"
#include "protocol/messages/offset_fetch.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gregor::broker {

// Where the answer of each partition sent to the coordinator goes: response topic and
// partition index, in the order of the partitions sent.
struct response_slot {
    std::size_t topic = 0;
    std::size_t partition = 0;
};

// ---- OffsetCommit.

struct offset_commit_call {
    group::commit_identity who;
    // The partitions the metadata cache knows; empty = nothing to ask the coordinator.
    group::commit_request request;
    // Every requested partition; unknown ones already carry UNKNOWN_TOPIC_OR_PARTITION.
    protocol::offset_commit_response response;
    std::vector<response_slot> slots;  // one per partition of `request`
};

offset_commit_call to_commit_call(protocol::offset_commit_request req, std::int16_t version,
                                  const metadata_cache& cache);
// Fills the coordinator's answer in. REQUIRES: one error per partition of call.request,
// in order (the service's contract).
protocol::offset_commit_response commit_answer(offset_commit_call call,
                                               std::span<const group::partition_error> errors);
// What the coordinator would answer for every partition when it cannot be asked.
std::vector<group::partition_error> commit_failure(const group::commit_request& request,
                                                   model::kafka_error error);

// ---- OffsetFetch.

struct offset_fetch_query {
    std::string group_id;
    // none = every committed partition (v2+ null Topics).
    std::optional<std::vector<model::topic_partition>> partitions;
};

// One query for v0-v7, one per group for v8+.
std::vector<offset_fetch_query> to_fetch_queries(protocol::offset_fetch_request req,
                                                 std::int16_t version);
// REQUIRES: one result per query, in order; queries.size() == 1 before v8.
protocol::offset_fetch_response fetch_answer(std::span<const offset_fetch_query> queries,
                                             std::vector<group::offset_fetch_result> results,
                                             std::int16_t version, const metadata_cache& cache);

// ---- OffsetDelete.

struct offset_delete_call {
    std::string group_id;
    // The partitions the metadata cache knows, in request order.
    std::vector<model::topic_partition> partitions;
    protocol::offset_delete_response response;
    std::vector<response_slot> slots;  // one per partition of `partitions`
};

offset_delete_call to_delete_call(protocol::offset_delete_request req, const metadata_cache& cache);
// REQUIRES: when result.error is NONE, one partition result per call.partitions, in order.
protocol::offset_delete_response delete_answer(offset_delete_call call,
                                               const group::offset_delete_result& result);

}  // namespace gregor::broker
