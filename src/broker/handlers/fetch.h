// Fetch for consumers: reads up to the high watermark, long-polls with MaxWaitMs/MinBytes.
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/fetch.h"

namespace gregor::broker {

handler_result<protocol::fetch_response> handle(services& s, request_context& ctx,
                                                protocol::fetch_request req);

}  // namespace gregor::broker
