// offsets_log: the broker's replicas of `__consumer_offsets` as the group service sees
// them (the broker implements it over its replica manager; tests over memory).
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "model/fundamental.h"
#include "model/kafka_error.h"

#include <chrono>
#include <cstddef>
#include <functional>

namespace gregor::group {

// The broker's replicas of `__consumer_offsets`, as the group service writes and reads them.
class offsets_log {
public:
    struct appended {
        model::kafka_error error = model::kafka_error::none;
        model::offset base_offset = model::no_offset;  // set iff error is NONE
    };
    using append_done = std::function<void(appended)>;

    virtual ~offsets_log() = default;
    // Appends `batch` (a v2 batch with base offset 0; offsets and the leader epoch are
    // assigned here) to partition `p` as its leader. With `wait_for_isr` (acks=all), `done`
    // runs once the high watermark passed the batch, or the append failed or lost its
    // leader, or `timeout` passed (REQUEST_TIMED_OUT); without, right after the local
    // append. `done` runs exactly once, on the loop, never inside this call.
    virtual void append(model::partition_id p, bytes batch, bool wait_for_isr,
                        std::chrono::milliseconds timeout, append_done done) = 0;
    // The bytes of partition `p` from `from` (a batch boundary) on, at most about
    // `max_bytes` but always at least one whole batch, up to the log end offset; empty at
    // the end. The log start offset is where a load begins.
    struct chunk {
        bytes data;
        model::offset next{0};  // where the following read starts
    };
    virtual result<chunk> read(model::partition_id p, model::offset from,
                               std::size_t max_bytes) = 0;
    virtual result<model::offset> log_start_offset(model::partition_id p) = 0;
};

}  // namespace gregor::group
