// DescribeCluster: brokers, cluster id and controller id from the metadata cache.
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/describe_cluster.h"

namespace gregor::broker {

handler_result<protocol::describe_cluster_response> handle(services& s, request_context& ctx,
                                                           protocol::describe_cluster_request req);

}  // namespace gregor::broker
