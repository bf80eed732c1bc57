// The APIs a broker forwards to its controller: CreateTopics, DeleteTopics, ElectLeaders,
// CreatePartitions, AlterPartitionReassignments, ListPartitionReassignments
// (clients send them to the controller named in Metadata), ControlledShutdown and AlterPartition (brokers
// send them to the controller). A broker that is not the controller answers as Kafka does:
// NOT_CONTROLLER (STALE_CONTROLLER_EPOCH for ControlledShutdown). CreateTopics and
// DeleteTopics answer once this broker's metadata shows the outcome (every new partition
// led, every deleted topic gone) or the request's timeout passes, as Kafka's delayed
// create/delete operations do. Runs on the broker's loop; see broker/services.h.
#pragma once

#include "broker/services.h"
#include "protocol/messages/alter_partition.h"
#include "protocol/messages/alter_partition_reassignments.h"
#include "protocol/messages/controlled_shutdown.h"
#include "protocol/messages/create_partitions.h"
#include "protocol/messages/create_topics.h"
#include "protocol/messages/delete_topics.h"
#include "protocol/messages/elect_leaders.h"
#include "protocol/messages/list_partition_reassignments.h"

namespace gregor::broker {

// True iff this broker's controller is the active one.
bool is_controller(const services& s);

// After CreateTopics waited for its timeout: a created topic that this broker's metadata does
// not show with a live leader for every partition is answered REQUEST_TIMED_OUT, as Kafka's
// DelayedCreatePartitions does.
void time_out_unled_topics(const metadata_cache& cache, protocol::create_topics_response& out);
// The same for DeleteTopics (Kafka's DelayedDeleteTopics): a topic this broker's metadata still
// shows is answered REQUEST_TIMED_OUT (its deletion goes on).
void time_out_undeleted_topics(const metadata_cache& cache, protocol::delete_topics_response& out);

handler_result<protocol::create_topics_response> handle(services& s, request_context& ctx,
                                                        protocol::create_topics_request req);
handler_result<protocol::delete_topics_response> handle(services& s, request_context& ctx,
                                                        protocol::delete_topics_request req);
handler_result<protocol::controlled_shutdown_response> handle(
    services& s, request_context& ctx, protocol::controlled_shutdown_request req);
handler_result<protocol::alter_partition_response> handle(services& s, request_context& ctx,
                                                          protocol::alter_partition_request req);
handler_result<protocol::elect_leaders_response> handle(services& s, request_context& ctx,
                                                        protocol::elect_leaders_request req);
handler_result<protocol::create_partitions_response> handle(
    services& s, request_context& ctx, protocol::create_partitions_request req);
handler_result<protocol::alter_partition_reassignments_response> handle(
    services& s, request_context& ctx, protocol::alter_partition_reassignments_request req);
handler_result<protocol::list_partition_reassignments_response> handle(
    services& s, request_context& ctx, protocol::list_partition_reassignments_request req);

}  // namespace gregor::broker
