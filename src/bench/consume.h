// Consumer helpers shared by the consume, e2e and group workloads. Main thread only.
#pragma once

#include "base/result.h"
#include "bench/kafka.h"
#include "bench/options.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gregor::bench {

// Messages taken from librdkafka per next_batch() call.
constexpr std::size_t batch_records_max = 1024;
// How long next_batch() waits for a first message when reading for throughput.
constexpr int batch_wait_ms = 100;

struct partition_goal {
    std::int64_t low = 0;
    std::int64_t high = 0;  // high watermark at the start: read up to high - 1
    bool done = false;
};

// Every partition's low and high watermarks now (`layout` gives the partition count).
result<std::vector<partition_goal>> watermarks(rd_kafka_t* rk, const options& o,
                                               const topic_layout& layout);
// The records between the watermarks, summed over the partitions.
std::int64_t records_to_read(const std::vector<partition_goal>& goals);

// A consumer whose assign() needs no group coordinator (no subscribe, no commits); its
// messages come from the consumer queue.
result<kafka_handle> make_consumer(const options& o, client_log& log);
// Assigns partitions 0..n-1 of `topic`, partition p starting at start_offsets[p].
result<void> assign_all(rd_kafka_t* rk, const std::string& topic,
                        const std::vector<std::int64_t>& start_offsets);

// Waits up to `wait_ms` for one message, then takes whatever else is already queued (up to
// `capacity` in all) without waiting. librdkafka's batch call alone waits until the batch
// is full or the time is up, which would add its wait to every latency and to the last
// batch of a run. Returns the number of messages stored in `out`; the caller destroys them.
std::size_t next_batch(rd_kafka_t* rk, rd_kafka_queue_t* queue, rd_kafka_message_t** out,
                       std::size_t capacity, int wait_ms);

}  // namespace gregor::bench
