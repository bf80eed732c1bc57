// Kafka's partition leader election strategies, as pure functions.
//
// The controller asks these functions who should lead a partition and what its ISR becomes;
// it then writes the answer to ZooKeeper (leader epoch + 1) and tells the brokers. Nothing
// here knows about epochs, znodes or requests, so every rule can be tested with tables and
// random inputs. Assignment order matters everywhere: the first assigned replica is the
// preferred leader, and every strategy scans the assignment (or the reassignment target) in
// order. "live" means registered and usable for leadership; callers decide what that
// excludes (Kafka excludes shutting-down brokers and offline log dirs, except in
// elect_controlled_shutdown, whose `live` still holds the brokers being shut down).
//
// Outputs never hold duplicate ids, even when an input list does. A std::nullopt result
// means "no eligible leader": Kafka then leaves the partition Offline with leader -1.
// Pure functions of their arguments; any thread.
#pragma once

#include "model/fundamental.h"

#include <optional>
#include <set>
#include <span>
#include <vector>

namespace gregor::controller {

using broker_set = std::set<model::node_id>;

struct election_outcome {
    model::node_id leader;
    std::vector<model::node_id> isr;
    // The leader was not in the ISR: committed records may be lost. Only elect_offline with
    // allow_unclean sets it (Kafka counts these as UncleanLeaderElectionsPerSec).
    bool unclean = false;

    bool operator==(const election_outcome&) const = default;
};

// A new partition (NewPartition -> OnlinePartition): the leader is the first assigned
// replica in `live`; the ISR is every assigned replica in `live`, in assignment order.
// Returns nullopt iff no assigned replica is live.
std::optional<election_outcome> elect_initial(std::span<const model::node_id> assignment,
                                              const broker_set& live);

// Offline and new partitions after failures (OfflinePartitionLeaderElectionStrategy): the
// leader is the first assigned replica that is live and in `isr`; the new ISR is the old
// ISR (in its order) restricted to live assigned replicas. If there is none and
// `allow_unclean`, the leader is the first live assigned replica, the ISR is [leader] and
// `unclean` is set. Returns nullopt iff no leader can be chosen.
std::optional<election_outcome> elect_offline(std::span<const model::node_id> assignment,
                                              std::span<const model::node_id> isr,
                                              const broker_set& live, bool allow_unclean);

// Preferred replica election: only the first assigned replica may lead, and only if it is
// live and in `isr`. The ISR is unchanged. Returns nullopt otherwise (and for an empty
// assignment).
std::optional<election_outcome> elect_preferred(std::span<const model::node_id> assignment,
                                                std::span<const model::node_id> isr,
                                                const broker_set& live);

// Controlled shutdown of the brokers in `shutting_down`: the leader is the first assigned
// replica that is in `isr`, in `live` and not shutting down; the new ISR is the old ISR
// minus the shutting-down brokers. `live` includes the shutting-down brokers.
std::optional<election_outcome> elect_controlled_shutdown(
    std::span<const model::node_id> assignment, std::span<const model::node_id> isr,
    const broker_set& live, const broker_set& shutting_down);

// Reassignment: the leader is the first replica of `target` that is live and in `isr`.
// The ISR is unchanged.
std::optional<election_outcome> elect_reassign(std::span<const model::node_id> target,
                                               std::span<const model::node_id> isr,
                                               const broker_set& live);

struct leader_isr {
    model::node_id leader;
    std::vector<model::node_id> isr;

    bool operator==(const leader_isr&) const = default;
};

// OfflineReplica: the controller removes `replica` from a partition's ISR. The leader
// becomes model::no_node iff it was `replica`. The ISR drops `replica` unless it is the
// only member: Kafka never empties an ISR, so that the last in-sync replica stays the only
// clean candidate. Returns a value equal to `current` when there is nothing to change (the
// caller then has nothing to write).
leader_isr remove_from_isr(const leader_isr& current, model::node_id replica);

struct partition_leadership {
    model::topic_partition tp;
    std::vector<model::node_id> assignment;
    std::vector<model::node_id> isr;
    model::node_id leader;
};

// Auto leader rebalance (auto.leader.rebalance.enable): groups partitions by preferred
// replica (first assigned). For every live preferred broker whose imbalance ratio
// (partitions preferring it but led by another broker, or leaderless / partitions
// preferring it) is greater than `percentage`/100, returns those of its partitions not led
// by it for which elect_preferred would succeed. Sorted by topic and partition.
// `percentage` is leader.imbalance.per.broker.percentage (Kafka's default is 10).
std::vector<model::topic_partition> imbalanced_partitions(
    std::span<const partition_leadership> parts, const broker_set& live, int percentage);

}  // namespace gregor::controller
