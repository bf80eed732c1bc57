// metadata_cache: the broker's view of the cluster, as the controller last described it.
//
// Filled by UpdateMetadata (the controller sends the live brokers with their endpoints per
// listener and rack, its own id, and partition states); read by the Metadata,
// DescribeCluster, Produce and Fetch handlers. Like Kafka, a partition state whose leader is
// LeaderDuringDelete (-2) removes the partition, and a broker missing from the live list is
// not alive. Owned by the broker's loop; every method must be called on it. Plain data, no
// I/O, so it is unit tested directly.
#pragma once

#include "model/fundamental.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gregor::broker {

struct cached_endpoint {
    std::string listener;
    std::string host;
    std::int32_t port = 0;
    std::int16_t security_protocol = 0;  // 0 = PLAINTEXT
};

struct cached_broker {
    model::node_id id;
    std::vector<cached_endpoint> endpoints;
    std::optional<std::string> rack;

    // The endpoint of `listener`, or nullptr iff the broker has none.
    const cached_endpoint* endpoint_for(const std::string& listener) const;
};

// Fields ordered without padding: 88 bytes, a 128-byte map node (memory counts at a
// million partitions).
struct cached_partition {
    model::node_id leader = model::no_node;
    model::leader_epoch leader_epoch = model::no_leader_epoch;
    model::controller_epoch controller_epoch = model::no_controller_epoch;
    std::int32_t zk_version = 0;
    std::vector<model::node_id> isr;
    std::vector<model::node_id> replicas;
    std::vector<model::node_id> offline_replicas;
};

// One controller as this broker first heard of it (UpdateMetadata names the controller and
// its epoch).
struct controller_change {
    model::node_id id;
    model::controller_epoch epoch;
    model::timestamp_ms seen;
};

// Leader id the controller sends for a partition of a topic being deleted.
inline constexpr model::node_id leader_during_delete{-2};

class metadata_cache {
public:
    using partition_map = std::map<model::partition_id, cached_partition>;

    // Replaces the live broker set (UpdateMetadata always carries all of them).
    void set_brokers(std::vector<cached_broker> brokers);
    // Records the controller `id` of `epoch`; a new (id, epoch) pair joins the history.
    void set_controller(model::node_id id, model::controller_epoch epoch, model::timestamp_ms now);
    // Adds, replaces, or (leader == leader_during_delete) removes one partition.
    void update_partition(const std::string& topic, model::partition_id p, cached_partition s);

    model::node_id controller() const { return controller_; }
    // The controllers this broker has heard of, oldest first, at most history_max.
    const std::deque<controller_change>& controller_history() const { return history_; }
    static constexpr std::size_t history_max = 64;
    const std::vector<cached_broker>& brokers() const { return brokers_; }
    const cached_broker* broker(model::node_id id) const;
    bool alive(model::node_id id) const { return broker(id) != nullptr; }
    // nullptr iff the topic is unknown.
    const partition_map* topic(const std::string& name) const;
    const cached_partition* partition(const model::topic_partition& tp) const;
    const std::map<std::string, partition_map>& topics() const { return topics_; }

private:
    std::vector<cached_broker> brokers_;
    model::node_id controller_ = model::no_node;
    std::deque<controller_change> history_;
    std::map<std::string, partition_map> topics_;
};

}  // namespace gregor::broker
