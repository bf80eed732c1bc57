// ListOffsets: earliest (-2), latest (-1) and by-timestamp offsets of led partitions.
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/list_offsets.h"

namespace gregor::broker {

handler_result<protocol::list_offsets_response> handle(services& s, request_context& ctx,
                                                       protocol::list_offsets_request req);

}  // namespace gregor::broker
