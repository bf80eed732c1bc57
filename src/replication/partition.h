// replication::partition: one partition replica's replication state, leader or follower.
//
// Sans-IO: the broker's drivers feed it events (a controller decision, a produce, a
// follower's fetch, a leader's fetch reply, a committed ISR change, the clock) and carry out
// what it returns (answer a fetch, send an AlterPartition, wake waiters). It owns no sockets
// and no timers; the log it replicates is a storage::log the caller owns.
//
// Leader (Kafka's Partition in ZooKeeper mode with AlterPartition):
//   - remembers each follower's log end offset (its fetch offset) and when it was last caught
//     up to the leader's log end offset;
//   - high watermark = minimum log end offset over the maximal ISR (the ISR, plus a replica
//     whose addition is proposed but not yet committed); it never goes backwards;
//   - proposes ISR changes, one in flight at a time: an expansion when a follower reaches the
//     high watermark and the start of the current leader epoch, a shrink when an ISR member
//     has not been caught up for replica.lag.time.max.ms. Shrinks count only once committed;
//   - answers a follower fetch with a diverging epoch (Fetch v12+) when the follower's last
//     fetched epoch and offset are not a prefix of this log;
//   - acks=all: NOT_ENOUGH_REPLICAS before appending when the ISR is below
//     min.insync.replicas; a waiting produce completes once the high watermark passes it
//     (NOT_ENOUGH_REPLICAS_AFTER_APPEND if the maximal ISR shrank below the minimum
//     meanwhile) and fails with NOT_LEADER_OR_FOLLOWER if leadership was lost meanwhile
//     (kept through a re-election without a break: the records cannot have been cut).
// Follower:
//   - fetches from its log end offset with its latest epoch; truncates a divergent suffix to
//     the point the leader's epochs give (several rounds if needed, KIP-279), never to its
//     own high watermark while the leader knows the epoch;
//   - appends the leader's batches unchanged and takes high watermark =
//     min(leader's high watermark, own log end offset).
//
// Threading: the owner loop only, like the log.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "model/fundamental.h"
#include "model/kafka_error.h"
#include "storage/checkpoint.h"
#include "storage/log.h"

#include <boost/container/flat_map.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace gregor::replication {

// A partition's state as the controller decided it (LeaderAndIsr, or an AlterPartition
// answer).
struct partition_state {
    model::node_id leader = model::no_node;
    model::leader_epoch leader_epoch = model::no_leader_epoch;
    std::int32_t partition_epoch = -1;  // version of the state znode
    std::vector<model::node_id> isr;
    std::vector<model::node_id> replicas;
    // LeaderRecoveryState RECOVERING (KIP-704): the leader was elected from outside the ISR
    // (an unclean election), so records the previous leader acknowledged may be lost.
    bool recovering = false;
};

struct replication_config {
    std::int32_t min_insync_replicas = 1;             // min.insync.replicas (topic or broker)
    std::chrono::milliseconds lag_time_max{30000};    // replica.lag.time.max.ms
};

// One partition of a follower's Fetch, as the leader sees it.
struct follower_fetch {
    model::node_id replica = model::no_node;
    model::offset fetch_offset{0};
    model::leader_epoch last_fetched_epoch = model::no_leader_epoch;    // -1: not sent (< v12)
    model::leader_epoch current_leader_epoch = model::no_leader_epoch;  // -1: not sent (< v9)
};

// The leader's answer to a follower fetch, before any bytes are read.
struct fetch_decision {
    model::kafka_error error = model::kafka_error::none;
    // Set: the follower diverged; answer with this epoch and end offset and no records.
    std::optional<storage::epoch_entry> diverging;
    // The high watermark moved forward (wake acks=all producers and consumers).
    bool high_watermark_advanced = false;
};

// What a follower's fetch got back for one partition.
struct leader_reply {
    model::kafka_error error = model::kafka_error::none;
    model::offset high_watermark = model::no_offset;
    model::offset log_start_offset = model::no_offset;
    std::optional<storage::epoch_entry> diverging;
    bytes_view records;  // zero or more whole v2 batches
};

// What applying a leader_reply did on the follower.
struct follower_progress {
    std::uint64_t appended_bytes = 0;
    bool truncated = false;
    // Records below this replica's high watermark that the truncation cut: acknowledged
    // records, which only an unclean election can take back.
    std::int64_t committed_truncated = 0;
    // The reply carried an error the follower waits out (back off, then fetch again).
    model::kafka_error error = model::kafka_error::none;
};

