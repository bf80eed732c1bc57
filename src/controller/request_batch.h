// request_batch: the LeaderAndIsr / UpdateMetadata / StopReplica requests of one controller
// round (Kafka's ControllerBrokerRequestBatch).
//
// A state change adds what each broker must hear; request_builder turns that into requests, one
// at a time, in the order Kafka sends them: LeaderAndIsr first, then UpdateMetadata, then
// StopReplica, one of each kind per broker unless a LeaderAndIsr or UpdateMetadata is split
// into pieces. Partition states are taken from the context as the requests are built, so they
// carry the state the round ended with. Every request carries the
// controller id, the controller epoch and the recipient's broker epoch (fencing). Versions are
// the newest Kafka 3.8's ZooKeeper controller sends: LeaderAndIsr 7, UpdateMetadata 8,
// StopReplica 4. Loop thread only; plain data.
#pragma once

#include "base/bytes.h"
#include "controller/context.h"

#include <cstddef>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gregor::controller {

inline constexpr std::int16_t leader_and_isr_version = 7;
inline constexpr std::int16_t update_metadata_version = 8;
inline constexpr std::int16_t stop_replica_version = 4;
// UpdateMetadata leader of a partition whose topic is being deleted.
inline constexpr model::node_id leader_during_delete{-2};
// StopReplica leader epoch of a deletion (KIP-570).
inline constexpr model::leader_epoch epoch_during_delete{-2};

struct outgoing_request {
    model::node_id broker;
    std::int16_t api_key = 0;
    bytes message;  // request header + body, no size prefix
    // For StopReplica: the partitions it deletes (the controller tracks their completion).
    std::vector<model::topic_partition> deleting;
};

class request_batch {
public:
    // LeaderAndIsr with the partition's current state to `broker`.
    void leader_and_isr(model::node_id broker, const model::topic_partition& tp, bool is_new);
    // LeaderAndIsr to every live replica of the partition.
    void leader_and_isr_to_replicas(const controller_context& ctx,
                                    const model::topic_partition& tp, bool is_new);
    // UpdateMetadata carrying the partition's current state to every broker in `to`.
    void update_metadata(const broker_set& to, const model::topic_partition& tp);
    // UpdateMetadata with leader -2 (topic being deleted) to every broker in `to`.
    void update_metadata_deleting(const broker_set& to, const model::topic_partition& tp);
    // UpdateMetadata to `to` even if it carries no partition (the live broker list).
    void update_metadata_brokers(const broker_set& to);
    // A failover's full round: LeaderAndIsr of every partition (with a state znode) to its
    // online replicas, and UpdateMetadata of every such partition to every broker in `to`.
    // Nothing is listed: request_builder walks the context, so 100,000 partitions cost no inserts,
    // and the UpdateMetadata body is built once for all of `to`.
    void everything(const broker_set& to);
    // StopReplica to `broker`; `remove` deletes the log (epoch -2).
    void stop_replica(model::node_id broker, const model::topic_partition& tp, bool remove,
                      model::leader_epoch epoch);

    bool empty() const;

private:
    friend class request_builder;
    std::map<model::node_id, std::map<model::topic_partition, bool>> leader_and_isr_;
    std::map<model::node_id, std::set<model::topic_partition>> update_metadata_;
    std::map<model::node_id, std::set<model::topic_partition>> deleting_;
    std::set<model::node_id> update_metadata_brokers_;
    struct stop {
        bool remove = false;
        model::leader_epoch epoch;
    };
    std::map<model::node_id, std::map<model::topic_partition, stop>> stop_replica_;
    bool leader_and_isr_all_ = false;
    broker_set update_metadata_all_;
};

// The largest LeaderAndIsr or UpdateMetadata the controller sends, in partitions: a round
// with more is sent in pieces, so that no request takes the loop (the controller's to build
// it, the broker's to apply it) for long. A million partitions make 100 pieces per broker.
inline constexpr std::size_t request_partitions_max = 10'000;

// A batch's requests, one at a time, for a caller that gives the loop a turn between them:
// next() returns them in sending order, none carrying more than `partitions_max` partitions
// (unlimited: one request of each kind per broker). `client_id` names the controller in the
// request headers; LeaderAndIsr names leaders by their `listener` endpoint; brokers not
// registered in the context get nothing. LeaderAndIsr and UpdateMetadata are incremental (a broker
// applies the partitions a request names and keeps the others), so the pieces do what the whole
// would. Each piece is built when asked for, walking the context only as far as it reaches, so a
// call costs at most a piece's work; the UpdateMetadata of every partition is built once per
// piece for all its recipients. The context must not change meanwhile. REQUIRES: `batch` outlives
// it.
class request_builder {
public:
    request_builder(const request_batch& batch, const controller_context& ctx, model::node_id self,
                    std::string client_id, std::string listener,
                    std::size_t partitions_max = std::numeric_limits<std::size_t>::max());
    ~request_builder();
    request_builder(const request_builder&) = delete;
    request_builder& operator=(const request_builder&) = delete;

    // The next request; nullopt once every one is built.
    std::optional<outgoing_request> next(const controller_context& ctx);

private:
    struct state;
    std::unique_ptr<state> s_;
};

// Kafka's security protocol ids (UpdateMetadata endpoints): PLAINTEXT 0, SSL 1,
// SASL_PLAINTEXT 2, SASL_SSL 3; -1 for an unknown name.
std::int16_t security_protocol_id(const std::string& name);

}  // namespace gregor::controller
