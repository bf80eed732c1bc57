// What the offset store needs to know about a group, as the group state machine sees it.
//
// OffsetDelete (KIP-496), DeleteGroups and offset expiry (KIP-211) decide by the group's
// state, protocol type, generation, the time it entered its state and the topics its
// members subscribe to. The state machine owns all of that; it hands the store this
// snapshot, so the store never reaches into group objects. Value type; any thread.
#pragma once

#include "group/group_state.h"
#include "model/fundamental.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace gregor::group {

inline constexpr std::string_view consumer_protocol_type = "consumer";

struct group_view {
    group_state state = group_state::empty;
    // "" = no protocol type (an offsets-only group: assign() consumers, admin commits).
    std::string protocol_type;
    std::int32_t generation = 0;
    // When the group entered `state`; none when loaded from a group record older than v2.
    std::optional<model::timestamp_ms> current_state_timestamp;
    // Topics the members subscribe to, parsed from "consumer" subscriptions; none when
    // unknown (another protocol type, or metadata that did not parse).
    std::optional<std::set<std::string, std::less<>>> subscribed_topics;

    bool has_protocol_type() const { return !protocol_type.empty(); }
    bool is_consumer_group() const { return protocol_type == consumer_protocol_type; }
    // Kafka's isSubscribedToTopic: true when the subscriptions are unknown.
    bool subscribed_to(std::string_view topic) const {
        return !subscribed_topics || subscribed_topics->contains(topic);
    }
};

}  // namespace gregor::group
