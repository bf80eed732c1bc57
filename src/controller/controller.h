// controller: Kafka's ZooKeeper-mode controller, one per broker, active on at most one.
//
// Election: every broker watches /controller and tries to create it (ephemeral, with its id)
// in one multi with the conditional bump of /controller_epoch; the winner is controller for
// that epoch, the others learn its id and try again when the node goes away. A broker that
// comes back does not take the role back.
//
// Fencing: every ZooKeeper write of the active controller is a multi that first checks the
// version of /controller_epoch it won with. A failed check means another controller was
// elected since: this one resigns at once, having changed nothing. Every LeaderAndIsr,
// UpdateMetadata and StopReplica carries the controller id and epoch and the recipient's
// broker epoch, so brokers refuse a zombie's requests.
//
// Duties once elected (Kafka's onControllerFailover): watch /brokers/ids, /brokers/topics and
// /admin/delete_topics; load every broker, topic, assignment and partition state with
// pipelined reads; send the live brokers (UpdateMetadata) first; then bring replicas and
// partitions online, electing leaders for new and offline partitions, then the preferred
// elections asked for in /admin/preferred_replica_election. Then: broker
// failures, returns and bounces (same id, newer czxid); new topics; topic deletion;
// controlled shutdown; AlterPartition (ISR changes by leaders); topic admin requests;
// preferred elections (ElectLeaders, /admin/preferred_replica_election, and the periodic
// automatic leader rebalance).
// Every leader/ISR decision is written to ZooKeeper (conditional on the state znode's
// version) before brokers hear of it, and logged once in the decision journal with its reason.
//
// Threading: one event queue on the broker's loop. ZooKeeper watches, session events and
// requests from the broker's handlers only enqueue; one event is handled at a time, so the
// controller's state has a single writer. Nothing here touches sockets or files: ZooKeeper is
// reached through coord::client and brokers through broker_channels, so unit and simulation
// tests run the same code over the in-memory ensemble and channels.
#pragma once

#include "controller/can_stop.h"
#include "controller/channels.h"
#include "controller/context.h"
#include "controller/journal.h"
#include "controller/timeline.h"
#include "coord/client.h"
#include "protocol/messages/alter_configs.h"
#include "protocol/messages/alter_partition.h"
#include "protocol/messages/alter_partition_reassignments.h"
#include "protocol/messages/controlled_shutdown.h"
#include "protocol/messages/create_partitions.h"
#include "protocol/messages/create_topics.h"
#include "protocol/messages/delete_topics.h"
#include "protocol/messages/elect_leaders.h"
#include "protocol/messages/incremental_alter_configs.h"
#include "protocol/messages/list_partition_reassignments.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace gregor::controller {

namespace asio = boost::asio;

struct controller_config {
    model::node_id self;
    // The listener brokers use to reach each other (LeaderAndIsr names leaders by it).
    std::string inter_broker_listener = "PLAINTEXT";
    bool unclean_leader_election = false;  // unclean.leader.election.enable (broker default)
    std::int32_t num_partitions = 1;       // num.partitions
    std::int16_t default_replication_factor = 1;
    bool delete_topic_enable = true;
    // Broker settings that supply topic config defaults (min.insync.replicas, ...).
    std::map<std::string, std::string> broker_properties;
    // ZooKeeper reads/writes outstanding at once during bulk work.
    std::size_t zk_window = 2048;
    // Partition state writes per fenced multi (one ZooKeeper transaction). Each write is a
    // path and about 100 bytes of JSON: 500 stay far below ZooKeeper's 1 MB request limit.
    // Clamped to coord::limits::multi_ops_max - 1 (the fence takes one op).
    std::size_t zk_multi_ops = 500;
    // Events waiting at most; admin requests beyond it are refused (watch events coalesce).
    std::size_t event_queue_max = 4096;
    std::function<model::timestamp_ms()> now;
    // Seed of the replica assignment's random start (tests fix it).
    std::uint64_t assignment_seed = 0;
    // Automatic preferred-leader rebalance (Kafka's auto.leader.rebalance.enable,
    // leader.imbalance.per.broker.percentage, leader.imbalance.check.interval.seconds): the
    // active controller checks the leader balance `leader_imbalance_first_check` after winning
    // and then every `leader_imbalance_check_interval`.
    bool auto_leader_rebalance = true;
    std::int32_t leader_imbalance_percentage = 10;
    std::chrono::milliseconds leader_imbalance_check_interval{std::chrono::seconds(300)};
    std::chrono::milliseconds leader_imbalance_first_check{std::chrono::seconds(5)};
    // Fast crash detection (README.md, "A crashed broker without the session wait"): when the
    // channels prove a broker's process gone, the active controller deletes that broker's
    // registration (the one it knew, by czxid) instead of waiting for its session to expire.
    bool fast_crash_detection = true;
};

