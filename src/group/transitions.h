// The classic group state machine's transition table (Kafka 3.8's GroupMetadata).
//
//   target               allowed previous states
//   PreparingRebalance   Stable, CompletingRebalance, Empty
//   CompletingRebalance  PreparingRebalance
//   Stable               CompletingRebalance
//   Empty                PreparingRebalance
//   Dead                 Stable, PreparingRebalance, CompletingRebalance, Empty, Dead
//
// What triggers each transition is in group/README.md. Any other transition is a bug in the
// state machine, so classic_group::transition_to asserts this table. Pure functions; any
// thread.
#pragma once

#include "group/group_state.h"

#include <optional>
#include <string_view>

namespace gregor::group {

constexpr bool transition_allowed(group_state from, group_state to) {
    switch (to) {
    case group_state::preparing_rebalance:
        return from == group_state::stable || from == group_state::completing_rebalance ||
               from == group_state::empty;
    case group_state::completing_rebalance:
        return from == group_state::preparing_rebalance;
    case group_state::stable:
        return from == group_state::completing_rebalance;
    case group_state::empty:
        return from == group_state::preparing_rebalance;
    case group_state::dead:
        return true;
    }
    return false;
}

// Kafka's canRebalance: a rebalance may start from this state.
constexpr bool can_rebalance(group_state s) {
    return transition_allowed(s, group_state::preparing_rebalance);
}

// The state whose wire name equals `name` ignoring ASCII case (ListGroups' StatesFilter),
// or nullopt.
std::optional<group_state> group_state_from_name(std::string_view name);

}  // namespace gregor::group
