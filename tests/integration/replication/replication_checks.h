// The properties the replication tests assert on a partition's final log, as functions
// returning what is wrong ("" when all holds), so a test can report every violation with
// the evidence at once. Pure functions of the values given; any thread.
#pragma once

#include "integration/replication/partition_reader.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace gregor::test {

// An acknowledgement the producer got: record n (value "<prefix>-<n>") is at `offset`.
struct acked_record {
    std::int64_t n = 0;
    std::int64_t offset = 0;
};

// Every acknowledged record is in `log` at the offset its acknowledgement gave, with its
// value (so no offset was acknowledged for two records). The order acknowledgements arrive
// in is not checked: across a leader change librdkafka has a request in flight on the old
// leader's connection and one on the new leader's, so an old leader that wakes from a pause
// can still answer (truthfully: its followers had the records) after later records were
// acknowledged by the new one.
std::string check_acknowledged(const partition_log& log, const std::string& prefix,
                               const std::vector<acked_record>& acked);

// Every value in `log` was sent: "<prefix>-<n>" with n below that producer's sent count,
// for one of `producers` (prefix -> sent count), or one of `extra` (probes that the test
// sent itself and that may or may not have been written).
std::string check_only_sent(const partition_log& log,
                            const std::map<std::string, std::int64_t>& producers,
                            const std::set<std::string>& extra);

// Every record a consumer was served is in `log` at the same offset with the same value.
std::string check_consumer_saw_committed(const partition_log& log, const partition_log& seen);

// `replica` holds exactly `leader`'s records below `high_watermark`.
std::string check_same_below(const partition_log& leader, const partition_log& replica,
                             std::int64_t high_watermark);

// How many acknowledgements came for a record sent before the previous acknowledged one.
// librdkafka without idempotence may reorder a partition's records when it retries (its
// documentation says so even with one request in flight), so this is reported, not
// asserted.
std::int64_t send_order_inversions(const std::vector<acked_record>& acked);

// How many acknowledged records appear more than once in `log` (at-least-once delivery:
// a retry after a lost acknowledgement writes a record again). For the test's output.
std::int64_t duplicates(const partition_log& log);

// The idempotent producer's promise: `log` holds "<prefix>-0" .. "<prefix>-<sent-1>" each
// exactly once, in that order (other prefixes are ignored).
std::string check_exactly_once_in_order(const partition_log& log, const std::string& prefix,
                                        std::int64_t sent);

}  // namespace gregor::test