// What the controller reports to its owner (all optional).
struct controller_hooks {
    // This broker became controller (epoch) or stopped being it (no_controller_epoch).
    std::function<void(model::controller_epoch)> on_role_change;
    // A round (failover, broker_failure, controlled_shutdown) had every request answered;
    // its marks time the phases (controller/timeline.h). Called on the loop.
    std::function<void(const timeline&)> on_round_done;
};

class controller {
public:
    controller(asio::io_context& ioc, coord::client& zk, broker_channels& channels,
               controller_config config, controller_hooks hooks = {});
    ~controller();
    controller(const controller&) = delete;
    controller& operator=(const controller&) = delete;

    // Starts watching /controller and competing for it. Call once the broker is registered.
    void start();
    // Resigns if active (deleting /controller so another broker takes over at once) and
    // stops handling events. Completes when the event loop has ended.
    asio::awaitable<void> stop();

    bool active() const;
    // The controller this broker knows of (itself when active), or no_node.
    model::node_id known_controller() const;
    model::controller_epoch epoch() const;
    // Read-only view for tests and introspection (meaningful while active).
    const controller_context& context() const;
    // Every leader/ISR decision this broker made as controller (the newest 10,000).
    const decision_journal& journal() const;
    // Whether `broker` can stop without a partition going offline or under its
    // min.insync.replicas (meaningful while active).
    can_stop_answer can_stop(model::node_id broker) const;

    // Requests forwarded by the broker's handlers. Each is handled as one controller event;
    // a broker that is not the controller answers as Kafka does (NOT_CONTROLLER, or
    // STALE_CONTROLLER_EPOCH for ControlledShutdown). The request must stay alive until the
    // call completes (the caller co_awaits it at once).
    asio::awaitable<protocol::controlled_shutdown_response> controlled_shutdown(
        const protocol::controlled_shutdown_request& req);
    asio::awaitable<protocol::alter_partition_response> alter_partition(
        const protocol::alter_partition_request& req, std::int16_t version);
    // ElectLeaders: preferred (type 0) or unclean (type 1) elections of the partitions asked
    // for (all when null), with Kafka's per-partition errors (ELECTION_NOT_NEEDED,
    // PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE, ...).
    asio::awaitable<protocol::elect_leaders_response> elect_leaders(
        const protocol::elect_leaders_request& req, std::int16_t version);
    // CreatePartitions: more partitions for existing topics (Kafka's assignment, or the
    // request's), INVALID_PARTITIONS / INVALID_REPLICA_ASSIGNMENT as Kafka answers.
    asio::awaitable<protocol::create_partitions_response> create_partitions(
        const protocol::create_partitions_request& req);
    // Runs one automatic leader-balance check now, as the timer would (an event on the
    // controller's loop; nothing happens unless active and auto_leader_rebalance). Tests drive
    // the check through it instead of waiting for the timer.
    void check_leader_balance();

    // AlterPartitionReassignments: start, replace or (null replicas) cancel reassignments
    // (KIP-455), with Kafka's per-partition errors (UNKNOWN_TOPIC_OR_PARTITION,
    // INVALID_REPLICA_ASSIGNMENT, NO_REASSIGNMENT_IN_PROGRESS). Answers once phase A is written.
    asio::awaitable<protocol::alter_partition_reassignments_response> alter_partition_reassignments(
        const protocol::alter_partition_reassignments_request& req);
    // ListPartitionReassignments: the ongoing reassignments, all or of the partitions listed.
    asio::awaitable<protocol::list_partition_reassignments_response> list_partition_reassignments(
        const protocol::list_partition_reassignments_request& req);
    // IncrementalAlterConfigs / AlterConfigs of topic overrides: Kafka's validation
    // (INVALID_CONFIG, INVALID_REQUEST, UNKNOWN_TOPIC_OR_PARTITION with Kafka's messages),
    // validate_only honoured, /config/topics/<t> and a /config/changes notification written
    // in one fenced multi, journalled with `client` (the request's client id). BROKER
    // resources are refused (no dynamic broker configs).
    asio::awaitable<protocol::incremental_alter_configs_response> incremental_alter_configs(
        const protocol::incremental_alter_configs_request& req, const std::string& client);
    asio::awaitable<protocol::alter_configs_response> alter_configs(
        const protocol::alter_configs_request& req, const std::string& client);
    asio::awaitable<protocol::create_topics_response> create_topics(
        const protocol::create_topics_request& req, std::int16_t version);
    asio::awaitable<protocol::delete_topics_response> delete_topics(
        const protocol::delete_topics_request& req, std::int16_t version);

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace gregor::controller
