// The broker configs the group state machine follows, with Kafka's names and 3.8 defaults.
//
// Value type; the coordinator copies it at construction (clamped to base/limits.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

namespace gregor::group {

struct group_config {
    // group.initial.rebalance.delay.ms: how long the first rebalance of an Empty group
    // waits for more members (KIP-134); extended by each new member up to the rebalance
    // timeout.
    std::chrono::milliseconds initial_rebalance_delay{3000};
    // group.min.session.timeout.ms / group.max.session.timeout.ms: JoinGroup's
    // SessionTimeoutMs must lie within (INVALID_SESSION_TIMEOUT otherwise).
    std::chrono::milliseconds min_session_timeout{6000};
    std::chrono::milliseconds max_session_timeout{1800000};
    // group.max.size (KIP-389); GROUP_MAX_SIZE_REACHED beyond it.
    std::int32_t max_size = std::numeric_limits<std::int32_t>::max();
    // Kafka's hard-coded GroupCoordinator.NewMemberJoinTimeoutMs: a new member parked in
    // JoinGroup that long is dropped (KAFKA-7610). A knob here only so tests can shorten it.
    std::chrono::milliseconds new_member_join_timeout{300000};
};

}  // namespace gregor::group
