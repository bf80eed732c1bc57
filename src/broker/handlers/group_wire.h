// The membership APIs on the wire: JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
// DescribeGroups, ListGroups and DeleteGroups of every version, translated to and from the
// structs of group/messages.h that group::group_service takes and gives.
//
// Pure functions (no service, no I/O), so the version rules are unit tested on their own
// (broker/tests/group_wire_test.cc). What they decide, per version:
// - JoinGroup: the client id and host come from the request header and the connection;
//   ProtocolType is written from v7, a null ProtocolName goes out as "" before v7 (the
//   field is not nullable there), GroupInstanceId of members from v5, SkipAssignment v9.
// - LeaveGroup v0-v2 name one member (MemberId); its error becomes the top-level error of
//   the answer, which has no member list. v3+ carry the list as it is.
// - DescribeGroups v3+ IncludeAuthorizedOperations: gregor has no authorizer, so, as Kafka
//   without one, every operation a group supports (READ, DELETE, DESCRIBE).
// Throttle times are 0. The requests are taken by value: their bytes (protocol metadata,
// assignments) are moved, not copied; every count was bounded by the decoder.
#pragma once

#include "group/messages.h"
#include "model/kafka_error.h"
#include "net/asio.h"
#include "protocol/messages/delete_groups.h"
#include "protocol/messages/describe_groups.h"
#include "protocol/messages/heartbeat.h"
#include "protocol/messages/join_group.h"
#include "protocol/messages/leave_group.h"
#include "protocol/messages/list_groups.h"
#include "protocol/messages/sync_group.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace gregor::broker {

// Kafka's form of a client address (Java's InetAddress.toString without a host name):
// "/10.0.0.5"; IPv6 as eight groups of lowercase hex without zero compression
// ("/0:0:0:0:0:0:0:1"), with "%scope" when scoped; a v4-mapped IPv6 address in its v4 form.
std::string kafka_client_host(const net::asio::ip::address& address);

group::join_request to_join_request(protocol::join_group_request req, std::int16_t version,
                                    std::string client_id, std::string client_host);
protocol::join_group_response to_wire(group::join_response r, std::int16_t version);
// The answer to a JoinGroup that never reached the coordinator: `error`, the request's
// member id, no generation, protocol or leader (Kafka's JoinGroupResult(memberId, error)).
group::join_response join_failure(model::kafka_error error, std::string member_id);

group::sync_request to_sync_request(protocol::sync_group_request req, std::int16_t version);
protocol::sync_group_response to_wire(group::sync_response r, std::int16_t version);

group::heartbeat_request to_heartbeat_request(protocol::heartbeat_request req);

group::leave_request to_leave_request(protocol::leave_group_request req, std::int16_t version);
protocol::leave_group_response to_wire(group::leave_response r, std::int16_t version);

// The bitfield of AclOperation codes a group supports: READ (3), DELETE (6), DESCRIBE (8).
inline constexpr std::int32_t group_authorized_operations = (1 << 3) | (1 << 6) | (1 << 8);
protocol::describe_groups_response::described_group to_wire(group::described_group g,
                                                            bool include_authorized_operations);
group::described_group describe_failure(model::kafka_error error, std::string group_id);

protocol::list_groups_response to_wire(group::list_groups_response r);

protocol::delete_groups_response to_wire(std::vector<group::deleted_group> results);
// Every distinct group of `group_ids`, in request order, answered `error`.
std::vector<group::deleted_group> delete_failure(model::kafka_error error,
                                                 std::span<const std::string> group_ids);

}  // namespace gregor::broker