// What an unclean election cost, as this replica can tell (the controller journals it).
//   takeover: this replica became leader from outside the ISR; its log ends at log_end and
//     the high watermark it knew was high_watermark: whatever the previous leader
//     acknowledged from log_end on is gone.
//   truncation: following the leader of leader_epoch, this replica cut its log from log_end
//     back to truncated_to, below its high watermark: the acknowledged records
//     [truncated_to, high_watermark) are gone.
struct loss_receipt {
    bool takeover = true;
    model::leader_epoch leader_epoch = model::no_leader_epoch;
    model::offset log_end{0};
    model::offset high_watermark{0};
    model::offset truncated_to = model::no_offset;  // truncation only
    bool operator==(const loss_receipt&) const = default;
};

// Where a follower fetches from next.
struct fetch_position {
    model::offset fetch_offset{0};
    model::leader_epoch last_fetched_epoch = model::no_leader_epoch;
    model::leader_epoch current_leader_epoch = model::no_leader_epoch;
    model::offset log_start_offset{0};
};

// An ISR change the leader asks the controller for (one AlterPartition entry).
struct isr_proposal {
    model::topic_partition tp;
    model::leader_epoch leader_epoch = model::no_leader_epoch;
    std::int32_t partition_epoch = -1;
    std::vector<model::node_id> isr;
};

// Why the leader proposed removing a replica from the ISR (replica.lag.time.max.ms passed):
// it never fetched in this leader epoch, it stopped fetching (a dead, paused or cut-off
// broker), or it fetches but does not reach the log end (a slow disk or network).
enum class isr_leave_reason { never_fetched, not_fetching, behind };
std::string_view to_string(isr_leave_reason r);

struct isr_leave {
    model::node_id replica;
    isr_leave_reason reason;
};

// A follower as its leader sees it (follower_lags()).
struct follower_lag {
    model::node_id replica;
    std::int64_t offsets = 0;  // log end offset - the follower's (all if unknown)
    // Since it last reached the log end (an ISR member: at the latest since this leader's
    // election); 0 if it never has.
    std::int64_t since_caught_up_ms = 0;
    bool in_isr = false;
};

struct leader_append {
    storage::append_result appended;
    bool high_watermark_advanced = false;
};

class partition {
public:
    // Whether a broker may join an ISR (ZooKeeper mode: it is alive in the metadata cache).
    using liveness = std::function<bool(model::node_id)>;

    // `high_watermark` is the checkpointed one (replication-offset-checkpoint), clamped to
    // the log. REQUIRES: `log` outlives the partition.
    partition(model::node_id self, storage::log& log, model::offset high_watermark,
              replication_config cfg, liveness alive = {});

    // A controller decision that makes this replica the leader (or a follower) with a newer
    // leader epoch. The caller checks the epoch is newer (LeaderAndIsr rules).
    void become_leader(const partition_state& s, model::timestamp_ms now);
    void become_follower(const partition_state& s, model::timestamp_ms now);
    void set_config(const replication_config& cfg) { cfg_ = cfg; }

    bool is_leader() const { return leader_; }
    const partition_state& state() const { return state_; }
    const model::topic_partition& tp() const { return log_.topic_partition(); }
    model::offset high_watermark() const { return hw_; }
    model::offset log_end_offset() const { return log_.log_end_offset(); }
    storage::log& log() { return log_; }
    const replication_config& config() const { return cfg_; }

    // ---- Leader.

