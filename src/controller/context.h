// controller_context: everything the active controller knows about the cluster.
//
// Loaded from ZooKeeper when a broker becomes controller (failover) and then kept in step
// with every decision the controller writes: the live brokers with their epochs and
// endpoints, the brokers in controlled shutdown, every topic with its id, replica
// assignment and per-partition leader/ISR state (with the zkVersion of its state znode, the
// "partition epoch" every conditional write checks), the topics queued for deletion, and
// the replicas whose broker reported their log dir offline (KAFKA_STORAGE_ERROR to a
// LeaderAndIsr), forgotten when the broker dies or registers again.
// Plain data owned by the controller's loop; no I/O. Reset when the controller resigns.
#pragma once

#include "coord/znode_json.h"
#include "model/fundamental.h"
#include "protocol/types.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gregor::controller {

using broker_set = std::set<model::node_id>;

struct live_broker {
    model::node_id id;
    model::broker_epoch epoch;  // czxid of /brokers/ids/<id>
    coord::broker_info info;
};

// Kafka's partition states (PartitionStateMachine).
enum class partition_phase { fresh, online, offline };

struct partition_record {
    // Assignment order; the first is preferred. During a reassignment (KIP-455) this is RS,
    // the target replicas first, then the original ones not in the target.
    std::vector<model::node_id> replicas;
    // Replicas being added / removed by an ongoing reassignment (both empty when none).
    std::vector<model::node_id> adding;
    std::vector<model::node_id> removing;
    coord::partition_state state;          // leader, leader epoch, controller epoch, ISR
    model::zk_version version{-1};         // of the state znode; -1 while it does not exist
    partition_phase phase = partition_phase::fresh;

    bool reassigning() const { return !adding.empty() || !removing.empty(); }
    // The reassignment's target (RS without the removed replicas), or the replicas.
    std::vector<model::node_id> target() const;
    // The replicas before the reassignment (RS without the added ones), or the replicas.
    std::vector<model::node_id> origin() const;
};

struct topic_record {
    protocol::uuid id;
    std::string id_string;  // the same id as written in /brokers/topics/<t>
    std::map<model::partition_id, partition_record> partitions;
    coord::config_map config;  // /config/topics/<t>
    bool deleting = false;     // queued in /admin/delete_topics
};

struct controller_context {
    model::controller_epoch epoch{0};
    model::zk_version epoch_version{-1};  // of /controller_epoch: the fencing token
    std::map<model::node_id, live_broker> brokers;
    broker_set shutting_down;
    std::map<std::string, topic_record> topics;
    // Per broker: its replicas in an offline log dir (Kafka's replicasOnOfflineDirs).
    std::map<model::node_id, std::set<model::topic_partition>> offline_replicas;

    // Registered and not shutting down: may lead and be in an ISR.
    bool live(model::node_id id) const {
        return brokers.contains(id) && !shutting_down.contains(id);
    }
    broker_set live_set() const;
    // Whether `id`'s replica of `tp` is in an offline log dir.
    bool replica_offline(model::node_id id, const model::topic_partition& tp) const;
    // Kafka's "live" for one partition's replica: live, and its log dir online.
    bool replica_live(model::node_id id, const model::topic_partition& tp) const {
        return live(id) && !replica_offline(id, tp);
    }
    // Registered and its log dir online (a shutting-down broker's replica is still online).
    bool replica_online(model::node_id id, const model::topic_partition& tp) const {
        return brokers.contains(id) && !replica_offline(id, tp);
    }
    // The election "live" set of `tp`: live_set() without the offline replicas of `tp`.
    broker_set live_set(const model::topic_partition& tp) const;
    // Registered, shutting down or not.
    broker_set registered_set() const;

    const partition_record* partition(const model::topic_partition& tp) const;
    partition_record* partition(const model::topic_partition& tp);
    std::size_t partition_count() const;
    // Every partition with a replica on `broker`.
    std::vector<model::topic_partition> partitions_on(model::node_id broker) const;
    // Every partition whose leader is `broker`.
    std::vector<model::topic_partition> partitions_led_by(model::node_id broker) const;

    void clear();
};

// The topic znode's content for `t` (assignment, reassignment lists, topic id).
coord::topic_assignment assignment_of(const topic_record& t);

}  // namespace gregor::controller
