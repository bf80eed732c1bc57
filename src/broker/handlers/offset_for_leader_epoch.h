// OffsetForLeaderEpoch: where a leader epoch ends in a led partition's log (KIP-101). Asked by
// followers of other implementations and by clients checking for truncation (KIP-320).
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/offset_for_leader_epoch.h"

namespace gregor::broker {

handler_result<protocol::offset_for_leader_epoch_response> handle(
    services& s, request_context& ctx, protocol::offset_for_leader_epoch_request req);

}  // namespace gregor::broker
