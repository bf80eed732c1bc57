// New topics written by a broker itself, as Kafka's ZooKeeper mode does for auto-created
// topics and `__consumer_offsets`: the assignment (Kafka's rack-aware replica placement over
// the live brokers of the metadata cache, and a random topic id) goes straight to
// ZooKeeper, and the controller's watch on /brokers/topics creates the partitions.
// Loop thread only.
#pragma once

#include "broker/metadata_cache.h"
#include "controller/assignment.h"
#include "coord/znode_json.h"

namespace gregor::broker {

// The assignment of a new topic with `partitions` partitions of `rf` replicas over the live
// brokers, or the Kafka error that says why it cannot be placed (too few brokers...).
controller::admin_result<coord::topic_assignment> plan_new_topic(const metadata_cache& cache,
                                                                 std::int32_t partitions,
                                                                 std::int16_t rf);

}  // namespace gregor::broker
