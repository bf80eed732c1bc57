// DescribeProducers (v0, KIP-664): the active idempotent and transactional producers of the
// partitions this broker leads, from each log's producer state (kafka-producer-state or
// `gregor topics describe --producers`; clients send it to each partition's leader).
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/describe_producers.h"

namespace gregor::broker {

handler_result<protocol::describe_producers_response> handle(
    services& s, request_context& ctx, protocol::describe_producers_request req);

}  // namespace gregor::broker
