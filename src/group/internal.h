// Helpers shared by the group_coordinator source files. Not part of the module's API.
#pragma once

#include "group/classic_group.h"
#include "group/deadlines.h"
#include "model/fundamental.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace gregor::group::detail {

// A deadline `duration_ms` after `now`. Durations come from clients (rebalance timeouts are
// not range-checked by Kafka) and may be zero or negative; a timer re-armed by its own
// expiry must still move forward, so every deadline lies at least 1 ms ahead.
inline model::timestamp_ms deadline_after(model::timestamp_ms now, std::int64_t duration_ms) {
    return now + std::max<std::int64_t>(duration_ms, 1);
}

inline std::int64_t ms(std::chrono::milliseconds d) {
    return static_cast<std::int64_t>(d.count());
}

inline timer_key join_key(const classic_group& g) {
    return {g.id, timer_kind::join, ""};
}
inline timer_key sync_key(const classic_group& g) {
    return {g.id, timer_kind::sync, ""};
}
inline timer_key session_key(const classic_group& g, std::string_view member_id) {
    return {g.id, timer_kind::session, std::string(member_id)};
}
inline timer_key pending_key(const classic_group& g, std::string_view member_id) {
    return {g.id, timer_kind::pending_member, std::string(member_id)};
}

}  // namespace gregor::group::detail
