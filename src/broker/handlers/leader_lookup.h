// The partition a leader-only request (Produce, OffsetForLeaderEpoch, DescribeProducers)
// acts on, or the error Kafka answers instead. Broker loop only.
#pragma once

#include "broker/services.h"
#include "model/kafka_error.h"

namespace gregor::broker {

struct led_partition {
    replication::partition* partition = nullptr;  // set iff error is none
    model::kafka_error error = model::kafka_error::none;
};

// KAFKA_STORAGE_ERROR when the partition's log dir is offline, NOT_LEADER_OR_FOLLOWER when
// this broker knows the partition but does not lead it, UNKNOWN_TOPIC_OR_PARTITION when it
// does not know it at all.
inline led_partition lead(const services& s, const model::topic_partition& tp) {
    if (s.replicas.offline(tp)) {
        return {nullptr, model::kafka_error::kafka_storage_error};
    }
    if (replication::partition* p = s.replicas.leader(tp)) {
        return {p, model::kafka_error::none};
    }
    bool known = s.cache.partition(tp) != nullptr || s.replicas.partition(tp) != nullptr;
    return {nullptr, known ? model::kafka_error::not_leader_or_follower
                           : model::kafka_error::unknown_topic_or_partition};
}

}  // namespace gregor::broker
