// "Can broker N stop now?" (/api/can-stop, `gregor cluster can-stop`): whether stopping N
// would leave a partition without an in-sync replica to lead, or with an ISR below its
// min.insync.replicas (acks=all producers would then fail). Answered from the active
// controller's context. Sans-IO, pure.
#pragma once

#include "controller/context.h"

#include <map>
#include <string>
#include <vector>

namespace gregor::controller {

struct stop_blocker {
    model::topic_partition tp;
    std::string reason;
};

struct can_stop_answer {
    model::node_id broker = model::no_node;
    bool can_stop = true;
    std::size_t partitions_checked = 0;  // partitions with a replica on the broker
    bool running = true;  // false: the broker is not live; stopping it changes nothing
    std::vector<stop_blocker> blockers;
};

// A broker that is not live can always "stop" (restarting a dead broker is never refused).
// Otherwise checks every partition with a replica on `broker` (topics being deleted aside): the ISR
// without `broker` and without replicas that are not live must keep a member, and at least
// the topic's min.insync.replicas (its override, else the broker default in `broker_props`,
// else 1).
can_stop_answer check_can_stop(const controller_context& ctx, model::node_id broker,
                               const std::map<std::string, std::string>& broker_props);

// {"broker":N,"can_stop":b,"partitions_checked":n,"blockers":[{"topic","partition","reason"}]}
std::string to_json(const can_stop_answer& a);

}  // namespace gregor::controller
