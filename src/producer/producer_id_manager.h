// producer_id_manager: hands out producer ids for InitProducerId from blocks this broker
// claimed in ZooKeeper, as Kafka's RPCProducerIdManager does (3.8).
//
// Sans-IO. The driver (broker/producer_id_wiring.h, or a test) feeds it requests for ids,
// the outcomes of block claims and the time, and carries out what it asks for:
//   claim_block   run one claim of the next block (producer/block_claim.h) and report it
//                 with on_claimed(block) or on_claim_failed(why); at most one is in flight.
//   wake_at{t}    call on_time(now) once `t` has passed (replaces any earlier wake_at).
//
// Rules, each Kafka's unless marked:
//   - Ids come from the current block in order; a block once left is never reused and a new
//     block must lie above every id handed out, so an id is never handed out twice.
//   - Once the id at first + 90 % of the block is handed out, the next block is claimed
//     (prefetch); when the current block is used up the prefetched one takes over.
//   - While no id is available the request gets COORDINATOR_LOAD_IN_PROGRESS(14), which
//     clients retry (Kafka chose it because old clients treat REQUEST_TIMED_OUT as fatal),
//     and a claim is started if none is running.
//   - A failed claim is retried after a backoff (50 ms, doubled per consecutive failure up
//     to retry_backoff_max). gregor: the first timed_retries_max retries come from wake_at;
//     after that only a request for an id (once the backoff passed) starts another claim,
//     so a long ZooKeeper outage costs one claim per backoff at most and never spins.
//   - When ZooKeeper says every id is allocated (errc::ids_exhausted) no claim is made
//     again; once the current block is used up requests get UNKNOWN_SERVER_ERROR(-1), what
//     Kafka's KafkaException becomes on the wire.
//
// State per block: current (ids handed out so far), next (prefetched), claim in flight,
// consecutive failures and the retry deadline. Single-threaded; no clock of its own.
#pragma once

#include "model/fundamental.h"
#include "model/kafka_error.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

namespace gregor::producer {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;

// Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE.
inline constexpr std::int64_t block_size = 1000;

// A range of producer ids owned by this broker: [first, last], both inclusive.
struct id_block {
    model::producer_id first;
    model::producer_id last;

    std::int64_t size() const { return last() - first() + 1; }
    bool operator==(const id_block&) const = default;
};

struct manager_config {
    // Kafka's PidPrefetchThreshold (0.90): the share of a block handed out before the
    // next one is claimed.
    int prefetch_percent = 90;
    // Kafka's RetryBackoffMs (50): the wait after a failed claim, doubled per consecutive
    // failure, at most retry_backoff_max.
    std::chrono::milliseconds retry_backoff{50};
    std::chrono::milliseconds retry_backoff_max{10'000};
    // Consecutive failed claims retried by the manager's own wake_at; beyond them only
    // requests for ids start claims.
    int timed_retries_max = 20;
};

// Effects: what the manager asks its driver to do.
struct claim_block {
    bool operator==(const claim_block&) const = default;
};
struct wake_at {
    time_point at;
    bool operator==(const wake_at&) const = default;
};
using effect = std::variant<claim_block, wake_at>;
using effects = std::vector<effect>;

// Why a claim failed: retriable (ZooKeeper unavailable, lost races, bad content) or
// permanent (every id is allocated).
enum class claim_failure { retriable, exhausted };

// The answer to one request for an id, and what the driver must do next.
struct allocation {
    model::kafka_error error = model::kafka_error::none;
    model::producer_id id{-1};  // valid iff error is NONE
    effects asks;
};

class producer_id_manager {
public:
    // REQUIRES: 0 < prefetch_percent <= 100, 0 < retry_backoff <= retry_backoff_max,
    // timed_retries_max >= 0.
    explicit producer_id_manager(manager_config config = {});

    // Asks for the first block (Kafka's ZooKeeper-mode manager claims one when it starts, so
    // the first InitProducerId does not wait).
    effects start(time_point now);
    // A fresh producer id, or COORDINATOR_LOAD_IN_PROGRESS / UNKNOWN_SERVER_ERROR (above).
    allocation allocate(time_point now);
    // The claim asked for succeeded with `block`. A block that does not lie above every id
    // handed out is refused and counts as a failed claim. REQUIRES: a claim is in flight,
    // block.first <= block.last.
    effects on_claimed(id_block block, time_point now);
    // The claim asked for failed. REQUIRES: a claim is in flight.
    effects on_claim_failed(claim_failure why, time_point now);
    // A wake_at deadline passed (or the driver's timer fired early: then it asks again).
    effects on_time(time_point now);

    // Introspection (tests, logs).
    std::optional<id_block> current() const { return current_; }
    std::optional<id_block> next() const { return next_; }
    bool claim_in_flight() const { return claim_in_flight_; }
    bool exhausted() const { return exhausted_; }
    int consecutive_failures() const { return failures_; }
    std::optional<time_point> retry_at() const { return retry_at_; }
    // Ids left in the current block.
    std::int64_t remaining() const;

private:
    bool current_used_up() const { return remaining() == 0; }
    bool wants_block() const;
    effects maybe_claim(time_point now);
    effects failed(time_point now);
    std::chrono::milliseconds backoff_for(int failures) const;

    manager_config config_;
    std::optional<id_block> current_;
    std::int64_t handed_out_ = 0;  // ids of current_ handed out (no overflow at INT64_MAX)
    std::optional<id_block> next_;
    bool claim_in_flight_ = false;
    bool exhausted_ = false;
    int failures_ = 0;
    std::optional<time_point> retry_at_;
    // The last id of the newest block accepted, and the last id handed out.
    model::producer_id highest_claimed_{-1};
    model::producer_id last_handed_out_{-1};
};

}  // namespace gregor::producer
