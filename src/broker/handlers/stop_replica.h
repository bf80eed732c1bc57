// StopReplica: the controller stops (and optionally deletes) replicas.
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/stop_replica.h"

namespace gregor::broker {

handler_result<protocol::stop_replica_response> handle(services& s, request_context& ctx,
                                                       protocol::stop_replica_request req);

}  // namespace gregor::broker
