// Produce: appends validated v2 batches to partitions this broker leads (acks 0, 1, -1).
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/produce.h"

namespace gregor::broker {

handler_result<protocol::produce_response> handle(services& s, request_context& ctx,
                                                  protocol::produce_request req);

}  // namespace gregor::broker
