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

}  // namespace gregor::bench
