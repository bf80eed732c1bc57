// The broker's side of the group coordinator: the offsets_log port over the replica manager
// (appends to `__consumer_offsets` as leader, waits for the high watermark, reads for
// loads), the creation of `__consumer_offsets` on first need, and the group service's
// settings from the broker config. Loop thread only, like all broker state.
#pragma once

#include "broker/services.h"
#include "group/service.h"

#include <set>
#include <string>

namespace gregor::broker {

class replica_offsets_log : public group::offsets_log {
public:
    // REQUIRES: `replicas` outlives this object.
    replica_offsets_log(asio::io_context& ioc, replica_manager& replicas,
                        std::function<model::timestamp_ms()> now);

    void append(model::partition_id p, bytes batch, bool wait_for_isr,
                std::chrono::milliseconds timeout, append_done done) override;
    result<chunk> read(model::partition_id p, model::offset from, std::size_t max_bytes) override;
    result<model::offset> log_start_offset(model::partition_id p) override;

private:
    struct waiter;
    void settle(const std::shared_ptr<waiter>& w);

    asio::io_context& ioc_;
    replica_manager& replicas_;
    std::function<model::timestamp_ms()> now_;
};

// The group service's settings: Kafka's group.* and offsets.* broker keys.
group::service_config group_service_config(const broker_config& c);

// Writes `__consumer_offsets` to ZooKeeper as Kafka's FindCoordinator does (any broker, no
// controller involved): offsets.topic.num.partitions partitions over the live brokers with
// offsets.topic.replication.factor replicas, cleanup.policy=compact, segment.bytes =
// offsets.topic.segment.bytes, compression.type=producer. Nothing is written while fewer
// brokers are alive than the replication factor (logged); one attempt at a time.
void create_offsets_topic(services& s);

}  // namespace gregor::broker
