// metadata_probe: asks one broker, over its own blocking connection (broker_connection.h),
// for the controller id, the live brokers and one topic's partition leaders (Metadata v5),
// so that failover can poll
// every surviving broker every 10 ms. librdkafka is not used here: it caches metadata and
// does not expose the controller id. One probe per broker, used from one thread; it
// reconnects after any error. Every call is bounded by the given timeout.
#pragma once

#include "base/result.h"
#include "bench/broker_connection.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace gregor::bench {

struct cluster_view {
    int controller = -1;
    std::vector<int> brokers;  // sorted ids
    std::vector<int> leaders;  // per partition of the topic, -1 without one
};

class metadata_probe {
public:
    metadata_probe(std::string host, int port);

    result<cluster_view> ask(const std::string& topic, std::chrono::milliseconds timeout);

private:
    broker_connection connection_;
};

}  // namespace gregor::bench
