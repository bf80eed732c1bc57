// Metadata: brokers of the request's listener, cluster and controller ids, topics from the metadata
// cache; auto-creates topics in ZooKeeper when allowed. Runs on the broker's loop; see
// broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/metadata.h"

namespace gregor::broker {

handler_result<protocol::metadata_response> handle(services& s, request_context& ctx,
                                                   protocol::metadata_request req);

}  // namespace gregor::broker
