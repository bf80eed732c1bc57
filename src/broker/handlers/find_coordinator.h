// FindCoordinator (v0-v5): the broker that leads a group's `__consumer_offsets` partition,
// on the listener the request came in on. The first request for a group creates the topic
// (COORDINATOR_NOT_AVAILABLE until its partitions have leaders). Transaction keys answer
// COORDINATOR_NOT_AVAILABLE until the transaction coordinator exists.
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/find_coordinator.h"

namespace gregor::broker {

handler_result<protocol::find_coordinator_response> handle(services& s, request_context& ctx,
                                                           protocol::find_coordinator_request req);

}  // namespace gregor::broker
