// The offset APIs: OffsetCommit v0-v9, OffsetFetch v0-v9 (v8+ several groups per request)
// and OffsetDelete v0.
//
// Each handler checks topics against the metadata cache where Kafka does (OffsetCommit,
// OffsetDelete: UNKNOWN_TOPIC_OR_PARTITION, and those partitions are not passed on),
// translates (offset_wire.h), makes one call on the group service per group and shapes
// the answer for the request's version. OffsetCommit waits until the commit is stored (the
// offsets partition's high watermark) or failed. Without a group service (no ZooKeeper)
// the group is answered COORDINATOR_NOT_AVAILABLE.
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_delete.h"
#include "protocol/messages/offset_fetch.h"

namespace gregor::broker {

handler_result<protocol::offset_commit_response> handle(services& s, request_context& ctx,
                                                        protocol::offset_commit_request req);
handler_result<protocol::offset_fetch_response> handle(services& s, request_context& ctx,
                                                       protocol::offset_fetch_request req);
handler_result<protocol::offset_delete_response> handle(services& s, request_context& ctx,
                                                        protocol::offset_delete_request req);

}  // namespace gregor::broker
