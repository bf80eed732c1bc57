// replica_manager: the partitions this broker hosts, and the controller fencing rules.
//
// The controller tells the broker which partitions it leads or follows (LeaderAndIsr) and
// which to drop (StopReplica). This class applies those decisions exactly as Kafka's
// ReplicaManager does in ZooKeeper mode: it remembers the highest controller epoch seen and
// refuses older ones (STALE_CONTROLLER_EPOCH), refuses requests addressed to an older
// incarnation of this broker (STALE_BROKER_EPOCH: a broker epoch other than -1 below ours),
// and applies a partition state only if its leader epoch is newer than the one it holds
// (STALE_CONTROLLER_EPOCH per partition otherwise). Logs are created through the storage
// log_manager when a partition is new or missing locally.
//
// It also lets the data path wait for appends: a long-polling Fetch registers a waiter that
// runs after the next append to any partition (the handler re-checks its own conditions).
// Owned by the broker's loop; every method must be called on it.
#pragma once

#include "model/fundamental.h"
#include "model/kafka_error.h"
#include "storage/log_manager.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

namespace gregor::broker {

struct replica_state {
    model::node_id leader = model::no_node;
    model::leader_epoch leader_epoch = model::no_leader_epoch;
    std::vector<model::node_id> isr;
    std::vector<model::node_id> replicas;
    storage::log* log = nullptr;
};

// One partition of a LeaderAndIsr request, in the broker's own terms.
struct partition_assignment {
    model::topic_partition tp;
    model::node_id leader = model::no_node;
    model::leader_epoch leader_epoch = model::no_leader_epoch;
    std::vector<model::node_id> isr;
    std::vector<model::node_id> replicas;
    bool is_new = false;
};

class replica_manager {
public:
    // REQUIRES: `logs` outlives the manager.
    replica_manager(model::node_id self, storage::log_manager& logs);

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

    // nullptr iff this broker hosts no replica of `tp`.
    const replica_state* replica(const model::topic_partition& tp) const;
    // The log of `tp` iff this broker leads it.
    storage::log* leader_log(const model::topic_partition& tp) const;
    model::node_id self() const { return self_; }

    // Runs `fn` once, after the next append (notify_append) or when cancelled by the caller
    // dropping the returned id through cancel_wait.
    std::uint64_t wait_for_append(std::function<void()> fn);
    void cancel_wait(std::uint64_t id);
    void notify_append();

private:
    model::node_id self_;
    storage::log_manager& logs_;
    model::controller_epoch controller_epoch_ = model::no_controller_epoch;
    std::map<model::topic_partition, replica_state> replicas_;
    std::map<std::uint64_t, std::function<void()>> waiters_;
    std::uint64_t next_waiter_ = 1;
};

}  // namespace gregor::broker
