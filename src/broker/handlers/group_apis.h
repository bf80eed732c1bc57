// The membership APIs: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups,
// ListGroups and DeleteGroups, every version of Kafka 3.8.
//
// Each handler translates the request (group_wire.h), makes one call on the group service
// and translates the answer back; the service decides everything about groups (ownership,
// loading, membership, errors). JoinGroup and SyncGroup wait for the service's answer (the
// end of the join phase, the leader's assignment). Without a group service (no ZooKeeper)
// every group is answered COORDINATOR_NOT_AVAILABLE. ListGroups lists the groups this
// broker coordinates; clients ask every broker.
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/delete_groups.h"
#include "protocol/messages/describe_groups.h"
#include "protocol/messages/heartbeat.h"
#include "protocol/messages/join_group.h"
#include "protocol/messages/leave_group.h"
#include "protocol/messages/list_groups.h"
#include "protocol/messages/sync_group.h"

namespace gregor::broker {

handler_result<protocol::join_group_response> handle(services& s, request_context& ctx,
                                                     protocol::join_group_request req);
handler_result<protocol::sync_group_response> handle(services& s, request_context& ctx,
                                                     protocol::sync_group_request req);
handler_result<protocol::heartbeat_response> handle(services& s, request_context& ctx,
                                                    protocol::heartbeat_request req);
handler_result<protocol::leave_group_response> handle(services& s, request_context& ctx,
                                                      protocol::leave_group_request req);
handler_result<protocol::describe_groups_response> handle(services& s, request_context& ctx,
                                                          protocol::describe_groups_request req);
handler_result<protocol::list_groups_response> handle(services& s, request_context& ctx,
                                                      protocol::list_groups_request req);
handler_result<protocol::delete_groups_response> handle(services& s, request_context& ctx,
                                                        protocol::delete_groups_request req);

}  // namespace gregor::broker
