// ApiVersions: advertises exactly the APIs in handlers.h.
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/api_versions.h"

namespace gregor::broker {

handler_result<protocol::api_versions_response> handle(services& s, request_context& ctx,
                                                       protocol::api_versions_request req);

}  // namespace gregor::broker
