// The controller's decision journal, queryable: every leader/ISR decision (partition, old
// and new leader and ISR, epochs, reason, time) in a bounded ring, oldest dropped first.
// The log keeps the same lines ("decision topic=... reason=..."); the ring answers "what
// happened to partition p since t" without grepping broker logs (/api/journal, `gregor
// cluster journal`). Sans-IO value type; the controller's loop only.
#pragma once

#include "model/fundamental.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace gregor::controller {

// What an unclean election cost, as a replica reported it (coord::unclean_receipt).
struct loss_receipt {
    model::node_id broker = model::no_node;
    bool takeover = true;  // the new leader's log end; else an old replica's cut
    model::offset log_end_offset{0};
    model::offset high_watermark{0};
    model::offset truncated_to = model::no_offset;  // a cut only
};

struct decision {
    std::uint64_t seq = 0;  // 1, 2, ... in the order decided (across controller epochs)
    model::timestamp_ms time{0};
    model::controller_epoch controller_epoch{0};
    std::string topic;
    model::partition_id partition{0};
    model::node_id old_leader = model::no_node;  // -1 for a new partition
    model::node_id new_leader = model::no_node;
    std::vector<model::node_id> old_isr;
    std::vector<model::node_id> new_isr;
    model::leader_epoch leader_epoch{0};
    bool unclean = false;
    std::string reason;
    // Set on the entries that record an unclean election's receipt (no decision: leader and
    // ISR are as they were).
    std::optional<loss_receipt> receipt;
};

struct journal_query {
    std::optional<std::string> topic;
    std::optional<model::partition_id> partition;
    std::optional<model::timestamp_ms> since;  // decisions at or after this time
    std::size_t limit = 1000;                  // the newest `limit` matches
};

class decision_journal {
public:
    static constexpr std::size_t default_capacity = 10'000;
    explicit decision_journal(std::size_t capacity = default_capacity) : capacity_(capacity) {}

    // Appends `d` (its seq is assigned here), dropping the oldest beyond capacity.
    void add(decision d);
    // Matches of `q`, oldest first.
    std::vector<decision> find(const journal_query& q) const;
    std::size_t size() const { return ring_.size(); }
    // Decisions ever added (including those dropped).
    std::uint64_t total() const { return next_seq_ - 1; }
    // Unclean elections ever added (Kafka's ControllerStats UncleanLeaderElectionsPerSec).
    std::uint64_t unclean_total() const { return unclean_total_; }

private:
    std::size_t capacity_;
    std::deque<decision> ring_;
    std::uint64_t next_seq_ = 1;
    std::uint64_t unclean_total_ = 0;
};

// The journal as JSON: {"decisions": [{...}], "total": n, "kept": m}. A receipt adds
// "receipt": {"broker", "kind": "takeover"|"truncation", "log_end_offset", "high_watermark",
// "lost_from", and for a cut "lost_to" and "acknowledged_records_lost"}: the acknowledged
// records [lost_from, lost_to) are gone (a takeover knows only where the loss begins).
std::string to_json(const std::vector<decision>& ds, const decision_journal& j);

}  // namespace gregor::controller
