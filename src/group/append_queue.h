// append_queue: the group service's writes to `__consumer_offsets`, coalesced per partition
// (group commit). While one append to a partition waits for its followers, later appends to
// that partition queue up; when it ends, everything queued goes out as ONE append of the
// batches back to back, and each caller hears its own batch's base offset. Under load (many
// OffsetCommits in flight) the coordinator then writes, replicates and waits once per round
// instead of once per commit; an idle partition's append goes out at once, as before.
//
// Order: appends to one partition reach the log in the order append() was called, whatever
// their wait_for_isr, so the log keeps the order of the coordinator's decisions (a commit,
// then the tombstone that deletes it). A round waits for the ISR if any append in it asked
// to, with the longest of their timeouts. A round's error is every caller's error.
// Bounds: a round holds at most `round_bytes_max` bytes (at least one batch).
// Threading: the owner loop only; a sans-IO decorator of the broker's offsets_log.
#pragma once

#include "group/offsets_log.h"

#include <deque>
#include <map>
#include <memory>
#include <vector>

namespace gregor::group {

class append_queue final : public offsets_log {
public:
    static constexpr std::size_t default_round_bytes_max = 1024 * 1024;

    // REQUIRES: `inner` outlives the queue.
    explicit append_queue(offsets_log& inner,
                          std::size_t round_bytes_max = default_round_bytes_max);
    ~append_queue() override;

    // offsets_log: `batch` is one v2 batch with base offset 0 (as built by records.h).
    void append(model::partition_id p, bytes batch, bool wait_for_isr,
                std::chrono::milliseconds timeout, append_done done) override;
    result<chunk> read(model::partition_id p, model::offset from, std::size_t max_bytes) override {
        return inner_.read(p, from, max_bytes);
    }
    result<model::offset> log_start_offset(model::partition_id p) override {
        return inner_.log_start_offset(p);
    }

    // Introspection (tests, metrics): appends handed to the inner log, and batches in them.
    std::uint64_t rounds() const { return rounds_; }
    std::uint64_t batches() const { return batches_; }

private:
    struct pending {
        bytes batch;
        bool wait_for_isr = false;
        std::chrono::milliseconds timeout{0};
        append_done done;
    };
    struct partition_queue {
        std::deque<pending> queued;
        bool in_flight = false;
    };

    void send_round(model::partition_id p);
    void finish_round(model::partition_id p, std::vector<pending> round, appended r);

    offsets_log& inner_;
    std::size_t round_bytes_max_;
    std::map<model::partition_id, partition_queue> queues_;
    std::uint64_t rounds_ = 0;
    std::uint64_t batches_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::group
