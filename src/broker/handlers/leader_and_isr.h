// LeaderAndIsr: the controller makes this broker leader or follower of partitions.
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/leader_and_isr.h"

namespace gregor::broker {

// One partition state of a LeaderAndIsr request in the replica manager's terms.
partition_assignment to_assignment(const std::string& topic,
                                   const protocol::leader_and_isr_partition_state& p);

handler_result<protocol::leader_and_isr_response> handle(services& s, request_context& ctx,
                                                         protocol::leader_and_isr_request req);

}  // namespace gregor::broker
