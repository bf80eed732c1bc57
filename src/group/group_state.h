// The classic group protocol's states, with Kafka's wire names (DescribeGroups, ListGroups).
//
// Shared by the group state machine (which owns the transitions) and the offset store
// (which reads the state in OffsetDelete and offset expiry). Value type; any thread.
#pragma once

#include <string_view>

namespace gregor::group {

enum class group_state { empty, preparing_rebalance, completing_rebalance, stable, dead };

// Kafka's name: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead".
constexpr std::string_view to_string(group_state s) {
    switch (s) {
    case group_state::empty:
        return "Empty";
    case group_state::preparing_rebalance:
        return "PreparingRebalance";
    case group_state::completing_rebalance:
        return "CompletingRebalance";
    case group_state::stable:
        return "Stable";
    case group_state::dead:
        return "Dead";
    }
    return "Unknown";
}

}  // namespace gregor::group
