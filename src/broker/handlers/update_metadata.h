// UpdateMetadata: the controller refreshes the metadata cache.
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/update_metadata.h"

namespace gregor::broker {

handler_result<protocol::update_metadata_response> handle(services& s, request_context& ctx,
                                                          protocol::update_metadata_request req);

}  // namespace gregor::broker