    // NOT_LEADER_OR_FOLLOWER unless leading; NOT_ENOUGH_REPLICAS iff acks == -1 and the ISR
    // is below min.insync.replicas. None means append() may be called.
    model::kafka_error check_append(std::int16_t acks) const;
    // Appends a produce payload (see storage::log::append_as_leader) with this leader's
    // epoch. REQUIRES: is_leader().
    result<leader_append> append(mutable_bytes_view records, model::timestamp_ms now,
                                 bool already_validated);
    // The state of an acks=all produce whose records end before `end`, appended in leader
    // epoch `epoch`: nullopt while it must wait; otherwise its final error (none = success;
    // NOT_LEADER_OR_FOLLOWER if this replica stopped leading at any point since `epoch`).
    std::optional<model::kafka_error> acks_all_status(model::offset end,
                                                      model::leader_epoch epoch) const;
    // A follower fetch for this partition: checks it, records the follower's progress and
    // may advance the high watermark or propose an expansion. With no error and no
    // divergence the caller reads from f.fetch_offset up to the log end offset.
    fetch_decision on_follower_fetch(const follower_fetch& f, model::timestamp_ms now);
    // Proposes removing the ISR members that have not been caught up for
    // replica.lag.time.max.ms; nothing while another change is in flight.
    void maybe_shrink_isr(model::timestamp_ms now);
    // The proposal waiting to be sent (once: it is then in flight), if any.
    std::optional<isr_proposal> take_isr_proposal();
    // The controller's answer to the proposal in flight, as Kafka's Partition takes it:
    // accepted with `committed` (applied iff its leader epoch is ours and its partition epoch
    // not older; otherwise the proposal stays pending until a LeaderAndIsr), or refused with
    // `error`: dropped only when the controller says nothing was written
    // (OPERATION_NOT_ATTEMPTED, INELIGIBLE_REPLICA; proposed again when still warranted),
    // kept pending until a LeaderAndIsr when our state is stale (FENCED_LEADER_EPOCH,
    // INVALID_UPDATE_VERSION, unknown partition, INVALID_REQUEST), else sent again. A pending
    // expansion keeps counting for the high watermark: the controller may have written it.
    // on_isr_committed returns true iff the high watermark advanced.
    bool on_isr_committed(const partition_state& committed);
    // The replicas the last committed shrink removed, with why (empty after the call).
    std::vector<isr_leave> take_isr_leaves() { return std::exchange(leaves_, {}); }
    // Leader only: every follower's lag at `now` (empty when not leading).
    std::vector<follower_lag> follower_lags(model::timestamp_ms now) const;
    void on_isr_refused(model::kafka_error error);
    // ISR plus a proposed (uncommitted) addition.
    std::vector<model::node_id> maximal_isr() const;
    bool isr_change_pending() const { return pending_.has_value(); }
    // Receipts of unclean elections since the last call, oldest first (at most
    // receipts_max are kept; each is also logged when made).
    static constexpr std::size_t receipts_max = 16;
    std::vector<loss_receipt> take_loss_receipts() { return std::exchange(receipts_, {}); }
    // A follower's last known log end offset (tests, describe); nullopt if unknown.
    std::optional<model::offset> follower_end_offset(model::node_id replica) const;

    // ---- Follower.

    fetch_position next_fetch() const;
    // Applies the leader's answer. Returns an error only when the local log failed
    // (storage errors: the replica should go offline); protocol errors the follower waits
    // out come back in follower_progress::error.
    result<follower_progress> on_leader_reply(const leader_reply& r, model::timestamp_ms now);

private:
    struct follower_state {
        model::offset end_offset = model::no_offset;  // unknown until it fetches
        model::timestamp_ms last_caught_up{0};
        model::timestamp_ms last_fetch{0};
        model::offset leader_end_at_last_fetch = model::no_offset;
    };

    bool in_isr(model::node_id id) const;
    void add_receipt(const loss_receipt& r);
    bool maybe_advance_hw();
    void maybe_expand_isr(model::node_id replica);
    // Returns how many records below the high watermark it cut (see follower_progress).
    result<std::int64_t> truncate_divergent(const storage::epoch_entry& diverging);

    // Ordered so that no padding is left: an idle replica's memory counts at a million
    // partitions (the object stays in the allocator's 320-byte class).
    model::node_id self_;
    // The epoch in which this replica last became leader after not being one: appends since
    // then cannot have been truncated.
    model::leader_epoch leading_since_ = model::no_leader_epoch;
    storage::log& log_;
    replication_config cfg_;
    liveness alive_;
    partition_state state_;
    bool leader_ = false;
    bool pending_sent_ = false;
    model::offset hw_{0};
    // Every change of hw_ goes through here: the log keeps it for the next checkpoint
    // (replication-offset-checkpoint), so no one walks the partitions to collect them.
    void set_hw(model::offset hw) {
        hw_ = hw;
        log_.set_replication_offset(hw);
    }
    model::offset epoch_start_{0};  // log end offset when this leader epoch began
    // A sorted vector: one allocation for a leader's few followers, none for a follower.
    boost::container::flat_map<model::node_id, follower_state> followers_;
    std::optional<std::vector<model::node_id>> pending_;  // proposed ISR
    std::vector<isr_leave> pending_leaves_;  // why the proposed shrink removes each replica
    std::vector<isr_leave> leaves_;          // removed by the last committed shrink
    std::vector<loss_receipt> receipts_;
};

}  // namespace gregor::replication
