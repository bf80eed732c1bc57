// replica_manager: the partitions this broker hosts, and the controller fencing rules.
//
// The controller tells the broker which partitions it leads or follows (LeaderAndIsr) and
// which to drop (StopReplica). This class applies those decisions exactly as Kafka's
// ReplicaManager does in ZooKeeper mode: it remembers the highest controller epoch seen and
// refuses older ones (STALE_CONTROLLER_EPOCH), refuses requests addressed to an older
// incarnation of this broker (STALE_BROKER_EPOCH: a broker epoch other than -1 below ours),
// and applies a partition state only if its leader epoch is newer than the one it holds
// (STALE_CONTROLLER_EPOCH per partition otherwise). Logs are created through the storage
// log_manager when a partition is new or missing locally. Each hosted partition is a
// replication::partition (leader or follower state over its log); its high watermark
// starts from the replication-offset-checkpoint.
//
// It also lets the data path wait: a long-polling Fetch or an acks=all Produce registers a
// waiter that runs after the next change (an append, a high watermark move, a leadership
// change); the waiter re-checks its own conditions. And it collects the partitions whose
// leader has an ISR change to send to the controller (isr_sender drains them).
// Owned by the broker's loop; every method must be called on it.
#pragma once

#include "fetch/change_feed.h"
#include "model/fundamental.h"
#include "model/kafka_error.h"
#include "replication/partition.h"
#include "storage/log_manager.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace gregor::broker {

// One partition of a LeaderAndIsr request, in the broker's own terms.
struct partition_assignment {
    model::topic_partition tp;
    model::node_id leader = model::no_node;
    model::leader_epoch leader_epoch = model::no_leader_epoch;
    std::vector<model::node_id> isr;
    std::vector<model::node_id> replicas;
    bool is_new = false;
    std::int32_t partition_epoch = -1;  // zk version of the state znode
    bool recovering = false;            // LeaderRecoveryState 1: elected uncleanly
};

class replica_manager {
public:
    using config_source = std::function<replication::replication_config(const std::string& topic)>;

    // REQUIRES: `logs` outlives the manager. `configs` gives a topic's replication settings
    // (min.insync.replicas); `alive` says whether a broker may join an ISR.
    replica_manager(model::node_id self, storage::log_manager& logs, config_source configs = {},
                    replication::partition::liveness alive = {});

    // The fencing check of every control request. Returns none iff the request may be
    // applied; then `controller_epoch` becomes the highest epoch seen (if it is higher).
    // `ours` is this broker's current epoch (no_broker_epoch while unregistered).
    model::kafka_error check_control_request(model::controller_epoch controller_epoch,
                                             model::broker_epoch requested,
                                             model::broker_epoch ours);
    model::controller_epoch controller_epoch() const { return controller_epoch_; }

    // Makes this broker leader or follower of one partition. Returns the partition's error.
    model::kafka_error apply(const partition_assignment& a, model::timestamp_ms now);
    // Stops hosting `tp` (deleting its log iff `remove_log`), if `epoch` is not older than
    // the one held (-1 and -2 always apply). Returns the partition's error.
    model::kafka_error stop(const model::topic_partition& tp, model::leader_epoch epoch,
                            bool remove_log);

    // The log dir of these partitions went offline (storage::log_manager's listener): they
    // stop at once (no leader or follower state, no ISR change to send) and waiters wake.
    // Their logs are destroyed after this returns.
    void take_offline(const std::vector<model::topic_partition>& partitions);
    // Whether `tp`'s replica here is in an offline log dir: every request for it gets
    // KAFKA_STORAGE_ERROR until the broker restarts.
    bool offline(const model::topic_partition& tp) const { return logs_.offline(tp); }

