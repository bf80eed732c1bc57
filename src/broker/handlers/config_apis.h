// The config APIs: DescribeConfigs, IncrementalAlterConfigs and AlterConfigs.
//
// DescribeConfigs is answered by every broker. TOPIC resources read /config/topics/<t>
// afresh (ZooKeeper holds the truth; this broker's own copy may lag a change notification)
// and report every topic config key, or the keys asked for, with value and source
// (config_entries.h); an unknown topic is UNKNOWN_TOPIC_OR_PARTITION. A BROKER resource
// naming this broker reports its server.properties settings; another broker's id is
// INVALID_REQUEST (clients must ask that broker), as Kafka answers. Other resource types
// are INVALID_REQUEST.
//
// IncrementalAlterConfigs and AlterConfigs are decided by the controller: this broker's
// when it is active, else the request is forwarded to the controller the metadata cache
// names (Kafka 2.8+ forwards these too, and kafka-python sends them to any broker). A
// controller that cannot be reached answers NOT_CONTROLLER, which clients retry.
// Runs on the broker's loop; see broker/services.h.
#pragma once

#include "broker/services.h"
#include "protocol/messages/alter_configs.h"
#include "protocol/messages/describe_configs.h"
#include "protocol/messages/incremental_alter_configs.h"

namespace gregor::broker {

handler_result<protocol::describe_configs_response> handle(
    services& s, request_context& ctx, protocol::describe_configs_request req);
handler_result<protocol::incremental_alter_configs_response> handle(
    services& s, request_context& ctx, protocol::incremental_alter_configs_request req);
handler_result<protocol::alter_configs_response> handle(services& s, request_context& ctx,
                                                        protocol::alter_configs_request req);

}  // namespace gregor::broker
