// replication_plan: the target replicas `gregor topics alter --replication-factor N` asks
// for. Pure; any thread.
//
// The rule, per partition in partition order (counts are replicas of this topic per broker,
// updated as each partition is planned, so the result spreads evenly):
// - growing: the current replicas stay, in order (the preferred leader stays first); the
//   brokers added are, one at a time, the live brokers not yet a replica holding the fewest
//   replicas, ties to the lower id;
// - shrinking: the first replica (the preferred leader) stays; among the others, the ones on
//   the brokers holding the most replicas go, ties to the later in the list; the rest keep
//   their order.
// Partitions already at N are left out of the plan.
#pragma once

#include "base/result.h"
#include "model/fundamental.h"

#include <map>
#include <vector>

namespace gregor::admin {

using replica_lists = std::map<model::partition_id, std::vector<model::node_id>>;

// The partitions whose replicas change, with their new replica lists. errc::bad_usage when
// `factor` is below 1 or above the number of `brokers`.
result<replica_lists> plan_replication_factor(const replica_lists& current,
                                              const std::vector<model::node_id>& brokers,
                                              int factor);

}  // namespace gregor::admin
