// FindCoordinator: COORDINATOR_NOT_AVAILABLE until the group coordinator exists.
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/find_coordinator.h"

namespace gregor::broker {

handler_result<protocol::find_coordinator_response> handle(services& s, request_context& ctx,
                                                           protocol::find_coordinator_request req);

}  // namespace gregor::broker
