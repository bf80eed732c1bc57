// Consumer helpers shared by the consume and e2e workloads. Main thread only.
#pragma once

#include "base/result.h"
#include "bench/kafka.h"
#include "bench/options.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gregor::bench {

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