    // nullptr iff this broker hosts no replica of `tp`.
    replication::partition* partition(const model::topic_partition& tp) const;
    // The partition iff this broker leads it.
    replication::partition* leader(const model::topic_partition& tp) const;
    // Moves on whenever a replica is added here or removed: a partition pointer kept since
    // a generation that is still current is still this broker's replica of its partition.
    std::uint64_t generation() const { return generation_; }
    model::node_id self() const { return self_; }
    // Every hosted partition, in no particular order (ISR checks, the simulation's checks).
    void for_each(const std::function<void(replication::partition&)>& fn) const;
    // Re-reads every partition's replication settings and every log's settings (a topic
    // config arrived: also the overrides first read after a restart, which logs loaded from
    // disk before them must get, or a compacted topic would be cleaned and checked as
    // cleanup.policy=delete until its next config change).
    void reload_configs();

    // Runs `fn` once, after the next notify() or when cancelled by the caller dropping the
    // returned id through cancel_wait.
    std::uint64_t wait_for_change(std::function<void()> fn);
    void cancel_wait(std::uint64_t id);
    void notify();

    // The partitions whose fetch answer may have changed, for the fetch sessions (a session
    // reads only those and the ones its fetcher moved). apply(), stop() and take_offline()
    // push theirs; whoever appends to a leader or moves its high watermark calls changed().
    const fetch::change_feed& changes() const { return changes_; }
    void changed(const model::topic_partition& tp) { changes_.push(tp); }
    // Every partition may answer differently (the live brokers changed: who may join an ISR).
    void changed_all() { changes_.push_all(); }

    // True when this broker began leading, less than recent_leadership_window ago, a partition
    // that `follower` replicates and whose fetch (`fetched` says which partitions it holds)
    // lacks. Its parked fetch is then answered early, so that the next one can carry the
    // partition instead of waiting out replica.fetch.wait.max.ms (a new topic's first records
    // would stay invisible that long).
    bool lacks_recent_leadership(model::node_id follower,
                                 const std::function<bool(const model::topic_partition&)>& fetched,
                                 std::chrono::steady_clock::time_point now);
    static constexpr std::chrono::milliseconds recent_leadership_window{1000};
    static constexpr std::size_t recent_leaderships_max = 65536;

    // A leader has an ISR proposal ready (replication::partition::take_isr_proposal).
    void mark_isr_change(const model::topic_partition& tp) {
        isr_changes_.insert(tp);
        if (on_isr_change_) {
            on_isr_change_();
        }
    }
    // Called by mark_isr_change (the isr_sender wakes up).
    void set_isr_change_hook(std::function<void()> fn) { on_isr_change_ = std::move(fn); }
    std::set<model::topic_partition> take_isr_changes() { return std::exchange(isr_changes_, {}); }

    // Told of every receipt of an unclean election a replica here makes (the broker passes
    // them on to the controller's journal).
    using receipt_sink =
        std::function<void(const model::topic_partition&, const replication::loss_receipt&)>;
    void set_receipt_sink(receipt_sink fn) { on_receipt_ = std::move(fn); }
    // Hands `tp`'s new receipts to the sink (after a LeaderAndIsr or a follower's fetch).
    void forward_receipts(const model::topic_partition& tp);

private:
    model::node_id self_;
    storage::log_manager& logs_;
    config_source configs_;
    replication::partition::liveness alive_;
    model::controller_epoch controller_epoch_ = model::no_controller_epoch;
    // Hashed: every fetch round looks up each partition it serves or follows (a tree of a
    // million nodes is twenty string compares and as many cache misses per lookup).
    std::unordered_map<model::topic_partition, std::unique_ptr<replication::partition>> replicas_;
    std::uint64_t generation_ = 1;
    fetch::change_feed changes_;
    std::map<std::uint64_t, std::function<void()>> waiters_;
    std::uint64_t next_waiter_ = 1;
    std::set<model::topic_partition> isr_changes_;
    std::function<void()> on_isr_change_;
    receipt_sink on_receipt_;
    struct recent_leadership {
        model::topic_partition tp;
        std::chrono::steady_clock::time_point since;
        std::vector<model::node_id> replicas;
    };
    std::deque<recent_leadership> recent_;  // oldest first, at most recent_leaderships_max
};

}  // namespace gregor::broker
