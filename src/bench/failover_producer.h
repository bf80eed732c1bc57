// failover_producer: the --produce side of the failover workload. One thread sends to every
// partition in turn at --rate records/s; the delivery callback (on that thread) remembers,
// per partition, the last acknowledgement before the kill and the first one after. Memory
// is two timestamps per partition. Created, marked and finished from the main thread.
#pragma once

#include "base/result.h"
#include "bench/options.h"
#include "bench/report.h"

#include <chrono>
#include <memory>

namespace gregor::bench {

class failover_producer {
public:
    static result<std::unique_ptr<failover_producer>> start(const options& o,
                                                            std::size_t partitions);
    ~failover_producer();
    failover_producer(const failover_producer&) = delete;
    failover_producer& operator=(const failover_producer&) = delete;

    // The kill happens now: acknowledgements from here on count as "after".
    void mark_kill(std::chrono::steady_clock::time_point killed);
    // Called once the failover was seen to be over: waits (up to --timeout) until every
    // partition had a record sent after this call acknowledged, stops, and adds each
    // partition's unavailability window (the longest gap between its acknowledgements that
    // ends after the kill; summarised) to `r`.
    void finish(report& r);

    struct state;

private:
    explicit failover_producer(std::unique_ptr<state> s);
    std::unique_ptr<state> state_;
};

}  // namespace gregor::bench
